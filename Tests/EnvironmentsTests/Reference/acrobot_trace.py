"""Writes acrobot_trace.json: Acrobot-v1 episodes recorded from Gymnasium itself.

Each episode stores the seed, the initial state (Gymnasium keeps it as float32; written
here as the float64 values it widens to), the actions, and every observation (float32),
reward, terminated and truncated flag until the episode ends. The Swift test
(AcrobotTests.testReplaysGymnasiumTrace) sets the same initial state, replays the actions
through TimeLimit<Acrobot> and compares.

Episodes: random actions (these run into the 500-step limit: truncation) and a
controller that pumps energy by applying the torque in the direction of θ̇1 + θ̇2 (the tip
rises above the line: termination); with seeds 1 and 3 it also drives the first link's
velocity into its 4π bound, so the clipping is exercised.

    pip install gymnasium numpy
    python acrobot_trace.py             # rewrites acrobot_trace.json beside this file
"""
import json
import math
import os

import gymnasium as gym
import numpy as np


def pump(state):
    """Torque in the direction of θ̇1 + θ̇2: action 0 is -1, action 2 is +1."""
    return 2 if state[2] + state[3] > 0 else 0


def short(v):
    """The shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(np.float32(v), unique=True, trim="-"))


def record(env, seed, policy_name, action_rng):
    obs, _ = env.reset(seed=seed)
    initial_state = [float(v) for v in env.unwrapped.state]  # float32 widened, exact
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
    velocity_bound_hits = 0
    while True:
        s = np.asarray(env.unwrapped.state, dtype=np.float64)
        for angle in (s[0], s[1], s[0] + s[1]):
            if np.sin(angle) != math.sin(angle) or np.cos(angle) != math.cos(angle):
                libm_mismatches += 1
        if policy_name == "random":
            action = int(action_rng.integers(3))
        else:
            action = pump(s)
        obs, reward, terminated, truncated, _ = env.step(action)
        s = env.unwrapped.state
        if abs(s[2]) == 4 * math.pi or abs(s[3]) == 9 * math.pi:
            velocity_bound_hits += 1
        episode["actions"] += str(action)
        episode["observations"].append([short(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(int(terminated))
        episode["truncated"].append(int(truncated))
        if terminated or truncated:
            break
    episode["final_state"] = [float(v) for v in env.unwrapped.state]
    episode["end"] = "terminated" if terminated else "truncated"
    episode["velocity_bound_hits"] = velocity_bound_hits
    episode["numpy_libm_mismatches"] = libm_mismatches
    return episode


def main():
    env = gym.make("Acrobot-v1")
    action_rng = np.random.default_rng(2024)
    plan = [(0, "random"), (1, "random"), (0, "pump"), (1, "pump"), (3, "pump")]
    episodes = [record(env, seed, policy, action_rng) for seed, policy in plan]
    ends = [e["end"] for e in episodes]
    assert "terminated" in ends and "truncated" in ends, ends
    assert any(e["velocity_bound_hits"] > 0 for e in episodes), "no episode meets a velocity bound"
    out = {
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "environment": "Acrobot-v1",
        "episodes": episodes,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "acrobot_trace.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for e in episodes:
        print(f"seed {e['seed']} {e['policy']:6s} {len(e['actions']):4d} steps, ends {e['end']}, "
              f"velocity-bound steps {e['velocity_bound_hits']}, "
              f"numpy/libm sin-cos mismatches {e['numpy_libm_mismatches']}")


if __name__ == "__main__":
    main()
