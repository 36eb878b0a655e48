"""Wall time of Stable-Baselines3 PPO on Acrobot-v1 with AgentLab's Acrobot PPO preset,
then the greedy (deterministic) mean return of the trained policy.

  16 envs (make_vec_env, DummyVecEnv) x 256 steps = rollouts of 4,096; 4 epochs of 64
  minibatches of 64 (batch_size 64); gamma 0.99, lambda 0.94, clip 0.2, entropy 0,
  lr 3e-4 (constant); SB3 2.9's PPO defaults otherwise, written out below: separate
  actor and critic MLPs of 64-64 tanh (SB3's default net_arch for PPO's MlpPolicy),
  orthogonal init, value coefficient 0.5, max grad norm 0.5, advantages normalised per
  minibatch, no value clipping. --steps 1,000,000 by default (SB3 runs whole rollouts:
  1,003,520 steps are done).

torch runs on the CPU with 1 thread unless --threads says otherwise (0: torch's
default). `learn()` is timed with time.perf_counter; the evaluation (a fresh gym.make
env reset with seed 10,000 + episode) is timed apart. Prints one JSON line.

    python3 sb3_ppo_acrobot.py [--steps 1000000] [--seed 0] [--threads 1] [--eval-episodes 100]
"""
import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

ENV, N_ENVS = "Acrobot-v1", 16
PPO_KWARGS = dict(
    n_steps=256, batch_size=64, n_epochs=4, gamma=0.99, gae_lambda=0.94, ent_coef=0.0,
    learning_rate=3e-4, clip_range=0.2,
    # SB3 2.9 defaults, written out:
    vf_coef=0.5, max_grad_norm=0.5, normalize_advantage=True, clip_range_vf=None,
    policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh,
                       ortho_init=True))


def greedy_returns(model, episodes, seed=10_000):
    env = gym.make(ENV)
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, r, term, trunc, _ = env.step(int(action))
            total += float(r)
            done = term or trunc
        returns.append(total)
    env.close()
    return np.asarray(returns)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    p.add_argument("--eval-episodes", type=int, default=100)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    env = make_vec_env(ENV, n_envs=N_ENVS, seed=a.seed, vec_env_cls=DummyVecEnv)
    model = PPO("MlpPolicy", env, seed=a.seed, device="cpu", verbose=0, **PPO_KWARGS)
    t = time.perf_counter()
    model.learn(total_timesteps=a.steps)
    learn_s = time.perf_counter() - t
    done = model.num_timesteps
    t = time.perf_counter()
    rets = greedy_returns(model, a.eval_episodes)
    eval_s = time.perf_counter() - t
    env.close()
    print(json.dumps({
        "bench": "sb3_ppo_acrobot", "impl": "sb3", "env": ENV, "seed": a.seed,
        "steps": a.steps, "steps_done": done, "n_envs": N_ENVS,
        "threads": torch.get_num_threads(),
        "learn_seconds": round(learn_s, 2), "steps_per_s": round(done / learn_s, 1),
        "eval_episodes": len(rets), "greedy_mean_return": round(float(rets.mean()), 2),
        "greedy_std_return": round(float(rets.std()), 2), "eval_seconds": round(eval_s, 2),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "gymnasium": gym.__version__,
                     "stable_baselines3": stable_baselines3.__version__}}), flush=True)
