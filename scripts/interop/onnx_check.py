#!/usr/bin/env python3
"""Checks a policy written by `agentlab export --format onnx` with the real tools.

    onnx_check.py MODEL.onnx [--samples MODEL.samples.json] [--tolerance 1e-5]
                  [--gymnasium CartPole-v1 --episodes 10 --min-return 500]

1. `onnx.checker.check_model` (full check, with shape inference) accepts the model.
2. With --samples (written by `agentlab export --samples N`): ONNX Runtime's outputs for
   every observation match AgentLab's within --tolerance: absolute for outputs up to 1 in
   size (probabilities), relative to the output's size above (Q-values).
3. With --gymnasium ID: the model plays Gymnasium's own environment greedily (the largest
   output is the action) for --episodes episodes, seeds 0, 1, ...; every episode's return
   must reach --min-return.

Prints one line per check and exits 0 when all pass, 1 when any fails, 2 on a usage error.
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime


def run_with_state(session, observations, episode_starts):
    """A model with memory, one observation at a time: its `next_state` fed back as
    `state`, zeros where an episode starts."""
    state_input = session.get_inputs()[1]
    width = state_input.shape[1]
    names = [o.name for o in session.get_outputs()]
    state = np.zeros((1, width), dtype=np.float32)
    outputs = []
    for observation, starts in zip(observations, episode_starts):
        if starts:
            state = np.zeros((1, width), dtype=np.float32)
        scores, state = session.run(names, {session.get_inputs()[0].name: observation[None], state_input.name: state})
        outputs.append(scores[0])
    return np.stack(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--samples")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--gymnasium")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--min-return", type=float)
    args = parser.parse_args()
    if args.gymnasium and args.min_return is None:
        parser.error("--gymnasium needs --min-return")

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    metadata = {p.key: p.value for p in model.metadata_props}
    print(f"{args.model}: onnx.checker passed (IR {model.ir_version}, opset "
          f"{model.opset_import[0].version}); {metadata.get('agentlab.algorithm')} on "
          f"{metadata.get('agentlab.environment')}, checkpoint {metadata.get('agentlab.checkpoint_hash')}")
    for key in ("agentlab.environment", "agentlab.algorithm", "agentlab.checkpoint_hash"):
        if not metadata.get(key):
            print(f"FAIL: the model's metadata has no {key}")
            return 1

    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    output_name = session.get_outputs()[0].name
    failed = False

    if args.samples:
        with open(args.samples) as f:
            samples = json.load(f)
        observations = np.asarray(samples["observations"], dtype=np.float32)
        observations = observations.reshape([len(observations)] + samples["observation_shape"])
        expected = np.asarray(samples["outputs"], dtype=np.float32)
        if len(session.get_inputs()) > 1:
            got = run_with_state(session, observations, samples["episode_starts"])
        else:
            got = session.run([output_name], {input_name: observations})[0]
        difference = np.abs(got - expected)
        worst = float(np.max(difference))
        # Outputs up to 1 must agree within the tolerance; larger ones (Q-values near 100,
        # where one float32 step is 7.6e-6) within the tolerance relative to their size:
        # two correct runtimes sum a matrix product in different orders.
        scaled = float(np.max(difference / np.maximum(1.0, np.abs(expected))))
        verdict = "PASS" if scaled <= args.tolerance else "FAIL"
        print(f"{verdict}: ONNX Runtime {onnxruntime.__version__} on {len(observations)} observations: "
              f"largest difference from AgentLab's {output_name} {worst:.3g} (largest |output| "
              f"{float(np.max(np.abs(expected))):.3g}; difference / max(1, |output|) at most {scaled:.3g}, "
              f"tolerance {args.tolerance:g})")
        failed |= scaled > args.tolerance

    if args.gymnasium:
        import gymnasium

        env = gymnasium.make(args.gymnasium)
        returns = []
        for episode in range(args.episodes):
            observation, _ = env.reset(seed=episode)
            total, done = 0.0, False
            inputs = session.get_inputs()
            state = np.zeros((1, inputs[1].shape[1]), dtype=np.float32) if len(inputs) > 1 else None
            while not done:
                feed = {input_name: observation[None].astype(np.float32)}
                if state is not None:
                    feed[inputs[1].name] = state
                    scores, state = session.run(None, feed)
                    scores = scores[0]
                else:
                    scores = session.run([output_name], feed)[0][0]
                observation, reward, terminated, truncated, _ = env.step(int(np.argmax(scores)))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        worst = min(returns)
        verdict = "PASS" if worst >= args.min_return else "FAIL"
        print(f"{verdict}: Gymnasium {gymnasium.__version__} {args.gymnasium}, {args.episodes} episodes played by "
              f"ONNX Runtime: returns {', '.join(f'{r:g}' for r in returns)} (at least {args.min_return:g} each)")
        failed |= worst < args.min_return
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
