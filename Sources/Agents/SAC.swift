import Autodiff
import Environments
import Foundation
import NeuralNet
import SeededRandom

/// Soft Actor-Critic (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and
/// Applications") in the form of SB3's `SAC`: a tanh-squashed Gaussian policy, twin
/// Q-networks with Polyak-averaged targets (clipped double Q), and an entropy temperature α
/// tuned automatically towards a target entropy of −dim(A).
///
/// Actions live in [−1, 1] per dimension inside the agent (the policy's tanh, the replay
/// buffer, the critics' inputs) and are scaled to the environment's bounds only when the
/// environment is stepped (`ActionScaling`). One gradient step on a minibatch, in SB3's order:
///
/// 1. a ~ π(·|s) reparameterised, with log π(a|s);
/// 2. temperature: loss −log α·(log π(a|s) + H̄), H̄ the target entropy; α used below is
///    the value before this step;
/// 3. critics: y = r + γ(1 − terminated)(min Q′ᵢ(s′, a′) − α log π(a′|s′)), a′ ~ π(·|s′);
///    loss ½ Σᵢ mean (Qᵢ(s, a_buffer) − y)²;
/// 4. actor, with the critics just updated: loss mean(α log π(a|s) − min Qᵢ(s, a));
/// 5. targets: θ′ ← τθ + (1 − τ)θ′ every `targetUpdateInterval` gradient steps.
///
/// Before `learningStarts` steps the agent acts uniformly at random (SB3's warm-up).
/// Not included: gSDE (state-dependent exploration, which rl-zoo's presets switch on).
public final class SAC: RegisteredAgent {
    public struct Configuration: AlgorithmConfiguration {
        /// Adam's learning rate, for the actor, the critics and the temperature.
        public var learningRate: Double = 3e-4
        /// Shapes the learning rate over the run (constant, linear, step, exponential, cosine,
        /// with an optional warm-up); absent: constant.
        public var learningRateSchedule: LearningRateSchedule? = nil
        /// Transitions the replay buffer keeps.
        public var bufferSize = 1_000_000
        /// Environment steps (all copies together) of uniformly random actions before learning.
        public var learningStarts = 100
        /// Transitions per minibatch.
        public var batchSize = 256
        /// Polyak coefficient τ of the target critics.
        public var tau: Double = 0.005
        /// Discount factor γ.
        public var gamma: Double = 0.99
        /// Learn every this many vector steps.
        public var trainFrequency = 1
        /// Gradient steps per learning step.
        public var gradientSteps = 1
        /// A fixed temperature α; absent (the default): α is tuned automatically.
        public var entropyCoefficient: Double? = nil
        /// α at the start when it is tuned.
        public var initialEntropyCoefficient: Double = 1
        /// The entropy α is tuned towards; absent: −(action dimensions), SB3's choice.
        public var targetEntropy: Double? = nil
        /// Update the target critics every this many gradient steps.
        public var targetUpdateInterval = 1
        /// Hidden layers of the actor and of each critic (vector observations only).
        public var network = NetworkConfiguration(hiddenSizes: [256, 256], activation: .relu)

        public init() {}

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", bufferSize = "buffer_size", learningStarts = "learning_starts"
            case learningRateSchedule = "learning_rate_schedule"
            case batchSize = "batch_size", tau, gamma, trainFrequency = "train_frequency"
            case gradientSteps = "gradient_steps", entropyCoefficient = "entropy_coefficient"
            case initialEntropyCoefficient = "initial_entropy_coefficient", targetEntropy = "target_entropy"
            case targetUpdateInterval = "target_update_interval", network
        }

        public static let optionalKeys: Set<String> = ["entropy_coefficient", "target_entropy", "learning_rate_schedule"]

        /// Checks ranges; the message names the key.
        public func validate(copies: Int) throws(TrainingError) {
            try Require.positive("learning_rate", learningRate, atMost: 10)
            try Require.schedule(learningRateSchedule)
            try Require.that(network.recurrent == nil && !network.hasHiddenLayerExtras,
                             "sac's networks take hidden_sizes and activation only: leave network.normalization, residual, dropout and recurrent out")
            try Require.count("buffer_size", bufferSize, in: 1...1_000_000_000)
            try Require.count("learning_starts", learningStarts, in: 0...1_000_000_000_000)
            try Require.count("batch_size", batchSize, in: 1...1_000_000)
            try Require.that(batchSize <= bufferSize,
                             "batch_size (\(batchSize)) must not exceed buffer_size (\(bufferSize)): a batch is drawn from the buffer")
            try Require.that(tau.isFinite && tau > 0 && tau <= 1, "tau must be in (0, 1], got \(tau)")
            try Require.value("gamma", gamma, in: 0...1)
            try Require.count("train_frequency", trainFrequency, in: 1...1_000_000_000)
            try Require.count("gradient_steps", gradientSteps, in: 1...10_000)
            if let entropyCoefficient { try Require.nonNegative("entropy_coefficient", entropyCoefficient, atMost: 1e6) }
            try Require.positive("initial_entropy_coefficient", initialEntropyCoefficient, atMost: 1e6)
            if let targetEntropy { try Require.value("target_entropy", targetEntropy, in: -1e6...1e6) }
            try Require.count("target_update_interval", targetUpdateInterval, in: 1...1_000_000_000)
            try network.validate()
        }

        /// The replay buffer, and the actor and four critics with gradients and Adam's moments.
        public func estimatedMemory(for context: AgentContext) -> Double {
            let observations = context.observationSpace.count, width = context.actionCount
            return Double(bufferSize) * Double(ReplayBuffer.bytesPerTransition(
                observationSize: observations, binary: false, actionWidth: width))
                + 4 * network.parameterBytes(observationShape: [observations], outputs: 2 * width)
                + 4 * 4 * network.parameterBytes(observationShape: [observations + width], outputs: 1)
        }
    }

    public static let algorithm = "sac"
    public static let actionKinds: ActionKinds = .continuous
    public static let metricKeys = [
        "losses/qf_loss", "losses/qf_values", "losses/actor_loss", "losses/alpha", "losses/alpha_loss",
    ]

    public let configuration: Configuration
    public let actor: SquashedGaussianActor
    public let critic: TwinCritic
    public let targetCritic: TwinCritic
    /// The critics and their shard replicas.
    private let criticShards: DataParallel<TwinCritic>
    /// The actor against a constant view of the critics, and its shard replicas.
    private let actorShards: DataParallel<ActorAgainstCritics<SquashedGaussianActor>>
    private let shardSize: Int
    /// log α, one element (tuned unless the configuration fixes α).
    public let logAlpha: Tensor
    public let scaling: ActionScaling
    public let networkDescription: String
    public let replayBuffer: ReplayBuffer
    /// Whether `checkpoint()` includes the replay buffer (large; off by default).
    public var includesReplayInCheckpoint = false
    public var resumesExactly: Bool { includesReplayInCheckpoint }
    let actorOptimizer: Adam
    let criticOptimizer: Adam
    let alphaOptimizer: Adam
    /// −dim(A) unless configured.
    public let targetEntropy: Float
    private let observationSize: Int
    private var generator: SeededGenerator
    /// Environment steps seen so far (the last `Transitions.globalStep`).
    public private(set) var globalStep = 0
    /// The run's length, over which a learning-rate schedule runs.
    private let totalSteps: Int
    /// Vector steps seen so far (the training frequency counts these).
    public private(set) var vectorSteps = 0
    /// Gradient steps taken so far (the target interval counts these).
    public private(set) var gradientStepCount = 0

    public init(configuration: Configuration, context: AgentContext) throws(TrainingError) {
        try configuration.validate(copies: context.copies)
        guard let box = context.actionSpace.box else {
            throw .invalidConfiguration("sac needs continuous actions, not \(context.actionSpace)")
        }
        guard context.observationSpace.shape.count == 1 else {
            throw .invalidConfiguration("sac's networks take vector observations, not images of shape "
                + "\(context.observationSpace.shape)")
        }
        self.configuration = configuration
        totalSteps = context.totalSteps
        scaling = try ActionScaling(box, algorithm: "sac")
        let width = box.count, size = context.observationSpace.count
        observationSize = size
        generator = SeededGenerator(seed: context.seed, stream: 21)
        var networkGenerator = SeededGenerator(seed: context.seed, stream: 22)
        let hidden = configuration.network.hiddenSizes, activation = configuration.network.activation
        actor = SquashedGaussianActor(observationSize: size, actionWidth: width, hidden: hidden, activation: activation,
                                      generator: &networkGenerator)
        critic = TwinCritic(observationSize: size, actionWidth: width, hidden: hidden, activation: activation,
                            generator: &networkGenerator)
        targetCritic = TwinCritic(observationSize: size, actionWidth: width, hidden: hidden, activation: activation,
                                  generator: &networkGenerator)
        targetCritic.copyParameters(from: critic)
        criticShards = DataParallel(critic, replica: { $0.replica() }, parameters: \.parameters)
        actorShards = DataParallel(ActorAgainstCritics(actor: actor, critics: critic.constantReplica()),
                                   replica: { ActorAgainstCritics(actor: $0.actor.replica(), critics: $0.critics) },
                                   parameters: \.actor.parameters)
        shardSize = context.shardSize
        let alpha = configuration.entropyCoefficient ?? configuration.initialEntropyCoefficient
        logAlpha = Tensor(shape: [1], scalars: [Float(Foundation.log(alpha))], requiresGradient: true)
        targetEntropy = Float(configuration.targetEntropy ?? -Double(width))
        let rate = Float(configuration.learningRate)
        actorOptimizer = Adam(parameters: actor.parameters, learningRate: rate)
        criticOptimizer = Adam(parameters: critic.parameters, learningRate: rate)
        alphaOptimizer = Adam(parameters: [logAlpha], learningRate: rate)
        replayBuffer = ReplayBuffer(capacity: configuration.bufferSize, observationSize: size, actionWidth: width)
        networkDescription = "squashed gaussian actor "
            + configuration.network.describe(observationShape: [size], outputs: 2 * width)
            + ", twin critic " + configuration.network.describe(observationShape: [size + width], outputs: 1)
        includesReplayInCheckpoint = context.savesExperience
    }

    /// α now.
    public var alpha: Float { FastMath.exp(logAlpha.storage[0]) }
    private var tunesAlpha: Bool { configuration.entropyCoefficient == nil }

    // MARK: Acting

    /// Uniformly random actions during the warm-up, then a draw from the squashed Gaussian
    /// of each copy, scaled to the environment's bounds.
    public func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Float>) {
        let width = scaling.width
        if globalStep < configuration.learningStarts {
            scaling.writeUniformActions(count: count, into: actions, using: &generator)
            return
        }
        let sampled = withoutGradients {
            let batch = makeObservationBatch(observations, count: count, shape: [observationSize])
            return actor(batch).sampleWithLogProbability(using: &generator).actions
        }
        let s = sampled.storage
        for i in 0..<count * width { actions[i] = scaling.unscaled(s[i], dimension: i % width) }
    }

    // MARK: Learning

    public func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double] {
        let c = configuration, width = scaling.width
        replayBuffer.add(transitions, scaledBy: scaling)
        globalStep = transitions.globalStep
        vectorSteps += 1
        guard globalStep >= c.learningStarts, vectorSteps % c.trainFrequency == 0 else { return [:] }

        var sums = [String: Double]()
        for _ in 0..<c.gradientSteps {
            let batch = replayBuffer.sample(batchSize: c.batchSize, using: &generator)
            let noise = Noise(batch: batch.count, width: width, generator: &generator)
            let step = try gradientStep(on: batch, noise: noise)
            for (key, value) in step { sums[key, default: 0] += value }
        }
        return sums.mapValues { $0 / Double(c.gradientSteps) }
    }

    /// The standard normal draws of one gradient step: for the policy's sample at s
    /// (`current`) and at s′ (`next`), each `batch × width`, row after row.
    struct Noise {
        var current: [Float]
        var next: [Float]

        init(current: [Float], next: [Float]) {
            self.current = current
            self.next = next
        }

        init(batch: Int, width: Int, generator: inout SeededGenerator) {
            current = (0..<(batch * width)).map { _ in Float(generator.normal()) }
            next = (0..<(batch * width)).map { _ in Float(generator.normal()) }
        }
    }

    /// A reparameterised draw a = tanh(μ + σε) of `actor` with its log-probability, for
    /// the given ε (`rows × width` floats).
    static func sample(
        _ actor: SquashedGaussianActor, _ observations: Tensor, noise: Tensor
    ) -> (actions: Tensor, logProbability: Tensor) {
        let policy = actor(observations)
        let u = policy.base.mean + exp(policy.base.logStandardDeviation) * noise
        let a = tanh(u)
        let correction = log((1 - square(a)) + SquashedGaussian.epsilon).sum(alongAxis: 1)
        return (a, policy.base.logProbability(of: u) - correction)
    }

    /// One gradient step of the critics, the actor and the temperature on `batch` with the
    /// given noise; returns its metrics.
    ///
    /// The same update as SB3's order in the type's documentation, arranged for shards: the
    /// temperature's step comes last, which changes nothing (α enters the targets and the
    /// actor's loss at its value before the step, and log π does not depend on the critics).
    /// Every part runs on the worker pool in the fixed shards of `shardSize` rows: the
    /// targets without gradients, then the critics' and the actor's losses, each shard on
    /// its own replica, their gradients summed in shard order.
    func gradientStep(on batch: ReplayBatch, noise: Noise) throws(TrainingError) -> [String: Double] {
        let c = configuration, rows = batch.count, width = scaling.width, size = observationSize
        let shards = Shards(rows: rows, shardSize: shardSize)
        let alpha = self.alpha, gamma = Float(c.gamma)

        // The soft TD targets y = r + γ(1 − terminated)(min Q′ᵢ(s′, a′) − α log π(a′|s′)).
        let targets = Tensor.zeros([rows])
        withoutGradients {
            parallelForEach(shards.count) { s in
                let part = shards.rows(of: s)
                let next = makeBatch(batch.nextObservations, rows: part, width: size)
                let (nextActions, nextLogProbability) = Self.sample(
                    actor, next, noise: makeBatch(noise.next, rows: part, width: width))
                let (q1, q2) = targetCritic(next, nextActions)
                let soft = (Tensor.minimum(q1, q2) - nextLogProbability * alpha).scalars
                for (k, row) in part.enumerated() {
                    targets.storage[row] = batch.rewards[row] + gamma * (1 - batch.terminated[row]) * soft[k]
                }
            }
        }

        // The critics: ½ Σᵢ mean (Qᵢ(s, a) − y)².
        if let schedule = c.learningRateSchedule {
            let rate = Float(scheduledLearningRate(c.learningRate, schedule: schedule, annealed: false,
                                                   atStep: globalStep, of: totalSteps))
            actorOptimizer.learningRate = rate
            criticOptimizer.learningRate = rate
            alphaOptimizer.learningRate = rate
        }
        criticOptimizer.zeroGradients()
        let criticParts = criticShards.computeGradients(over: shards) { critic, part, weight in
            let (q1, q2) = critic(makeBatch(batch.observations, rows: part, width: size),
                                  makeBatch(batch.continuousActions, rows: part, width: width))
            let y = makeBatch(targets.scalars, rows: part, width: 1).reshaped(to: [part.count])
            let loss = (square(q1 - y).mean() + square(q2 - y).mean()) * 0.5
            loss.backward(seed: [weight])
            return (loss: Double(weight) * Double(loss.scalar), qSum: q1.scalars.reduce(0.0) { $0 + Double($1) })
        }
        let criticLoss = criticParts.reduce(0) { $0 + $1.loss }
        guard criticLoss.isFinite else { throw .nonFiniteLoss(name: "SAC critic loss", step: globalStep) }
        criticOptimizer.step()

        // The actor, against the critics just updated: mean(α log π(a|s) − min Qᵢ(s, a)).
        actorOptimizer.zeroGradients()
        let actorParts = actorShards.computeGradients(over: shards) { model, part, weight in
            let observations = makeBatch(batch.observations, rows: part, width: size)
            let (actions, logProbability) = Self.sample(
                model.actor, observations, noise: makeBatch(noise.current, rows: part, width: width))
            let (q1, q2) = model.critics(observations, actions)
            let loss = (logProbability * alpha - Tensor.minimum(q1, q2)).mean()
            loss.backward(seed: [weight])
            return (loss: Double(weight) * Double(loss.scalar),
                    logProbabilitySum: logProbability.scalars.reduce(0.0) { $0 + Double($1) })
        }
        let actorLoss = actorParts.reduce(0) { $0 + $1.loss }
        guard actorLoss.isFinite else { throw .nonFiniteLoss(name: "SAC actor loss", step: globalStep) }
        actorOptimizer.step()

        // The temperature: loss −log α·mean(log π + H̄), log π held fixed.
        var alphaLoss = 0.0
        if tunesAlpha {
            let meanLogProbability = actorParts.reduce(0) { $0 + $1.logProbabilitySum } / Double(rows)
            let excess = Float(meanLogProbability) + targetEntropy
            alphaOptimizer.zeroGradients()
            let loss = (logAlpha * -excess).sum()
            alphaLoss = Double(loss.scalar)
            loss.backward()
            alphaOptimizer.step()
        }

        // The targets.
        gradientStepCount += 1
        if gradientStepCount % c.targetUpdateInterval == 0 {
            targetCritic.polyakUpdate(toward: critic, tau: Float(c.tau))
        }
        return [
            "losses/qf_loss": criticLoss,
            "losses/qf_values": criticParts.reduce(0) { $0 + $1.qSum } / Double(rows),
            "losses/actor_loss": actorLoss,
            "losses/alpha": Double(alpha),
            "losses/alpha_loss": alphaLoss,
        ]
    }

    // MARK: Evaluation

    /// tanh(μ) scaled to the bounds, with the spread σ·(1 − tanh²μ) that the squashing
    /// gives near the mean, also in the environment's units.
    /// The actor's mean μ (before tanh and scaling), for export and saliency.
    public var policyNetwork: PolicyNetwork? { actor.meanNetwork }

    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        let policy = withoutGradients { actor(makeObservationBatch(observation, count: 1, shape: [observationSize])) }
        let mean = policy.base.mean.scalars, deviation = policy.base.standardDeviation
        var values: [Float] = [], spreads: [Float] = []
        for j in 0..<scaling.width {
            let squashed = FastMath.tanh(mean[j])
            values.append(scaling.unscaled(squashed, dimension: j))
            spreads.append(scaling.unscaledSpread(deviation[j] * (1 - squashed * squashed), dimension: j))
        }
        return ActionChoice(continuous: values, spreads: spreads)
    }

    // MARK: Checkpoints

    /// The actor (`actor.*`), critics (`critic.*`), target critics (`target.*`), log α,
    /// the three optimisers' moments, the generator and counters; the replay buffer
    /// (`replay.*`) too when `includesReplayInCheckpoint`.
    public func checkpoint() -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint()
        checkpoint.add(actor.namedParameters, prefix: "actor.")
        checkpoint.add(trainingState, prefix: "")
        checkpoint.store(generator, as: "generator")
        checkpoint.state["actor_optimizer.steps"] = String(actorOptimizer.stepCount)
        checkpoint.state["critic_optimizer.steps"] = String(criticOptimizer.stepCount)
        checkpoint.state["alpha_optimizer.steps"] = String(alphaOptimizer.stepCount)
        checkpoint.state["global_step"] = String(globalStep)
        checkpoint.state["vector_steps"] = String(vectorSteps)
        checkpoint.state["gradient_steps"] = String(gradientStepCount)
        if includesReplayInCheckpoint { replayBuffer.save(into: &checkpoint) }
        return checkpoint
    }

    /// Everything but the actor's weights that a resumed run needs.
    private var trainingState: [(name: String, tensor: Tensor)] {
        prefixed(critic.namedParameters, "critic.") + prefixed(targetCritic.namedParameters, "target.")
            + [("log_alpha", logAlpha)]
            + prefixed(actorOptimizer.namedState, "actor_optimizer.")
            + prefixed(criticOptimizer.namedState, "critic_optimizer.")
            + prefixed(alphaOptimizer.namedState, "alpha_optimizer.")
    }

    /// Restores everything `checkpoint()` saved, all or nothing. With `weightsOnly`, only
    /// the actor is loaded (evaluation, watching).
    public func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError) {
        let weights = prefixed(actor.namedParameters, "actor.")
        if weightsOnly {
            try checkpoint.load(weights: weights, trainingState: trainingState, weightsOnly: true,
                                optionalPrefixes: ["replay."])
            return
        }
        let restoredGenerator = try checkpoint.generator("generator")
        let steps = (try checkpoint.integer("actor_optimizer.steps"), try checkpoint.integer("critic_optimizer.steps"),
                     try checkpoint.integer("alpha_optimizer.steps"))
        let counters = (try checkpoint.integer("global_step"), try checkpoint.integer("vector_steps"),
                        try checkpoint.integer("gradient_steps"))
        let restoreReplay = ReplayBuffer.isSaved(in: checkpoint)
            ? try replayBuffer.prepareRestore(from: checkpoint, actionCount: 0) : nil
        try checkpoint.load(weights: weights, trainingState: trainingState, weightsOnly: false,
                            optionalPrefixes: ["replay."])
        restoreReplay?()
        (actorOptimizer.stepCount, criticOptimizer.stepCount, alphaOptimizer.stepCount) = steps
        (globalStep, vectorSteps, gradientStepCount) = counters
        generator = restoredGenerator
    }
}

extension SAC {
    /// SAC's registry entry and its presets (rl-baselines3-zoo's, without gSDE).
    public static let registration = AlgorithmSpec(
        SAC.self, summary: "Soft Actor-Critic: squashed Gaussian policy, twin critics, tuned entropy (SB3's SAC)",
        small: Configuration().with {
            $0.bufferSize = 64
            $0.learningStarts = 8
            $0.batchSize = 4
            $0.network = .small
        },
        presets: [
            // rl-zoo: 20,000 steps, learning rate 1e-3, the rest SB3's defaults.
            AlgorithmPreset(for: PresetEnvironments.pendulum, steps: 20_000, copies: 1, checkpointInterval: 5_000,
                            configuration: Configuration().with {
                $0.learningRate = 1e-3
            }),
            // rl-zoo: 50,000 steps, a fixed α of 0.1, 32 gradient steps every 32 steps, γ 0.9999,
            // τ 0.01, [64, 64] (its log_std_init of −3.67 belongs to gSDE and is left out).
            // Without gSDE's exploration the car never leaves the valley (measured: greedy −0.03
            // on seeds 0–2); TD3's preset, with correlated noise, solves the task.
            AlgorithmPreset(for: PresetEnvironments.mountainCarContinuous, steps: 50_000, copies: 1,
                            checkpointInterval: 10_000, configuration: Configuration().with {
                $0.learningRate = 3e-4
                $0.bufferSize = 50_000
                $0.batchSize = 512
                $0.entropyCoefficient = 0.1
                $0.trainFrequency = 32
                $0.gradientSteps = 32
                $0.gamma = 0.9999
                $0.tau = 0.01
                $0.learningStarts = 0
                $0.network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .relu)
            }),
        ],
        fallback: AlgorithmPreset(for: [], steps: 1_000_000, copies: 1, configuration: Configuration()))
}
