"""Median microseconds of one full Adam training step of an LSTM in PyTorch (CPU):
zero grad, forward over the whole sequence, MSE loss, backward (through time), update.

  lstm  torch.nn.LSTM(input_size=128, hidden_size=128), one layer, time-major input
        [32, 64, 128] (sequence 32, batch 64), zero initial state; loss =
        mean((outputs - target)^2) with a fixed random target [32, 64, 128]; Adam lr 1e-4

The input and target are drawn once from numpy.random.default_rng(0); the weights are
torch's default init after torch.manual_seed(0). Each step is timed on its own
(time.perf_counter) after a warm-up; the median is reported (and the mean, which shows
stalls such as a torch thread waiting for a busy core). Runs at each --threads count
(torch.set_num_threads; default 1 and 2). Prints one JSON line per measurement, in
nn_step.py's format.

    python3 lstm_step.py [--steps 200] [--warmup 20] [--threads 1 2]
"""
import argparse
import json
import statistics
import time

import numpy as np

SEQUENCE, BATCH, INPUT, HIDDEN = 32, 64, 128, 128
CASE = f"lstm_t{SEQUENCE}_b{BATCH}_i{INPUT}_h{HIDDEN}"


def report(framework, threads, case, times, steps):
    print(json.dumps({"bench": "lstm_step", "framework": framework, "threads": threads,
                      "case": case, "median_us": round(statistics.median(times) * 1e6, 1),
                      "mean_us": round(statistics.fmean(times) * 1e6, 1),
                      "steps": steps}), flush=True)


def bench_torch(threads, steps, warmup):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((SEQUENCE, BATCH, INPUT), dtype=np.float32))
    y = torch.from_numpy(rng.standard_normal((SEQUENCE, BATCH, HIDDEN), dtype=np.float32))
    net = nn.LSTM(INPUT, HIDDEN)  # batch_first=False: [time, batch, features]
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        outputs, _ = net(x)
        loss = ((outputs - y) ** 2).mean()
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    report("torch " + torch.__version__, threads, CASE, times, steps)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    a = p.parse_args()
    for threads in a.threads:
        bench_torch(threads, a.steps, a.warmup)
