"""Writes toolkit_optimizers.json: PyTorch AdamW and RMSprop-with-weight-decay trajectories,
and learning-rate schedule factors from torch.optim.lr_scheduler.

Optimisers: the same fixed float32 problem as optimizers.json, imported from
make_optimizer_reference.py (importing it defines the problem and its helpers; it does not
rerun that script or rewrite optimizers.json):
    L(p) = sum_i c_i * (p_i - t_i)^2 + 0.1 * p_i^4,   g = 2 c (p - t) + 0.4 p^3.
Cases are in optimizers.json's format (name, optimizer, hyperparameters, initial_params,
steps[k] = loss and grad before step k+1, params after it). Each case is replayed with the
`update_rules` text in NumPy float32, fed with torch's gradients, before anything is written.

Schedules: the factor of the base learning rate at update k = 0..K (K = 20), i.e.
scheduler.get_last_lr()[0] / base_lr after k calls to scheduler.step(), with base_lr 1.0 on
a dummy SGD optimiser. Each schedule's closed form (in k) and its progress form (in
p = k / K, the fraction of training done, the way the Swift side evaluates schedules) are
checked against torch's values to 1e-6 (they agree to about 1e-15).

Run: python3 make_toolkit_optimizer_reference.py   (writes toolkit_optimizers.json here)
"""

import math
import os

import numpy as np
import torch

from make_optimizer_reference import (ADAM_KEYS, COEFFICIENTS, INITIAL_PARAMS, RMSPROP_KEYS,
                                      STEPS, TARGETS, UPDATE_RULES, loss_function,
                                      numpy_replay)
from reference_json import f32, f32_list, write_json

UPDATES = 20  # K: schedules are recorded at k = 0..K

TOOLKIT_UPDATE_RULES = {
    "AdamW": [
        "step t starts at 1; m and v start at 0; grad is the gradient at the parameters"
        " before the step",
        "p = p * (1 - lr * weight_decay)   (decoupled weight decay: the parameters shrink"
        " before the Adam update and weight_decay never enters m or v; the factor"
        " 1 - lr * weight_decay is computed in double, then multiplies in float32)",
        "m = m + (1 - beta1) * (grad - m)   (torch lerp; equals beta1 * m + (1 - beta1) * grad)",
        "v = beta2 * v + (1 - beta2) * grad * grad",
        "bias_correction1 = 1 - beta1^t, bias_correction2 = 1 - beta2^t (in double)",
        "denom = sqrt(v) / sqrt(bias_correction2) + eps   (eps outside the square root)",
        "p = p - (lr / bias_correction1) * m / denom   (p here is the decayed p)",
    ],
    "RMSprop": UPDATE_RULES["RMSprop"],
}

CASES = [
    ("adamw_defaults", "AdamW", dict()),
    ("adamw_lr_0.1_weight_decay_0.1", "AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("rmsprop_weight_decay", "RMSprop", dict(weight_decay=0.1)),
]
KEYS = {"AdamW": ADAM_KEYS, "RMSprop": RMSPROP_KEYS}


def hyperparameters(optimizer, kind):
    group = optimizer.param_groups[0]
    result = {}
    for key in KEYS[kind]:
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
    if kind == "AdamW":
        assert optimizer.param_groups[0]["decoupled_weight_decay"]
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


def adamw_replay(case):
    """Replays an AdamW case with TOOLKIT_UPDATE_RULES["AdamW"] in float32."""
    h = case["hyperparameters"]
    one = np.float32
    p = np.array(case["initial_params"], dtype=np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    beta1, beta2 = h["beta1"], h["beta2"]
    worst = 0.0
    for record in case["steps"]:
        t = record["step"]
        g = np.array(record["grad"], dtype=np.float32)
        p = p * one(1 - h["lr"] * h["weight_decay"])
        m = m + one(1 - beta1) * (g - m)
        v = one(beta2) * v + one(1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        denom = np.sqrt(v) / one(bias_correction2 ** 0.5) + one(h["eps"])
        p = p - one(h["lr"] / bias_correction1) * m / denom
        expected = np.array(record["params"], dtype=np.float32)
        worst = max(worst, float(np.abs(p - expected).max()))
        if not np.allclose(p, expected, rtol=1e-6, atol=1e-7):
            raise AssertionError(f"{case['name']} step {t}: numpy {p} != torch {expected}")
        p = expected  # keep replaying from torch's parameters
    return worst


# --- Learning-rate schedules --------------------------------------------------------

def torch_factors(make_scheduler):
    """get_last_lr()[0] / base_lr after k = 0..UPDATES scheduler steps (base_lr 1.0)."""
    base_lr = 1.0
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    factors = [scheduler.get_last_lr()[0] / base_lr]
    for _ in range(UPDATES):
        optimizer.step()  # no gradient: a no-op that keeps torch's call-order check quiet
        scheduler.step()
        factors.append(scheduler.get_last_lr()[0] / base_lr)
    return factors


def cosine_warmup_k(k):
    if k < 4:
        return 0.1 + (1.0 - 0.1) * k / 4
    return 0.05 + (1.0 - 0.05) * (1 + math.cos(math.pi * (k - 4) / 16)) / 2


def cosine_warmup_p(p, warmup=0.2, start=0.1, final=0.05):
    if p < warmup:
        return start + (1.0 - start) * p / warmup
    return final + (1.0 - final) * (1 + math.cos(math.pi * (p - warmup) / (1 - warmup))) / 2


L = torch.optim.lr_scheduler
SCHEDULES = [
    dict(name="constant",
         torch="LambdaLR(optimizer, lr_lambda=lambda k: 1.0)",
         make=lambda o: L.LambdaLR(o, lr_lambda=lambda k: 1.0),
         closed_form="1",
         by_k=lambda k: 1.0,
         progress_form="1",
         progress_parameters={},
         by_p=lambda p: 1.0),
    dict(name="linear",
         torch="LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=20)",
         make=lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20),
         closed_form="1 + (0.1 - 1) * min(k, 20) / 20",
         by_k=lambda k: 1.0 + (0.1 - 1.0) * min(k, 20) / 20,
         progress_form="1 + (end - 1) * p",
         progress_parameters={"end": 0.1},
         by_p=lambda p: 1.0 + (0.1 - 1.0) * p),
    dict(name="step",
         torch="StepLR(optimizer, step_size=5, gamma=0.5)",
         make=lambda o: L.StepLR(o, step_size=5, gamma=0.5),
         closed_form="0.5 ^ floor(k / 5)",
         by_k=lambda k: 0.5 ** (k // 5),
         progress_form="gamma ^ floor(p / interval)   (the drop happens at p = 0.25, 0.5,"
                       " 0.75 and 1 exactly: the factor at p = 1 is 0.5^4)",
         progress_parameters={"interval": 0.25, "gamma": 0.5},
         by_p=lambda p: 0.5 ** math.floor(p / 0.25)),
    dict(name="exponential",
         torch="ExponentialLR(optimizer, gamma=0.8)",
         make=lambda o: L.ExponentialLR(o, gamma=0.8),
         closed_form="0.8 ^ k",
         by_k=lambda k: 0.8 ** k,
         progress_form="final ^ p   (final = 0.8^20, the factor at the end of the run)",
         progress_parameters={"final": 0.8 ** 20},
         by_p=lambda p: (0.8 ** 20) ** p),
    dict(name="cosine_warmup",
         torch="SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.1, end_factor=1.0,"
               " total_iters=4), CosineAnnealingLR(optimizer, T_max=16, eta_min=0.05)],"
               " milestones=[4])",
         make=lambda o: L.SequentialLR(
             o, [L.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=4),
                 L.CosineAnnealingLR(o, T_max=16, eta_min=0.05)], milestones=[4]),
         closed_form="k < 4: 0.1 + (1 - 0.1) * k / 4;"
                     " k >= 4: 0.05 + (1 - 0.05) * (1 + cos(pi * (k - 4) / 16)) / 2",
         by_k=cosine_warmup_k,
         progress_form="p < warmup: start + (1 - start) * p / warmup;"
                       " p >= warmup: final + (1 - final) * (1 + cos(pi * (p - warmup) /"
                       " (1 - warmup))) / 2",
         progress_parameters={"warmup": 0.2, "start": 0.1, "final": 0.05},
         by_p=cosine_warmup_p),
]


def schedules():
    ks = list(range(UPDATES + 1))
    progress = [k / UPDATES for k in ks]
    result = {}
    for spec in SCHEDULES:
        factors = torch_factors(spec["make"])
        closed = [spec["by_k"](k) for k in ks]
        by_progress = [spec["by_p"](p) for p in progress]
        # The same progress form evaluated at float32 p (as a Float implementation would).
        by_progress32 = [spec["by_p"](float(np.float32(k) / np.float32(UPDATES))) for k in ks]
        closed_difference = max(abs(a - b) for a, b in zip(factors, closed))
        progress_difference = max(abs(a - b) for a, b in zip(factors, by_progress))
        if closed_difference > 1e-6 or progress_difference > 1e-6:
            raise AssertionError(f"{spec['name']}: torch {factors} vs closed form {closed}"
                                 f" vs progress form {by_progress}")
        if max(abs(a - b) for a, b in zip(factors, by_progress32)) > 1e-6:
            raise AssertionError(f"{spec['name']}: progress form at float32 p disagrees")
        print(f"{spec['name']:14s} torch vs closed form {closed_difference:.3g},"
              f" vs progress form {progress_difference:.3g}")
        result[spec["name"]] = {
            "torch": spec["torch"],
            "closed_form": spec["closed_form"],
            "progress_form": spec["progress_form"],
            "progress_parameters": spec["progress_parameters"],
            "factors": f32_list(factors),
            "max_abs_difference_torch_vs_closed_form": closed_difference,
            "max_abs_difference_torch_vs_progress_form": progress_difference,
        }
    return {
        "description": (
            "Learning-rate factors (lr / base_lr) at update k = 0..K, K = updates = 20:"
            " factors[k] is torch's scheduler.get_last_lr()[0] / base_lr after k calls to"
            " scheduler.step() (base_lr 1.0, a dummy SGD optimiser), rounded to float32;"
            " factors[0] is the rate of the first update. k lists 0..K and progress lists"
            " p = k / K. Per schedule: torch (the scheduler built), closed_form (in k),"
            " progress_form (in p, with progress_parameters: the form the Swift side"
            " evaluates), and the largest differences in double between torch's factors"
            " and each form (all checked to be <= 1e-6; CosineAnnealingLR's recursive"
            " update does not drift from the closed form here). The progress form also"
            " agrees to 1e-6 when p is computed in float32."),
        "base_lr": 1.0,
        "updates": UPDATES,
        "k": ks,
        "progress": f32_list(progress),
        "schedules": result,
    }


def main():
    torch.manual_seed(0)
    cases = [run_case(*case) for case in CASES]
    for case in cases:
        worst = adamw_replay(case) if case["optimizer"] == "AdamW" else numpy_replay(case)
        print(f"{case['name']:30s} numpy replay: max |difference| {worst:.3g}")

    document = {
        "description": (
            "PyTorch AdamW and RMSprop (weight decay 0.1) trajectories on optimizers.json's"
            " fixed float32 problem, in optimizers.json's case format, and learning-rate"
            " schedule factors. Keys: torch_version, numpy_version, dtype; problem (the"
            " loss, its gradient, c, t, initial_params, steps, step_record); update_rules"
            " (per optimizer, the float32 rules the NumPy replay checked); cases (name,"
            " optimizer, hyperparameters, initial_params, steps: [{step, loss, grad,"
            " params}]); lr_schedules (see its own description). Written by"
            " make_toolkit_optimizer_reference.py."),
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
        "update_rules": TOOLKIT_UPDATE_RULES,
        "cases": cases,
        "lr_schedules": schedules(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolkit_optimizers.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")


if __name__ == "__main__":
    main()
