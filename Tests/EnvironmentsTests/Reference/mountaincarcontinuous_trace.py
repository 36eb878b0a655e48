"""Writes mountaincarcontinuous_trace.json: MountainCarContinuous-v0 episodes recorded from
Gymnasium itself.

Each episode stores the seed, the exact float64 initial state (`env.unwrapped.state` after
`reset`: float64, while every later state is float32), the actions (each a list of one
float32 force, written as the float64 value it widens to, so it reads back exactly), and
after every step the float32 observation, the float64 reward, `terminated` and `truncated`
(as 0/1), then the final state (float32 widened to float64). The Swift test
(MountainCarContinuousTests.testReplaysGymnasiumTrace) sets the same initial state,
replays the actions through TimeLimit<MountainCarContinuous> and compares.

The actions are float32 arrays, as the action space's dtype, so NumPy 2's promotion rules
decide the precision of each operation; the Swift port reproduces them (see
MountainCarContinuous.swift). Episodes:

- random forces uniform in [-2, 2] (about half beyond the bounds, clipped to ±1): the car
  stays in the valley until the 999-step limit (truncation);
- pushing ±1 along the velocity: the flag (termination);
- a gentle proportional push, 0.3 + 25 · velocity (unrounded values inside the bounds):
  the flag;
- pushing ±2.5 along the velocity (always clipped): the flag;
- pumping with ±1.5 until the car hits the wall at -1.2 (where the velocity is zeroed),
  then pushing +0.8 to the flag.

    pip install gymnasium==1.0.0 numpy
    python mountaincarcontinuous_trace.py   # rewrites mountaincarcontinuous_trace.json beside this file
"""
import json
import os

import gymnasium as gym
import numpy as np

LEFT_WALL = -1.2
MAX_ACTION = 1.0


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
        "actions": [],
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
    }
    clipped = 0
    wall_hits = 0
    while True:
        position, velocity = (float(v) for v in env.unwrapped.state)
        if policy_name == "random":
            force = action_rng.uniform(-2.0, 2.0)
        elif policy_name == "pump":
            force = 1.0 if velocity >= 0 else -1.0
        elif policy_name == "proportional":
            force = 0.3 + 25.0 * velocity
        elif policy_name == "pump-saturated":
            force = 2.5 if velocity >= 0 else -2.5
        else:  # "wall-then-right"
            force = 0.8 if wall_hits else (1.5 if velocity >= 0 else -1.5)
        action = np.array([force], dtype=np.float32)  # the action space's dtype
        if abs(action[0]) > MAX_ACTION:
            clipped += 1
        obs, reward, terminated, truncated, _ = env.step(action)
        if env.unwrapped.state[0] == np.float32(LEFT_WALL):
            wall_hits += 1
        episode["actions"].append([float(action[0])])  # float32 widened: exact
        episode["observations"].append([short(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(int(terminated))
        episode["truncated"].append(int(truncated))
        if terminated or truncated:
            break
    episode["final_state"] = [float(v) for v in env.unwrapped.state]
    episode["end"] = "goal" if terminated else "truncated"
    episode["clipped_actions"] = clipped
    episode["left_wall_steps"] = wall_hits
    return episode


def main():
    env = gym.make("MountainCarContinuous-v0")
    action_rng = np.random.default_rng(2024)
    plan = [(0, "random"), (1, "pump"), (2, "proportional"), (3, "pump-saturated"), (4, "wall-then-right")]
    episodes = [record(env, seed, policy, action_rng) for seed, policy in plan]
    ends = [e["end"] for e in episodes]
    assert "goal" in ends and "truncated" in ends, ends
    assert any(e["left_wall_steps"] > 0 for e in episodes), "no episode reaches the left wall"
    assert sum(e["clipped_actions"] for e in episodes) > 0, "no action is clipped"
    out = {
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "environment": "MountainCarContinuous-v0",
        "episodes": episodes,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mountaincarcontinuous_trace.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for e in episodes:
        print(f"seed {e['seed']} {e['policy']:15s} {len(e['actions']):4d} steps, ends {e['end']}, "
              f"clipped actions {e['clipped_actions']}, steps at the left wall {e['left_wall_steps']}, "
              f"return {sum(e['rewards']):.3f}")


if __name__ == "__main__":
    main()
