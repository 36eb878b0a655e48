"""Writes ops.json: PyTorch values and gradients for the element-wise activations (leaky
ReLU, ELU, exact GELU, SiLU, softplus) and pow, Conv2D with stride and dilation, max and
average pooling, and batched matrix products, on small inputs drawn from a seeded NumPy
generator.

Inputs are drawn in float64, rounded to float32 and stored. PyTorch then computes in
float64 from those float32 values, and results are rounded to float32 for storage, so the
references are as exact as float32 allows (as make_layer_reference.py does). Every
gradient is of sum(output * upstream) for a stored random `upstream` of the output's
shape, so every element of the Jacobian takes part.

Layout: every tensor is {"shape": [...], "values": [row-major]}. Convolution and pooling
tensors are in this project's channels-last layout (input and output NHWC, weight
[kh, kw, in, out]); they are transposed to and from torch's NCHW / [out, in, kh, kw]
here. The strided and dilated convolutions are also replayed here by their formula in
float64 in that layout, and the script stops if torch disagrees.

Run: python3 make_ops_reference.py   (writes ops.json next to this script)
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

from reference_json import tensor, write_json

SEED = 20250502


def as_float32(array):
    return np.asarray(array, dtype=np.float64).astype(np.float32)


def leaf(array):
    """A float64 torch leaf holding float32 values, with gradients enabled."""
    return torch.tensor(np.asarray(array, dtype=np.float32).astype(np.float64),
                        requires_grad=True)


def upstream_for(output, generator):
    """A float32 random tensor of the output's shape, as float32 values and as float64."""
    r = as_float32(generator.normal(0.0, 1.0, size=tuple(output.shape)))
    return r, torch.tensor(r, dtype=torch.float64)


def activation_case(name, description, function, parameters, x_values, uses_layer_defaults,
                    generator):
    x = leaf(x_values)
    output = function(x)
    r, r64 = upstream_for(output, generator)
    (output * r64).sum().backward()
    return {
        "name": name,
        "function": description,
        "parameters": parameters,
        "uses_layer_defaults": uses_layer_defaults,
        "input": tensor(x_values),
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(x.grad.numpy()),
    }


def activations(generator):
    # Fixed points over the interesting ranges (0 itself pins the derivative chosen at the
    # kinks of leaky ReLU and ELU; 20 sits on softplus' threshold, 25 above it; -30 gives
    # a softplus of about 9.4e-14, which a naive log(1 + e^x) rounds to 0), then random ones.
    fixed = [-30.0, -6.0, -3.0, -1.5, -0.7, -0.1, 0.0, 0.05, 0.5, 1.0, 2.5, 6.0, 20.0, 25.0]
    random = generator.normal(0.0, 2.0, size=10)
    x = as_float32(np.concatenate([fixed, random]).reshape(4, 6))
    positive = as_float32(np.concatenate([[0.01, 0.25, 1.0, 2.0, 9.0, 100.0],
                                          generator.uniform(0.05, 4.0, size=6)]).reshape(2, 6))
    # (name, what torch ran, the function, parameters, input, whether the parameters are
    # the Activation layer's defaults)
    cases = [
        ("leaky_relu", "torch.nn.functional.leaky_relu(x, negative_slope=0.01)",
         lambda t: F.leaky_relu(t, negative_slope=0.01), {"negative_slope": 0.01}, x, True),
        ("leaky_relu", "torch.nn.functional.leaky_relu(x, negative_slope=0.2)",
         lambda t: F.leaky_relu(t, negative_slope=0.2), {"negative_slope": 0.2}, x, False),
        ("elu", "torch.nn.functional.elu(x, alpha=1.0)",
         lambda t: F.elu(t, alpha=1.0), {"alpha": 1.0}, x, True),
        ("elu", "torch.nn.functional.elu(x, alpha=1.5)",
         lambda t: F.elu(t, alpha=1.5), {"alpha": 1.5}, x, False),
        ("gelu", "torch.nn.functional.gelu(x, approximate='none')",
         lambda t: F.gelu(t, approximate="none"), {}, x, True),
        ("silu", "torch.nn.functional.silu(x)", F.silu, {}, x, True),
        ("softplus", "torch.nn.functional.softplus(x, beta=1.0, threshold=20.0)",
         lambda t: F.softplus(t, beta=1.0, threshold=20.0), {"beta": 1.0, "threshold": 20.0}, x,
         True),
        ("softplus", "torch.nn.functional.softplus(x, beta=2.0, threshold=10.0)",
         lambda t: F.softplus(t, beta=2.0, threshold=10.0), {"beta": 2.0, "threshold": 10.0}, x,
         False),
        ("pow", "torch.pow(x, 3.0)", lambda t: torch.pow(t, 3.0), {"exponent": 3.0}, x, False),
        ("pow", "torch.pow(x, 0.5)", lambda t: torch.pow(t, 0.5), {"exponent": 0.5}, positive,
         False),
    ]
    built = [activation_case(*case, generator) for case in cases]
    # The exact GELU is x * Phi(x); check torch's against the erf formula.
    x64 = torch.tensor(x.astype(np.float64))
    by_formula = 0.5 * x64 * (1 + torch.erf(x64 / np.sqrt(2.0)))
    assert torch.allclose(F.gelu(x64), by_formula, rtol=1e-12, atol=1e-300)
    return {
        "rules": {
            "leaky_relu": "x if x > 0 else negative_slope * x; derivative 1 if x > 0 else"
                          " negative_slope (negative_slope at 0)",
            "elu": "x if x > 0 else alpha * (exp(x) - 1); derivative 1 if x > 0 else"
                   " alpha * exp(x) (alpha at 0)",
            "gelu": "0.5 * x * (1 + erf(x / sqrt(2))); derivative Phi(x) + x * phi(x)",
            "silu": "x * sigmoid(x); derivative s * (1 + x * (1 - s)), s = sigmoid(x)",
            "softplus": "x if beta * x > threshold else log1p(exp(beta * x)) / beta;"
                        " derivative 1 above the threshold, else sigmoid(beta * x)",
            "pow": "x ** exponent; derivative exponent * x ** (exponent - 1)",
        },
        "gradients": "of sum(output * upstream) with respect to the input",
        "cases": built,
    }


def conv2d_by_formula(x, w, b, stride, dilation, pad_top, pad_left, out_h, out_w):
    """Channels-last cross-correlation in float64, straight from the definition."""
    n_batch, height, width, channels = x.shape
    kh, kw, _, out_channels = w.shape
    result = np.zeros((n_batch, out_h, out_w, out_channels))
    for i in range(out_h):
        for j in range(out_w):
            for di in range(kh):
                for dj in range(kw):
                    iy = i * stride + di * dilation - pad_top
                    ix = j * stride + dj * dilation - pad_left
                    if 0 <= iy < height and 0 <= ix < width:
                        result[:, i, j, :] += x[:, iy, ix, :].astype(np.float64) @ w[di, dj].astype(np.float64)
    return result + b.astype(np.float64)


def conv2d_case(x_nhwc, w_hwio, b, padding, stride, dilation, generator):
    x = leaf(x_nhwc)
    w = leaf(w_hwio)
    bias = leaf(b)
    output = F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), bias, stride=stride,
                      padding=padding, dilation=dilation)
    output_nhwc = output.permute(0, 2, 3, 1)
    kh, kw = w_hwio.shape[:2]
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    pads = ((span_h - 1) // 2, (span_w - 1) // 2) if padding == "same" else (0, 0)
    replay = conv2d_by_formula(x_nhwc, w_hwio, b, stride, dilation, pads[0], pads[1],
                               output_nhwc.shape[1], output_nhwc.shape[2])
    assert np.allclose(replay, output_nhwc.detach().numpy(), rtol=1e-12, atol=1e-12), \
        f"conv2d {padding} stride {stride} dilation {dilation}: torch disagrees with the formula"
    r, r64 = upstream_for(output_nhwc, generator)
    (output_nhwc * r64).sum().backward()
    return {
        "padding": padding,
        "stride": stride,
        "dilation": dilation,
        "output": tensor(output_nhwc.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(x.grad.numpy()),
        "grad_weight": tensor(w.grad.numpy()),
        "grad_bias": tensor(bias.grad.numpy()),
    }


def conv2d(generator):
    x = as_float32(generator.normal(0.0, 1.0, size=(2, 7, 7, 3)))
    w = as_float32(generator.normal(0.0, 0.3, size=(3, 3, 3, 4)))
    b = as_float32(generator.normal(0.0, 0.1, size=(4,)))
    return {
        "function": "torch.nn.functional.conv2d with stride and dilation, groups 1",
        "layout": "channels-last: input and output NHWC, weight [kh, kw, in, out], bias"
                  " [out]; torch ran on input.permute(0, 3, 1, 2) and"
                  " weight.permute(3, 2, 0, 1)",
        "rule": "cross-correlation (no kernel flip): output[n, i, j, o] = bias[o] + sum over"
                " di, dj, c of input[n, i * stride + di * dilation - pad, j * stride +"
                " dj * dilation - pad, c] * weight[di, dj, c, o], with zero padding;"
                " pad = 0 for 'valid'; 'same' (stride 1 only) pads dilation * (k - 1) in"
                " all, (dilation * (k - 1)) // 2 before; output extent"
                " (H + total pad - dilation * (k - 1) - 1) // stride + 1",
        "gradients": "of sum(output * upstream) with respect to input, weight and bias",
        "input": tensor(x),
        "weight": tensor(w),
        "bias": tensor(b),
        "cases": [conv2d_case(x, w, b, "valid", 2, 1, generator),
                  conv2d_case(x, w, b, "valid", 1, 2, generator),
                  conv2d_case(x, w, b, "valid", 2, 2, generator),
                  conv2d_case(x, w, b, "same", 1, 2, generator)],
    }


def pooling_case(x_nhwc, kind, size, stride, generator):
    x = leaf(x_nhwc)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    output = pool(x.permute(0, 3, 1, 2), kernel_size=size, stride=stride)
    output_nhwc = output.permute(0, 2, 3, 1)
    height, width = x_nhwc.shape[1:3]
    assert output_nhwc.shape[1:3] == ((height - size) // stride + 1, (width - size) // stride + 1)
    r, r64 = upstream_for(output_nhwc, generator)
    (output_nhwc * r64).sum().backward()
    return {
        "kind": kind,
        "size": size,
        "stride": stride,
        "output": tensor(output_nhwc.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(x.grad.numpy()),
    }


def pooling(generator):
    # 7x6 leaves a row and a column out of the size-2 windows; random normal values are
    # distinct, so each window's maximum is unique.
    x = as_float32(generator.normal(0.0, 1.0, size=(2, 7, 6, 3)))
    return {
        "function": "torch.nn.functional.max_pool2d and avg_pool2d, no padding, dilation 1,"
                    " ceil_mode False",
        "layout": "channels-last NHWC; torch ran on input.permute(0, 3, 1, 2)",
        "rule": "output extent (H - size) // stride + 1; max takes each window's largest"
                " value, avg its sum divided by size * size",
        "gradients": "of sum(output * upstream) with respect to the input",
        "input": tensor(x),
        "cases": [pooling_case(x, kind, size, stride, generator)
                  for kind in ("max", "avg") for size, stride in ((2, 2), (3, 2))],
    }


def bmm_case(transposing_a, transposing_b, generator):
    batch, m, k, n = 3, 4, 5, 3
    a_values = as_float32(generator.normal(0.0, 1.0, size=(batch, k, m) if transposing_a
                                           else (batch, m, k)))
    b_values = as_float32(generator.normal(0.0, 1.0, size=(batch, n, k) if transposing_b
                                           else (batch, k, n)))
    a, b = leaf(a_values), leaf(b_values)
    output = torch.bmm(a.mT if transposing_a else a, b.mT if transposing_b else b)
    r, r64 = upstream_for(output, generator)
    (output * r64).sum().backward()
    return {
        "transposing_a": transposing_a,
        "transposing_b": transposing_b,
        "a": tensor(a_values),
        "b": tensor(b_values),
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_a": tensor(a.grad.numpy()),
        "grad_b": tensor(b.grad.numpy()),
    }


def bmm(generator):
    return {
        "function": "torch.bmm(op(a), op(b)), op transposing the last two axes (.mT) when"
                    " asked",
        "rule": "output[p] = op(a[p]) @ op(b[p]); op(a[p]) [4, 5], op(b[p]) [5, 3], batch 3;"
                " a and b are stored as given (transposed: [batch, 5, 4] and [batch, 3, 5])",
        "gradients": "of sum(output * upstream) with respect to a and b, in their stored"
                     " layout",
        "cases": [bmm_case(ta, tb, generator)
                  for ta, tb in ((False, False), (True, False), (False, True), (True, True))],
    }


def main():
    generator = np.random.default_rng(SEED)
    document = {
        "description": "PyTorch reference values for Autodiff's activations, pow, strided and"
                       " dilated convolution, pooling and batched matrix products. Written by"
                       " make_ops_reference.py.",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "precision": "inputs are float32; torch computed in float64; results rounded to"
                     " float32",
        "tensor_format": "{\"shape\": [...], \"values\": [row-major float32 values]}",
        "activations": activations(generator),
        "conv2d": conv2d(generator),
        "pooling": pooling(generator),
        "bmm": bmm(generator),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")
    activation_names = [f"{case['name']} {case['parameters']}"
                        for case in document["activations"]["cases"]]
    print("activations:", "; ".join(activation_names))
    print("conv2d:", ", ".join(f"{case['padding']} stride {case['stride']} dilation"
                               f" {case['dilation']} -> {case['output']['shape']}"
                               for case in document["conv2d"]["cases"]))
    print("pooling:", ", ".join(f"{case['kind']} {case['size']}/{case['stride']} ->"
                                f" {case['output']['shape']}"
                                for case in document["pooling"]["cases"]))
    print("bmm:", ", ".join(f"ta {case['transposing_a']} tb {case['transposing_b']} ->"
                            f" {case['output']['shape']}" for case in document["bmm"]["cases"]))


if __name__ == "__main__":
    main()
