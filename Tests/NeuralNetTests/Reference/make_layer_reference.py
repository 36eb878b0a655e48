"""Writes layers.json: PyTorch values and gradients for losses, softmax, Conv2D, Dense and
the categorical distribution, on small inputs drawn from a seeded NumPy generator.

Inputs are drawn in float64, rounded to float32 and stored. PyTorch then computes in
float64 from those float32 values, and results are rounded to float32 for storage, so the
references are as exact as float32 allows; a float32 implementation should match them to
a few ulps times the length of its sums.

Layout: every tensor is {"shape": [...], "values": [row-major]}. Convolution tensors are
in this project's channels-last layout (input and output NHWC, weight [kh, kw, in, out]);
they are transposed to and from torch's NCHW / [out, in, kh, kw] here.

Run: python3 make_layer_reference.py   (writes layers.json next to this script)
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

from reference_json import f32, tensor, write_json

SEED = 20240611


def as_float32(array):
    return np.asarray(array, dtype=np.float64).astype(np.float32)


def leaf(array):
    """A float64 torch leaf holding float32 values, with gradients enabled."""
    return torch.tensor(np.asarray(array, dtype=np.float32).astype(np.float64),
                        requires_grad=True)


def huber(generator):
    prediction = as_float32(generator.normal(0.0, 1.5, size=(2, 4)))
    target = as_float32(generator.normal(0.0, 1.0, size=(2, 4)))
    x = leaf(prediction)
    loss = F.huber_loss(x, torch.tensor(target, dtype=torch.float64), reduction="mean",
                        delta=1.0)
    smooth = F.smooth_l1_loss(x.detach(), torch.tensor(target, dtype=torch.float64),
                              reduction="mean", beta=1.0)
    assert abs(loss.item() - smooth.item()) < 1e-12
    loss.backward()
    return {
        "function": "torch.nn.functional.huber_loss (equal to smooth_l1_loss when delta ="
                    " beta = 1)",
        "rule": "d = prediction - target; per element 0.5 * d^2 if |d| < delta else"
                " delta * (|d| - 0.5 * delta); mean over all elements",
        "delta": 1.0,
        "reduction": "mean",
        "prediction": tensor(prediction),
        "target": tensor(target),
        "loss": f32(loss.item()),
        "grad_prediction": tensor(x.grad.numpy()),
    }


def mse(generator):
    prediction = as_float32(generator.normal(0.0, 1.0, size=(2, 3)))
    target = as_float32(generator.normal(0.0, 1.0, size=(2, 3)))
    x = leaf(prediction)
    loss = F.mse_loss(x, torch.tensor(target, dtype=torch.float64), reduction="mean")
    loss.backward()
    return {
        "function": "torch.nn.functional.mse_loss",
        "reduction": "mean",
        "prediction": tensor(prediction),
        "target": tensor(target),
        "loss": f32(loss.item()),
        "grad_prediction": tensor(x.grad.numpy()),
    }


def cross_entropy(generator):
    logits = as_float32(generator.normal(0.0, 2.0, size=(4, 5)))
    targets = generator.integers(0, 5, size=4)
    x = leaf(logits)
    loss = F.cross_entropy(x, torch.tensor(targets), reduction="mean")
    loss.backward()
    return {
        "function": "torch.nn.functional.cross_entropy (logits, integer class targets)",
        "reduction": "mean over the batch",
        "logits": tensor(logits),
        "targets": [int(value) for value in targets],
        "loss": f32(loss.item()),
        "grad_logits": tensor(x.grad.numpy()),
    }


def softmax():
    logits = as_float32([
        [1000.0, -1000.0, 0.5, -2.0, 3.0],
        [0.5, -1.25, 2.0, 0.0, -0.3],
        [-1000.0, -1000.0, -1000.0, -999.0, -1000.0],
        [1000.0, 1000.0, -1000.0, 0.0, 1.0],
    ])
    x = torch.tensor(logits, dtype=torch.float64)
    return {
        "function": "torch.log_softmax and torch.softmax over the last axis",
        "logits": tensor(logits),
        "log_softmax": tensor(torch.log_softmax(x, dim=-1).numpy()),
        "softmax": tensor(torch.softmax(x, dim=-1).numpy()),
    }


def conv2d_case(x_nhwc, w_hwio, b, padding, generator):
    x = leaf(x_nhwc)
    w = leaf(w_hwio)
    bias = leaf(b)
    output = F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), bias, stride=1,
                      padding=padding)
    output_nhwc = output.permute(0, 2, 3, 1)
    r = as_float32(generator.normal(0.0, 1.0, size=tuple(output_nhwc.shape)))
    (output_nhwc * torch.tensor(r, dtype=torch.float64)).sum().backward()
    return {
        "padding": padding,
        "output": tensor(output_nhwc.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(x.grad.numpy()),
        "grad_weight": tensor(w.grad.numpy()),
        "grad_bias": tensor(bias.grad.numpy()),
    }


def conv2d(generator):
    x = as_float32(generator.normal(0.0, 1.0, size=(2, 5, 5, 3)))
    w = as_float32(generator.normal(0.0, 0.3, size=(3, 3, 3, 4)))
    b = as_float32(generator.normal(0.0, 0.1, size=(4,)))
    return {
        "function": "torch.nn.functional.conv2d, stride 1, dilation 1, groups 1",
        "layout": "channels-last: input and output NHWC, weight [kh, kw, in, out], bias"
                  " [out]; torch ran on input.permute(0, 3, 1, 2) and"
                  " weight.permute(3, 2, 0, 1)",
        "rule": "cross-correlation (no kernel flip): output[n, i, j, o] = bias[o] + sum over"
                " di, dj, c of input[n, i + di - pad, j + dj - pad, c] * weight[di, dj, c, o],"
                " with zero padding; pad = 0 for 'valid', 1 for 'same' (3x3 kernel)",
        "gradients": "of sum(output * upstream) with respect to input, weight and bias",
        "stride": 1,
        "input": tensor(x),
        "weight": tensor(w),
        "bias": tensor(b),
        "cases": [conv2d_case(x, w, b, "valid", generator),
                  conv2d_case(x, w, b, "same", generator)],
    }


def dense(generator):
    x = as_float32(generator.normal(0.0, 1.0, size=(3, 4)))
    w = as_float32(generator.normal(0.0, 0.5, size=(4, 2)))
    b = as_float32(generator.normal(0.0, 0.1, size=(2,)))
    xs, ws, bs = leaf(x), leaf(w), leaf(b)
    output = xs @ ws + bs
    r = as_float32(generator.normal(0.0, 1.0, size=(3, 2)))
    (output * torch.tensor(r, dtype=torch.float64)).sum().backward()
    return {
        "rule": "output = input @ weight + bias, weight [in, out]",
        "gradients": "of sum(output * upstream) with respect to input, weight and bias",
        "input": tensor(x),
        "weight": tensor(w),
        "bias": tensor(b),
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(xs.grad.numpy()),
        "grad_weight": tensor(ws.grad.numpy()),
        "grad_bias": tensor(bs.grad.numpy()),
    }


def categorical(generator):
    logits = as_float32(generator.normal(0.0, 1.5, size=(4, 6)))
    logits[3] = as_float32([60.0, -60.0, 0.0, 59.5, -3.0, 1.0])
    actions = generator.integers(0, 6, size=4)
    actions[3] = 1  # a very unlikely action: log-prob about -120
    x = leaf(logits)
    distribution = torch.distributions.Categorical(logits=x)
    entropy = distribution.entropy()
    entropy_grad = torch.autograd.grad(entropy.sum(), x, retain_graph=True)[0]
    log_prob = distribution.log_prob(torch.tensor(actions))
    log_prob_grad = torch.autograd.grad(log_prob.sum(), x)[0]
    return {
        "function": "torch.distributions.Categorical(logits=logits), one distribution per row",
        "logits": tensor(logits),
        "actions": [int(value) for value in actions],
        "entropy": tensor(entropy.detach().numpy()),
        "log_prob": tensor(log_prob.detach().numpy()),
        "grad_logits_of_entropy_sum": tensor(entropy_grad.numpy()),
        "grad_logits_of_log_prob_sum": tensor(log_prob_grad.numpy()),
    }


def main():
    generator = np.random.default_rng(SEED)
    document = {
        "description": "PyTorch reference values for NeuralNet layers and losses. Written by"
                       " make_layer_reference.py.",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "precision": "inputs are float32; torch computed in float64; results rounded to"
                     " float32",
        "tensor_format": "{\"shape\": [...], \"values\": [row-major float32 values]}",
        "huber": huber(generator),
        "mse": mse(generator),
        "cross_entropy": cross_entropy(generator),
        "softmax": softmax(),
        "conv2d": conv2d(generator),
        "dense": dense(generator),
        "categorical": categorical(generator),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")


if __name__ == "__main__":
    main()
