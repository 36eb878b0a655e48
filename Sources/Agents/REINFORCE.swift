import Autodiff
import Foundation
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
        /// Shapes the learning rate over the run (constant, linear, step, exponential, cosine,
        /// with an optional warm-up); absent: `anneal_learning_rate` decides.
        public var learningRateSchedule: LearningRateSchedule? = nil
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
            case learningRateSchedule = "learning_rate_schedule"
            case episodesPerUpdate = "episodes_per_update", useBaseline = "use_baseline"
            case normalizeAdvantages = "normalize_advantages", valueCoefficient = "value_coefficient"
            case entropyCoefficient = "entropy_coefficient", maxGradientNorm = "max_gradient_norm"
            case adamEpsilon = "adam_epsilon", orthogonalInitialization = "orthogonal_initialization", network
        }

        public static let optionalKeys: Set<String> = ["max_gradient_norm", "learning_rate_schedule"]

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            try Require.positive("learning_rate", learningRate, atMost: 10)
            try Require.schedule(learningRateSchedule)
            try Require.that(network.recurrent == nil,
                             "network.recurrent: reinforce's networks have no memory; train recurrent_ppo for a recurrent policy")
            try Require.value("gamma", gamma, in: 0...1)
            try Require.count("episodes_per_update", episodesPerUpdate, in: 1...100_000)
            try Require.nonNegative("value_coefficient", valueCoefficient, atMost: 1e6)
            try Require.nonNegative("entropy_coefficient", entropyCoefficient, atMost: 1e6)
            if let maxGradientNorm { try Require.positive("max_gradient_norm", maxGradientNorm) }
            try Require.value("adam_epsilon", adamEpsilon, in: 0...1)
            try Require.that(!network.hiddenSizes.isEmpty, "network.hidden_sizes must name at least one layer, got []")
            try network.validate()
        }

        /// The networks with their gradients and Adam's moments (episodes are kept as
        /// they are played, bounded by the environment's time limit).
        public func estimatedMemory(for context: AgentContext) -> Double {
            4 * network.parameterBytes(observationShape: context.observationSpace.shape, outputs: context.actionCount + 1)
        }
    }

    /// One copy's episode so far: sₜ, aₜ, rₜ.
    struct Trajectory: Codable {
        var observations: [Float] = []
        var actions: [Int] = []
        var rewards: [Float] = []
    }

    /// A finished episode waiting for the update, with its discounted returns.
    struct FinishedEpisode: Equatable, Codable {
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
    /// The network and its shard replicas.
    private let parallel: DataParallel<ActorCritic>
    private let shardSize: Int
    /// The episode each copy is playing. Not checkpointed: a resumed run starts new episodes.
    private(set) var trajectories: [Trajectory]
    /// Finished episodes not yet learned from.
    private(set) var finishedEpisodes: [FinishedEpisode] = []

    public init(
        configuration: Configuration, observationSpace: Box, actionCount: Int, copies: Int,
        totalSteps: Int, seed: UInt64, shardSize: Int = defaultShardSize
    ) throws(TrainingError) {
        self.shardSize = shardSize
        try configuration.validate(copies: copies)
        self.configuration = configuration
        self.totalSteps = totalSteps
        observationSize = observationSpace.count
        generator = SeededGenerator(seed: seed, stream: 7)
        network = ActorCritic(observationShape: observationSpace.shape, actionCount: actionCount,
                              network: configuration.network, orthogonal: configuration.orthogonalInitialization,
                              generator: &generator)
        parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        optimizer = Adam(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        trajectories = Array(repeating: Trajectory(), count: copies)
    }

    public convenience init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: context.observationSpace,
                      actionCount: context.actionCount, copies: context.copies, totalSteps: context.totalSteps,
                      seed: context.seed, shardSize: context.shardSize)
    }

    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        let chosen = samplePolicy(network, observations: observations, count: count, generator: &generator).actions
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

        optimizer.learningRate = Float(scheduledLearningRate(c.learningRate, schedule: c.learningRateSchedule,
                                                             annealed: c.annealLearningRate, atStep: step, of: totalSteps))

        // The advantage Gₜ − V(sₜ), with V held fixed: the baseline only shifts the target.
        let shards = Shards(rows: batchSize, shardSize: shardSize)
        var advantages = returns
        if c.useBaseline {
            let baseline = valuesInSlices(network, observations, shards: shards)
            for t in 0..<batchSize { advantages[t] -= baseline[t] }
        }
        if c.normalizeAdvantages { normalize(&advantages) }

        // Data-parallel: each shard of the episodes' steps runs forward and backward on its
        // own replica; their gradients add up, in shard order, to the whole batch's.
        optimizer.zeroGradients()
        let parts = parallel.computeGradients(over: shards) { replica, rows, weight in
            let (logits, values) = replica(observations.rows(rows))
            return PolicyGradientLoss.backpropagate(
                distribution: .categorical(Categorical(logits: logits)), values: values, actions: .discrete(Array(actions[rows])),
                advantages: Array(advantages[rows]),
                returns: Array(returns[rows]), entropyCoefficient: c.entropyCoefficient,
                valueCoefficient: c.useBaseline ? c.valueCoefficient : nil, weight: weight)
        }
        let loss = PolicyGradientLoss(combining: parts)
        guard loss.total.isFinite else { throw .nonFiniteLoss(name: "REINFORCE loss", step: step) }
        if let maxNorm = c.maxGradientNorm { clipGradientNorm(optimizer.parameters, maxNorm: Float(maxNorm)) }
        optimizer.step()

        return [
            "losses/value_loss": loss.value,
            "losses/policy_loss": loss.policy,
            "losses/entropy": loss.entropy,
        ]
    }

    /// The policy network, for export and saliency.
    public var policyNetwork: PolicyNetwork? { network.policyNetwork }

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        network.choose(for: observation)
    }

    /// What REINFORCE carries between updates: each copy's episode so far and the finished
    /// episodes not yet learned from, saved as JSON in the checkpoint's state.
    struct EpisodesInProgress: Codable {
        var trajectories: [Trajectory]
        var finished: [FinishedEpisode]
    }

    /// The networks, Adam's state, the generator and the episodes in progress.
    public func checkpoint() -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint.actorCritic(network, optimizer: optimizer, generator: generator)
        let episodes = EpisodesInProgress(trajectories: trajectories, finished: finishedEpisodes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same state gives the same bytes
        if let data = try? encoder.encode(episodes) {
            checkpoint.state["reinforce.episodes"] = String(decoding: data, as: UTF8.self)
        }
        return checkpoint
    }

    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        let episodes = weightsOnly ? nil : try savedEpisodes(in: checkpoint)
        if let restored = try checkpoint.restoreActorCritic(network, optimizer: optimizer, weightsOnly: weightsOnly) {
            generator = restored
        }
        if let episodes {
            trajectories = episodes.trajectories
            finishedEpisodes = episodes.finished
        }
    }

    /// The episodes saved by `checkpoint()`, checked (one trajectory per copy, whole
    /// observations, valid actions, finite numbers); empty ones when none were saved.
    private func savedEpisodes(in checkpoint: AgentCheckpoint) throws(CheckpointError) -> EpisodesInProgress {
        guard let text = checkpoint.state["reinforce.episodes"] else {
            return EpisodesInProgress(trajectories: Array(repeating: Trajectory(), count: trajectories.count), finished: [])
        }
        let invalid = CheckpointError.valueOutOfRange(
            name: "reinforce.episodes", value: "\(text.prefix(60))…",
            expected: "\(trajectories.count) trajectories of whole observations, valid actions and finite numbers")
        guard let episodes = try? JSONDecoder().decode(EpisodesInProgress.self, from: Data(text.utf8)) else { throw invalid }
        let actionCount = network.actionCount, size = observationSize
        func valid(_ observations: [Float], _ actions: [Int], _ numbers: [Float]) -> Bool {
            observations.count == actions.count * size && actions.allSatisfy { (0..<actionCount).contains($0) }
                && observations.allSatisfy(\.isFinite) && numbers.allSatisfy(\.isFinite)
        }
        guard episodes.trajectories.count == trajectories.count,
              episodes.trajectories.allSatisfy({ valid($0.observations, $0.actions, $0.rewards) && $0.rewards.count == $0.actions.count }),
              episodes.finished.allSatisfy({ valid($0.observations, $0.actions, $0.returns) && $0.returns.count == $0.actions.count })
        else { throw invalid }
        return episodes
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
