import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// Advantage actor-critic, the synchronous form of A3C (Mnih et al., 2016), with SB3's
/// defaults: every copy takes a few steps (5), the rollout's advantages are n-step returns
/// minus V (GAE with λ = 1; any λ < 1 gives GAE(λ)), and one RMSprop step follows on
///
///     loss = −mean(Â·log π(a|s)) − c_ent·mean(H[π(·|s)]) + c_v·mean((R − V(s))²),
///
/// with the gradient's global norm clipped. No epochs, no minibatches, no ratio: the
/// rollout is used once, on the policy that collected it.
public final class A2C: RegisteredAgent {
    public struct Configuration: AlgorithmConfiguration {
        /// RMSprop's learning rate (at the start, when annealed).
        public var learningRate: Double = 7e-4
        /// Anneal the learning rate linearly to 0 over the run (SB3's default: constant).
        public var annealLearningRate = false
        /// Shapes the learning rate over the run (constant, linear, step, exponential, cosine,
        /// with an optional warm-up); absent: `anneal_learning_rate` decides.
        public var learningRateSchedule: LearningRateSchedule? = nil
        /// Vector steps per rollout, n (each collects `copies` transitions).
        public var stepsPerRollout = 5
        /// Discount factor γ.
        public var gamma: Double = 0.99
        /// GAE's λ: 1 gives plain n-step returns (SB3's default), less trades variance for bias.
        public var gaeLambda: Double = 1
        /// Weight of the entropy bonus (SB3: 0; A3C's paper: 0.01).
        public var entropyCoefficient: Double = 0
        /// Weight of the value loss (mean squared error, no ½).
        public var valueCoefficient: Double = 0.5
        /// Global gradient-norm limit.
        public var maxGradientNorm: Double = 0.5
        /// Normalise advantages over each rollout (SB3's default: off).
        public var normalizeAdvantages = false
        /// RMSprop's smoothing constant α.
        public var rmspropAlpha: Double = 0.99
        /// RMSprop's ε (1e-5 as in SB3's A2C, not PyTorch's 1e-8).
        public var rmspropEpsilon: Double = 1e-5
        /// Initialise orthogonally (hidden √2, policy head 0.01, value head 1), as SB3 does.
        public var orthogonalInitialization = true
        /// The networks.
        public var network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .tanh)

        public init() {}

        public static let optionalKeys: Set<String> = ["learning_rate_schedule"]

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", annealLearningRate = "anneal_learning_rate"
            case learningRateSchedule = "learning_rate_schedule"
            case stepsPerRollout = "steps_per_rollout", gamma, gaeLambda = "gae_lambda"
            case entropyCoefficient = "entropy_coefficient", valueCoefficient = "value_coefficient"
            case maxGradientNorm = "max_gradient_norm", normalizeAdvantages = "normalize_advantages"
            case rmspropAlpha = "rmsprop_alpha", rmspropEpsilon = "rmsprop_epsilon"
            case orthogonalInitialization = "orthogonal_initialization", network
        }

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            try Require.positive("learning_rate", learningRate, atMost: 10)
            try Require.schedule(learningRateSchedule)
            try Require.that(network.recurrent == nil,
                             "network.recurrent: a2c's networks have no memory; train recurrent_ppo for a recurrent policy")
            try Require.count("steps_per_rollout", stepsPerRollout, in: 1...100_000_000)
            try Require.value("gamma", gamma, in: 0...1)
            try Require.value("gae_lambda", gaeLambda, in: 0...1)
            try Require.nonNegative("entropy_coefficient", entropyCoefficient, atMost: 1e6)
            try Require.nonNegative("value_coefficient", valueCoefficient, atMost: 1e6)
            try Require.positive("max_gradient_norm", maxGradientNorm)
            try Require.value("rmsprop_alpha", rmspropAlpha, in: 0...1)
            try Require.value("rmsprop_epsilon", rmspropEpsilon, in: 0...1)
            try Require.that(!network.hiddenSizes.isEmpty, "network.hidden_sizes must name at least one layer, got []")
            try network.validate()
        }

        /// The rollout buffer and the networks with their gradients and RMSprop's state.
        public func estimatedMemory(for context: AgentContext) -> Double {
            rolloutBufferBytes(steps: stepsPerRollout, copies: context.copies, observationSize: context.observationSpace.count,
                               actionWidth: context.actionSpace.isContinuous ? context.actionCount : 0)
                + 4 * network.parameterBytes(observationShape: context.observationSpace.shape, outputs: context.actionCount + 1)
        }
    }

    public static let algorithm = "a2c"
    public static let actionKinds: ActionKinds = [.discrete, .continuous]
    public static let metricKeys = [
        "charts/learning_rate", "losses/value_loss", "losses/policy_loss", "losses/entropy",
        "losses/explained_variance",
    ]

    public let configuration: Configuration
    public let network: ActorCritic
    /// The network and its shard replicas.
    private let parallel: DataParallel<ActorCritic>
    private let shardSize: Int
    public var networkDescription: String { network.description }
    private let optimizer: RMSprop
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

    /// An agent for `actionSpace`: a categorical policy for discrete actions, a diagonal
    /// Gaussian with a state-independent log σ for continuous ones.
    public init(
        configuration: Configuration, observationSpace: Box, actionSpace: ActionSpace, copies: Int,
        totalSteps: Int, seed: UInt64, shardSize: Int = defaultShardSize
    ) throws(TrainingError) {
        self.shardSize = shardSize
        try configuration.validate(copies: copies)
        self.configuration = configuration
        self.totalSteps = totalSteps
        generator = SeededGenerator(seed: seed, stream: 7)
        network = ActorCritic(observationShape: observationSpace.shape, actionSpace: actionSpace,
                              network: configuration.network, orthogonal: configuration.orthogonalInitialization,
                              generator: &generator)
        parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        optimizer = RMSprop(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                            alpha: Float(configuration.rmspropAlpha), epsilon: Float(configuration.rmspropEpsilon))
        buffer = RolloutBuffer(steps: configuration.stepsPerRollout, copies: copies,
                               observationSize: observationSpace.count,
                               actionWidth: actionSpace.isContinuous ? actionSpace.width : 0)
    }

    public convenience init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: context.observationSpace,
                      actionSpace: context.actionSpace, copies: context.copies, totalSteps: context.totalSteps,
                      seed: context.seed, shardSize: context.shardSize)
    }

    /// Samples aₜ ~ π(·|sₜ) for every copy and stores sₜ, aₜ, log π(aₜ|sₜ) and V(sₜ) in the
    /// rollout's current row.
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

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        store(transitions)
        guard buffer.isFull else { return [:] }
        defer { buffer.reset() }
        return try update(after: transitions)
    }

    /// Completes the rollout's current row with rₜ and the episode ends; a truncated
    /// episode bootstraps from γ·V(final observation).
    func store(_ transitions: Transitions) {
        let row = buffer.index(ofCopy: 0)
        buffer.storeOutcomes(transitions)
        bootstrapTruncatedEpisodes(transitions, rewards: &buffer.rewards, row: row, network: network,
                                   gamma: Float(configuration.gamma))
    }

    /// The advantages and value targets of the full rollout (n-step returns when λ = 1).
    func targets(after transitions: Transitions) -> (advantages: [Float], returns: [Float]) {
        rolloutTargets(buffer, after: transitions, network: network, gamma: Float(configuration.gamma),
                       lambda: Float(configuration.gaeLambda))
    }

    /// One gradient step on the whole rollout.
    private func update(after transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration
        var (advantages, returns) = targets(after: transitions)
        if c.normalizeAdvantages { normalize(&advantages) }

        let learningRate = scheduledLearningRate(c.learningRate, schedule: c.learningRateSchedule,
                                                 annealed: c.annealLearningRate,
                                                 atStep: transitions.globalStep - buffer.capacity, of: totalSteps)
        optimizer.learningRate = Float(learningRate)

        // Data-parallel: each shard of the rollout runs forward and backward on its own
        // replica; their gradients add up, in shard order, to the whole rollout's.
        optimizer.zeroGradients()
        let shards = Shards(rows: buffer.capacity, shardSize: shardSize)
        let parts = parallel.computeGradients(over: shards) { replica, rows, weight in
            let indices = Array(rows)[...]
            let (outputs, values) = replica(buffer.observationBatch(indices, shape: network.observationShape))
            return PolicyGradientLoss.backpropagate(
                distribution: replica.distribution(outputs), values: values, actions: buffer.policyActions(rows),
                advantages: Array(advantages[rows]),
                returns: Array(returns[rows]), entropyCoefficient: c.entropyCoefficient,
                valueCoefficient: c.valueCoefficient, weight: weight)
        }
        let loss = PolicyGradientLoss(combining: parts)
        guard loss.total.isFinite else { throw .nonFiniteLoss(name: "A2C loss", step: transitions.globalStep) }
        clipGradientNorm(optimizer.parameters, maxNorm: Float(c.maxGradientNorm))
        optimizer.step()

        return [
            "charts/learning_rate": learningRate,
            "losses/value_loss": loss.value,
            "losses/policy_loss": loss.policy,
            "losses/entropy": loss.entropy,
            "losses/explained_variance": explainedVariance(predicted: buffer.values, target: returns),
        ]
    }

    /// The policy network, for export and saliency.
    public var policyNetwork: PolicyNetwork? { network.policyNetwork }

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        network.choose(for: observation)
    }

    /// The networks, RMSprop's state, the generator and the rollout filled so far.
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

extension A2C {
    /// A2C's registry entry: SB3's defaults; rl-baselines3-zoo's settings for the arcade games.
    public static let registration = AlgorithmSpec(
        A2C.self, summary: "Synchronous advantage actor-critic with RMSprop (SB3's defaults)",
        small: Configuration().with { $0.network = .small },
        presets: [
            AlgorithmPreset(for: PresetEnvironments.cartPole, steps: 500_000, copies: 8, configuration: Configuration()),
            AlgorithmPreset(for: PresetEnvironments.gridWorlds, steps: 50_000, copies: 8, checkpointInterval: 12_500,
                            configuration: Configuration()),
            // Without the entropy bonus the agent learns to stand still.
            AlgorithmPreset(for: PresetEnvironments.cliff, steps: 300_000, copies: 8, checkpointInterval: 75_000,
                            configuration: Configuration().with { $0.entropyCoefficient = 0.05 }),
            // rl-baselines3-zoo's Pendulum-v1 settings without gSDE: 8 copies × 8 steps, observations
            // and rewards normalised, λ 0.9, no entropy bonus, raw advantages, 1,000,000 steps.
            AlgorithmPreset(for: PresetEnvironments.pendulum, steps: 1_000_000, copies: 8, checkpointInterval: 100_000,
                            wrappers: EnvironmentWrappers().with {
                $0.normalizeObservations = true
                $0.normalizeRewards = true
            }, configuration: Configuration().with {
                $0.stepsPerRollout = 8
                $0.gaeLambda = 0.9
                $0.entropyCoefficient = 0
                $0.learningRate = 7e-4
                $0.annealLearningRate = true
                $0.normalizeAdvantages = false
            }),
            AlgorithmPreset(for: PresetEnvironments.minAtar, steps: 5_000_000, copies: 16, checkpointInterval: 500_000,
                            configuration: Configuration().with {
                $0.entropyCoefficient = 0.01
                $0.valueCoefficient = 0.25
            }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 500_000, copies: 8, configuration: Configuration()))
}
