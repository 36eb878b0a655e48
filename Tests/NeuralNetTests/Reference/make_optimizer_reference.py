"""Writes optimizers.json: PyTorch SGD, Adam and RMSprop trajectories, and clip_grad_norm_.

Problem: float32 parameters p (length 6) and the loss
    L(p) = sum_i c_i * (p_i - t_i)^2 + 0.1 * p_i^4,
whose gradient is g = 2 c (p - t) + 0.4 p^3 (computed here by torch autograd in float32).
Each case runs STEPS optimiser steps from the same initial parameters. Step k records
the loss and gradient at the parameters before the step, and the parameters after it.

A float32 NumPy restatement of each update rule (the `update_rule` strings in the JSON)
is checked against torch, fed with torch's own gradients, before anything is written.

Run: python3 make_optimizer_reference.py   (writes optimizers.json next to this script)
"""

import os

import numpy as np
import torch

from reference_json import f32, f32_list, write_json

STEPS = 8
INITIAL_PARAMS = [0.5, -1.5, 2.0, -0.25, 3.0, -2.0]
COEFFICIENTS = [1.0, 0.5, 2.0, 0.25, 1.5, 0.75]
TARGETS = [0.25, 1.0, -0.5, 0.0, 2.0, -1.0]

SGD_KEYS = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"]
ADAM_KEYS = ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"]
RMSPROP_KEYS = ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"]

UPDATE_RULES = {
    "SGD": [
        "g = grad + weight_decay * p",
        "if momentum != 0: on step 1 buf = g (no dampening on the first step);"
        " later buf = momentum * buf + (1 - dampening) * g;"
        " then g = g + momentum * buf if nesterov else g = buf",
        "p = p - lr * g",
    ],
    "Adam": [
        "step t starts at 1; m and v start at 0",
        "g = grad + weight_decay * p   (L2 penalty added to the gradient, not AdamW)",
        "m = m + (1 - beta1) * (g - m)   (torch lerp; equals beta1 * m + (1 - beta1) * g)",
        "v = beta2 * v + (1 - beta2) * g * g",
        "bias_correction1 = 1 - beta1^t, bias_correction2 = 1 - beta2^t (in double)",
        "denom = sqrt(v) / sqrt(bias_correction2) + eps   (eps outside the square root)",
        "p = p - (lr / bias_correction1) * m / denom",
    ],
    "RMSprop": [
        "square_avg, grad_avg, buf start at 0; no bias correction",
        "g = grad + weight_decay * p",
        "square_avg = alpha * square_avg + (1 - alpha) * g * g",
        "if centered: grad_avg = grad_avg + (1 - alpha) * (g - grad_avg);"
        " avg = sqrt(square_avg - grad_avg^2) + eps; else avg = sqrt(square_avg) + eps"
        "   (eps outside the square root, unlike TensorFlow's RMSprop)",
        "if momentum > 0: buf = momentum * buf + g / avg; p = p - lr * buf;"
        " else p = p - lr * g / avg",
    ],
}

CASES = [
    ("sgd", "SGD", dict(lr=0.01)),
    ("sgd_momentum", "SGD", dict(lr=0.01, momentum=0.9)),
    ("sgd_nesterov", "SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.01, momentum=0.9, dampening=0.1)),
    ("sgd_weight_decay", "SGD", dict(lr=0.01, weight_decay=0.01)),
    ("adam_defaults", "Adam", dict()),
    ("adam_lr_0.1", "Adam", dict(lr=0.1)),
    ("adam_ppo", "Adam", dict(lr=2.5e-4, eps=1e-5)),
    ("adam_weight_decay", "Adam", dict(weight_decay=0.01)),
    ("rmsprop_defaults", "RMSprop", dict()),
    ("rmsprop_sb3", "RMSprop", dict(lr=7e-4, alpha=0.99, eps=1e-5)),
    ("rmsprop_centered", "RMSprop", dict(centered=True)),
    ("rmsprop_momentum", "RMSprop", dict(momentum=0.9)),
]


def loss_function(p, c, t):
    return (c * (p - t) ** 2 + 0.1 * p ** 4).sum()


def hyperparameters(optimizer, kind):
    group = optimizer.param_groups[0]
    keys = {"SGD": SGD_KEYS, "Adam": ADAM_KEYS, "RMSprop": RMSPROP_KEYS}[kind]
    result = {}
    for key in keys:
        value = group[key]
        if key == "betas":
            result["beta1"], result["beta2"] = float(value[0]), float(value[1])
        elif isinstance(value, bool):
            result[key] = value
        else:
            result[key] = float(value)
    return result


def run_case(name, kind, options):
    c = torch.tensor(COEFFICIENTS, dtype=torch.float32)
    t = torch.tensor(TARGETS, dtype=torch.float32)
    p = torch.tensor(INITIAL_PARAMS, dtype=torch.float32, requires_grad=True)
    optimizer = getattr(torch.optim, kind)([p], foreach=False, **options)
    steps = []
    for step in range(1, STEPS + 1):
        optimizer.zero_grad()
        loss = loss_function(p, c, t)
        loss.backward()
        grad = p.grad.detach().numpy().copy()
        optimizer.step()
        steps.append({
            "step": step,
            "loss": f32(loss.item()),
            "grad": f32_list(grad),
            "params": f32_list(p.detach().numpy()),
        })
    return {
        "name": name,
        "optimizer": kind,
        "hyperparameters": hyperparameters(optimizer, kind),
        "initial_params": f32_list(INITIAL_PARAMS),
        "steps": steps,
    }


def numpy_replay(case):
    """Replays a case with the documented update rule in float32, using torch's gradients."""
    h = case["hyperparameters"]
    kind = case["optimizer"]
    one = np.float32
    p = np.array(case["initial_params"], dtype=np.float32)
    zeros = np.zeros_like(p)
    m, v, square_avg, grad_avg, buf = zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy(), None
    worst = 0.0
    for record in case["steps"]:
        t = record["step"]
        g = np.array(record["grad"], dtype=np.float32)
        if h["weight_decay"] != 0:
            g = g + one(h["weight_decay"]) * p
        if kind == "SGD":
            if h["momentum"] != 0:
                if buf is None:
                    buf = g.copy()
                else:
                    buf = one(h["momentum"]) * buf + one(1 - h["dampening"]) * g
                g = g + one(h["momentum"]) * buf if h["nesterov"] else buf
            p = p - one(h["lr"]) * g
        elif kind == "Adam":
            beta1, beta2 = h["beta1"], h["beta2"]
            m = m + one(1 - beta1) * (g - m)
            v = one(beta2) * v + one(1 - beta2) * g * g
            bias_correction1 = 1 - beta1 ** t
            bias_correction2 = 1 - beta2 ** t
            denom = np.sqrt(v) / one(bias_correction2 ** 0.5) + one(h["eps"])
            p = p - one(h["lr"] / bias_correction1) * m / denom
        else:
            alpha = h["alpha"]
            square_avg = one(alpha) * square_avg + one(1 - alpha) * g * g
            if h["centered"]:
                grad_avg = grad_avg + one(1 - alpha) * (g - grad_avg)
                avg = np.sqrt(square_avg - grad_avg * grad_avg) + one(h["eps"])
            else:
                avg = np.sqrt(square_avg) + one(h["eps"])
            if h["momentum"] > 0:
                buf = (zeros if buf is None else one(h["momentum"]) * buf) + g / avg
                p = p - one(h["lr"]) * buf
            else:
                p = p - one(h["lr"]) * g / avg
        expected = np.array(record["params"], dtype=np.float32)
        worst = max(worst, float(np.abs(p - expected).max()))
        if not np.allclose(p, expected, rtol=1e-6, atol=1e-7):
            raise AssertionError(f"{case['name']} step {t}: numpy {p} != torch {expected}")
        p = expected  # keep replaying from torch's parameters
    return worst


def clip_case(grads, max_norm):
    shapes = [(2, 3), (3,)]
    params = [torch.zeros(shape, dtype=torch.float32, requires_grad=True) for shape in shapes]
    for param, grad in zip(params, grads):
        param.grad = torch.tensor(grad, dtype=torch.float32)
    before = [param.grad.clone() for param in params]
    total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm, norm_type=2.0,
                                                 foreach=False)
    coefficient = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    return {
        "name": f"clip_grad_norm_max_{max_norm:g}",
        "max_norm": float(max_norm),
        "norm_type": 2.0,
        "eps": 1e-6,
        "rule": "total_norm = sqrt(sum of squares over all tensors);"
                " coefficient = min(1, max_norm / (total_norm + eps)); grad = grad * coefficient"
                " (applied even when coefficient is 1)",
        "grads_before": [{"shape": list(g.shape), "values": f32_list(g.numpy())} for g in before],
        "total_norm": f32(total_norm.item()),
        "clip_coefficient": f32(coefficient.item()),
        "grads_after": [{"shape": list(p.grad.shape), "values": f32_list(p.grad.numpy())}
                        for p in params],
    }


def main():
    torch.manual_seed(0)
    cases = [run_case(*case) for case in CASES]
    for case in cases:
        worst = numpy_replay(case)
        print(f"{case['name']:24s} numpy replay: max |difference| {worst:.3g}")

    generator = np.random.default_rng(20240611)
    clip_grads = [generator.normal(0.0, 1.0, size=(2, 3)).astype(np.float32),
                  generator.normal(0.0, 1.0, size=(3,)).astype(np.float32)]
    clips = [clip_case(clip_grads, 0.5), clip_case(clip_grads, 100.0)]
    for clip in clips:
        print(f"{clip['name']:24s} total_norm {clip['total_norm']!r}"
              f" coefficient {clip['clip_coefficient']!r}")

    document = {
        "description": "PyTorch optimiser trajectories on a fixed float32 problem, and"
                       " torch.nn.utils.clip_grad_norm_. Written by make_optimizer_reference.py.",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "dtype": "float32",
        "problem": {
            "loss": "L(p) = sum_i c_i * (p_i - t_i)^2 + 0.1 * p_i^4",
            "gradient": "g = 2 * c * (p - t) + 0.4 * p^3",
            "c": f32_list(COEFFICIENTS),
            "t": f32_list(TARGETS),
            "initial_params": f32_list(INITIAL_PARAMS),
            "steps": STEPS,
            "step_record": "steps[k] holds the loss and grad at the parameters before step"
                           " k+1 and the params after it; steps[0] is evaluated at"
                           " initial_params",
        },
        "update_rules": UPDATE_RULES,
        "cases": cases,
        "clip_grad_norm": clips,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")


if __name__ == "__main__":
    main()
