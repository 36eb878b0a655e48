"""Wall time of Stable-Baselines3 SAC, TD3 and PPO on Gymnasium's continuous-control
classics (Pendulum-v1, MountainCarContinuous-v0) with rl-baselines3-zoo's
hyper-parameters, then the greedy (deterministic) mean and std return over 100
episodes of the trained policy.

None of the cases uses gSDE (generalised State-Dependent Exploration): AgentLab does
not implement it, so where the zoo sets `use_sde: True` the setting (and the gSDE-only
`sde_sample_freq` and `log_std_init`) is left out and the policy explores with SB3's
ordinary state-independent Gaussian (SAC: squashed Gaussian). Everything else is the
zoo's; settings the zoo does not give are SB3 2.9's defaults, written out below.

  sac-pendulum               SAC("MlpPolicy"), Pendulum-v1, 1 env, 20,000 steps,
                             lr 1e-3 (zoo sac.yml); SB3 defaults otherwise: buffer 1e6,
                             learning_starts 100, batch 256, tau 0.005, gamma 0.99,
                             train_freq 1, gradient_steps 1, ent_coef "auto",
                             net_arch [256, 256].
  td3-pendulum               TD3("MlpPolicy"), Pendulum-v1, 1 env, 20,000 steps, gamma
                             0.98, buffer 200,000, learning_starts 10,000,
                             NormalActionNoise sigma 0.1, train_freq 1, gradient_steps 1,
                             lr 1e-3, net_arch [400, 300] (zoo td3.yml; older zoo
                             releases had train_freq [1, "episode"], gradient_steps -1,
                             the same number of updates done at each episode's end);
                             SB3 defaults otherwise: batch 256, tau 0.005, policy_delay 2,
                             target noise 0.2 clipped at 0.5.
  ppo-pendulum               PPO("MlpPolicy"), Pendulum-v1, zoo ppo.yml minus gSDE:
                             4 envs x 1,024 steps, batch 64, 10 epochs, gamma 0.9,
                             lambda 0.95, ent 0, lr 1e-3, clip 0.2, 100,000 steps
                             (SB3 rounds up to whole rollouts of 4,096: 102,400 steps
                             are done); SB3 defaults otherwise (64-64 tanh separate
                             actor and critic, vf 0.5, max grad norm 0.5). The zoo's
                             use_sde True and sde_sample_freq 4 are left out.
  sac-mountaincarcontinuous  SAC("MlpPolicy"), MountainCarContinuous-v0, 1 env, 50,000
                             steps, zoo sac.yml minus gSDE: lr 3e-4, buffer 50,000,
                             batch 512, ent_coef 0.1, train_freq 32, gradient_steps 32,
                             gamma 0.9999, tau 0.01, learning_starts 0, net_arch
                             [64, 64]. The zoo's policy_kwargs also set
                             log_std_init=-3.67, which only the gSDE distribution uses;
                             it is left out with use_sde. Without gSDE's exploration
                             this configuration may not solve the task (the greedy
                             return is reported either way).

All cases use DummyVecEnv (make_vec_env, with its Monitor wrapper) and torch on the
CPU. `learn()` is timed with time.perf_counter; the evaluation is timed apart, on a
fresh gym.make env reset with seed 10,000 + episode. Prints one JSON line per case.

    python3 continuous_control.py [--case NAME ...] [--seed 0] [--threads N] [--steps N]
"""
import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv


def td3_noise(n_actions):
    return NormalActionNoise(mean=np.zeros(n_actions), sigma=0.1 * np.ones(n_actions))


CASES = {
    "sac-pendulum": dict(env="Pendulum-v1", algo=SAC, n_envs=1, steps=20_000, kwargs=dict(
        learning_rate=1e-3,
        # SB3 2.9 defaults, written out:
        buffer_size=1_000_000, learning_starts=100, batch_size=256, tau=0.005,
        gamma=0.99, train_freq=1, gradient_steps=1, ent_coef="auto",
        policy_kwargs=dict(net_arch=[256, 256]))),
    "td3-pendulum": dict(env="Pendulum-v1", algo=TD3, n_envs=1, steps=20_000,
                         action_noise=td3_noise, kwargs=dict(
        gamma=0.98, buffer_size=200_000, learning_starts=10_000, gradient_steps=1,
        train_freq=1, learning_rate=1e-3, policy_kwargs=dict(net_arch=[400, 300]))),
    "ppo-pendulum": dict(env="Pendulum-v1", algo=PPO, n_envs=4, steps=100_000, kwargs=dict(
        n_steps=1024, batch_size=64, gae_lambda=0.95, gamma=0.9, n_epochs=10,
        ent_coef=0.0, learning_rate=1e-3, clip_range=0.2)),
    "sac-mountaincarcontinuous": dict(env="MountainCarContinuous-v0", algo=SAC, n_envs=1,
                                      steps=50_000, kwargs=dict(
        learning_rate=3e-4, buffer_size=50_000, batch_size=512, ent_coef=0.1,
        train_freq=32, gradient_steps=32, gamma=0.9999, tau=0.01, learning_starts=0,
        policy_kwargs=dict(net_arch=[64, 64]))),
}


def greedy_returns(model, env_id, episodes=100, seed=10_000):
    env = gym.make(env_id)
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, r, term, trunc, _ = env.step(action)
            total += float(r)
            done = term or trunc
        returns.append(total)
    env.close()
    return np.asarray(returns)


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "gymnasium": gym.__version__,
            "stable_baselines3": stable_baselines3.__version__}


def run(name, seed, steps):
    cfg = CASES[name]
    steps = steps or cfg["steps"]
    env = make_vec_env(cfg["env"], n_envs=cfg["n_envs"], seed=seed, vec_env_cls=DummyVecEnv)
    kwargs = dict(cfg["kwargs"])
    if "action_noise" in cfg:
        kwargs["action_noise"] = cfg["action_noise"](env.action_space.shape[-1])
    model = cfg["algo"]("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs)
    t = time.perf_counter()
    model.learn(total_timesteps=steps)
    learn_s = time.perf_counter() - t
    done = model.num_timesteps
    t = time.perf_counter()
    rets = greedy_returns(model, cfg["env"])
    eval_s = time.perf_counter() - t
    env.close()
    print(json.dumps({
        "bench": "continuous_control", "impl": "sb3", "case": name, "env": cfg["env"],
        "seed": seed, "steps": steps, "steps_done": done, "n_envs": cfg["n_envs"],
        "threads": torch.get_num_threads(),
        "learn_seconds": round(learn_s, 2), "steps_per_s": round(done / learn_s, 1),
        "eval_episodes": len(rets), "greedy_mean_return": round(float(rets.mean()), 2),
        "greedy_std_return": round(float(rets.std()), 2),
        "eval_seconds": round(eval_s, 2), "versions": versions()}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", action="append", choices=list(CASES),
                   help="case to run (repeatable; default: all, in the order listed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--steps", type=int, default=0,
                   help="total environment steps for every chosen case (0: each case's own)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    for name in a.case or list(CASES):
        run(name, a.seed, a.steps)
