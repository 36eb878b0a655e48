"""Writes cartpole_trace.json: CartPole-v1 episodes recorded from Gymnasium itself.

Each episode stores the seed, the exact float64 initial state, the actions, and every
observation (float32), reward, terminated and truncated flag until the episode ends. The
Swift test (CartPoleTests.testReplaysGymnasiumTrace) sets the same initial state, replays
the actions through TimeLimit<CartPole> and compares.

Episodes: random actions (the pole falls: angle termination), a controller that balances
the pole while drifting right (the cart leaves the track: position termination), and a
balancing controller that lasts the full 500 steps (truncation by the time limit).

    pip install gymnasium numpy
    python cartpole_trace.py            # rewrites cartpole_trace.json beside this file
"""
import json
import math
import os

import gymnasium as gym
import numpy as np

THETA_LIMIT = 12 * 2 * math.pi / 360


def balance(obs):
    """A linear controller good enough to keep the pole up for 500 steps."""
    x, x_dot, theta, theta_dot = obs
    return int(theta + 0.5 * theta_dot + 0.05 * x + 0.2 * x_dot > 0)


def drift(obs):
    """Balances around a pole tilted right, so the cart creeps off the track."""
    _, _, theta, theta_dot = obs
    return int((theta - 0.03) + 0.5 * theta_dot > 0)


def short(v):
    """The shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(np.float32(v), unique=True, trim="-"))


def record(env, seed, policy_name, action_rng):
    obs, _ = env.reset(seed=seed)
    initial_state = [float(v) for v in env.unwrapped.state]  # float64, repr round-trips
    episode = {
        "seed": seed,
        "policy": policy_name,
        "initial_state": initial_state,
        "initial_observation": [short(v) for v in obs],
        "actions": "",
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
    }
    libm_mismatches = 0
    while True:
        theta = env.unwrapped.state[2]
        if np.sin(theta) != math.sin(theta) or np.cos(theta) != math.cos(theta):
            libm_mismatches += 1
        if policy_name == "random":
            action = int(action_rng.integers(2))
        else:
            action = {"balance": balance, "drift": drift}[policy_name](obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode["actions"] += str(action)
        episode["observations"].append([short(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(int(terminated))
        episode["truncated"].append(int(truncated))
        if terminated or truncated:
            break
    x, _, theta, _ = env.unwrapped.state
    episode["final_state"] = [float(v) for v in env.unwrapped.state]
    episode["end"] = (
        "truncated" if truncated
        else "position" if abs(x) > 2.4
        else "angle" if abs(theta) > THETA_LIMIT
        else "?"
    )
    episode["numpy_libm_mismatches"] = libm_mismatches
    return episode


def main():
    env = gym.make("CartPole-v1")
    action_rng = np.random.default_rng(2024)
    plan = [
        (0, "random"), (1, "random"), (2, "random"), (3, "random"),
        (2, "drift"),
        (0, "balance"),
    ]
    episodes = [record(env, seed, policy, action_rng) for seed, policy in plan]
    ends = [e["end"] for e in episodes]
    assert "angle" in ends and "position" in ends and "truncated" in ends, ends
    out = {
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "environment": "CartPole-v1",
        "episodes": episodes,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cartpole_trace.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for e in episodes:
        print(f"seed {e['seed']} {e['policy']:8s} {len(e['actions']):4d} steps, ends by {e['end']}, "
              f"numpy/libm sin-cos mismatches {e['numpy_libm_mismatches']}")


if __name__ == "__main__":
    main()
