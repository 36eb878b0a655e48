"""Wall time of sb3-contrib's RecurrentPPO (MlpLstmPolicy) on CartPole without velocities,
with rl-baselines3-zoo's CartPoleNoVel-v1 settings (hyperparams/ppo_lstm.yml), then the
greedy (deterministic) mean return of the trained policy.

  Environment: CartPole-NoVelocity-v1, built here: gymnasium CartPole-v1 (500-step limit)
  behind an ObservationWrapper keeping components 0 and 2 (cart position, pole angle) and
  dropping the two velocities, so the policy needs memory. (The zoo's MaskVelocityWrapper
  zeroes the velocities and keeps four components instead; after VecNormalize those are
  constant zeros, so the task is the same.)
  8 envs (make_vec_env, DummyVecEnv) behind VecNormalize(norm_obs=True, norm_reward=False)
  x 32 steps = rollouts of 256; 20 epochs of one minibatch of 256 (batch_size 256);
  gamma 0.98, lambda 0.8, entropy 0, learning rate 1e-3 and clip range 0.2 both linear to
  0 over the run; policy_kwargs ortho_init=False, activation_fn=ReLU, lstm_hidden_size=64,
  enable_critic_lstm=True (separate actor and critic LSTMs), net_arch=dict(pi=[64],
  vf=[64]); RecurrentPPO's defaults otherwise (vf 0.5, max grad norm 0.5, advantages
  normalised, one LSTM layer). The zoo's `normalize: True` also normalises rewards
  (VecNormalize's default, with gamma 0.98); --norm-reward turns that on here.
  --steps 500,000 by default (whole rollouts: 500,224 are done).

torch runs on the CPU with 1 thread unless --threads says otherwise (0: torch's default).
`learn()` is timed with time.perf_counter. The evaluation, timed apart, runs --episodes
episodes (default 100) on a fresh single env behind its own VecNormalize (training=False,
norm_reward=False) holding a copy of the training observation statistics; episode e is
reset with seed 10,000 + e, and the LSTM state is carried from step to step and reset at
each episode start (model.predict with state and episode_start). Prints one JSON line.

    python3 sb3_recurrent_ppo.py [--steps 500000] [--seed 0] [--threads 1] [--episodes 100]
"""
import argparse
import copy
import json
import platform
import time

import gymnasium as gym
import numpy as np
import sb3_contrib
import stable_baselines3
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

ENV, N_ENVS, GAMMA = "CartPole-NoVelocity-v1", 8, 0.98


class CartPoleNoVelocity(gym.ObservationWrapper):
    """CartPole-v1 observing only the cart position and the pole angle."""

    KEEP = [0, 2]

    def __init__(self, env):
        super().__init__(env)
        space = env.observation_space
        self.observation_space = gym.spaces.Box(space.low[self.KEEP], space.high[self.KEEP],
                                                dtype=np.float32)

    def observation(self, observation):
        return np.asarray(observation, dtype=np.float32)[self.KEEP]


def make_env():
    return CartPoleNoVelocity(gym.make("CartPole-v1"))


def linear(start):
    return lambda progress_remaining: progress_remaining * start


PPO_KWARGS = dict(
    n_steps=32, batch_size=256, n_epochs=20, gamma=GAMMA, gae_lambda=0.8, ent_coef=0.0,
    learning_rate=linear(1e-3), clip_range=linear(0.2),
    policy_kwargs=dict(ortho_init=False, activation_fn=torch.nn.ReLU, lstm_hidden_size=64,
                       enable_critic_lstm=True, net_arch=dict(pi=[64], vf=[64])))


def greedy_returns(model, train_env, episodes, seed=10_000):
    env = VecNormalize(DummyVecEnv([make_env]), training=False, norm_obs=True,
                       norm_reward=False, gamma=GAMMA)
    env.obs_rms = copy.deepcopy(train_env.obs_rms)
    returns = []
    for ep in range(episodes):
        env.seed(seed + ep)
        obs = env.reset()
        state, episode_start = None, np.ones((1,), dtype=bool)
        total, done = 0.0, False
        while not done:
            action, state = model.predict(obs, state=state, episode_start=episode_start,
                                          deterministic=True)
            obs, reward, dones, _ = env.step(action)
            total += float(reward[0])
            done = bool(dones[0])
            episode_start = dones
        returns.append(total)
    env.close()
    return np.asarray(returns)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=500_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    p.add_argument("--episodes", "--eval-episodes", dest="episodes", type=int, default=100)
    p.add_argument("--norm-reward", action="store_true",
                   help="also normalise rewards while training, as the zoo's normalize: True")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    env = VecNormalize(make_vec_env(make_env, n_envs=N_ENVS, seed=a.seed, vec_env_cls=DummyVecEnv),
                       norm_obs=True, norm_reward=a.norm_reward, gamma=GAMMA)
    model = RecurrentPPO("MlpLstmPolicy", env, seed=a.seed, device="cpu", verbose=0, **PPO_KWARGS)
    t = time.perf_counter()
    model.learn(total_timesteps=a.steps)
    learn_s = time.perf_counter() - t
    done = model.num_timesteps
    t = time.perf_counter()
    rets = greedy_returns(model, env, a.episodes)
    eval_s = time.perf_counter() - t
    env.close()
    print(json.dumps({
        "bench": "sb3_recurrent_ppo", "impl": "sb3-contrib RecurrentPPO", "env": ENV,
        "seed": a.seed, "steps": a.steps, "steps_done": done, "n_envs": N_ENVS,
        "norm_reward": a.norm_reward, "threads": torch.get_num_threads(),
        "learn_seconds": round(learn_s, 2), "steps_per_s": round(done / learn_s, 1),
        "eval_episodes": len(rets), "greedy_mean_return": round(float(rets.mean()), 2),
        "greedy_std_return": round(float(rets.std()), 2), "eval_seconds": round(eval_s, 2),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "gymnasium": gym.__version__,
                     "stable_baselines3": stable_baselines3.__version__,
                     "sb3_contrib": sb3_contrib.__version__}}), flush=True)
