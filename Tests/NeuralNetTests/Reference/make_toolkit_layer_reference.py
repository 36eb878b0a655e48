"""Writes toolkit_layers.json: PyTorch values and gradients for LayerNorm, BatchNorm (over
[N, C] and channels-last [N, H, W, C] batches, in training and evaluation mode), a
residual block, Embedding and MultiheadAttention (with and without a causal mask), and
the sinusoidal positional encoding, on small inputs drawn from a seeded NumPy generator.

Inputs are drawn in float64, rounded to float32 and stored. PyTorch then computes in
float64 from those float32 values, and results are rounded to float32 for storage, so the
references are as exact as float32 allows (as make_layer_reference.py does).

Layouts are this project's: Dense weights are [in, out] (torch's Linear weight
transposed), BatchNorm2d data is channels-last NHWC (torch ran on NCHW). Parameters and
their gradients are stored by this project's parameter names ("query.weight",
"body.0.bias", ...). MultiheadAttention's in_proj_weight [3E, E] holds the query, key and
value projections as row blocks; each block is transposed into the [in, out] layout of
the Dense layer with that name, and out_proj becomes "output". The attention is also
replayed here by its formula in float64, and the script stops if torch disagrees.

Run: python3 make_toolkit_layer_reference.py   (writes toolkit_layers.json next to it)
"""

import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from reference_json import tensor, write_json

SEED = 20250417


def as_float32(array):
    return np.asarray(array, dtype=np.float64).astype(np.float32)


def leaf(array):
    """A float64 torch leaf holding float32 values, with gradients enabled."""
    return torch.tensor(np.asarray(array, dtype=np.float32).astype(np.float64),
                        requires_grad=True)


def constant(array):
    """A float64 torch tensor holding float32 values, without gradients."""
    return torch.tensor(np.asarray(array, dtype=np.float32).astype(np.float64))


def layer_norm(generator):
    x = as_float32(generator.normal(0.0, 1.5, size=(2, 3, 5)) + 0.7)
    w = as_float32(generator.normal(1.0, 0.3, size=(5,)))
    b = as_float32(generator.normal(0.0, 0.2, size=(5,)))
    xs, ws, bs = leaf(x), leaf(w), leaf(b)
    output = F.layer_norm(xs, (5,), ws, bs, eps=1e-5)
    r = as_float32(generator.normal(0.0, 1.0, size=output.shape))
    (output * constant(r)).sum().backward()
    return {
        "function": "torch.nn.functional.layer_norm over the last axis, eps 1e-5",
        "rule": "(x - mean) / sqrt(biased variance + eps) * weight + bias, per row of the"
                " last axis",
        "gradients": "of sum(output * upstream) with respect to input, weight and bias",
        "epsilon": 1e-5,
        "input": tensor(x),
        "weight": tensor(w),
        "bias": tensor(b),
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(xs.grad.numpy()),
        "grad_weight": tensor(ws.grad.numpy()),
        "grad_bias": tensor(bs.grad.numpy()),
    }


def set_batch_norm(module, w, b):
    with torch.no_grad():
        module.weight.copy_(constant(w))
        module.bias.copy_(constant(b))


def batch_norm(generator):
    features = 4
    location = np.array([0.5, -1.0, 2.0, 0.0])
    scale = np.array([1.0, 0.5, 2.0, 1.5])
    w = as_float32(generator.normal(1.0, 0.3, size=(features,)))
    b = as_float32(generator.normal(0.0, 0.2, size=(features,)))
    module = torch.nn.BatchNorm1d(features, eps=1e-5, momentum=0.1, dtype=torch.float64)
    set_batch_norm(module, w, b)
    module.train()

    x1 = as_float32(generator.normal(location, scale, size=(6, features)))
    xs = leaf(x1)
    output1 = module(xs)
    r = as_float32(generator.normal(0.0, 1.0, size=output1.shape))
    (output1 * constant(r)).sum().backward()
    mean1 = module.running_mean.detach().numpy().copy()
    var1 = module.running_var.detach().numpy().copy()

    x2 = as_float32(generator.normal(location, scale, size=(6, features)))
    output2 = module(constant(x2)).detach().numpy()
    mean2 = module.running_mean.detach().numpy().copy()
    var2 = module.running_var.detach().numpy().copy()

    module.eval()
    x3 = as_float32(generator.normal(location, scale, size=(5, features)))
    output3 = module(constant(x3)).detach().numpy()
    return {
        "function": "torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.1), running statistics"
                    " starting at mean 0 and variance 1",
        "rule": "training: (x - batch mean) / sqrt(biased batch variance + eps) * weight +"
                " bias, then running = 0.9 * running + 0.1 * batch statistic with the"
                " unbiased variance; evaluation: the same with the running statistics",
        "gradients": "of sum(output_1 * upstream_1) with respect to input_1, weight and bias",
        "epsilon": 1e-5,
        "momentum": 0.1,
        "weight": tensor(w),
        "bias": tensor(b),
        "input_1": tensor(x1),
        "output_1": tensor(output1.detach().numpy()),
        "upstream_1": tensor(r),
        "grad_input_1": tensor(xs.grad.numpy()),
        "grad_weight_1": tensor(module.weight.grad.numpy()),
        "grad_bias_1": tensor(module.bias.grad.numpy()),
        "running_mean_1": tensor(mean1),
        "running_var_1": tensor(var1),
        "input_2": tensor(x2),
        "output_2": tensor(output2),
        "running_mean_2": tensor(mean2),
        "running_var_2": tensor(var2),
        "eval_input": tensor(x3),
        "eval_output": tensor(output3),
    }


def batch_norm_channels_last(generator):
    channels = 3
    w = as_float32(generator.normal(1.0, 0.3, size=(channels,)))
    b = as_float32(generator.normal(0.0, 0.2, size=(channels,)))
    module = torch.nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1, dtype=torch.float64)
    set_batch_norm(module, w, b)
    module.train()
    x = as_float32(generator.normal([0.3, -0.5, 1.0], [1.0, 2.0, 0.5], size=(2, 3, 4, channels)))
    xs = leaf(x)
    output = module(xs.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    r = as_float32(generator.normal(0.0, 1.0, size=output.shape))
    (output * constant(r)).sum().backward()
    running_mean = module.running_mean.detach().numpy().copy()
    running_var = module.running_var.detach().numpy().copy()
    module.eval()
    x_eval = as_float32(generator.normal(0.0, 1.0, size=(1, 2, 2, channels)))
    output_eval = module(constant(x_eval).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    return {
        "function": "torch.nn.BatchNorm2d(3, eps=1e-5, momentum=0.1) on the NCHW view of"
                    " channels-last input: statistics over N, H and W per channel",
        "layout": "channels-last: input, output, upstream and gradients NHWC",
        "gradients": "of sum(output * upstream) with respect to input, weight and bias",
        "epsilon": 1e-5,
        "momentum": 0.1,
        "weight": tensor(w),
        "bias": tensor(b),
        "input": tensor(x),
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(xs.grad.numpy()),
        "grad_weight": tensor(module.weight.grad.numpy()),
        "grad_bias": tensor(module.bias.grad.numpy()),
        "running_mean": tensor(running_mean),
        "running_var": tensor(running_var),
        "eval_input": tensor(x_eval),
        "eval_output": tensor(output_eval.detach().numpy()),
    }


def residual(generator):
    x = as_float32(generator.normal(0.0, 1.0, size=(3, 4)))
    parameters = {
        "body.0.weight": as_float32(generator.normal(0.0, 0.5, size=(4, 4))),
        "body.0.bias": as_float32(generator.normal(0.0, 0.1, size=(4,))),
        "body.2.weight": as_float32(generator.normal(0.0, 0.5, size=(4, 4))),
        "body.2.bias": as_float32(generator.normal(0.0, 0.1, size=(4,))),
    }
    leaves = {name: leaf(value) for name, value in parameters.items()}
    xs = leaf(x)
    hidden = torch.tanh(xs @ leaves["body.0.weight"] + leaves["body.0.bias"])
    output = xs + (hidden @ leaves["body.2.weight"] + leaves["body.2.bias"])
    r = as_float32(generator.normal(0.0, 1.0, size=output.shape))
    (output * constant(r)).sum().backward()
    return {
        "rule": "output = input + body(input), body = Dense(4, 4), tanh, Dense(4, 4);"
                " weights [in, out]",
        "gradients": "of sum(output * upstream) with respect to the input and every parameter",
        "input": tensor(x),
        "parameters": {name: tensor(value) for name, value in parameters.items()},
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_input": tensor(xs.grad.numpy()),
        "grad_parameters": {name: tensor(value.grad.numpy()) for name, value in leaves.items()},
    }


def embedding(generator):
    w = as_float32(generator.normal(0.0, 1.0, size=(5, 3)))
    indices = [1, 4, 1, 0, 1, 3]
    ws = leaf(w)
    output = F.embedding(torch.tensor(indices), ws)
    r = as_float32(generator.normal(0.0, 1.0, size=output.shape))
    (output * constant(r)).sum().backward()
    return {
        "function": "torch.nn.functional.embedding (row lookup); index 1 repeats three times"
                    " and index 2 is unused",
        "gradients": "of sum(output * upstream) with respect to the weight",
        "weight": tensor(w),
        "indices": indices,
        "output": tensor(output.detach().numpy()),
        "upstream": tensor(r),
        "grad_weight": tensor(ws.grad.numpy()),
    }


def causal_mask(length):
    return torch.triu(torch.full((length, length), float("-inf"), dtype=torch.float64),
                      diagonal=1)


def attention_by_formula(q_in, k_in, v_in, parameters, heads, causal):
    """softmax(Q Kᵀ / sqrt(d) + mask) V per head, then the output projection (float64)."""
    def dense(x, name):
        return x @ parameters[name + ".weight"] + parameters[name + ".bias"]
    q, k, v = dense(q_in, "query"), dense(k_in, "key"), dense(v_in, "value")
    dimension = q.shape[-1]
    d = dimension // heads
    outputs = []
    for h in range(heads):
        block = slice(h * d, (h + 1) * d)
        scores = q[..., block] @ k[..., block].transpose(-1, -2) / math.sqrt(d)
        if causal:
            scores = scores + causal_mask(scores.shape[-1])
        outputs.append(torch.softmax(scores, dim=-1) @ v[..., block])
    return dense(torch.cat(outputs, dim=-1), "output")


def multi_head_attention(generator):
    dimension, heads, batch = 8, 2, 2
    in_proj_weight = as_float32(generator.normal(0.0, 0.4, size=(3 * dimension, dimension)))
    in_proj_bias = as_float32(generator.normal(0.0, 0.1, size=(3 * dimension,)))
    out_weight = as_float32(generator.normal(0.0, 0.4, size=(dimension, dimension)))
    out_bias = as_float32(generator.normal(0.0, 0.1, size=(dimension,)))
    blocks = {"query": 0, "key": 1, "value": 2}

    def ours(weight_rows, bias_rows, out_w, out_b):
        """torch's parameters (or their gradients) under this project's names and layout."""
        result = {}
        for name, block in blocks.items():
            rows = slice(block * dimension, (block + 1) * dimension)
            result[name + ".weight"] = weight_rows[rows].T
            result[name + ".bias"] = bias_rows[rows]
        result["output.weight"] = out_w.T
        result["output.bias"] = out_b
        return result

    parameters = ours(in_proj_weight, in_proj_bias, out_weight, out_bias)
    cases = []
    for causal, query_length in [(False, 4), (True, 4), (False, 3)]:
        module = torch.nn.MultiheadAttention(dimension, heads, batch_first=True,
                                             dtype=torch.float64)
        with torch.no_grad():
            module.in_proj_weight.copy_(constant(in_proj_weight))
            module.in_proj_bias.copy_(constant(in_proj_bias))
            module.out_proj.weight.copy_(constant(out_weight))
            module.out_proj.bias.copy_(constant(out_bias))
        q = as_float32(generator.normal(0.0, 1.0, size=(batch, query_length, dimension)))
        k = as_float32(generator.normal(0.0, 1.0, size=(batch, 4, dimension)))
        v = as_float32(generator.normal(0.0, 1.0, size=(batch, 4, dimension)))
        qs, ks, vs = leaf(q), leaf(k), leaf(v)
        mask = causal_mask(4) if causal else None
        output, _ = module(qs, ks, vs, attn_mask=mask, need_weights=False)
        replay = attention_by_formula(
            constant(q), constant(k), constant(v),
            {name: constant(value) for name, value in parameters.items()}, heads, causal)
        gap = (output.detach() - replay).abs().max().item()
        if gap > 1e-12:
            raise AssertionError(f"torch and the formula differ by {gap} (causal {causal})")
        r = as_float32(generator.normal(0.0, 1.0, size=output.shape))
        (output * constant(r)).sum().backward()
        gradients = ours(module.in_proj_weight.grad.numpy(), module.in_proj_bias.grad.numpy(),
                         module.out_proj.weight.grad.numpy(), module.out_proj.bias.grad.numpy())
        cases.append({
            "causal": causal,
            "query": tensor(q),
            "key": tensor(k),
            "value": tensor(v),
            "output": tensor(output.detach().numpy()),
            "upstream": tensor(r),
            "grad_query": tensor(qs.grad.numpy()),
            "grad_key": tensor(ks.grad.numpy()),
            "grad_value": tensor(vs.grad.numpy()),
            "grad_parameters": {name: tensor(value) for name, value in gradients.items()},
        })
    return {
        "function": "torch.nn.MultiheadAttention(8, 2, batch_first=True), dropout 0,"
                    " need_weights=False; causal cases pass attn_mask = -inf above the"
                    " diagonal",
        "rule": "per head h (d = 4 columns each): softmax(Q_h K_hᵀ / sqrt(d) + mask) V_h,"
                " heads concatenated, then the output projection; Q, K, V are the query,"
                " key and value Dense projections of the three inputs",
        "layout": "parameters under this project's names, Dense weights [in, out]:"
                  " in_proj_weight row blocks 0:8, 8:16, 16:24 transposed are query.weight,"
                  " key.weight, value.weight; out_proj.weight transposed is output.weight",
        "gradients": "of sum(output * upstream) with respect to query, key, value and every"
                     " parameter",
        "dimension": dimension,
        "heads": heads,
        "parameters": {name: tensor(value) for name, value in parameters.items()},
        "cases": cases,
    }


def positional_encoding():
    length, dimension = 6, 8
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.power(10000.0, -np.arange(0, dimension, 2, dtype=np.float64) / dimension)
    encoding = np.zeros((length, dimension))
    encoding[:, 0::2] = np.sin(position * frequency)
    encoding[:, 1::2] = np.cos(position * frequency)
    return {
        "rule": "Vaswani et al. 2017: encoding[pos, 2i] = sin(pos / 10000^(2i / d)),"
                " encoding[pos, 2i + 1] = cos(pos / 10000^(2i / d)); computed in float64 by"
                " NumPy (torch has no built-in)",
        "length": length,
        "dimension": dimension,
        "encoding": tensor(encoding),
    }


def main():
    torch.manual_seed(0)  # MultiheadAttention's initial draws, all overwritten
    generator = np.random.default_rng(SEED)
    document = {
        "description": "PyTorch reference values for the normalisation, residual, embedding"
                       " and attention layers. Written by make_toolkit_layer_reference.py.",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "precision": "inputs are float32; torch computed in float64; results rounded to"
                     " float32",
        "tensor_format": "{\"shape\": [...], \"values\": [row-major float32 values]}",
        "layer_norm": layer_norm(generator),
        "batch_norm": batch_norm(generator),
        "batch_norm_channels_last": batch_norm_channels_last(generator),
        "residual": residual(generator),
        "embedding": embedding(generator),
        "multi_head_attention": multi_head_attention(generator),
        "positional_encoding": positional_encoding(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolkit_layers.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")


if __name__ == "__main__":
    main()
