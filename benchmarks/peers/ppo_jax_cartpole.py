"""A minimal PureJaxRL-style PPO on gymnax CartPole-v1: the whole training run
(environment steps, GAE, updates) is one jitted function. Settings are CleanRL's
ppo.py ones: 4 envs x 128 steps, 4 epochs of 4 minibatches, gamma 0.99,
lambda 0.95, clip 0.2, ent 0.01, vf 0.5, max grad norm 0.5, Adam eps 1e-5,
lr 2.5e-4 annealed linearly per update, separate 64-64 tanh actor and critic,
orthogonal init, 500,000 steps. As in CleanRL, episode ends (including the
500-step time limit) are treated as terminal.

Reports compile time and run time separately, and the greedy (argmax) mean
return over 100 episodes. Prints one JSON line.

    python3 ppo_jax_cartpole.py [--seed 0]
"""
import argparse
import json
import time
from importlib.metadata import version

import jax
import jax.numpy as jnp
import flax.linen as nn
import gymnax
import numpy as np
import optax

N_ENVS, N_STEPS, EPOCHS, MINIBATCHES = 4, 128, 4, 4
TOTAL = 500_000
GAMMA, LAMBDA, CLIP, ENT, VF, MAX_NORM, LR = 0.99, 0.95, 0.2, 0.01, 0.5, 0.5, 2.5e-4
UPDATES = TOTAL // (N_ENVS * N_STEPS)
BATCH = N_ENVS * N_STEPS


def dense(n, scale):
    return nn.Dense(n, kernel_init=nn.initializers.orthogonal(scale), bias_init=nn.initializers.zeros)


class ActorCritic(nn.Module):
    n_actions: int

    @nn.compact
    def __call__(self, x):
        a = jnp.tanh(dense(64, np.sqrt(2))(x))
        a = jnp.tanh(dense(64, np.sqrt(2))(a))
        logits = dense(self.n_actions, 0.01)(a)
        v = jnp.tanh(dense(64, np.sqrt(2))(x))
        v = jnp.tanh(dense(64, np.sqrt(2))(v))
        return logits, dense(1, 1.0)(v)[..., 0]


env, env_params = gymnax.make("CartPole-v1")
net = ActorCritic(env.action_space(env_params).n)
lr = optax.linear_schedule(LR, 0.0, UPDATES * EPOCHS * MINIBATCHES)  # per optimiser step
tx = optax.chain(optax.clip_by_global_norm(MAX_NORM), optax.adam(lr, eps=1e-5))
v_reset = jax.vmap(env.reset, in_axes=(0, None))
v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))


def loss_fn(params, obs, act, old_logp, adv, ret):
    logits, value = net.apply(params, obs)
    logp_all = jax.nn.log_softmax(logits)
    logp = jnp.take_along_axis(logp_all, act[:, None], axis=1)[:, 0]
    ratio = jnp.exp(logp - old_logp)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg = jnp.maximum(-adv * ratio, -adv * jnp.clip(ratio, 1 - CLIP, 1 + CLIP)).mean()
    v_loss = 0.5 * ((value - ret) ** 2).mean()
    entropy = -(jnp.exp(logp_all) * logp_all).sum(-1).mean()
    return pg - ENT * entropy + VF * v_loss


def train(key):
    key, k_init, k_reset = jax.random.split(key, 3)
    obs, env_state = v_reset(jax.random.split(k_reset, N_ENVS), env_params)
    params = net.init(k_init, obs)
    opt_state = tx.init(params)

    def rollout_step(carry, _):
        params, env_state, obs, key = carry
        key, k_act, k_env = jax.random.split(key, 3)
        logits, value = net.apply(params, obs)
        act = jax.random.categorical(k_act, logits)
        logp = jnp.take_along_axis(jax.nn.log_softmax(logits), act[:, None], axis=1)[:, 0]
        next_obs, env_state, reward, term, trunc, _ = v_step(jax.random.split(k_env, N_ENVS), env_state, act, env_params)
        done = (term | trunc).astype(jnp.float32)  # gymnax auto-resets on either
        return (params, env_state, next_obs, key), (obs, act, logp, value, reward, done)

    def update(carry, _):
        params, opt_state, env_state, obs, key = carry
        (params, env_state, obs, key), traj = jax.lax.scan(
            rollout_step, (params, env_state, obs, key), None, N_STEPS)
        t_obs, t_act, t_logp, t_value, t_reward, t_done = traj
        _, last_value = net.apply(params, obs)

        def gae(carry, x):  # backwards over time
            adv, next_value = carry
            reward, done, value = x
            delta = reward + GAMMA * next_value * (1 - done) - value
            adv = delta + GAMMA * LAMBDA * (1 - done) * adv
            return (adv, value), adv

        _, advs = jax.lax.scan(gae, (jnp.zeros(N_ENVS), last_value), (t_reward, t_done, t_value), reverse=True)
        data = tuple(x.reshape((BATCH,) + x.shape[2:]) for x in (t_obs, t_act, t_logp, advs, advs + t_value))

        def epoch(carry, _):
            params, opt_state, key = carry
            key, k_perm = jax.random.split(key)
            perm = jax.random.permutation(k_perm, BATCH)
            mbs = tuple(x[perm].reshape((MINIBATCHES, -1) + x.shape[1:]) for x in data)

            def minibatch(carry, mb):
                params, opt_state = carry
                grads = jax.grad(loss_fn)(params, *mb)
                updates, opt_state = tx.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), None

            (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), mbs)
            return (params, opt_state, key), None

        (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, EPOCHS)
        return (params, opt_state, env_state, obs, key), None

    (params, *_), _ = jax.lax.scan(update, (params, opt_state, env_state, obs, key), None, UPDATES)
    return params


@jax.jit
def greedy_return(params, key, episodes=100):
    obs, state = v_reset(jax.random.split(key, episodes), env_params)

    def step(carry, k):
        obs, state, alive, total = carry
        act = jnp.argmax(net.apply(params, obs)[0], axis=-1)
        obs, state, reward, term, trunc, _ = v_step(jax.random.split(k, episodes), state, act, env_params)
        done = (term | trunc).astype(jnp.float32)
        total = total + reward * alive
        return (obs, state, alive * (1 - done), total), None

    carry = (obs, state, jnp.ones(episodes), jnp.zeros(episodes))
    (_, _, _, total), _ = jax.lax.scan(step, carry, jax.random.split(key, env_params.max_steps_in_episode))
    return total.mean()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    key = jax.random.PRNGKey(a.seed)
    t = time.perf_counter()
    compiled = jax.jit(train).lower(key).compile()
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    params = jax.block_until_ready(compiled(key))
    run_s = time.perf_counter() - t
    ret = float(greedy_return(params, jax.random.PRNGKey(10_000)))
    print(json.dumps({"bench": "ppo_cartpole", "impl": "jax (PureJaxRL-style)", "config": "cleanrl",
                      "versions": f"jax {jax.__version__}, gymnax {version('gymnax')}, flax {version('flax')}",
                      "timesteps": UPDATES * BATCH, "compile_s": round(compile_s, 1), "run_s": round(run_s, 1),
                      "steps_per_s": round(UPDATES * BATCH / run_s), "greedy_mean_return_100": ret,
                      "seed": a.seed}), flush=True)
