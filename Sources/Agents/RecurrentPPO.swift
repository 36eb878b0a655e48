import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// PPO with a recurrent policy (SB3-contrib's `RecurrentPPO`, CleanRL's `ppo_atari_lstm.py`),
/// for tasks where one observation is not enough.
///
/// What memory changes, beside PPO's update (its loss is used as is):
/// - acting carries each copy's recurrent state from step to step and zeroes it where an
///   episode begins; the state at the start of every rollout is stored with it;
/// - minibatches are whole copies' sequences: each of `minibatches` minibatches holds
///   copies/minibatches copies' complete rollouts, replayed from their stored initial
///   states with the same resets, so the update sees the states acting saw;
/// - a truncated episode bootstraps from V of its final observation read with the state
///   its episode had reached;
/// - checkpoints hold the acting state and the rollout's initial states, so a resumed run
///   continues exactly.
public final class RecurrentPPO: RegisteredAgent {
    /// PPO's settings, under the same keys, with the recurrent cell in `network.recurrent`
    /// (an LSTM of 64 by default). `minibatches` must divide the number of copies.
    @dynamicMemberLookup
    public struct Configuration: AlgorithmConfiguration {
        /// Every setting, as PPO has it.
        public var ppo: PPO.Configuration

        public init() {
            ppo = PPO.Configuration()
            ppo.network.recurrent = RecurrentConfiguration()
        }

        public subscript<Value>(dynamicMember keyPath: WritableKeyPath<PPO.Configuration, Value>) -> Value {
            get { ppo[keyPath: keyPath] }
            set { ppo[keyPath: keyPath] = newValue }
        }

        public init(from decoder: any Decoder) throws { ppo = try PPO.Configuration(from: decoder) }
        public func encode(to encoder: any Encoder) throws { try ppo.encode(to: encoder) }

        public static var optionalKeys: Set<String> { PPO.Configuration.optionalKeys }

        /// PPO's checks, a recurrent cell, and minibatches of whole copies.
        public func validate(copies: Int) throws(TrainingError) {
            try ppo.validate(copies: copies)
            try Require.that(ppo.network.recurrent != nil,
                             "recurrent_ppo needs network.recurrent (for example {cell: lstm, size: 64})")
            try Require.that(copies % ppo.minibatches == 0,
                             "recurrent_ppo's minibatches hold whole environment copies: minibatches must divide "
                                 + "environments = \(copies), got \(ppo.minibatches)")
        }

        /// PPO's estimate plus the states a rollout keeps.
        public func estimatedMemory(for context: AgentContext) -> Double {
            let size = Double(ppo.network.recurrent?.size ?? 0)
            return ppo.estimatedMemory(for: context)
                + 4 * Double(context.copies) * Double(ppo.stepsPerRollout) * 6 * size
        }
    }

    public static let algorithm = "recurrent_ppo"
    public static let actionKinds: ActionKinds = [.discrete, .continuous]
    public static var metricKeys: [String] { PPO.metricKeys }

    public let configuration: Configuration
    public let network: RecurrentActorCritic
    public var networkDescription: String { network.description }
    private let parallel: DataParallel<RecurrentActorCritic>
    private let optimizer: Adam
    private let buffer: RolloutBuffer
    private let totalSteps: Int
    private let shardSize: Int
    private var generator: SeededGenerator
    /// Each copy's state after its last step, [copies × memoryWidth].
    private var memory: [Float]
    /// Whether each copy's next observation begins an episode (its state is then zeroed).
    private var startsEpisode: [Bool]
    /// The copies' states when the rollout began, [copies × memoryWidth].
    private var rolloutMemory: [Float]
    /// Step-major flags of the rollout: the state entering that step was zeroed.
    private var rolloutResets: [Bool]

    public init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try configuration.validate(copies: context.copies)
        self.configuration = configuration
        totalSteps = context.totalSteps
        shardSize = context.shardSize
        generator = SeededGenerator(seed: context.seed, stream: 7)
        network = RecurrentActorCritic(observationShape: context.observationSpace.shape, actionSpace: context.actionSpace,
                                       network: configuration.network, generator: &generator)
        parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        optimizer = Adam(parameters: network.parameters, learningRate: Float(configuration.learningRate),
                         epsilon: Float(configuration.adamEpsilon))
        let steps = configuration.stepsPerRollout, copies = context.copies
        buffer = RolloutBuffer(steps: steps, copies: copies, observationSize: context.observationSpace.count,
                               actionWidth: context.actionSpace.isContinuous ? context.actionSpace.width : 0)
        memory = Array(repeating: 0, count: copies * network.memoryWidth)
        startsEpisode = Array(repeating: true, count: copies)
        rolloutMemory = memory
        rolloutResets = Array(repeating: false, count: steps * copies)
    }

    // MARK: Rollout

    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>) {
        let sample = step(observations, count: count)
        for i in 0..<count { actions[i] = sample.actions[i] }
    }

    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Float>) {
        let sample = step(observations, count: count)
        guard let box = network.actionSpace.box else { preconditionFailure("a discrete policy has no continuous actions") }
        for i in 0..<sample.continuousActions.count {
            actions[i] = Swift.min(Swift.max(sample.continuousActions[i], box.low[i % box.count]), box.high[i % box.count])
        }
    }

    /// One step of every copy: the policy read with each copy's state (zeroed where an
    /// episode begins), an action drawn, the choices and the reset flags stored.
    private func step(_ observations: UnsafeBufferPointer<Float>, count: Int) -> PolicySample {
        if buffer.position == 0 { rolloutMemory = memory }
        let resets = startsEpisode
        for i in 0..<count { rolloutResets[buffer.position * count + i] = resets[i] }
        let (outputs, values, after) = withoutGradients {
            network(makeObservationBatch(observations, count: count, shape: network.observationShape),
                    memory: Tensor(shape: [count, network.memoryWidth], scalars: memory), steps: 1, resets: resets)
        }
        memory = after.scalars
        let sample = Self.draw(network.distribution(outputs), values: values.scalars, generator: &generator)
        buffer.storeChoices(observations: observations, sample)
        return sample
    }

    /// Actions drawn from `distribution` in copy order, with their log-probabilities.
    private static func draw(_ distribution: PolicyDistribution, values: [Float], generator: inout SeededGenerator) -> PolicySample {
        switch distribution {
        case .categorical(let categorical):
            let actions = categorical.sample(using: &generator)
            let logProbabilities = withoutGradients { categorical.logProbability(of: actions) }.scalars
            return PolicySample(actions: actions, logProbabilities: logProbabilities, values: values)
        case .gaussian(let gaussian):
            let (rows, width) = (gaussian.mean.shape[0], gaussian.mean.shape[1])
            let mean = gaussian.mean.scalars, deviations = gaussian.logStandardDeviation.scalars.map { FastMath.exp($0) }
            var drawn = [Float](repeating: 0, count: rows * width)
            for k in 0..<(rows * width) { drawn[k] = mean[k] + deviations[k % width] * Float(generator.normal()) }
            let logProbabilities = withoutGradients {
                gaussian.logProbability(of: Tensor(shape: [rows, width], scalars: drawn))
            }.scalars
            return PolicySample(actions: [], continuousActions: drawn, logProbabilities: logProbabilities, values: values)
        }
    }

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let row = buffer.index(ofCopy: 0)
        buffer.storeOutcomes(transitions)
        // A truncated episode bootstraps from V(final observation), read with the state its
        // episode had reached (the state `memory` holds before the reset).
        let gamma = Float(configuration.gamma), width = network.memoryWidth
        for i in 0..<transitions.count where transitions.isTruncated[i] && !transitions.isTerminated[i] {
            let value = withoutGradients {
                network(makeObservationBatch(transitions.successor(ofCopy: i), count: 1, shape: network.observationShape),
                        memory: Tensor(shape: [1, width], scalars: Array(memory[(i * width)..<((i + 1) * width)])),
                        steps: 1, resets: nil).values
            }.scalar
            buffer.rewards[row + i] += gamma * value
        }
        for i in 0..<transitions.count { startsEpisode[i] = transitions.isTerminated[i] || transitions.isTruncated[i] }
        guard buffer.isFull else { return [:] }
        defer { buffer.reset() }
        return try update(after: transitions)
    }

    // MARK: Update

    private func update(after transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration.ppo
        let steps = buffer.steps, copies = buffer.copies, width = network.memoryWidth
        // V of the observation after the rollout, with the copies' current states.
        let lastValues = withoutGradients {
            network(makeObservationBatch(transitions.nextObservations, count: copies, shape: network.observationShape),
                    memory: Tensor(shape: [copies, width], scalars: memory), steps: 1, resets: startsEpisode).values
        }.scalars
        let (advantages, returns) = buffer.rewards.withUnsafeBufferPointer { rewards in
            buffer.values.withUnsafeBufferPointer { values in
                buffer.episodeEnded.withUnsafeBufferPointer { ended in
                    lastValues.withUnsafeBufferPointer { last in
                        generalizedAdvantages(rewards: rewards, values: values, episodeEnded: ended, lastValues: last,
                                              steps: steps, copies: copies, gamma: Float(c.gamma), lambda: Float(c.gaeLambda))
                    }
                }
            }
        }
        let learningRate = scheduledLearningRate(c.learningRate, schedule: c.learningRateSchedule,
                                                 annealed: c.annealLearningRate,
                                                 atStep: transitions.globalStep - buffer.capacity, of: totalSteps)
        optimizer.learningRate = Float(learningRate)

        let sequencesPerMinibatch = copies / c.minibatches
        // Shards of whole sequences: about `shardSize` rows each.
        let sequencesPerShard = Swift.max(1, shardSize / steps)
        var totals = PPO.Loss.Totals()
        epochs: for _ in 0..<c.epochs {
            let order = shuffledIndices(copies, using: &generator)
            for start in stride(from: 0, to: copies, by: sequencesPerMinibatch) {
                let sequences = Array(order[start..<(start + sequencesPerMinibatch)])
                // The minibatch's rows, time-major over its sequences, and their advantages.
                let minibatchRows = (0..<steps).flatMap { t in sequences.map { t * copies + $0 } }
                var minibatchAdvantages = minibatchRows.map { advantages[$0] }
                if c.normalizeAdvantages { normalize(&minibatchAdvantages) }
                var advantageOfRow = [Int: Float](minimumCapacity: minibatchRows.count)
                for (position, row) in minibatchRows.enumerated() { advantageOfRow[row] = minibatchAdvantages[position] }

                optimizer.zeroGradients()
                let shards = Shards(rows: sequences.count, shardSize: sequencesPerShard)
                let parts = parallel.computeGradients(over: shards) { replica, part, weight in
                    let chosen = Array(sequences[part])
                    let rows = (0..<steps).flatMap { t in chosen.map { t * copies + $0 } }
                    let resets = rows.map { rolloutResets[$0] }
                    var initial = [Float]()
                    initial.reserveCapacity(chosen.count * width)
                    for sequence in chosen { initial += rolloutMemory[(sequence * width)..<((sequence + 1) * width)] }
                    let (outputs, values, _) = replica(
                        buffer.observationBatch(rows[...], shape: network.observationShape),
                        memory: Tensor(shape: [chosen.count, width], scalars: initial), steps: steps, resets: resets)
                    // This shard's advantages, in its own time-major order.
                    let partAdvantages = rows.map { advantageOfRow[$0]! }
                    let loss = PPO.loss(
                        distribution: replica.distribution(outputs), values: values,
                        actions: buffer.policyActions(rows), oldLogProbabilities: gathered(buffer.logProbabilities, rows[...]),
                        oldValues: gathered(buffer.values, rows[...]),
                        advantages: Tensor(shape: [rows.count], scalars: partAdvantages),
                        returns: gathered(returns, rows[...]), configuration: c)
                    loss.total.backward(seed: [weight])
                    return (loss.summary, weight)
                }
                let loss = PPO.Loss.Summary(combining: parts)
                try PPO.step(optimizer, after: loss, configuration: c, name: "recurrent PPO loss", at: transitions.globalStep)
                totals.add(loss)
                if let target = c.targetKL, loss.approximateKL > target { break epochs }
            }
        }
        return totals.metrics(learningRate: learningRate,
                              explainedVariance: explainedVariance(predicted: buffer.values, target: returns))
    }

    // MARK: Evaluation and checkpoints

    /// The choice for an episode's first observation (a zero memory).
    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        var fresh: AgentMemory? = nil
        return network.choose(for: observation, memory: &fresh)
    }

    /// The encoder, policy cell and head, for ONNX export.
    public var recurrentPolicyNetwork: RecurrentPolicyNetwork? { network.policyNetwork }

    public func makeMemory() -> AgentMemory? {
        AgentMemory(state: Array(repeating: 0, count: network.memoryWidth))
    }

    public func choose(for observation: UnsafeBufferPointer<Float>, memory: inout AgentMemory?) -> ActionChoice {
        network.choose(for: observation, memory: &memory)
    }

    /// The log-probabilities and values of the rollout's filled rows recomputed the way
    /// the update replays them (every copy's sequence from its stored initial state, with
    /// the stored resets), for tests: they must equal what acting recorded.
    func replayedRolloutForTesting() -> (logProbabilities: [Float], values: [Float]) {
        let steps = buffer.position, copies = buffer.copies, rows = Array(0..<(steps * copies))
        return withoutGradients {
            let (outputs, values, _) = network(
                buffer.observationBatch(rows[...], shape: network.observationShape),
                memory: Tensor(shape: [copies, network.memoryWidth], scalars: rolloutMemory), steps: steps,
                resets: Array(rolloutResets[0..<(steps * copies)]))
            return (network.distribution(outputs).logProbability(of: buffer.policyActions(rows)).scalars, values.scalars)
        }
    }

    /// The rollout's recorded log-probabilities and values so far, for tests.
    var recordedRolloutForTesting: (logProbabilities: [Float], values: [Float]) {
        let n = buffer.position * buffer.copies
        return (Array(buffer.logProbabilities[0..<n]), Array(buffer.values[0..<n]))
    }

    /// PPO's checkpoint (weights, Adam, generator, the rollout so far) plus the memory:
    /// each copy's acting state and episode-start flag, the rollout's initial states and
    /// its reset flags.
    public func checkpoint() -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint.actorCritic(parameters: network.namedParameters, optimizer: optimizer,
                                                     generator: generator)
        buffer.save(into: &checkpoint)
        let copies = buffer.copies, width = network.memoryWidth
        checkpoint.tensors["memory.acting"] = SafeTensors.Entry(shape: [copies, width], scalars: memory)
        checkpoint.tensors["memory.starts_episode"] = SafeTensors.Entry(
            shape: [copies], scalars: startsEpisode.map { $0 ? 1 : 0 })
        checkpoint.tensors["memory.rollout_initial"] = SafeTensors.Entry(shape: [copies, width], scalars: rolloutMemory)
        checkpoint.tensors["memory.rollout_resets"] = SafeTensors.Entry(
            shape: [buffer.steps * copies], scalars: rolloutResets.map { $0 ? 1 : 0 })
        return checkpoint
    }

    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        let rollout = weightsOnly ? nil : try buffer.prepareRestore(from: checkpoint, actionCount: network.actionCount)
        let copies = buffer.copies, width = network.memoryWidth
        let saved = weightsOnly ? nil : (
            acting: try checkpoint.scalars("memory.acting", shape: [copies, width]),
            starts: try checkpoint.scalars("memory.starts_episode", shape: [copies]),
            initial: try checkpoint.scalars("memory.rollout_initial", shape: [copies, width]),
            resets: try checkpoint.scalars("memory.rollout_resets", shape: [buffer.steps * copies]))
        if let restored = try checkpoint.restoreActorCritic(
            parameters: network.namedParameters, optimizer: optimizer, weightsOnly: weightsOnly,
            optionalPrefixes: ["rollout.", "memory."]) {
            generator = restored
        }
        if let saved {
            memory = saved.acting
            startsEpisode = saved.starts.map { $0 != 0 }
            rolloutMemory = saved.initial
            rolloutResets = saved.resets.map { $0 != 0 }
        }
        rollout?()
    }
}

extension RecurrentPPO {
    /// Recurrent PPO's registry entry and its presets.
    public static let registration = AlgorithmSpec(
        RecurrentPPO.self, summary: "PPO with an LSTM or GRU policy, for tasks that need memory (SB3-contrib's RecurrentPPO)",
        small: Configuration().with {
            $0.stepsPerRollout = 8
            $0.minibatches = 1
            $0.epochs = 2
            $0.network = NetworkConfiguration(hiddenSizes: [8], activation: .tanh, convolutionFilters: 2,
                                              convolutionDenseSize: 8, recurrent: RecurrentConfiguration(size: 8))
        },
        presets: [
            // rl-baselines3-zoo's CartPoleNoVel-v1 settings for RecurrentPPO: 8 copies × 32
            // steps in one minibatch, 20 epochs, an LSTM of 64 for each head with one hidden
            // layer of 64 (ReLU), observations normalised.
            AlgorithmPreset(for: PresetEnvironments.cartPoleNoVelocity, steps: 500_000, copies: 8,
                            wrappers: EnvironmentWrappers().with { $0.normalizeObservations = true },
                            configuration: Configuration().with {
                $0.stepsPerRollout = 32
                $0.minibatches = 1
                $0.epochs = 20
                $0.gamma = 0.98
                $0.gaeLambda = 0.8
                $0.entropyCoefficient = 0
                $0.learningRate = 1e-3
                $0.network = NetworkConfiguration(hiddenSizes: [64], activation: .relu,
                                                  recurrent: RecurrentConfiguration(cell: .lstm, size: 64))
            }),
            // The T-maze (corridor of 10): the cue at the start must be remembered for 11 or
            // more steps, and only episodes that reach an arm carry any reward.
            AlgorithmPreset(for: PresetEnvironments.tMaze, steps: 200_000, copies: 16, checkpointInterval: 50_000,
                            configuration: Configuration().with {
                $0.stepsPerRollout = 64
                $0.minibatches = 4
                $0.epochs = 4
                $0.learningRate = 1e-3
                $0.network = NetworkConfiguration(hiddenSizes: [64], activation: .tanh,
                                                  recurrent: RecurrentConfiguration(cell: .lstm, size: 64))
            }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 500_000, copies: 8, configuration: Configuration()))
}
