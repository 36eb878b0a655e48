"""Median microseconds of one full Adam training step (zero grad, forward,
MSE loss, backward, update) in PyTorch (CPU) and JAX (jit), for three cases:

  mlp64   MLP 4->64->64->2 tanh, batch 64
  mlp256  the same MLP, batch 256
  minatar conv 3x3x16 valid + ReLU -> flatten 1024 -> dense 128 + ReLU -> dense 6, batch 32
          (input 10x10x4: NCHW 4x10x10 in torch, NHWC 10x10x4 in JAX)

Each step is timed on its own after a warm-up; the median is reported (and the mean,
which shows stalls such as a torch thread waiting for a busy core).
Prints one JSON line per measurement.

    python3 nn_step.py [--steps 2000] [--warmup 200]
"""
import argparse
import json
import statistics
import time

import numpy as np

CASES = {"mlp64": ("mlp", 64), "mlp256": ("mlp", 256), "minatar": ("minatar", 32)}


def report(framework, threads, case, times, steps):
    print(json.dumps({"bench": "nn_step", "framework": framework, "threads": threads,
                      "case": case, "median_us": round(statistics.median(times) * 1e6, 1),
                      "mean_us": round(statistics.fmean(times) * 1e6, 1),
                      "steps": steps}), flush=True)


def data(kind, batch, rng):
    if kind == "mlp":
        return rng.standard_normal((batch, 4), dtype=np.float32), rng.standard_normal((batch, 2), dtype=np.float32)
    return rng.random((batch, 10, 10, 4), dtype=np.float32), rng.standard_normal((batch, 6), dtype=np.float32)


def bench_torch(threads, steps, warmup):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    for case, (kind, batch) in CASES.items():
        torch.manual_seed(0)
        x, y = data(kind, batch, np.random.default_rng(0))
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        if kind == "mlp":
            net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        else:
            x = x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
            net = nn.Sequential(nn.Conv2d(4, 16, 3), nn.ReLU(), nn.Flatten(),
                                nn.Linear(16 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 6))
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)

        def step():
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            opt.step()

        for _ in range(warmup):
            step()
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        report("torch " + torch.__version__, threads, case, times, steps)


def bench_jax(steps, warmup):
    import jax
    import jax.numpy as jnp
    import flax.linen as fnn
    import optax

    class MLP(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = jnp.tanh(fnn.Dense(64)(x))
            x = jnp.tanh(fnn.Dense(64)(x))
            return fnn.Dense(2)(x)

    class MinAtarNet(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = fnn.relu(fnn.Conv(16, (3, 3), padding="VALID")(x))
            x = x.reshape((x.shape[0], -1))
            x = fnn.relu(fnn.Dense(128)(x))
            return fnn.Dense(6)(x)

    for case, (kind, batch) in CASES.items():
        x, y = data(kind, batch, np.random.default_rng(0))
        x, y = jnp.asarray(x), jnp.asarray(y)
        net = MLP() if kind == "mlp" else MinAtarNet()
        params = net.init(jax.random.PRNGKey(0), x)
        tx = optax.adam(1e-4)
        opt_state = tx.init(params)

        @jax.jit
        def step(params, opt_state, x, y):
            loss, grads = jax.value_and_grad(lambda p: ((net.apply(p, x) - y) ** 2).mean())(params)
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        for _ in range(warmup):
            params, opt_state, loss = step(params, opt_state, x, y)
        loss.block_until_ready()
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            params, opt_state, loss = step(params, opt_state, x, y)
            loss.block_until_ready()
            times.append(time.perf_counter() - t)
        report("jax " + jax.__version__, "default", case, times, steps)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    a = p.parse_args()
    import torch
    for threads in sorted({torch.get_num_threads(), 1}, reverse=True):
        bench_torch(threads, a.steps, a.warmup)
    try:
        import jax  # noqa: F401
    except ImportError:
        print(json.dumps({"bench": "nn_step", "framework": "jax", "skipped": "not installed"}))
    else:
        bench_jax(a.steps, a.warmup)
