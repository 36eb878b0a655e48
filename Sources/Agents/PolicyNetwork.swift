import Autodiff
import NeuralNet

/// The policy of an agent with memory, as its parts: observations (through `encoder` for
/// images) feed the recurrent `cell`, whose output goes through `head` to the scores. The
/// cell's state is the first `cell.stateWidth` floats of the agent's `AgentMemory` (zero at
/// an episode's start). For ONNX export; it shares the agent's layers.
public struct RecurrentPolicyNetwork {
    public let encoder: Sequential?
    public let cell: any RecurrentLayer
    public let head: Sequential
    public let observationShape: [Int]
    public let outputWidth: Int
    public let output: PolicyNetwork.Output
}

/// The network behind an agent's greedy choice, from the observation the agent sees (after
/// any normalisation) to the scores it chooses by: what `agentlab export` writes as ONNX and
/// what saliency differentiates. It shares the agent's layers (no copy), so it always holds
/// the current weights.
public struct PolicyNetwork {
    /// What the network's outputs are.
    public enum Output: String, Sendable, CaseIterable {
        /// Logits of a categorical policy (PPO, A2C, REINFORCE): the greedy action is the
        /// largest; softmax gives the probabilities.
        case logits
        /// Q-values of DQN: the greedy action is the largest.
        case qValues = "q_values"
        /// The mean of a Gaussian policy, one float per action dimension: PPO's and A2C's
        /// in the environment's units (the greedy action, clipped to the bounds), SAC's
        /// before its tanh squashing and scaling to the bounds.
        case gaussianMean = "action_mean"
        /// A deterministic policy's action in [−1, 1] per dimension (TD3), before scaling to
        /// the bounds.
        case squashedAction = "squashed_action"

        /// Whether the outputs score numbered actions (the greedy action is the largest).
        public var scoresActions: Bool { self == .logits || self == .qValues }
    }

    /// The layers, in order.
    public let layers: Sequential
    /// The shape of one observation (`[4]`, `[10, 10, 4]`).
    public let observationShape: [Int]
    /// The outputs' width (actions, or action dimensions).
    public let outputWidth: Int
    public let output: Output

    public init(layers: Sequential, observationShape: [Int], outputWidth: Int, output: Output) {
        self.layers = layers
        self.observationShape = observationShape
        self.outputWidth = outputWidth
        self.output = output
    }

    /// The outputs [count, outputWidth] for `count` observations, one after another.
    public func outputs(for observations: [Float], count: Int) -> [Float] {
        precondition(observations.count == count * observationShape.reduce(1, *),
                     "PolicyNetwork: \(observations.count) floats are not \(count) observations of \(observationShape)")
        return withoutGradients {
            layers(Tensor(shape: [count] + observationShape, scalars: observations)).scalars
        }
    }

    /// How strongly each float of `observation` drives `action`'s score: |∂ score / ∂ x|
    /// for every observation float x, where the score is the action's logit (a categorical
    /// policy) or Q-value (DQN), before any softmax; with `action` nil, the action the
    /// network scores highest (the first, on a tie, as `choose(for:)` picks), read from the
    /// same forward pass. For a continuous policy (`action` is then ignored) the score is
    /// the sum of the output's dimensions. The weights receive no gradient.
    public func saliency(for observation: [Float], action: Int? = nil) -> [Float] {
        precondition(observation.count == observationShape.reduce(1, *),
                     "PolicyNetwork: \(observation.count) floats are not one observation of \(observationShape)")
        let input = Tensor(shape: [1] + observationShape, scalars: observation, requiresGradient: true)
        // Gradients are recorded here, where dropout would thin the network: evaluate it
        // whole, then hand the layers back in training mode, the mode agents keep them in
        // (their dropout acts only while a loss is being differentiated).
        layers.setTraining(false)
        defer { layers.setTraining(true) }
        let scores = layers.constantReplica()(input)
        var seed = [Float](repeating: output.scoresActions ? 0 : 1, count: outputWidth)
        if output.scoresActions {
            let chosen = action ?? scores.argmaxAlongLastAxis()[0]
            precondition((0..<outputWidth).contains(chosen), "PolicyNetwork: action \(chosen) is outside 0..<\(outputWidth)")
            seed[chosen] = 1
        }
        scores.backward(seed: seed)
        return (input.gradient ?? [Float](repeating: 0, count: observation.count)).map { Swift.abs($0) }
    }
}
