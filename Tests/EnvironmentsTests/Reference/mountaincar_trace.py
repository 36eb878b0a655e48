"""Writes mountaincar_trace.json: MountainCar-v0 episodes recorded from Gymnasium itself.

Each episode stores the seed, the exact float64 initial state, the actions, and every
observation (float32), reward, terminated and truncated flag until the episode ends. The
Swift test (MountainCarTests.testReplaysGymnasiumTrace) sets the same initial state,
replays the actions through TimeLimit<MountainCar> and compares.

Episodes: random actions (the car never leaves the valley: truncation at 200 steps), a
controller that pumps energy by pushing the way the car moves (it reaches the flag:
termination), and one that pumps until its first push left and from then on only pushes
left (it runs into the wall at -1.2, where the velocity is zeroed; truncation).

    pip install gymnasium numpy
    python mountaincar_trace.py         # rewrites mountaincar_trace.json beside this file
"""
import json
import os

import gymnasium as gym
import numpy as np

LEFT_WALL = -1.2


def pump(state):
    """Push the way the car moves: action 0 pushes left, 2 pushes right."""
    return 2 if state[1] >= 0 else 0


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
    wall_hits = 0
    while True:
        if policy_name == "random":
            action = int(action_rng.integers(3))
        elif policy_name == "pump":
            action = pump(env.unwrapped.state)
        else:  # "left": pump until the car first swings left, then push left for good
            action = 0 if (episode["actions"] and episode["actions"][-1] == "0") else pump(env.unwrapped.state)
        obs, reward, terminated, truncated, _ = env.step(action)
        if env.unwrapped.state[0] == LEFT_WALL:
            wall_hits += 1
        episode["actions"] += str(action)
        episode["observations"].append([short(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(int(terminated))
        episode["truncated"].append(int(truncated))
        if terminated or truncated:
            break
    episode["final_state"] = [float(v) for v in env.unwrapped.state]
    episode["end"] = "goal" if terminated else "truncated"
    episode["left_wall_steps"] = wall_hits
    return episode


def main():
    env = gym.make("MountainCar-v0")
    action_rng = np.random.default_rng(2024)
    plan = [(0, "random"), (1, "random"), (2, "random"), (0, "pump"), (1, "pump"), (2, "left")]
    episodes = [record(env, seed, policy, action_rng) for seed, policy in plan]
    ends = [e["end"] for e in episodes]
    assert "goal" in ends and "truncated" in ends, ends
    assert any(e["left_wall_steps"] > 0 for e in episodes), "no episode reaches the left wall"
    out = {
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "environment": "MountainCar-v0",
        "episodes": episodes,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mountaincar_trace.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for e in episodes:
        print(f"seed {e['seed']} {e['policy']:6s} {len(e['actions']):4d} steps, ends {e['end']}, "
              f"steps at the left wall {e['left_wall_steps']}")


if __name__ == "__main__":
    main()
