import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// REINFORCE (Williams, 1992): Monte-Carlo policy gradient with a learned baseline. Each
/// copy's episode is recorded as it is played; when it ends, its discounted returns Gₜ
/// are computed, and once `episodesPerUpdate` episodes have ended they are learned from
/// in one Adam step on
///
///     loss = −mean((Gₜ − V(sₜ))·log π(aₜ|sₜ)) − c_ent·mean(H[π(·|sₜ)]) + c_v·mean((Gₜ − V(sₜ))²),
///
/// the mean taken over every step of every episode in the batch. The baseline V (the
/// actor-critic's value network) lowers the gradient's variance without biasing it.
public final class REINFORCE: RegisteredAgent {
    public struct Configuration: AlgorithmConfiguration {
        /// Adam's learning rate (at the start, when annealed).
        public var learningRate: Double = 1e-3
        /// Anneal the learning rate linearly to 0 over the run (steadies the end of a
        /// CartPole run, where a late large step can undo a solved policy).
        public var annealLearningRate = true
        /// Discount factor γ.
        public var gamma: Double = 0.99
        /// Finished episodes per update, batched into one gradient step (when several copies
        /// finish in the same step, an update may take a few more).
        public var episodesPerUpdate = 4
        /// Subtract the learned V(sₜ) from Gₜ (and train V); off gives vanilla REINFORCE.
        public var useBaseline = true
        /// Normalise the advantages (Gₜ − V(sₜ), or Gₜ without a baseline: the classic
        /// return normalisation) to zero mean and unit deviation over each batch.
        public var normalizeAdvantages = true
        /// Weight of the value loss (mean squared error, no ½).
        public var valueCoefficient: Double = 0.5
        /// Weight of the entropy bonus.
        public var entropyCoefficient: Double = 0
        /// Global gradient-norm limit, or nil for none.
        public var maxGradientNorm: Double? = nil
        /// Adam's ε.
        public var adamEpsilon: Double = 1e-8
        /// Initialise orthogonally (hidden √2, policy head 0.01, value head 1).
        public var orthogonalInitialization = true
        /// The networks.
        public var network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .tanh)

        public init() {}

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", annealLearningRate = "anneal_learning_rate", gamma
            case episodesPerUpdate = "episodes_per_update", useBaseline = "use_baseline"
            case normalizeAdvantages = "normalize_advantages", valueCoefficient = "value_coefficient"
            case entropyCoefficient = "entropy_coefficient", maxGradientNorm = "max_gradient_norm"
            case adamEpsilon = "adam_epsilon", orthogonalInitialization = "orthogonal_initialization", network
        }

        public static let optionalKeys: Set<String> = ["max_gradient_norm"]

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            func require(_ ok: Bool, _ message: String) throws(TrainingError) {
                if !ok { throw .invalidConfiguration(message) }
            }
            try require(learningRate > 0, "learning_rate must be positive, got \(learningRate)")
            try require((0...1).contains(gamma), "gamma must be in [0, 1], got \(gamma)")
            try require(episodesPerUpdate > 0, "episodes_per_update must be positive, got \(episodesPerUpdate)")
            try require(valueCoefficient >= 0, "value_coefficient must not be negative, got \(valueCoefficient)")
            try require(entropyCoefficient >= 0, "entropy_coefficient must not be negative, got \(entropyCoefficient)")
            try require(maxGradientNorm.map { $0 > 0 } ?? true,
                        "max_gradient_norm must be positive, got \(maxGradientNorm ?? 0)")
            try require(adamEpsilon >= 0, "adam_epsilon must not be negative, got \(adamEpsilon)")
            try require(!network.hiddenSizes.isEmpty && network.hiddenSizes.allSatisfy { $0 > 0 },
                        "network hidden sizes must be positive, got \(network.hiddenSizes)")
        }
    }

    /// One copy's episode so far: sₜ, aₜ, rₜ.
    struct Trajectory {
        var observations: [Float] = []
        var actions: [Int] = []
        var rewards: [Float] = []
    }

    /// A finished episode waiting for the update, with its discounted returns.
    struct FinishedEpisode: Equatable {
        var observations: [Float]
        var actions: [Int]
        var returns: [Float]
    }

    public static let algorithm = "reinforce"
    public static let metricKeys = ["losses/value_loss", "losses/policy_loss", "losses/entropy"]

    public let configuration: Configuration
    public let network: ActorCritic
    public var networkDescription: String { network.description }
    private let optimizer: Adam
    private let totalSteps: Int
    private let observationSize: Int
    private var generator: SeededGenerator
    /// The episode each copy is playing. Not checkpointed: a resumed run starts new episodes.
    private(set) var trajectories: [Trajectory]
    /// Finished episodes not yet learned from.
    private(set) var finishedEpisodes: [FinishedEpisode] = []

    public init(
        configuration: Configuration, observationSpace: Box, actionCount: Int, copies: Int,
        totalSteps: Int, seed: UInt64
    ) throws(TrainingError) {
        try configuration.validate(copies: copies)
        self.configuration = configuration
        self.totalSteps = totalSteps
        observationSize = observationSpace.count
        generator = SeededGenerator(seed: seed, stream: 7)
        network = ActorCritic(observationShape: observationSpace.shape, actionCount: actionCount,
                              network: configuration.network, orthogonal: configuration.orthogonalInitialization,
                              generator: &generator)
        optimizer = Adam(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        trajectories = Array(repeating: Trajectory(), count: copies)
    }

    public convenience init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: context.observationSpace,
                      actionCount: context.actionCount, copies: context.copies, totalSteps: context.totalSteps,
                      seed: context.seed)
    }

    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        let logits = withoutGradients {
            network.logits(makeObservationBatch(observations, count: count, shape: network.observationShape))
        }
        let chosen = Categorical(logits: logits).sample(using: &generator)
        for i in 0..<count { actions[i] = chosen[i] }
    }

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        record(transitions)
        guard finishedEpisodes.count >= configuration.episodesPerUpdate else { return [:] }
        defer { finishedEpisodes.removeAll(keepingCapacity: true) }
        return try update(step: transitions.globalStep)
    }

    /// Extends every copy's trajectory by one step; a copy whose episode ended gets its
    /// returns computed and queued, and starts an empty trajectory (the vector environment
    /// has already reset it).
    func record(_ transitions: Transitions) {
        let size = observationSize
        for i in 0..<transitions.count {
            trajectories[i].observations += transitions.observations[(i * size)..<((i + 1) * size)]
            trajectories[i].actions.append(transitions.actions[i])
            trajectories[i].rewards.append(transitions.rewards[i])
            guard transitions.isTerminated[i] || transitions.isTruncated[i] else { continue }
            // A truncated episode still has a future: its returns bootstrap from
            // γ·V(final observation) (`discountedReturns` applies the γ). Without a
            // baseline V is untrained, so the tail is taken as 0.
            var bootstrap: Float = 0
            if transitions.isTruncated[i] && !transitions.isTerminated[i] && configuration.useBaseline {
                let final = makeObservationBatch(transitions.successor(ofCopy: i), count: 1, shape: network.observationShape)
                bootstrap = withoutGradients { network.values(final) }.scalar
            }
            let trajectory = trajectories[i]
            finishedEpisodes.append(FinishedEpisode(
                observations: trajectory.observations, actions: trajectory.actions,
                returns: discountedReturns(trajectory.rewards, gamma: Float(configuration.gamma), bootstrap: bootstrap)))
            trajectories[i] = Trajectory()
        }
    }

    /// One gradient step on every queued episode.
    private func update(step: Int) throws(TrainingError) -> [String: Double] {
        let c = configuration
        let returns = finishedEpisodes.flatMap(\.returns)
        let actions = finishedEpisodes.flatMap(\.actions)
        let batchSize = returns.count
        let observations = Tensor(repeating: 0, shape: [batchSize] + network.observationShape)
        var row = 0
        for episode in finishedEpisodes {
            episode.observations.withUnsafeBufferPointer { source in
                (observations.storage + row * observationSize).update(from: source.baseAddress!, count: source.count)
            }
            row += episode.actions.count
        }

        optimizer.learningRate = Float(LinearSchedule.learningRate(c.learningRate, annealed: c.annealLearningRate)
            .value(atStep: step, of: totalSteps))

        let (logits, values) = network(observations)
        // The advantage Gₜ − V(sₜ), with V held fixed: the baseline only shifts the target.
        var advantages = returns
        if c.useBaseline {
            let baseline = values.scalars
            for t in 0..<batchSize { advantages[t] -= baseline[t] }
        }
        if c.normalizeAdvantages { normalize(&advantages) }
        let advantage = Tensor(shape: [batchSize], scalars: advantages)
        let target = Tensor(shape: [batchSize], scalars: returns)

        let distribution = Categorical(logits: logits)
        let policyLoss = -(advantage * distribution.logProbability(of: actions)).mean()
        let valueLoss = square(target - values).mean()
        let entropy = distribution.entropy().mean()
        var loss = policyLoss - entropy * Float(c.entropyCoefficient)
        if c.useBaseline { loss = loss + valueLoss * Float(c.valueCoefficient) }
        guard loss.scalar.isFinite else { throw .nonFiniteLoss(name: "REINFORCE loss", step: step) }

        optimizer.zeroGradients()
        loss.backward()
        if let maxNorm = c.maxGradientNorm { clipGradientNorm(optimizer.parameters, maxNorm: Float(maxNorm)) }
        optimizer.step()

        return [
            "losses/value_loss": Double(valueLoss.scalar),
            "losses/policy_loss": Double(policyLoss.scalar),
            "losses/entropy": Double(entropy.scalar),
        ]
    }

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        network.choose(for: observation)
    }

    public func checkpoint() -> AgentCheckpoint {
        .actorCritic(network, optimizer: optimizer, generator: generator)
    }

    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        if let restored = try checkpoint.restoreActorCritic(network, optimizer: optimizer, weightsOnly: weightsOnly) {
            generator = restored
        }
    }
}

extension REINFORCE {
    /// REINFORCE's registry entry and its presets.
    public static let registration = AlgorithmSpec(
        REINFORCE.self, summary: "Monte-Carlo policy gradient with a learned value baseline",
        learnsFromWholeEpisodes: true,
        small: Configuration().with {
            $0.episodesPerUpdate = 1
            $0.network = .small
        },
        presets: [
            AlgorithmPreset(for: PresetEnvironments.cartPole, steps: 1_000_000, copies: 8, configuration: Configuration()),
            AlgorithmPreset(for: PresetEnvironments.gridWorlds, steps: 50_000, copies: 8, checkpointInterval: 12_500,
                            configuration: Configuration()),
            AlgorithmPreset(for: PresetEnvironments.cliff, steps: 1_000_000, copies: 8, checkpointInterval: 250_000,
                            configuration: Configuration().with { $0.entropyCoefficient = 0.2 }),
            AlgorithmPreset(for: PresetEnvironments.minAtar, steps: 5_000_000, copies: 16, checkpointInterval: 500_000,
                            configuration: Configuration().with { $0.entropyCoefficient = 0.01 }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 500_000, copies: 8, configuration: Configuration()))
}
