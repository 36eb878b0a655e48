"""A minimal PureJaxRL-style PPO on gymnax Breakout-MinAtar with AgentLab's
Breakout PPO preset: the whole training run (environment steps, GAE, updates)
is one jitted function, a `lax.scan` over updates.

The preset: 64 copies x 128 steps per rollout (8,192 transitions), 4 epochs of
8 shuffled minibatches of 1,024, gamma 0.99, GAE lambda 0.95, clip 0.2 on the
policy ratio and on the value (value loss 0.5 * max(unclipped^2, clipped^2)),
entropy 0.01, value 0.5, global gradient norm 0.5, Adam lr 5e-3 (eps 1e-5)
falling linearly to 0 over the run (one rate per update, as AgentLab does),
advantages normalised per minibatch (unbiased std + 1e-8). As in AgentLab, a
truncated episode (gymnax's 1,000-step limit) bootstraps from the value of its
final observation; a terminated one does not.

Network (channels last, 10x10x4): conv 3x3, 16 filters, VALID, ReLU -> flatten
(1,024) -> dense 128 ReLU, shared; policy head dense(actions), value head
dense(1). Orthogonal init, gain sqrt(2) in the trunk, 0.01 policy, 1.0 value,
zero biases.

Prints one JSON line with the compile time and the run time (timed apart), then
one with the greedy (argmax) mean return over 100 episodes (each ends at the
environment's own 1,000-step limit; 10,000 steps are the evaluation's cap).

    python3 ppo_jax_breakout.py [--steps 1000000] [--seed 0] [--conv flax|im2col]

--conv im2col computes the same convolution (same parameters, same init) as nine
shifted slices and one matmul. XLA's CPU backend runs nn.Conv's convolutions
several times slower inside a loop body than outside one (jax-ml/jax#12868), and
here every training step is inside a loop; PureJaxRL itself uses nn.Conv, the
default.
"""
import argparse
import json
import time

import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import optax

N_ENVS, N_STEPS, EPOCHS, MINIBATCHES = 64, 128, 4, 8
BATCH = N_ENVS * N_STEPS              # 8,192
MINIBATCH = BATCH // MINIBATCHES      # 1,024
GAMMA, LAMBDA, CLIP = 0.99, 0.95, 0.2
ENT_COEF, VF_COEF, MAX_NORM = 0.01, 0.5, 0.5
LR, ADAM_EPS = 5e-3, 1e-5
EVAL_EPISODES, EVAL_CAP = 100, 10_000

env, env_params = gymnax.make("Breakout-MinAtar")
N_ACTIONS = env.action_space(env_params).n
v_reset = jax.vmap(env.reset, in_axes=(0, None))
v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))


def orthogonal(gain):
    return nn.initializers.orthogonal(gain)


class Im2colConv(nn.Module):
    """The same 3x3 VALID convolution as nn.Conv (same parameter names, shapes and
    init) computed as nine shifted slices, concatenated, times a 36 x 16 matrix."""
    features: int

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", orthogonal(np.sqrt(2)), (3, 3, x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        h, w = x.shape[-3] - 2, x.shape[-2] - 2
        patches = jnp.concatenate([x[..., i:i + h, j:j + w, :] for i in range(3) for j in range(3)], axis=-1)
        return patches @ kernel.reshape(-1, self.features) + bias


class ActorCritic(nn.Module):
    n_actions: int
    im2col: bool = False

    @nn.compact
    def __call__(self, obs):
        zeros = nn.initializers.zeros
        if self.im2col:
            h = Im2colConv(16, name="Conv_0")(obs)
        else:
            h = nn.Conv(16, (3, 3), padding="VALID", kernel_init=orthogonal(np.sqrt(2)), bias_init=zeros)(obs)
        h = nn.relu(h)
        h = h.reshape(h.shape[:-3] + (-1,))  # 8 x 8 x 16 = 1,024
        h = nn.relu(nn.Dense(128, kernel_init=orthogonal(np.sqrt(2)), bias_init=zeros)(h))
        logits = nn.Dense(self.n_actions, kernel_init=orthogonal(0.01), bias_init=zeros)(h)
        value = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=zeros)(h)
        return logits, value[..., 0]


net = ActorCritic(N_ACTIONS)  # replaced by --conv im2col before anything is traced
# Adam's direction after clipping the global norm; the (annealed) rate is applied by hand.
adam = optax.chain(optax.clip_by_global_norm(MAX_NORM), optax.scale_by_adam(eps=ADAM_EPS))


def ppo_loss(params, batch):
    obs, act, old_logp, old_value, adv, ret = batch
    logits, value = net.apply(params, obs)
    log_probs = jax.nn.log_softmax(logits)
    logp = jnp.take_along_axis(log_probs, act[:, None], axis=1)[:, 0]
    ratio = jnp.exp(logp - old_logp)
    adv = (adv - adv.mean()) / (jnp.std(adv, ddof=1) + 1e-8)
    policy = jnp.maximum(-adv * ratio, -adv * jnp.clip(ratio, 1 - CLIP, 1 + CLIP)).mean()
    value_clipped = old_value + jnp.clip(value - old_value, -CLIP, CLIP)
    value_loss = 0.5 * jnp.maximum((value - ret) ** 2, (value_clipped - ret) ** 2).mean()
    entropy = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
    return policy - ENT_COEF * entropy + VF_COEF * value_loss


def make_train(n_updates):
    def train(key):
        key, k_init, k_reset = jax.random.split(key, 3)
        obs, env_state = v_reset(jax.random.split(k_reset, N_ENVS), env_params)
        params = net.init(k_init, obs)
        opt_state = adam.init(params)

        def env_step(carry, _):
            params, env_state, obs, key = carry
            key, k_act, k_env = jax.random.split(key, 3)
            logits, value = net.apply(params, obs)
            act = jax.random.categorical(k_act, logits)
            logp = jnp.take_along_axis(jax.nn.log_softmax(logits), act[:, None], axis=1)[:, 0]
            next_obs, env_state, reward, term, trunc, info = v_step(
                jax.random.split(k_env, N_ENVS), env_state, act, env_params)
            # A time-limit end bootstraps from V(final observation); gymnax has already
            # replaced next_obs by the next episode's first one. Rare, so only when needed.
            cut = trunc & ~term
            bootstrap = jax.lax.cond(
                cut.any(), lambda: net.apply(params, info["final_observation"])[1],
                lambda: jnp.zeros(N_ENVS))
            reward = reward + GAMMA * jnp.where(cut, bootstrap, 0.0)
            done = (term | trunc).astype(jnp.float32)
            return (params, env_state, next_obs, key), (obs, act, logp, value, reward, done)

        def update(carry, update_index):
            params, opt_state, env_state, obs, key = carry
            (params, env_state, obs, key), rollout = jax.lax.scan(
                env_step, (params, env_state, obs, key), None, N_STEPS)
            r_obs, r_act, r_logp, r_value, r_reward, r_done = rollout
            _, last_value = net.apply(params, obs)

            def gae_step(carry, step):  # runs backwards in time
                adv, next_value = carry
                reward, done, value = step
                delta = reward + GAMMA * (1 - done) * next_value - value
                adv = delta + GAMMA * LAMBDA * (1 - done) * adv
                return (adv, value), adv

            _, advantages = jax.lax.scan(gae_step, (jnp.zeros(N_ENVS), last_value),
                                         (r_reward, r_done, r_value), reverse=True)
            flat = tuple(x.reshape((BATCH,) + x.shape[2:])
                         for x in (r_obs, r_act, r_logp, r_value, advantages, advantages + r_value))
            lr = LR * (1.0 - update_index / n_updates)  # linear to 0, one rate per update

            def epoch(carry, _):
                params, opt_state, key = carry
                key, k_perm = jax.random.split(key)
                order = jax.random.permutation(k_perm, BATCH)
                minibatches = tuple(x[order].reshape((MINIBATCHES, MINIBATCH) + x.shape[1:]) for x in flat)

                def sgd_step(carry, minibatch):
                    params, opt_state = carry
                    grads = jax.grad(ppo_loss)(params, minibatch)
                    direction, opt_state = adam.update(grads, opt_state, params)
                    params = jax.tree.map(lambda p, d: p - lr * d, params, direction)
                    return (params, opt_state), None

                (params, opt_state), _ = jax.lax.scan(sgd_step, (params, opt_state), minibatches)
                return (params, opt_state, key), None

            (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, EPOCHS)
            return (params, opt_state, env_state, obs, key), None

        carry = (params, opt_state, env_state, obs, key)
        (params, *_), _ = jax.lax.scan(update, carry, jnp.arange(n_updates, dtype=jnp.float32))
        return params

    return train


@jax.jit
def greedy_mean_return(params, key):
    """Mean return of the argmax policy over EVAL_EPISODES episodes, run side by side."""
    key, k_reset = jax.random.split(key)
    obs, state = v_reset(jax.random.split(k_reset, EVAL_EPISODES), env_params)

    def running(carry):
        t, alive = carry[0], carry[3]
        return (t < EVAL_CAP) & alive.any()

    def step(carry):
        t, obs, state, alive, total, key = carry
        key, k_env = jax.random.split(key)
        act = jnp.argmax(net.apply(params, obs)[0], axis=-1)
        obs, state, reward, term, trunc, _ = v_step(
            jax.random.split(k_env, EVAL_EPISODES), state, act, env_params)
        total = total + reward * alive
        alive = alive & ~(term | trunc)
        return t + 1, obs, state, alive, total, key

    carry = (0, obs, state, jnp.ones(EVAL_EPISODES, bool), jnp.zeros(EVAL_EPISODES), key)
    _, _, _, _, total, _ = jax.lax.while_loop(running, step, carry)
    return total.mean()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000,
                        help="environment steps; updates = steps // (64 * 128)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conv", choices=("flax", "im2col"), default="flax",
                        help="flax: nn.Conv (PureJaxRL's way); im2col: the same convolution as "
                             "slices and one matmul, which XLA's CPU backend runs much faster inside "
                             "loops (jax-ml/jax#12868)")
    args = parser.parse_args()
    net = ActorCritic(N_ACTIONS, im2col=args.conv == "im2col")
    case = "ppo_breakout_jax" + ("_im2col" if args.conv == "im2col" else "")
    n_updates = args.steps // BATCH
    if n_updates < 1:
        parser.error(f"--steps must be at least {BATCH}")
    steps = n_updates * BATCH
    key = jax.random.PRNGKey(args.seed)

    t0 = time.perf_counter()
    compiled = jax.jit(make_train(n_updates)).lower(key).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = jax.block_until_ready(compiled(key))
    run_s = time.perf_counter() - t0
    print(json.dumps({"case": case, "steps": steps, "compile_s": round(compile_s, 2),
                      "run_s": round(run_s, 2), "total_s": round(compile_s + run_s, 2),
                      "sps": round(steps / run_s)}), flush=True)

    mean_return = float(greedy_mean_return(params, jax.random.PRNGKey(10_000 + args.seed)))
    print(json.dumps({"case": case + "_greedy", "episodes": EVAL_EPISODES,
                      "mean_return": round(mean_return, 2)}), flush=True)
