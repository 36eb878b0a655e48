/// Proximal Policy Optimization with a clipped surrogate objective (Schulman et al., 2017),
/// in the form of CleanRL's `ppo.py`: GAE(λ), clipped value loss, entropy bonus, several
/// epochs of shuffled minibatches, advantage normalisation, global-norm gradient clipping,
/// linear learning-rate annealing and orthogonal initialisation.
public final class PPO: Agent {
    public struct Configuration: Equatable, Sendable, Codable {
        /// Adam's learning rate at the start.
        public var learningRate: Double = 2.5e-4
        /// Anneal the learning rate linearly to 0 over the run.
        public var annealLearningRate = true
        /// Vector steps per rollout (each collects `copies` transitions).
        public var stepsPerRollout = 128
        /// Discount factor γ.
        public var gamma: Double = 0.99
        /// GAE's λ.
        public var gaeLambda: Double = 0.95
        /// Minibatches per epoch (the rollout is split into this many).
        public var minibatches = 4
        /// Passes over each rollout.
        public var epochs = 4
        /// Normalise advantages within each minibatch.
        public var normalizeAdvantages = true
        /// The surrogate's clip range ε.
        public var clipCoefficient: Double = 0.2
        /// Clip the value loss around the old values as well.
        public var clipValueLoss = true
        /// Weight of the entropy bonus.
        public var entropyCoefficient: Double = 0.01
        /// Weight of the value loss.
        public var valueCoefficient: Double = 0.5
        /// Global gradient-norm limit.
        public var maxGradientNorm: Double = 0.5
        /// Stop an update's epochs early when the approximate KL exceeds this (nil: never).
        public var targetKL: Double? = nil
        /// Adam's ε (1e-5 as in CleanRL and SB3, not PyTorch's 1e-8).
        public var adamEpsilon: Double = 1e-5
        /// The networks.
        public var network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .tanh)

        public init() {}

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", annealLearningRate = "anneal_learning_rate"
            case stepsPerRollout = "steps_per_rollout", gamma, gaeLambda = "gae_lambda"
            case minibatches, epochs, normalizeAdvantages = "normalize_advantages"
            case clipCoefficient = "clip_coefficient", clipValueLoss = "clip_value_loss"
            case entropyCoefficient = "entropy_coefficient", valueCoefficient = "value_coefficient"
            case maxGradientNorm = "max_gradient_norm", targetKL = "target_kl", adamEpsilon = "adam_epsilon"
            case network
        }

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            func require(_ ok: Bool, _ message: String) throws(TrainingError) {
                if !ok { throw .invalidConfiguration(message) }
            }
            try require(learningRate > 0, "learning_rate must be positive, got \(learningRate)")
            try require(stepsPerRollout > 0, "steps_per_rollout must be positive, got \(stepsPerRollout)")
            try require((0...1).contains(gamma), "gamma must be in [0, 1], got \(gamma)")
            try require((0...1).contains(gaeLambda), "gae_lambda must be in [0, 1], got \(gaeLambda)")
            try require(minibatches > 0 && (stepsPerRollout * copies) % minibatches == 0,
                        "minibatches must divide steps_per_rollout × environments = \(stepsPerRollout * copies), got \(minibatches)")
            try require(epochs > 0, "epochs must be positive, got \(epochs)")
            try require(clipCoefficient > 0, "clip_coefficient must be positive, got \(clipCoefficient)")
            try require(maxGradientNorm > 0, "max_gradient_norm must be positive, got \(maxGradientNorm)")
            try network.validate()
        }
    }

    public static let algorithm = "ppo"
    public static let metricKeys = [
        "charts/learning_rate", "losses/value_loss", "losses/policy_loss", "losses/entropy",
        "losses/approx_kl", "losses/clipfrac", "losses/explained_variance",
    ]

    public let configuration: Configuration
    public let network: ActorCritic
    public var networkDescription: String { network.description }
    private let optimizer: Adam
    private let buffer: RolloutBuffer
    private let totalSteps: Int
    private var generator: SeededGenerator

    public init(
        configuration: Configuration, observationSpace: Box, actionCount: Int, copies: Int,
        totalSteps: Int, seed: UInt64
    ) throws(TrainingError) {
        try configuration.validate(copies: copies)
        self.configuration = configuration
        self.totalSteps = totalSteps
        generator = SeededGenerator(seed: seed, stream: 7)
        network = ActorCritic(observationShape: observationSpace.shape, actionCount: actionCount,
                              network: configuration.network, orthogonal: true, generator: &generator)
        optimizer = Adam(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        buffer = RolloutBuffer(steps: configuration.stepsPerRollout, copies: copies,
                               observationSize: observationSpace.count)
    }

    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        buffer.sampleActions(from: network, observations: observations, count: count, generator: &generator, into: actions)
    }

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        buffer.record(transitions, network: network, gamma: Float(configuration.gamma))
        guard buffer.isFull else { return [:] }
        defer { buffer.reset() }
        return try update(after: transitions)
    }

    /// One PPO update on the full rollout.
    private func update(after transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration
        let (advantages, returns) = buffer.targets(after: transitions, network: network,
                                                   gamma: Float(c.gamma), lambda: Float(c.gaeLambda))

        // Anneal: the learning rate falls linearly from its start to 0 over the run.
        let learningRate = LinearSchedule.learningRate(c.learningRate, annealed: c.annealLearningRate)
            .value(atStep: transitions.globalStep - buffer.capacity, of: totalSteps)
        optimizer.learningRate = Float(learningRate)

        let batchSize = buffer.capacity, minibatchSize = batchSize / c.minibatches
        let clip = Float(c.clipCoefficient)
        var sums = (value: 0.0, policy: 0.0, entropy: 0.0, kl: 0.0, clipped: 0.0, count: 0.0)
        epochs: for _ in 0..<c.epochs {
            let order = shuffledIndices(batchSize, using: &generator)
            for start in stride(from: 0, to: batchSize, by: minibatchSize) {
                let indices = order[start..<(start + minibatchSize)]
                let observations = buffer.observationBatch(indices, shape: network.observationShape)
                let actions = indices.map { buffer.actions[$0] }
                let oldLogProbabilities = gathered(buffer.logProbabilities, indices)
                let oldValues = gathered(buffer.values, indices)
                let targets = gathered(returns, indices)
                var minibatchAdvantages = indices.map { advantages[$0] }
                if c.normalizeAdvantages { normalize(&minibatchAdvantages) }
                let advantage = Tensor(shape: [minibatchSize], scalars: minibatchAdvantages)

                let (logits, values) = network(observations)
                let distribution = Categorical(logits: logits)
                let logRatio = distribution.logProbability(of: actions) - oldLogProbabilities
                let ratio = exp(logRatio)

                // Clipped surrogate: the pessimistic one of the plain and clipped objectives.
                let policyLoss = Tensor.maximum(-advantage * ratio,
                                                -advantage * clamp(ratio, min: 1 - clip, max: 1 + clip)).mean()
                // Value loss, clipped around the values the rollout saw.
                let valueLoss: Tensor
                if c.clipValueLoss {
                    let clippedValues = oldValues + clamp(values - oldValues, min: -clip, max: clip)
                    valueLoss = Tensor.maximum(square(values - targets), square(clippedValues - targets)).mean() * 0.5
                } else {
                    valueLoss = square(values - targets).mean() * 0.5
                }
                let entropy = distribution.entropy().mean()
                let loss = policyLoss - entropy * Float(c.entropyCoefficient) + valueLoss * Float(c.valueCoefficient)
                guard loss.scalar.isFinite else { throw .nonFiniteLoss(name: "PPO loss", step: transitions.globalStep) }

                optimizer.zeroGradients()
                loss.backward()
                clipGradientNorm(optimizer.parameters, maxNorm: Float(c.maxGradientNorm))
                optimizer.step()

                // Diagnostics (CleanRL's): approximate KL (k3 estimator) and clip fraction.
                let r = ratio.scalars, lr = logRatio.scalars
                var kl = 0.0, clipped = 0.0
                for j in 0..<minibatchSize {
                    kl += Double((r[j] - 1) - lr[j])
                    if Swift.abs(r[j] - 1) > clip { clipped += 1 }
                }
                sums.value += Double(valueLoss.scalar)
                sums.policy += Double(policyLoss.scalar)
                sums.entropy += Double(entropy.scalar)
                sums.kl += kl / Double(minibatchSize)
                sums.clipped += clipped / Double(minibatchSize)
                sums.count += 1
                if let target = c.targetKL, kl / Double(minibatchSize) > target { break epochs }
            }
        }
        return [
            "charts/learning_rate": learningRate,
            "losses/value_loss": sums.value / sums.count,
            "losses/policy_loss": sums.policy / sums.count,
            "losses/entropy": sums.entropy / sums.count,
            "losses/approx_kl": sums.kl / sums.count,
            "losses/clipfrac": sums.clipped / sums.count,
            "losses/explained_variance": explainedVariance(predicted: buffer.values, target: returns),
        ]
    }

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        network.choose(for: observation)
    }

    /// The rollout buffer, for tests.
    var bufferForTesting: RolloutBuffer { buffer }

    public func checkpoint() -> AgentCheckpoint {
        .actorCritic(network, optimizer: optimizer, generator: generator)
    }

    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        if let restored = try checkpoint.restoreActorCritic(network, optimizer: optimizer, weightsOnly: weightsOnly) {
            generator = restored
        }
    }
}

/// Subtracts the mean and divides by the standard deviation (+1e-8), as CleanRL does.
func normalize(_ values: inout [Float]) {
    guard values.count > 1 else { return }
    let mean = values.reduce(0, +) / Float(values.count)
    var variance: Float = 0
    for v in values { variance += (v - mean) * (v - mean) }
    // Unbiased (n − 1), as torch.std.
    let deviation = (variance / Float(values.count - 1)).squareRoot()
    for i in values.indices { values[i] = (values[i] - mean) / (deviation + 1e-8) }
}

/// 1 − Var(target − predicted) / Var(target): how much of the returns' variance the value
/// function explains (1 is perfect, ≤ 0 is no better than a constant).
func explainedVariance(predicted: [Float], target: [Float]) -> Double {
    let n = Double(target.count)
    guard n > 1 else { return .nan }
    let meanT = target.reduce(0.0) { $0 + Double($1) } / n
    let varT = target.reduce(0.0) { $0 + (Double($1) - meanT) * (Double($1) - meanT) } / n
    let residuals = zip(target, predicted).map { Double($0) - Double($1) }
    let meanR = residuals.reduce(0, +) / n
    let varR = residuals.reduce(0.0) { $0 + ($1 - meanR) * ($1 - meanR) } / n
    return varT == 0 ? .nan : 1 - varR / varT
}
