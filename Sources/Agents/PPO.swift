import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// Proximal Policy Optimization with a clipped surrogate objective (Schulman et al., 2017),
/// in the form of CleanRL's `ppo.py`: GAE(λ), clipped value loss, entropy bonus, several
/// epochs of shuffled minibatches, advantage normalisation, global-norm gradient clipping,
/// linear learning-rate annealing and orthogonal initialisation.
///
/// In a continuous action space the policy is a diagonal Gaussian with a state-independent
/// log standard deviation (CleanRL's `ppo_continuous_action.py`); actions are stored as
/// drawn and clipped to the bounds only for the environment (SB3's rule).
public final class PPO: RegisteredAgent {
    public struct Configuration: AlgorithmConfiguration {
        /// Adam's learning rate at the start.
        public var learningRate: Double = 2.5e-4
        /// Anneal the learning rate linearly to 0 over the run.
        public var annealLearningRate = true
        /// Shapes the learning rate over the run (constant, linear, step, exponential, cosine,
        /// with an optional warm-up); absent: `anneal_learning_rate` decides.
        public var learningRateSchedule: LearningRateSchedule? = nil
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
            case learningRateSchedule = "learning_rate_schedule"
            case stepsPerRollout = "steps_per_rollout", gamma, gaeLambda = "gae_lambda"
            case minibatches, epochs, normalizeAdvantages = "normalize_advantages"
            case clipCoefficient = "clip_coefficient", clipValueLoss = "clip_value_loss"
            case entropyCoefficient = "entropy_coefficient", valueCoefficient = "value_coefficient"
            case maxGradientNorm = "max_gradient_norm", targetKL = "target_kl", adamEpsilon = "adam_epsilon"
            case network
        }

        public static let optionalKeys: Set<String> = ["target_kl", "learning_rate_schedule"]

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            try Require.positive("learning_rate", learningRate, atMost: 10)
            try Require.schedule(learningRateSchedule)
            try Require.count("steps_per_rollout", stepsPerRollout, in: 1...100_000_000)
            try Require.value("gamma", gamma, in: 0...1)
            try Require.value("gae_lambda", gaeLambda, in: 0...1)
            let batch = stepsPerRollout * copies  // both bounded: no overflow
            try Require.that(minibatches > 0 && minibatches <= batch && batch % minibatches == 0,
                             "minibatches must divide steps_per_rollout × environments = \(batch), got \(minibatches)")
            try Require.count("epochs", epochs, in: 1...10_000)
            try Require.positive("clip_coefficient", clipCoefficient, atMost: 10)
            try Require.nonNegative("entropy_coefficient", entropyCoefficient, atMost: 1e6)
            try Require.nonNegative("value_coefficient", valueCoefficient, atMost: 1e6)
            try Require.positive("max_gradient_norm", maxGradientNorm)
            if let targetKL { try Require.positive("target_kl", targetKL) }
            try Require.value("adam_epsilon", adamEpsilon, in: 0...1)
            try network.validate()
        }

        /// The rollout buffer and the networks with their gradients and Adam's moments.
        public func estimatedMemory(for context: AgentContext) -> Double {
            rolloutBufferBytes(steps: stepsPerRollout, copies: context.copies, observationSize: context.observationSpace.count,
                               actionWidth: context.actionSpace.isContinuous ? context.actionCount : 0)
                + 4 * network.parameterBytes(observationShape: context.observationSpace.shape, outputs: context.actionCount + 1)
        }
    }

    public static let algorithm = "ppo"
    public static let actionKinds: ActionKinds = [.discrete, .continuous]
    public static let metricKeys = [
        "charts/learning_rate", "losses/value_loss", "losses/policy_loss", "losses/entropy",
        "losses/approx_kl", "losses/clipfrac", "losses/explained_variance",
    ]

    public let configuration: Configuration
    public let network: ActorCritic
    public var networkDescription: String { network.description }
    /// The network and its shard replicas.
    private let parallel: DataParallel<ActorCritic>
    private let shardSize: Int
    private let optimizer: Adam
    private let buffer: RolloutBuffer
    private let totalSteps: Int
    private var generator: SeededGenerator

    public convenience init(
        configuration: Configuration, observationSpace: Box, actionCount: Int, copies: Int,
        totalSteps: Int, seed: UInt64, shardSize: Int = defaultShardSize
    ) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: observationSpace,
                      actionSpace: .discrete(Discrete(actionCount)), copies: copies, totalSteps: totalSteps, seed: seed,
                      shardSize: shardSize)
    }

    public init(
        configuration: Configuration, observationSpace: Box, actionSpace: ActionSpace, copies: Int,
        totalSteps: Int, seed: UInt64, shardSize: Int = defaultShardSize
    ) throws(TrainingError) {
        try configuration.validate(copies: copies)
        try Require.that(configuration.network.recurrent == nil,
                         "network.recurrent: ppo's networks have no memory; train recurrent_ppo for a recurrent policy")
        self.configuration = configuration
        self.totalSteps = totalSteps
        self.shardSize = shardSize
        generator = SeededGenerator(seed: seed, stream: 7)
        network = ActorCritic(observationShape: observationSpace.shape, actionSpace: actionSpace,
                              network: configuration.network, orthogonal: true, generator: &generator)
        parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        optimizer = Adam(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        buffer = RolloutBuffer(steps: configuration.stepsPerRollout, copies: copies,
                               observationSize: observationSpace.count,
                               actionWidth: actionSpace.isContinuous ? actionSpace.width : 0)
    }

    public convenience init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: context.observationSpace,
                      actionSpace: context.actionSpace, copies: context.copies, totalSteps: context.totalSteps,
                      seed: context.seed, shardSize: context.shardSize)
    }

    // MARK: Rollout

    /// Samples aₜ ~ π(·|sₜ) for every copy and stores sₜ, aₜ, log π(aₜ|sₜ) and V(sₜ) in the
    /// rollout's current row (CleanRL: `obs[step]`, `actions[step]`, `logprobs[step]`, `values[step]`).
    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        let sample = samplePolicy(network, observations: observations, count: count, generator: &generator)
        buffer.storeChoices(observations: observations, sample)
        writeActions(of: sample, for: network, into: actions)
    }

    /// The same for a Gaussian policy: aₜ ~ N(μ(sₜ), σ²) stored as drawn, clipped for the environment.
    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Float>) {
        let sample = samplePolicy(network, observations: observations, count: count, generator: &generator)
        buffer.storeChoices(observations: observations, sample)
        writeActions(of: sample, for: network, into: actions)
    }

    /// Completes the row with rₜ and the episode ends, then updates once the rollout is full.
    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let row = buffer.index(ofCopy: 0)
        buffer.storeOutcomes(transitions)
        // Easy to miss: a truncated episode bootstraps from its final observation, not
        // from the next episode's first one (which `nextObservations` already holds).
        bootstrapTruncatedEpisodes(transitions, rewards: &buffer.rewards, row: row, network: network,
                                   gamma: Float(configuration.gamma))
        guard buffer.isFull else { return [:] }
        defer { buffer.reset() }
        return try update(after: transitions)
    }

    // MARK: Update

    /// One PPO update on the full rollout: GAE targets, then `epochs` passes over shuffled
    /// minibatches.
    private func update(after transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration
        let (advantages, returns) = rolloutTargets(buffer, after: transitions, network: network,
                                                   gamma: Float(c.gamma), lambda: Float(c.gaeLambda))

        // Anneal: the learning rate falls linearly from its start to 0 over the run.
        let learningRate = scheduledLearningRate(c.learningRate, schedule: c.learningRateSchedule,
                                                 annealed: c.annealLearningRate,
                                                 atStep: transitions.globalStep - buffer.capacity, of: totalSteps)
        optimizer.learningRate = Float(learningRate)

        let batchSize = buffer.capacity, minibatchSize = batchSize / c.minibatches
        var totals = Loss.Totals()
        epochs: for _ in 0..<c.epochs {
            let order = shuffledIndices(batchSize, using: &generator)
            for start in stride(from: 0, to: batchSize, by: minibatchSize) {
                let indices = order[start..<(start + minibatchSize)]
                var minibatchAdvantages = indices.map { advantages[$0] }
                if c.normalizeAdvantages { normalize(&minibatchAdvantages) }

                // Data-parallel: each shard of the minibatch runs forward and backward on its
                // own replica; their gradients add up, in shard order, to the minibatch's.
                optimizer.zeroGradients()
                let shards = Shards(rows: minibatchSize, shardSize: shardSize)
                let parts = parallel.computeGradients(over: shards) { replica, rows, weight in
                    let shardIndices = indices[(indices.startIndex + rows.lowerBound)..<(indices.startIndex + rows.upperBound)]
                    let (outputs, values) = replica(buffer.observationBatch(shardIndices, shape: network.observationShape))
                    let part = Self.loss(
                        distribution: replica.distribution(outputs), values: values,
                        actions: buffer.policyActions(shardIndices),
                        oldLogProbabilities: gathered(buffer.logProbabilities, shardIndices),
                        oldValues: gathered(buffer.values, shardIndices),
                        advantages: Tensor(shape: [rows.count], scalars: Array(minibatchAdvantages[rows])),
                        returns: gathered(returns, shardIndices), configuration: c)
                    part.total.backward(seed: [weight])
                    return (part.summary, weight)
                }
                let loss = Loss.Summary(combining: parts)
                try Self.step(optimizer, after: loss, configuration: c, name: "PPO loss", at: transitions.globalStep)
                totals.add(loss)
                if let target = c.targetKL, loss.approximateKL > target { break epochs }
            }
        }
        return totals.metrics(learningRate: learningRate,
                              explainedVariance: explainedVariance(predicted: buffer.values, target: returns))
    }

    /// One minibatch's optimiser step, its gradients already in the parameters: a
    /// non-finite loss stops training, the global norm is clipped, Adam steps.
    static func step(
        _ optimizer: Adam, after loss: Loss.Summary, configuration c: Configuration, name: String, at step: Int
    ) throws(TrainingError) {
        guard loss.total.isFinite else { throw .nonFiniteLoss(name: name, step: step) }
        clipGradientNorm(optimizer.parameters, maxNorm: Float(c.maxGradientNorm))
        optimizer.step()
    }

    /// PPO's loss on one minibatch and its diagnostics.
    struct Loss {
        /// policy − c_ent·entropy + c_v·value: what the gradient step minimises.
        var total: Tensor
        /// The clipped surrogate, negated.
        var policy: Tensor
        /// ½·mean squared error of V, clipped around the old values when configured.
        var value: Tensor
        /// The policy's mean entropy.
        var entropy: Tensor
        /// mean((r − 1) − log r), the k3 estimator of KL(old ‖ new) (CleanRL's `approx_kl`).
        var approximateKL: Double
        /// The fraction of samples whose ratio left [1 − ε, 1 + ε].
        var clipFraction: Double

        /// The loss's values as numbers, what the update logs.
        struct Summary {
            var total, policy, value, entropy, approximateKL, clipFraction: Double

            /// The minibatch's summary from its shards': each weighted by its share of rows
            /// (every term is a mean over rows), added in shard order.
            init(combining parts: [(summary: Summary, weight: Float)]) {
                self.init(total: 0, policy: 0, value: 0, entropy: 0, approximateKL: 0, clipFraction: 0)
                for (part, weight) in parts {
                    let w = Double(weight)
                    total += w * part.total
                    policy += w * part.policy
                    value += w * part.value
                    entropy += w * part.entropy
                    approximateKL += w * part.approximateKL
                    clipFraction += w * part.clipFraction
                }
            }

            init(total: Double, policy: Double, value: Double, entropy: Double, approximateKL: Double,
                 clipFraction: Double) {
                (self.total, self.policy, self.value, self.entropy) = (total, policy, value, entropy)
                (self.approximateKL, self.clipFraction) = (approximateKL, clipFraction)
            }
        }

        var summary: Summary {
            Summary(total: Double(total.scalar), policy: Double(policy.scalar), value: Double(value.scalar),
                    entropy: Double(entropy.scalar), approximateKL: approximateKL, clipFraction: clipFraction)
        }

        /// An update's minibatch losses added up, and the metrics their means give.
        struct Totals {
            private var value = 0.0, policy = 0.0, entropy = 0.0, kl = 0.0, clipped = 0.0, count = 0.0

            mutating func add(_ loss: Summary) {
                value += loss.value
                policy += loss.policy
                entropy += loss.entropy
                kl += loss.approximateKL
                clipped += loss.clipFraction
                count += 1
            }

            /// The update's metrics, under PPO's `metricKeys`.
            func metrics(learningRate: Double, explainedVariance: Double) -> [String: Double] {
                [
                    "charts/learning_rate": learningRate,
                    "losses/value_loss": value / count,
                    "losses/policy_loss": policy / count,
                    "losses/entropy": entropy / count,
                    "losses/approx_kl": kl / count,
                    "losses/clipfrac": clipped / count,
                    "losses/explained_variance": explainedVariance,
                ]
            }
        }
    }

    /// The loss from the networks' outputs on a minibatch (the policy's `distribution`,
    /// `values` [B]) and what the rollout recorded, following CleanRL's `ppo.py` line for line.
    static func loss(
        distribution: PolicyDistribution, values: Tensor, actions: PolicyActions, oldLogProbabilities: Tensor,
        oldValues: Tensor, advantages advantage: Tensor, returns targets: Tensor, configuration c: Configuration
    ) -> Loss {
        let clip = Float(c.clipCoefficient)
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
        let total = policyLoss - entropy * Float(c.entropyCoefficient) + valueLoss * Float(c.valueCoefficient)

        // Diagnostics (CleanRL's): approximate KL (k3 estimator) and clip fraction.
        let r = ratio.scalars, lr = logRatio.scalars
        var kl = 0.0, clipped = 0.0
        for j in 0..<r.count {
            kl += Double((r[j] - 1) - lr[j])
            if Swift.abs(r[j] - 1) > clip { clipped += 1 }
        }
        return Loss(total: total, policy: policyLoss, value: valueLoss, entropy: entropy,
                    approximateKL: kl / Double(r.count), clipFraction: clipped / Double(r.count))
    }

    // MARK: Evaluation and checkpoints

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        network.choose(for: observation)
    }

    /// The policy network, for export and saliency.
    public var policyNetwork: PolicyNetwork? { network.policyNetwork }

    /// The rollout buffer, for tests.
    var bufferForTesting: RolloutBuffer { buffer }

    /// The networks, Adam's state, the generator and the rollout filled so far.
    public func checkpoint() -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint.actorCritic(network, optimizer: optimizer, generator: generator)
        buffer.save(into: &checkpoint)
        return checkpoint
    }

    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        let rollout = weightsOnly ? nil : try buffer.prepareRestore(from: checkpoint, actionCount: network.actionCount)
        if let restored = try checkpoint.restoreActorCritic(network, optimizer: optimizer, weightsOnly: weightsOnly,
                                                            optionalPrefixes: ["rollout."]) {
            generator = restored
        }
        rollout?()
    }
}

extension PPO {
    /// PPO's registry entry and its tuned presets.
    public static let registration = AlgorithmSpec(
        PPO.self, summary: "Proximal Policy Optimization with a clipped surrogate (CleanRL's ppo.py)",
        small: Configuration().with {
            $0.stepsPerRollout = 8
            $0.minibatches = 2
            $0.epochs = 2
            $0.network = .small
        },
        presets: [
            // rl-baselines3-zoo's CartPole-v1 settings: 8 copies, short rollouts, many epochs.
            AlgorithmPreset(for: PresetEnvironments.cartPole, steps: 100_000, copies: 8, configuration: Configuration().with {
                $0.stepsPerRollout = 32
                $0.minibatches = 1
                $0.epochs = 20
                $0.gamma = 0.98
                $0.gaeLambda = 0.8
                $0.entropyCoefficient = 0
                $0.learningRate = 1e-3
            }),
            AlgorithmPreset(for: PresetEnvironments.gridWorlds, steps: 100_000, copies: 8, checkpointInterval: 25_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 64
                $0.learningRate = 1e-3
            }),
            // A strong entropy bonus, or the agent settles for standing still (−200);
            // measured: −13 (optimal) greedy on seeds 0, 1, 2.
            AlgorithmPreset(for: PresetEnvironments.cliff, steps: 300_000, copies: 8, checkpointInterval: 75_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 64
                $0.learningRate = 1e-3
                $0.entropyCoefficient = 0.2
            }),
            // rl-baselines3-zoo's Acrobot-v1 settings (its observation normalisation left out):
            // 16 copies × 256 steps in minibatches of 64, 4 epochs.
            AlgorithmPreset(for: PresetEnvironments.acrobot, steps: 1_000_000, copies: 16, checkpointInterval: 250_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 256
                $0.minibatches = 64
                $0.epochs = 4
                $0.gamma = 0.99
                $0.gaeLambda = 0.94
                $0.entropyCoefficient = 0
                $0.learningRate = 3e-4
                $0.annealLearningRate = false  // SB3's defaults: a constant rate, no value clipping
                $0.clipValueLoss = false
            }),
            // rl-baselines3-zoo's Pendulum-v1 settings without gSDE (which AgentLab lacks):
            // 4 copies × 1,024 steps in minibatches of 64, 10 epochs, γ 0.9, 1e-3; 300,000 steps
            // (rl-zoo's 100,000 lean on gSDE's exploration). The rate is annealed to 0: with
            // rl-zoo's constant rate one seed in four ended at −272 (measured, sweep of 16 runs).
            AlgorithmPreset(for: PresetEnvironments.pendulum, steps: 300_000, copies: 4, checkpointInterval: 50_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 1_024
                $0.minibatches = 64
                $0.epochs = 10
                $0.gamma = 0.9
                $0.gaeLambda = 0.95
                $0.entropyCoefficient = 0
                $0.learningRate = 1e-3
                $0.annealLearningRate = true
                $0.clipValueLoss = false
            }),
            // PureJaxRL's MinAtar setting: 64 copies, 128 steps, 4 epochs of 8 minibatches.
            AlgorithmPreset(for: PresetEnvironments.minAtar, steps: 5_000_000, copies: 64, checkpointInterval: 500_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 128
                $0.minibatches = 8
                $0.learningRate = 5e-3
                $0.network = NetworkConfiguration(hiddenSizes: [], activation: .relu,
                                                  convolutionFilters: 16, convolutionDenseSize: 128)
            }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 500_000, copies: 4, configuration: Configuration()))
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
