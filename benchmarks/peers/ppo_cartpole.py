"""Wall time of PPO on CartPole-v1 in Stable-Baselines3, plus the greedy
(deterministic) mean return over 100 episodes of the trained policy.

  cleanrl  CleanRL's ppo.py settings: 4 envs x 128 steps, 4 epochs of 4 minibatches
           (batch 128), gamma 0.99, lambda 0.95, clip 0.2, ent 0.01, vf 0.5,
           max grad norm 0.5, lr 2.5e-4 annealed linearly to 0, 64-64 tanh separate
           actor and critic, orthogonal init, 500,000 steps.
  zoo      rl-baselines3-zoo hyperparams/ppo.yml CartPole-v1: 8 envs x 32 steps,
           batch 256, 20 epochs, gamma 0.98, lambda 0.8, ent 0, lr 1e-3 linear,
           clip 0.2 linear, 100,000 steps (other settings SB3 defaults).

Both use DummyVecEnv and torch on the CPU. Prints one JSON line per config.

    python3 ppo_cartpole.py [--configs cleanrl zoo] [--seed 0] [--threads N]
"""
import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv


def linear(start):
    return lambda progress_remaining: progress_remaining * start


CONFIGS = {
    "cleanrl": dict(n_envs=4, timesteps=500_000, ppo=dict(
        n_steps=128, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95,
        clip_range=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
        learning_rate=linear(2.5e-4), normalize_advantage=True,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]),
                           activation_fn=torch.nn.Tanh, ortho_init=True))),
    "zoo": dict(n_envs=8, timesteps=100_000, ppo=dict(
        n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8,
        ent_coef=0.0, learning_rate=linear(1e-3), clip_range=linear(0.2))),
}


def greedy_return(model, episodes=100, seed=10_000):
    env = gym.make("CartPole-v1")
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, r, term, trunc, _ = env.step(int(action))
            total += r
            done = term or trunc
        returns.append(total)
    return float(np.mean(returns))


def run(name, seed):
    cfg = CONFIGS[name]
    env = make_vec_env("CartPole-v1", n_envs=cfg["n_envs"], seed=seed, vec_env_cls=DummyVecEnv)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **cfg["ppo"])
    t = time.perf_counter()
    model.learn(total_timesteps=cfg["timesteps"])
    wall = time.perf_counter() - t
    print(json.dumps({"bench": "ppo_cartpole", "impl": "sb3", "config": name,
                      "torch_threads": torch.get_num_threads(), "timesteps": cfg["timesteps"],
                      "wall_s": round(wall, 1), "steps_per_s": round(cfg["timesteps"] / wall),
                      "greedy_mean_return_100": greedy_return(model), "seed": seed}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    for name in a.configs:
        run(name, a.seed)
