"""Writes pendulum_trace.json: Pendulum-v1 episodes recorded from Gymnasium itself.

Each episode stores the seed, the exact float64 initial state (`env.unwrapped.state` after
`reset`), the actions (each a list of one float32 torque, written as the float64 value it
widens to, so it reads back exactly), and after every step the float32 observation, the
float64 reward, `terminated` and `truncated` (as 0/1), then the float64 final state. The
Swift test (PendulumTests.testReplaysGymnasiumTrace) sets the same initial state, replays
the actions through TimeLimit<Pendulum> and compares.

Every episode runs into the 200-step limit (Pendulum never terminates). The five:

- random torques uniform in [-2, 2];
- random torques uniform in [-4, 4] (about half beyond the bounds: clipped to ±2);
- a torque of ±5 along θ̇ (clipped to ±2): it pumps energy until the pendulum spins
  round and its speed hits the ±8 rad/s bound, so that clip is exercised;
- a swing-up controller (pump energy with ±3, clipped to ±2, then a PD law near the top
  whose output is not clipped by the controller): rewards near 0 once balanced;
- a PD law towards the top with large gains: its outputs (around -110) are always clipped
  to -2, which cannot lift the pendulum; it settles where -2 N·m balances gravity.

    pip install gymnasium==1.0.0 numpy
    python pendulum_trace.py            # rewrites pendulum_trace.json beside this file
"""
import json
import math
import os

import gymnasium as gym
import numpy as np

MAX_TORQUE = 2.0
MAX_SPEED = 8.0


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def swing_up(state):
    """Pump energy with a saturated torque along θ̇, then balance with a PD law near the top."""
    th, thdot = state
    a = angle_normalize(th)
    if abs(a) < 0.6 and abs(thdot) < 4:
        return -(12.0 * a + 2.5 * thdot)
    energy = 0.5 * thdot**2 + 15.0 * math.cos(th)  # 15 at rest upright
    return 3.0 * (1.0 if thdot >= 0 else -1.0) * (1.0 if energy < 15.0 else -1.0)


def hard_pd(state):
    th, thdot = state
    return -(40.0 * angle_normalize(th) + 10.0 * thdot)


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
    speed_bound_hits = 0
    libm_mismatches = 0
    while True:
        th = float(env.unwrapped.state[0])
        if np.sin(th) != math.sin(th) or np.cos(th) != math.cos(th):
            libm_mismatches += 1
        if policy_name == "random":
            torque = action_rng.uniform(-2.0, 2.0)
        elif policy_name == "random-wide":
            torque = action_rng.uniform(-4.0, 4.0)
        elif policy_name == "pump":
            torque = 5.0 if env.unwrapped.state[1] >= 0 else -5.0
        elif policy_name == "swing-up":
            torque = swing_up(env.unwrapped.state)
        else:  # "saturated-pd"
            torque = hard_pd(env.unwrapped.state)
        action = np.array([torque], dtype=np.float32)  # the action space's dtype
        if abs(action[0]) > MAX_TORQUE:
            clipped += 1
        obs, reward, terminated, truncated, _ = env.step(action)
        if abs(env.unwrapped.state[1]) == MAX_SPEED:
            speed_bound_hits += 1
        episode["actions"].append([float(action[0])])  # float32 widened: exact
        episode["observations"].append([short(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(int(terminated))
        episode["truncated"].append(int(truncated))
        if terminated or truncated:
            break
    th = float(env.unwrapped.state[0])
    if np.sin(th) != math.sin(th) or np.cos(th) != math.cos(th):
        libm_mismatches += 1
    episode["final_state"] = [float(v) for v in env.unwrapped.state]
    episode["end"] = "terminated" if terminated else "truncated"
    episode["clipped_actions"] = clipped
    episode["speed_bound_hits"] = speed_bound_hits
    episode["numpy_libm_mismatches"] = libm_mismatches
    return episode


def main():
    env = gym.make("Pendulum-v1")
    action_rng = np.random.default_rng(2024)
    plan = [(0, "random"), (1, "random-wide"), (2, "pump"), (3, "swing-up"), (4, "saturated-pd")]
    episodes = [record(env, seed, policy, action_rng) for seed, policy in plan]
    assert all(e["end"] == "truncated" and len(e["actions"]) == 200 for e in episodes)
    assert any(e["speed_bound_hits"] > 0 for e in episodes), "no episode reaches the speed bound"
    assert sum(e["clipped_actions"] for e in episodes) > 0, "no action is clipped"
    out = {
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "environment": "Pendulum-v1",
        "episodes": episodes,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pendulum_trace.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for e in episodes:
        print(f"seed {e['seed']} {e['policy']:12s} {len(e['actions']):4d} steps, ends {e['end']}, "
              f"clipped actions {e['clipped_actions']}, steps at the speed bound {e['speed_bound_hits']}, "
              f"return {sum(e['rewards']):.2f}, numpy/libm sin-cos mismatches {e['numpy_libm_mismatches']}")


if __name__ == "__main__":
    main()
