"""Environment steps per second of Gymnasium's own vectorisers with random actions.

  SyncVectorEnv   the copies stepped one after another in this process
  AsyncVectorEnv  one subprocess per copy (Gymnasium's defaults: shared memory, the
                  platform's default multiprocessing start method)

Both are built as gymnasium.vector.XVectorEnv([lambda: gym.make(id)] * copies) with
same-step autoreset (AutoresetMode.SAME_STEP, Gymnasium 1.1 and later; older releases
use their only mode, which resets on the following step), the mode AgentLab's Gymnasium
bridge uses. Each run: seeded reset (seeds 0..copies-1), 1,000 warm-up vector steps, then
`--steps` timed vector steps. All actions are drawn up front from
numpy.random.default_rng(0), so drawing costs nothing in the timed loop. Steps per second
count every copy's step (vector steps x copies). Prints one JSON line per
(environment, vectoriser).

    python3 gymnasium_vector.py [--env CartPole-v1 --env Acrobot-v1] [--copies 8] [--steps 20000]
"""
import argparse
import json
import multiprocessing
import platform
import time

import gymnasium as gym
import numpy as np

WARMUP = 1_000


def make_vector(kind, env_id, copies):
    kwargs = {}
    mode = "next-step (the only mode before Gymnasium 1.1)"
    if hasattr(gym.vector, "AutoresetMode"):
        kwargs["autoreset_mode"] = gym.vector.AutoresetMode.SAME_STEP
        mode = "same-step"
    cls = {"sync": gym.vector.SyncVectorEnv, "async": gym.vector.AsyncVectorEnv}[kind]
    return cls([lambda: gym.make(env_id)] * copies, **kwargs), mode


def run(kind, env_id, copies, steps):
    envs, mode = make_vector(kind, env_id, copies)
    space = envs.single_action_space
    rng = np.random.default_rng(0)
    actions = rng.integers(space.n, size=(WARMUP + steps, copies)) + space.start
    envs.reset(seed=list(range(copies)))
    for a in actions[:WARMUP]:
        envs.step(a)
    t = time.perf_counter()
    for a in actions[WARMUP:]:
        envs.step(a)
    wall = time.perf_counter() - t
    envs.close()
    print(json.dumps({
        "bench": "gymnasium_vector", "env": env_id, "vectoriser": type(envs).__name__,
        "copies": copies, "autoreset": mode,
        **({"start_method": multiprocessing.get_start_method()} if kind == "async" else {}),
        "vector_steps": steps, "steps": steps * copies,
        "wall_s": round(wall, 2), "steps_per_s": round(steps * copies / wall),
        "versions": {"python": platform.python_version(), "gymnasium": gym.__version__,
                     "numpy": np.__version__}}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", action="append", help="Gymnasium id with Discrete actions (repeatable;"
                   " default: CartPole-v1 and Acrobot-v1)")
    p.add_argument("--copies", type=int, default=8)
    p.add_argument("--steps", type=int, default=20_000, help="timed vector steps")
    a = p.parse_args()
    for env_id in a.env or ["CartPole-v1", "Acrobot-v1"]:
        for kind in ("sync", "async"):
            run(kind, env_id, a.copies, a.steps)
