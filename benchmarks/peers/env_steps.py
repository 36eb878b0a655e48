"""Environment steps per second with uniformly random actions.

  gymnasium CartPole-v1, 1 copy     plain env.step loop, reset when done
  minatar Breakout, 1 copy          MinAtar package: env.act(a) + env.state() (the observation),
                                    reset when done; full action set (6), sticky actions 0.1 (default)
  gymnax CartPole-v1, 1,024 copies  jax.jit(jax.vmap(env.step)) called once per step from Python
  gymnax Breakout-MinAtar, 1,024    the same; gymnax envs reset themselves when done

For gymnax, random actions are drawn inside the jitted function, and a second figure
runs 100 steps inside one jitted lax.scan (no Python dispatch between steps).
Each steps/s figure counts every copy's step. Prints one JSON line per measurement.

    python3 env_steps.py [--seconds 5]
"""
import argparse
import json
import time
from importlib.metadata import version

import numpy as np


def report(lib, env, copies, steps, wall, mode="python loop"):
    print(json.dumps({"bench": "env_steps", "lib": lib, "env": env, "copies": copies, "mode": mode,
                      "steps": steps, "steps_per_s": round(steps / wall)}), flush=True)


def gymnasium_cartpole(seconds):
    import gymnasium as gym
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, t0 = 0, time.perf_counter()
    while True:
        for _ in range(1000):
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            if term or trunc:
                env.reset()
        steps += 1000
        wall = time.perf_counter() - t0
        if wall > seconds:
            return report("gymnasium " + gym.__version__, "CartPole-v1", 1, steps, wall)


def minatar_breakout(seconds):
    from minatar import Environment
    env = Environment("breakout")
    env.seed(0)
    env.reset()
    rng = np.random.default_rng(0)
    n = env.num_actions()
    steps, t0 = 0, time.perf_counter()
    while True:
        for a in rng.integers(n, size=1000):
            _, done = env.act(a)
            env.state()
            if done:
                env.reset()
        steps += 1000
        wall = time.perf_counter() - t0
        if wall > seconds:
            return report("minatar " + version("minatar"), "breakout", 1, steps, wall)


def gymnax_env(name, copies, seconds, scan_len=100):
    import jax
    import gymnax
    env, params = gymnax.make(name)
    n_actions = env.action_space(params).n

    def one_step(key, state):
        k_act, k_step = jax.random.split(key)
        action = jax.random.randint(k_act, (), 0, n_actions)
        return env.step(k_step, state, action, params)[1]  # (obs, state, reward, done..., info)

    step = jax.jit(jax.vmap(one_step))

    @jax.jit
    def scan(keys, state):  # keys: (scan_len, copies, 2)
        return jax.lax.scan(lambda s, k: (jax.vmap(one_step)(k, s), None), state, keys)[0]

    key = jax.random.PRNGKey(0)
    _, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, copies), params)
    for mode, fn, per_call in (("python loop", step, 1), (f"lax.scan {scan_len}", scan, scan_len)):
        def keys_for(k):
            ks = jax.random.split(k, per_call * copies)
            return ks.reshape((copies, 2)) if per_call == 1 else ks.reshape((per_call, copies, 2))
        all_keys = [keys_for(k) for k in jax.random.split(key, 64)]  # pre-split, reused cyclically
        state = fn(all_keys[0], state)
        jax.block_until_ready(state)  # compile
        calls, t0 = 0, time.perf_counter()
        while True:
            for _ in range(10):
                state = fn(all_keys[calls % 64], state)
                calls += 1
            jax.block_until_ready(state)
            wall = time.perf_counter() - t0
            if wall > seconds:
                break
        report("gymnax " + version("gymnax") + " / jax " + jax.__version__, name, copies,
               calls * per_call * copies, wall, mode)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()
    gymnasium_cartpole(a.seconds)
    try:
        import minatar  # noqa: F401
        minatar_breakout(a.seconds)
    except ImportError:
        print(json.dumps({"bench": "env_steps", "lib": "minatar", "skipped": "not installed"}))
    try:
        import gymnax  # noqa: F401
    except ImportError:
        print(json.dumps({"bench": "env_steps", "lib": "gymnax", "skipped": "not installed"}))
    else:
        gymnax_env("CartPole-v1", 1024, a.seconds)
        gymnax_env("Breakout-MinAtar", 1024, a.seconds)
