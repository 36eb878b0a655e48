import Environments
import Foundation

/// An algorithm's settings: one struct per algorithm, every field documented, encoded
/// under snake_case keys in a run's `config.yaml` (in the section named after the algorithm).
public protocol AlgorithmConfiguration: Codable, Equatable, Sendable {
    /// The algorithm's defaults.
    init()

    /// Keys whose default is "none": they are absent from an encoded default configuration
    /// (and so from presets), yet a config file may set them.
    static var optionalKeys: Set<String> { get }

    /// Checks every range and combination, before anything is allocated; the message names
    /// the key. `copies` is the run's number of environment copies.
    func validate(copies: Int) throws(TrainingError)

    /// About how many bytes an agent with these settings needs for `context` (buffers,
    /// parameters, gradients, optimiser state), computed in floating point so that absurd
    /// sizes give an absurd estimate instead of an overflow.
    func estimatedMemory(for context: AgentContext) -> Double
}

extension AlgorithmConfiguration {
    public static var optionalKeys: Set<String> { [] }

    /// A copy with `changes` applied: `PPO.Configuration().with { $0.gamma = 0.98 }`.
    public func with(_ changes: (inout Self) -> Void) -> Self {
        var copy = self
        changes(&copy)
        return copy
    }

    /// Whether `other` is a configuration of the same type with the same values.
    public func isEqual(to other: any AlgorithmConfiguration) -> Bool {
        (other as? Self) == self
    }
}

/// Rows per data-parallel gradient shard unless configured: a shard computes a whole
/// weight gradient whatever its rows, so small shards multiply that work and the sum of
/// shard gradients, while large ones spill the convolution's patch matrix out of cache.
/// Measured on Breakout-MinAtar's PPO (README, "Threads"), 128 was the fastest on one
/// thread and on two.
public let defaultShardSize = 128

/// What an agent is built for: the spaces it sees, the run's size and its seed.
public struct AgentContext: Sendable {
    /// The observation space of one environment copy.
    public var observationSpace: Box
    /// The action space of one environment copy.
    public var actionSpace: ActionSpace
    /// The number of discrete actions, or the floats of a continuous action: the width of
    /// the policy's output.
    public var actionCount: Int { actionSpace.width }
    /// Environment copies stepped together.
    public var copies: Int
    /// The run's length in environment steps (schedules run over it).
    public var totalSteps: Int
    /// Seeds the weights and every random choice of the agent.
    public var seed: UInt64
    /// Keep experience buffers (a replay buffer) in checkpoints, so a resumed run keeps
    /// its experience; large.
    public var savesExperience: Bool
    /// Rows per data-parallel gradient shard: updates cut each minibatch into
    /// ⌈rows / shardSize⌉ pieces run on the worker pool (see `Shards`).
    /// It changes the numerics slightly; the thread count never does.
    public var shardSize: Int

    public init(
        observationSpace: Box, actionSpace: ActionSpace, copies: Int, totalSteps: Int, seed: UInt64,
        savesExperience: Bool = false, shardSize: Int = defaultShardSize
    ) {
        self.shardSize = shardSize
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.copies = copies
        self.totalSteps = totalSteps
        self.seed = seed
        self.savesExperience = savesExperience
    }

    /// A context for a discrete action space of `actionCount` actions.
    public init(
        observationSpace: Box, actionCount: Int, copies: Int, totalSteps: Int, seed: UInt64,
        savesExperience: Bool = false, shardSize: Int = defaultShardSize
    ) {
        self.init(observationSpace: observationSpace, actionSpace: .discrete(Discrete(actionCount)), copies: copies,
                  totalSteps: totalSteps, seed: seed, savesExperience: savesExperience, shardSize: shardSize)
    }
}

/// An agent that the algorithm registry can build from its configuration.
public protocol RegisteredAgent: Agent, SendableMetatype {
    associatedtype Configuration: AlgorithmConfiguration

    /// Builds the agent; a configuration out of range is refused with the key named.
    init(configuration: Configuration, context: AgentContext) throws(TrainingError)
}

/// Tuned settings of an algorithm for some environments (rl-baselines3-zoo's
/// hyper-parameter files, as data): the run's size and the algorithm's configuration.
public struct AlgorithmPreset<Configuration>: Sendable where Configuration: Sendable {
    /// The environment ids the settings are tuned for (empty for an algorithm's fallback).
    public var environments: [String]
    /// Environment steps to train for, over all copies.
    public var steps: Int
    /// Environment copies stepped together.
    public var copies: Int
    /// Environment steps between checkpoints.
    public var checkpointInterval: Int
    /// The algorithm's settings.
    public var configuration: Configuration
    /// The wrappers around the environments (normalisation, action bounds).
    public var wrappers: EnvironmentWrappers

    public init(
        for environments: [String], steps: Int, copies: Int, checkpointInterval: Int = 100_000,
        wrappers: EnvironmentWrappers = EnvironmentWrappers(), configuration: Configuration
    ) {
        self.environments = environments
        self.steps = steps
        self.copies = copies
        self.checkpointInterval = checkpointInterval
        self.wrappers = wrappers
        self.configuration = configuration
    }
}

/// One registered algorithm: everything the command line, configuration files, presets,
/// checkpoints and the smoke tests need to know about it. The counterpart of
/// `EnvironmentSpec`; `AlgorithmRegistry.standard` lists them.
public struct AlgorithmSpec: Sendable {
    /// The name used on the command line, in configs and in checkpoints (`"ppo"`).
    public let name: String
    /// One line saying what the algorithm is.
    public let summary: String
    /// The metric keys its updates report, in the order the metrics file lists them.
    public let metricKeys: [String]
    /// Keys of its configuration that may be set although the defaults leave them out.
    public let optionalKeys: Set<String>
    /// Whether it learns only from finished episodes (REINFORCE): an update needs an
    /// episode to end first.
    public let learnsFromWholeEpisodes: Bool
    /// The kinds of action space it learns in.
    public let actionKinds: ActionKinds
    /// The algorithm's default configuration.
    public let defaultConfiguration: any AlgorithmConfiguration
    /// A configuration with tiny networks and buffers that updates within a hundred steps
    /// on two copies: what the smoke tests run on every environment.
    public let smallConfiguration: any AlgorithmConfiguration
    /// Settings tuned per environment.
    public let presets: [AlgorithmPreset<any AlgorithmConfiguration>]
    /// The settings for an environment that no preset names.
    public let fallback: AlgorithmPreset<any AlgorithmConfiguration>

    private let decodeConfiguration: @Sendable (any Decoder) throws -> any AlgorithmConfiguration
    private let build: @Sendable (any AlgorithmConfiguration, AgentContext) throws(TrainingError) -> any Agent

    /// The entry of `Algorithm`, named by its `algorithm` and reporting its `metricKeys`.
    public init<Algorithm: RegisteredAgent>(
        _ algorithm: Algorithm.Type, summary: String, learnsFromWholeEpisodes: Bool = false,
        small: Algorithm.Configuration,
        presets: [AlgorithmPreset<Algorithm.Configuration>],
        fallback: AlgorithmPreset<Algorithm.Configuration>
    ) {
        func erased(_ preset: AlgorithmPreset<Algorithm.Configuration>) -> AlgorithmPreset<any AlgorithmConfiguration> {
            AlgorithmPreset(for: preset.environments, steps: preset.steps, copies: preset.copies,
                            checkpointInterval: preset.checkpointInterval, wrappers: preset.wrappers,
                            configuration: preset.configuration)
        }
        name = Algorithm.algorithm
        self.summary = summary
        metricKeys = Algorithm.metricKeys
        optionalKeys = Algorithm.Configuration.optionalKeys
        self.learnsFromWholeEpisodes = learnsFromWholeEpisodes
        actionKinds = Algorithm.actionKinds
        defaultConfiguration = Algorithm.Configuration()
        smallConfiguration = small
        self.presets = presets.map(erased)
        self.fallback = erased(fallback)
        decodeConfiguration = { decoder in try Algorithm.Configuration(from: decoder) }
        let name = Algorithm.algorithm
        build = { (configuration, context) throws(TrainingError) -> any Agent in
            guard let configuration = configuration as? Algorithm.Configuration else {
                throw .invalidConfiguration("the settings given to \(name) are \(type(of: configuration)), "
                    + "not \(Algorithm.Configuration.self)")
            }
            return try Algorithm(configuration: configuration, context: context)
        }
    }

    /// The preset tuned for `environment`, or nil when none names it. Gymnasium's copy of a
    /// built-in environment (`gymnasium:Acrobot-v1`) takes the built-in's preset.
    public func preset(for environment: String) -> AlgorithmPreset<any AlgorithmConfiguration>? {
        let builtIn = environment.hasPrefix(GymnasiumBridge.prefix)
            ? String(environment.dropFirst(GymnasiumBridge.prefix.count)) : environment
        return presets.first { $0.environments.contains(environment) || $0.environments.contains(builtIn) }
    }

    /// The settings to start from on `environment`: its preset, or the fallback.
    public func startingPoint(for environment: String) -> AlgorithmPreset<any AlgorithmConfiguration> {
        preset(for: environment) ?? fallback
    }

    /// Decodes this algorithm's configuration (its section of a config file).
    public func decodeConfiguration(from decoder: any Decoder) throws -> any AlgorithmConfiguration {
        try decodeConfiguration(decoder)
    }

    /// Builds the agent, after validating `configuration` for `context`.
    public func makeAgent(
        _ configuration: any AlgorithmConfiguration, context: AgentContext
    ) throws(TrainingError) -> any Agent {
        guard actionKinds.admit(context.actionSpace) else {
            throw .invalidConfiguration("\(name) learns only in \(actionKinds.summary) action spaces, and this "
                + "environment's actions are \(context.actionSpace.isContinuous ? "continuous" : "discrete") "
                + "(\(context.actionSpace)); pick one of: \(AlgorithmRegistry.standard.names(for: context.actionSpace).joined(separator: ", ")), "
                + "or an environment with \(actionKinds.summary) actions (agentlab envs lists them)")
        }
        try configuration.validate(copies: context.copies)
        let needed = configuration.estimatedMemory(for: context)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= 0.8 * available else {
            throw .invalidConfiguration("\(name) with these settings needs about \(byteCountText(needed)) of memory, more "
                + "than this machine's \(byteCountText(available)) allows; lower the buffer, rollout or network sizes")
        }
        return try build(configuration, context)
    }
}
