import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// Deep Q-learning (Mnih et al., 2015) in the form of CleanRL's `dqn.py` and SB3's `DQN`:
/// a replay buffer, ε-greedy exploration with linearly decaying ε, a target network
/// updated by hard copy every C steps or by Polyak averaging, the Huber (smooth L1) loss,
/// optional Double DQN targets (van Hasselt et al., 2016) and optional global-norm
/// gradient clipping.
///
/// The TD target of a transition (s, a, r, s′, terminated) is
/// y = r + γ·(1 − terminated)·Q′(s′, a*), with a* = argmaxₐ Q′(s′, a) (plain) or
/// a* = argmaxₐ Q(s′, a) (Double DQN), Q the online network and Q′ the target network.
public final class DQN: RegisteredAgent {
    public struct Configuration: AlgorithmConfiguration {
        /// The loss between Q(s, a) and the TD target.
        public enum Loss: String, Equatable, Sendable, Codable {
            /// Huber / smooth L1 with δ = 1 (SB3's default; Mnih et al.'s error clipping).
            case huber
            /// Mean squared error (CleanRL's choice).
            case mse
        }

        /// Adam's learning rate (at the start, when annealed).
        public var learningRate: Double = 2.5e-4
        /// Anneal the learning rate linearly to 0 over the run: late updates shrink, so the
        /// policy settles instead of oscillating (DQN on CartPole otherwise often collapses
        /// after reaching 500).
        public var annealLearningRate = false
        /// Shapes the learning rate over the run (constant, linear, step, exponential, cosine,
        /// with an optional warm-up); absent: `anneal_learning_rate` decides.
        public var learningRateSchedule: LearningRateSchedule? = nil
        /// Adam's ε (PyTorch's default, which CleanRL and SB3 keep for DQN).
        public var adamEpsilon: Double = 1e-8
        /// Transitions the replay buffer keeps.
        public var bufferSize = 10_000
        /// Environment steps (all copies together) of pure collection before the first update.
        public var learningStarts = 10_000
        /// Learn every this many vector steps.
        public var trainFrequency = 10
        /// Gradient steps (minibatches) per learning step.
        public var gradientSteps = 1
        /// Transitions per minibatch.
        public var batchSize = 128
        /// Discount factor γ.
        public var gamma: Double = 0.99
        /// Update the target network every this many environment steps (all copies together).
        public var targetUpdateInterval = 500
        /// Target update θ′ ← τ·θ + (1 − τ)·θ′; 1 is a hard copy, below 1 Polyak averaging.
        public var tau: Double = 1
        /// Take a* from the online network and its value from the target network.
        public var doubleDQN = false
        /// The TD loss.
        public var loss: Loss = .huber
        /// ε of ε-greedy: from `start` to `end` over `fraction` of the run, then constant.
        public var exploration = LinearSchedule(start: 1, end: 0.05, fraction: 0.5)
        /// Global gradient-norm limit (nil: no clipping). SB3 uses 10.
        public var maxGradientNorm: Double? = 10
        /// The Q-network: an MLP with ReLU for vector observations (no hidden layers is a
        /// linear Q-function), MinAtar's conv trunk for 10×10×C frames; then a dense head
        /// with one output per action.
        public var network = NetworkConfiguration(hiddenSizes: [120, 84], activation: .relu)

        public init() {}

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", annealLearningRate = "anneal_learning_rate"
            case learningRateSchedule = "learning_rate_schedule"
            case adamEpsilon = "adam_epsilon", bufferSize = "buffer_size", learningStarts = "learning_starts"
            case trainFrequency = "train_frequency", gradientSteps = "gradient_steps", batchSize = "batch_size"
            case gamma, targetUpdateInterval = "target_update_interval", tau, doubleDQN = "double_dqn"
            case loss, exploration, maxGradientNorm = "max_gradient_norm", network
        }

        /// Settings tuned on CartPole-v1 for a 100,000-step run (one environment): SB3
        /// rl-zoo's buffer and start, training every step, Double DQN, hard target copies
        /// every 500 steps, a short ε decay and an annealed learning rate of 2.5e-4.
        /// Measured: greedy mean 500 over 100 episodes on seeds 0, 1, 2 and 3 (at 5e-4, seed 2
        /// collapsed late to 213; at 3e-4 it ended at 494).
        public static var cartPole: Configuration {
            var c = Configuration()
            c.learningRate = 2.5e-4
            c.annealLearningRate = true
            c.bufferSize = 100_000
            c.learningStarts = 1000
            c.trainFrequency = 1
            c.gradientSteps = 1
            c.batchSize = 128
            c.targetUpdateInterval = 500
            c.doubleDQN = true
            c.exploration = LinearSchedule(start: 1, end: 0.01, fraction: 0.1)
            c.network = NetworkConfiguration(hiddenSizes: [128, 128], activation: .relu)
            return c
        }

        public static let optionalKeys: Set<String> = ["max_gradient_norm", "learning_rate_schedule"]

        /// Settings for the small grid worlds (and the cliff): a small buffer, early
        /// learning, frequent target copies and one hidden layer of 64.
        public static var gridWorld: Configuration {
            Configuration().with {
                $0.learningRate = 1e-3
                $0.bufferSize = 10_000
                $0.learningStarts = 500
                $0.trainFrequency = 1
                $0.batchSize = 64
                $0.targetUpdateInterval = 250
                $0.exploration = LinearSchedule(start: 1, end: 0.05, fraction: 0.3)
                $0.network = NetworkConfiguration(hiddenSizes: [64], activation: .relu)
            }
        }

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            try Require.positive("learning_rate", learningRate, atMost: 10)
            try Require.schedule(learningRateSchedule)
            try Require.that(network.recurrent == nil,
                             "network.recurrent: dqn's networks have no memory; train recurrent_ppo for a recurrent policy")
            try Require.value("adam_epsilon", adamEpsilon, in: 0...1)
            try Require.count("buffer_size", bufferSize, in: 1...1_000_000_000)
            try Require.count("learning_starts", learningStarts, in: 0...1_000_000_000_000)
            try Require.count("train_frequency", trainFrequency, in: 1...1_000_000_000)
            try Require.count("gradient_steps", gradientSteps, in: 1...10_000)
            try Require.count("batch_size", batchSize, in: 1...1_000_000)
            try Require.that(batchSize <= bufferSize,
                             "batch_size (\(batchSize)) must not exceed buffer_size (\(bufferSize)): a batch is drawn from the buffer")
            try Require.value("gamma", gamma, in: 0...1)
            try Require.count("target_update_interval", targetUpdateInterval, in: 1...1_000_000_000_000)
            try Require.that(tau.isFinite && tau > 0 && tau <= 1, "tau must be in (0, 1], got \(tau)")
            try Require.value("exploration.start", exploration.start, in: 0...1)
            try Require.value("exploration.end", exploration.end, in: 0...1)
            try Require.value("exploration.fraction", exploration.fraction, in: 0...1)
            if let norm = maxGradientNorm { try Require.positive("max_gradient_norm", norm) }
            try network.validate()
        }

        /// The replay buffer and both networks with gradients and Adam's moments.
        public func estimatedMemory(for context: AgentContext) -> Double {
            Double(bufferSize) * Double(ReplayBuffer.bytesPerTransition(
                observationSize: context.observationSpace.count, binary: context.observationSpace.isBinary))
                + 5 * network.parameterBytes(observationShape: context.observationSpace.shape, outputs: context.actionCount)
        }
    }

    public static let algorithm = "dqn"
    public static let metricKeys = ["charts/epsilon", "charts/learning_rate", "losses/td_loss", "losses/q_values"]

    public let configuration: Configuration
    public let observationShape: [Int]
    public let actionCount: Int
    /// The online network Q: observations [B] + shape → Q-values [B, actions].
    public let qNetwork: Sequential
    /// The target network Q′, same architecture, updated from Q on schedule.
    public let targetNetwork: Sequential
    public let networkDescription: String
    public let replayBuffer: ReplayBuffer
    /// Whether `checkpoint()` includes the replay buffer (large; off by default).
    public var includesReplayInCheckpoint = false
    /// A resumed run continues exactly only with its replay buffer.
    public var resumesExactly: Bool { includesReplayInCheckpoint }
    /// Q and its shard replicas.
    private let parallel: DataParallel<Sequential>
    private let shardSize: Int
    private let optimizer: Adam
    private let totalSteps: Int
    private var generator: SeededGenerator
    /// Environment steps seen so far (the last `Transitions.globalStep`).
    public private(set) var globalStep = 0
    /// Vector steps seen so far (the training frequency counts these).
    public private(set) var vectorSteps = 0

    /// - Parameters:
    ///   - totalSteps: the run's length in environment steps, for the ε schedule.
    ///   - seed: seeds the weights (Q and Q′ start equal), exploration and sampling.
    public init(
        configuration: Configuration, observationSpace: Box, actionCount: Int, totalSteps: Int, seed: UInt64,
        shardSize: Int = defaultShardSize
    ) throws(TrainingError) {
        self.shardSize = shardSize
        try configuration.validate(copies: 1)
        guard actionCount > 0 else { throw .invalidConfiguration("the action space needs at least one action") }
        self.configuration = configuration
        self.observationShape = observationSpace.shape
        self.actionCount = actionCount
        self.totalSteps = totalSteps
        generator = SeededGenerator(seed: seed, stream: 11)
        // Both networks are built from the same generator state, so Q′ starts as a copy of Q.
        var networkGenerator = SeededGenerator(seed: seed, stream: 12)
        var targetGenerator = networkGenerator
        qNetwork = Self.makeNetwork(configuration.network, observationShape: observationShape,
                                    actionCount: actionCount, generator: &networkGenerator)
        targetNetwork = Self.makeNetwork(configuration.network, observationShape: observationShape,
                                         actionCount: actionCount, generator: &targetGenerator)
        networkDescription = configuration.network.describe(observationShape: observationShape, outputs: actionCount)
        parallel = DataParallel(qNetwork, replica: { $0.replica() }, parameters: \.parameters)
        optimizer = Adam(parameters: qNetwork.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        replayBuffer = ReplayBuffer(capacity: configuration.bufferSize, observationSize: observationSpace.count,
                                    binary: observationSpace.isBinary)
    }

    public convenience init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try self.init(configuration: configuration, observationSpace: context.observationSpace,
                      actionCount: context.actionCount, totalSteps: context.totalSteps, seed: context.seed,
                      shardSize: context.shardSize)
        includesReplayInCheckpoint = context.savesExperience
    }

    /// The Q-network: the shared trunk (`makeTrunk`) and a dense head with one output per
    /// action, then every weight and bias redrawn from U(−1/√fanIn, 1/√fanIn), PyTorch's
    /// default, which CleanRL's and SB3's DQN use. Measured here on CartPole-v1, He
    /// initialisation (√6 times wider) let the Q-values overshoot and collapse more often.
    static func makeNetwork(
        _ network: NetworkConfiguration, observationShape: [Int], actionCount: Int, generator: inout SeededGenerator
    ) -> Sequential {
        let (trunk, width) = network.makeTrunk(observationShape: observationShape, orthogonal: false, generator: &generator)
        let q = Sequential(trunk + [Dense(inputSize: width, outputSize: actionCount, generator: &generator)])
        for layer in q.layers {
            let parameters: (weight: Tensor, bias: Tensor)
            if let dense = layer as? Dense {
                parameters = (dense.weight, dense.bias)
            } else if let convolution = layer as? Conv2D {
                parameters = (convolution.filter, convolution.bias)
            } else {
                continue
            }
            // Inputs per output unit: the weight's size over the number of outputs.
            let bound = 1 / Float(parameters.weight.count / parameters.bias.count).squareRoot()
            for tensor in [parameters.weight, parameters.bias] {
                tensor.assign(Tensor.uniform(tensor.shape, low: -bound, high: bound, generator: &generator))
            }
        }
        return q
    }

    /// ε at the current step.
    public var epsilon: Double { configuration.exploration.value(atStep: globalStep, of: totalSteps) }

    // MARK: Acting

    /// ε-greedy per copy: one uniform draw each; below ε a uniformly random action,
    /// otherwise argmaxₐ Q(s, a).
    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        let epsilon = self.epsilon
        var greedyCopies: [Int] = []
        for i in 0..<count {
            if generator.uniform() < epsilon {
                actions[i] = generator.int(below: actionCount)
            } else {
                greedyCopies.append(i)
            }
        }
        guard !greedyCopies.isEmpty else { return }
        let greedy = forwardInSlices(observations, shape: observationShape, shards: Shards(rows: count, shardSize: actingSliceSize),
                                     width: actionCount) { qNetwork($0) }.argmaxAlongLastAxis()
        for i in greedyCopies { actions[i] = greedy[i] }
    }

    // MARK: Learning

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration
        let previousStep = globalStep
        replayBuffer.add(transitions)
        globalStep = transitions.globalStep
        vectorSteps += 1
        guard globalStep >= c.learningStarts else { return [:] }

        var metrics: [String: Double] = [:]
        if vectorSteps % c.trainFrequency == 0 {
            let learningRate = scheduledLearningRate(c.learningRate, schedule: c.learningRateSchedule,
                                                     annealed: c.annealLearningRate, atStep: globalStep, of: totalSteps)
            optimizer.learningRate = Float(learningRate)
            var sums = (loss: 0.0, q: 0.0)
            for _ in 0..<c.gradientSteps {
                let batch = replayBuffer.sample(batchSize: c.batchSize, using: &generator)
                let (loss, meanQ) = try gradientStep(on: batch)
                sums.loss += loss
                sums.q += meanQ
            }
            metrics = [
                "charts/epsilon": epsilon,
                "charts/learning_rate": learningRate,
                "losses/td_loss": sums.loss / Double(c.gradientSteps),
                "losses/q_values": sums.q / Double(c.gradientSteps),
            ]
        }

        // The target network follows its own schedule of global steps (as SB3 and CleanRL
        // count), training step or not: once in every vector step that crosses a multiple
        // of `targetUpdateInterval`.
        if globalStep / c.targetUpdateInterval > previousStep / c.targetUpdateInterval {
            updateTargetNetwork()
        }
        return metrics
    }

    /// One minibatch of TD learning; returns the loss and the mean Q(s, a) of the batch.
    ///
    /// Data-parallel: each shard of the batch computes its targets and runs forward and
    /// backward on its own replica of Q; their gradients add up, in shard order, to the
    /// batch's.
    func gradientStep(on batch: ReplayBatch) throws(TrainingError) -> (loss: Double, meanQ: Double) {
        let c = configuration
        optimizer.zeroGradients()
        let shards = Shards(rows: batch.count, shardSize: shardSize)
        let parts = parallel.computeGradients(over: shards) { replica, rows, weight in
            let part = shards.count == 1 ? batch : batch.rows(rows)
            let targets = Tensor(shape: [part.count], scalars: temporalDifferenceTargets(for: part))
            let observations = Tensor(shape: [part.count] + observationShape, scalars: part.observations)
            let q = replica(observations).gathering(atLastAxis: part.actions)
            let loss = c.loss == .huber ? huberLoss(q, targets) : meanSquaredError(q, targets)
            loss.backward(seed: [weight])
            return (loss: Double(weight) * Double(loss.scalar), qSum: Double(q.scalars.reduce(0, +)))
        }
        let loss = parts.reduce(0) { $0 + $1.loss }, qSum = parts.reduce(0) { $0 + $1.qSum }
        guard loss.isFinite else { throw .nonFiniteLoss(name: "TD loss", step: globalStep) }
        if let norm = c.maxGradientNorm { clipGradientNorm(optimizer.parameters, maxNorm: Float(norm)) }
        optimizer.step()
        return (loss, qSum / Double(batch.count))
    }

    /// y = r + γ·(1 − terminated)·Q′(s′, a*) for each transition of `batch`, computed
    /// without recording gradients (see the type's documentation for a*).
    func temporalDifferenceTargets(for batch: ReplayBatch) -> [Float] {
        let next = Tensor(shape: [batch.count] + observationShape, scalars: batch.nextObservations)
        let (targetValues, onlineValues) = withoutGradients {
            (targetNetwork(next), configuration.doubleDQN ? qNetwork(next) : nil)
        }
        return Self.temporalDifferenceTargets(
            rewards: batch.rewards, terminated: batch.terminated, nextTargetValues: targetValues,
            nextOnlineValues: onlineValues, gamma: Float(configuration.gamma))
    }

    /// The TD targets from the networks' outputs on s′, both [B, actions]: the action is
    /// argmax of `nextOnlineValues` when given (Double DQN), else of `nextTargetValues`;
    /// its value is always read from `nextTargetValues`.
    static func temporalDifferenceTargets(
        rewards: [Float], terminated: [Float], nextTargetValues: Tensor, nextOnlineValues: Tensor?, gamma: Float
    ) -> [Float] {
        let rows = rewards.count, width = nextTargetValues.shape.last ?? 1
        precondition(nextTargetValues.shape == [rows, width], "target values must be [\(rows), actions]")
        let chosen = (nextOnlineValues ?? nextTargetValues).argmaxAlongLastAxis()
        let values = nextTargetValues.scalars
        return (0..<rows).map { i in
            rewards[i] + gamma * (1 - terminated[i]) * values[i * width + chosen[i]]
        }
    }

    /// θ′ ← τ·θ + (1 − τ)·θ′ (a plain copy when τ = 1).
    func updateTargetNetwork() {
        if configuration.tau >= 1 {
            targetNetwork.copyParameters(from: qNetwork)
        } else {
            targetNetwork.polyakUpdate(toward: qNetwork, tau: Float(configuration.tau))
        }
    }

    // MARK: Evaluation

    /// The greedy action with the Q-values as its scores.
    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        let qValues = withoutGradients { qNetwork(makeObservationBatch(observation, count: 1, shape: observationShape)) }
        return ActionChoice(action: qValues.argmaxAlongLastAxis()[0], scores: qValues.scalars, kind: .values)
    }

    /// The Q-network, for export and saliency.
    public var policyNetwork: PolicyNetwork? {
        PolicyNetwork(layers: qNetwork, observationShape: observationShape, outputWidth: actionCount, output: .qValues)
    }

    // MARK: Checkpoints

    /// Online weights (`q.*`), target weights (`target.*`), Adam's moments
    /// (`optimizer.*`), the generator and counters; the replay buffer (`replay.*`) too
    /// when `includesReplayInCheckpoint`.
    public func checkpoint() -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint()
        checkpoint.add(qNetwork.namedParameters, prefix: "q.")
        checkpoint.add(targetNetwork.namedParameters, prefix: "target.")
        checkpoint.add(optimizer.namedState, prefix: "optimizer.")
        checkpoint.store(generator, as: "generator")
        checkpoint.state["optimizer.steps"] = String(optimizer.stepCount)
        checkpoint.state["global_step"] = String(globalStep)
        checkpoint.state["vector_steps"] = String(vectorSteps)
        if includesReplayInCheckpoint { replayBuffer.save(into: &checkpoint) }
        return checkpoint
    }

    /// Restores everything `checkpoint()` saved, all or nothing; the replay buffer is
    /// restored when the checkpoint holds one (otherwise it stays as it is). With
    /// `weightsOnly`, only the online network is loaded (evaluation, watching) and the
    /// target network is set equal to it.
    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        let weights = prefixed(qNetwork.namedParameters, "q.")
        let trainingState = prefixed(targetNetwork.namedParameters, "target.") + prefixed(optimizer.namedState, "optimizer.")
        if weightsOnly {
            try checkpoint.load(weights: weights, trainingState: trainingState, weightsOnly: true,
                                optionalPrefixes: ["replay."])
            targetNetwork.copyParameters(from: qNetwork)
            return
        }
        let restoredGenerator = try checkpoint.generator("generator")
        let steps = try checkpoint.integer("optimizer.steps")
        let restoredGlobalStep = try checkpoint.integer("global_step")
        let restoredVectorSteps = try checkpoint.integer("vector_steps")
        let restoreReplay = ReplayBuffer.isSaved(in: checkpoint) ? try replayBuffer.prepareRestore(from: checkpoint, actionCount: actionCount) : nil
        // Checks every name and shape before assigning any.
        try checkpoint.load(weights: weights, trainingState: trainingState, weightsOnly: false,
                            optionalPrefixes: ["replay."])
        restoreReplay?()
        optimizer.stepCount = steps
        generator = restoredGenerator
        globalStep = restoredGlobalStep
        vectorSteps = restoredVectorSteps
    }
}

extension DQN {
    /// DQN's registry entry and its presets (one environment copy, as in the papers).
    public static let registration = AlgorithmSpec(
        DQN.self, summary: "Deep Q-learning with a replay buffer and a target network (Double DQN optional)",
        small: Configuration().with {
            $0.bufferSize = 64
            $0.learningStarts = 8
            $0.trainFrequency = 2
            $0.batchSize = 4
            $0.targetUpdateInterval = 8
            $0.network = .small
        },
        presets: [
            AlgorithmPreset(for: PresetEnvironments.cartPole, steps: 100_000, copies: 1, configuration: .cartPole),
            AlgorithmPreset(for: PresetEnvironments.gridWorlds, steps: 20_000, copies: 1, checkpointInterval: 10_000,
                            configuration: .gridWorld),
            AlgorithmPreset(for: PresetEnvironments.cliff, steps: 50_000, copies: 1, checkpointInterval: 12_500,
                            configuration: .gridWorld),
            // rl-baselines3-zoo's Acrobot-v1 settings (gradient_steps -1: one update per step collected).
            AlgorithmPreset(for: PresetEnvironments.acrobot, steps: 100_000, copies: 1, checkpointInterval: 25_000,
                            configuration: Configuration().with {
                $0.learningRate = 6.3e-4
                $0.bufferSize = 50_000
                $0.learningStarts = 0
                $0.trainFrequency = 4
                $0.gradientSteps = 4
                $0.batchSize = 128
                $0.targetUpdateInterval = 250
                $0.exploration = LinearSchedule(start: 1, end: 0.1, fraction: 0.12)
                $0.network = NetworkConfiguration(hiddenSizes: [256, 256], activation: .relu)
            }),
            // rl-baselines3-zoo's MountainCar-v0 settings.
            AlgorithmPreset(for: PresetEnvironments.mountainCar, steps: 120_000, copies: 1, checkpointInterval: 30_000,
                            configuration: Configuration().with {
                $0.learningRate = 4e-3
                $0.bufferSize = 10_000
                $0.learningStarts = 1_000
                $0.trainFrequency = 16
                $0.gradientSteps = 8
                $0.batchSize = 128
                $0.gamma = 0.98
                $0.targetUpdateInterval = 600
                $0.exploration = LinearSchedule(start: 1, end: 0.07, fraction: 0.2)
                $0.network = NetworkConfiguration(hiddenSizes: [256, 256], activation: .relu)
            }),
            // The MinAtar paper's DQN, with Adam instead of RMSprop.
            AlgorithmPreset(for: PresetEnvironments.minAtar, steps: 5_000_000, copies: 1, checkpointInterval: 500_000,
                            configuration: Configuration().with {
                $0.learningRate = 1e-4
                $0.bufferSize = 100_000
                $0.learningStarts = 5_000
                $0.trainFrequency = 1
                $0.batchSize = 32
                $0.targetUpdateInterval = 1_000
                $0.exploration = LinearSchedule(start: 1, end: 0.1, fraction: 0.02)
            }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 500_000, copies: 1, configuration: Configuration()))
}
