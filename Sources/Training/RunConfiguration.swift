import Agents
import Environments
import Foundation
import Parallelism

/// Everything that defines a training run: written fully resolved to the run folder's
/// `config.yaml`, read back by `--resume`, `eval` and `watch`. Keys are snake_case in YAML;
/// the algorithm's settings sit in a section named after it (`ppo:`), read and written by
/// its registry entry.
public struct RunConfiguration: Codable, Equatable {
    /// The environment id (`agentlab envs` lists them).
    public var environment = "CartPole-v1"
    /// The algorithm's name in `AlgorithmRegistry.standard`.
    public var algorithm = "ppo"
    /// Environment steps to train for, over all copies.
    public var steps = 500_000
    /// Seed of the networks, the environments and every random choice.
    public var seed: UInt64 = 0
    /// Environment copies stepped together.
    public var environments = 4
    /// Environment steps between checkpoints (one is always written at the end).
    public var checkpointInterval = 100_000
    /// Include experience buffers (DQN's replay buffer) in checkpoints, so a resumed run
    /// keeps its experience (large: observations × buffer size × 8 bytes).
    public var saveReplay = false
    /// Threads of the worker pool that steps the environments, acts and computes the
    /// gradients; 0: every core. Results are the same for any number.
    public var threads = 0
    /// Rows per data-parallel gradient shard (`AgentContext.shardSize`): minibatches are
    /// cut into ⌈rows / shard_size⌉ pieces that run on the worker pool.
    public var shardSize = defaultShardSize
    /// The wrappers around the environments: action clipping or rescaling, observation and
    /// reward normalisation (`EnvironmentWrappers`).
    public var wrappers = EnvironmentWrappers()
    /// The algorithm's settings (its `Configuration`).
    public var settings: any AlgorithmConfiguration = PPO.Configuration()

    /// The run-level keys, in the order config.yaml lists them; the algorithm's section follows.
    package enum CodingKeys: String, CodingKey, CaseIterable {
        case environment, algorithm, steps, seed, environments
        case checkpointInterval = "checkpoint_interval", saveReplay = "save_replay"
        case threads, shardSize = "shard_size", wrappers
    }

    /// PPO on CartPole-v1 with PPO's defaults; prefer `init(environment:algorithm:yaml:)`,
    /// which starts from the preset.
    public init() {}

    /// The preset of `algorithm` for `environment` (its fallback when no preset names it).
    package init(preset spec: AlgorithmSpec, environment: String) {
        let preset = spec.startingPoint(for: environment)
        self.environment = environment
        algorithm = spec.name
        steps = preset.steps
        environments = preset.copies
        checkpointInterval = preset.checkpointInterval
        wrappers = preset.wrappers
        settings = preset.configuration
    }

    /// The registry entry of `algorithm`.
    package var algorithmSpec: AlgorithmSpec {
        get throws(TrainingError) { try AlgorithmRegistry.standard.spec(named: algorithm) }
    }

    public init(from decoder: any Decoder) throws {
        let run = try decoder.container(keyedBy: CodingKeys.self)
        environment = try run.decode(String.self, forKey: .environment)
        algorithm = try run.decode(String.self, forKey: .algorithm)
        steps = try run.decode(Int.self, forKey: .steps)
        seed = try run.decode(UInt64.self, forKey: .seed)
        environments = try run.decode(Int.self, forKey: .environments)
        checkpointInterval = try run.decode(Int.self, forKey: .checkpointInterval)
        saveReplay = try run.decode(Bool.self, forKey: .saveReplay)
        // Absent from the config.yaml of runs older than the worker pool.
        threads = try run.decodeIfPresent(Int.self, forKey: .threads) ?? 0
        shardSize = try run.decodeIfPresent(Int.self, forKey: .shardSize) ?? defaultShardSize
        // Absent from the config.yaml of runs older than the wrappers.
        wrappers = try run.decodeIfPresent(EnvironmentWrappers.self, forKey: .wrappers) ?? EnvironmentWrappers()
        let spec: AlgorithmSpec
        do { spec = try AlgorithmRegistry.standard.spec(named: algorithm) } catch {
            throw ConfigurationError.invalidValue(key: "algorithm", reason: error.description)
        }
        let sections = try decoder.container(keyedBy: SectionKey.self)
        let known = Set(CodingKeys.allCases.map(\.stringValue) + [algorithm])
        if let unknown = sections.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError.unknownKey(unknown, known: known.sorted())
        }
        let key = SectionKey(algorithm)
        settings = sections.contains(key)
            ? try spec.decodeConfiguration(from: sections.superDecoder(forKey: key))
            : spec.defaultConfiguration
    }

    public func encode(to encoder: any Encoder) throws {
        var run = encoder.container(keyedBy: CodingKeys.self)
        try run.encode(environment, forKey: .environment)
        try run.encode(algorithm, forKey: .algorithm)
        try run.encode(steps, forKey: .steps)
        try run.encode(seed, forKey: .seed)
        try run.encode(environments, forKey: .environments)
        try run.encode(checkpointInterval, forKey: .checkpointInterval)
        try run.encode(saveReplay, forKey: .saveReplay)
        try run.encode(threads, forKey: .threads)
        try run.encode(shardSize, forKey: .shardSize)
        try run.encode(wrappers, forKey: .wrappers)
        var sections = encoder.container(keyedBy: SectionKey.self)
        try sections.encode(settings, forKey: SectionKey(algorithm))
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.environment == b.environment && a.algorithm == b.algorithm && a.steps == b.steps && a.seed == b.seed
            && a.environments == b.environments && a.checkpointInterval == b.checkpointInterval
            && a.saveReplay == b.saveReplay && a.threads == b.threads && a.shardSize == b.shardSize
            && a.wrappers == b.wrappers
            && a.settings.isEqual(to: b.settings)
    }

    /// Decodes a configuration tree strictly: every key must be one a run of its algorithm
    /// has (a misspelt or foreign key is named), every value of its type.
    package static func decoded(from tree: ConfigurationValue) throws(ConfigurationError) -> RunConfiguration {
        guard case .object(let top) = tree, let name = top["algorithm"] else {
            throw .wrongType(key: "algorithm", expected: "an algorithm name (\(AlgorithmRegistry.standard.names.joined(separator: ", ")))")
        }
        guard case .string(let algorithm) = name else {
            throw .wrongType(key: "algorithm", expected: "an algorithm name (\(AlgorithmRegistry.standard.names.joined(separator: ", ")))")
        }
        let spec: AlgorithmSpec
        do { spec = try AlgorithmRegistry.standard.spec(named: algorithm) } catch {
            throw .invalidValue(key: "algorithm", reason: error.description)
        }
        let defaults: ConfigurationValue
        do { defaults = try ConfigurationValue(encoding: RunConfiguration(preset: spec, environment: "")) } catch {
            throw .invalidValue(key: algorithm, reason: "its defaults cannot be encoded: \(error)")
        }
        _ = try defaults.overlaid(with: tree, optionalKeys: spec.optionalKeys)
        return try tree.decoded(as: RunConfiguration.self)
    }

    /// Checks every range; the message names the key.
    /// The configuration `layers` describe, each laid over the one before, all over the
    /// preset of their environment and algorithm (the last layer naming either wins;
    /// CartPole-v1 and PPO by default). Unknown keys, wrong types and values out of range
    /// are refused, naming the key.
    package static func resolved(layers: [ConfigurationValue]) throws -> RunConfiguration {
        func named(_ key: String) throws(ConfigurationError) -> String? {
            var found: String? = nil
            for layer in layers {
                guard case .object(let o) = layer, let value = o[key] else { continue }
                guard case .string(let s) = value else { throw .wrongType(key: key, expected: "a name (text)") }
                found = s
            }
            return found
        }
        let environment = try named("environment") ?? "CartPole-v1"
        let algorithm = try named("algorithm") ?? "ppo"
        _ = try EnvironmentRegistry.standard.spec(id: environment)
        let spec = try AlgorithmRegistry.standard.spec(named: algorithm)
        var merged = try ConfigurationValue(encoding: RunConfiguration(preset: spec, environment: environment))
        for layer in layers { merged = try merged.overlaid(with: layer, optionalKeys: spec.optionalKeys) }
        let configuration = try merged.decoded(as: RunConfiguration.self)
        try configuration.validate()
        return configuration
    }

    package func validate() throws(TrainingError) {
        _ = try algorithmSpec
        try Require.count("steps", steps, in: 1...Self.maximumSteps)
        try Require.count("environments", environments, in: 1...4096)
        try Require.count("checkpoint_interval", checkpointInterval, in: 1...Self.maximumSteps)
        try Require.count("threads", threads, in: 0...Self.maximumThreads)
        try Require.count("shard_size", shardSize, in: 1...1_000_000)
        try wrappers.validate()
        try settings.validate(copies: environments)
    }

    /// The most threads a run may ask for.
    package static let maximumThreads = 1_024

    /// The threads the run uses: `threads`, or every core when it is 0.
    package var resolvedThreads: Int { threads == 0 ? WorkerPool.availableProcessors : threads }

    /// The longest run: far beyond any real one, far from overflowing a step counter.
    package static let maximumSteps = 1_000_000_000_000

    /// Builds the agent the configuration describes, through the algorithm's registry entry.
    /// One environment as the run's agent sees it (action wrappers included, normalisation
    /// not: that is the vector's, or frozen statistics at evaluation).
    package func makeEnvironment(from spec: EnvironmentSpec) throws(TrainingError) -> any Environment {
        let environment = spec.makeEnvironment()
        try wrappers.validate(for: environment.actionSpace, environment: spec.id)
        return wrappers.wrapActions(of: environment)
    }

    /// The run's copies stepped together, as the agent trains on them: the action wrappers
    /// on each copy, the normalisation wrapper around the vector.
    package func makeVectorEnvironment(from spec: EnvironmentSpec) throws(TrainingError) -> any VectorStepping {
        guard spec.makeVector != nil else {
            return wrappers.wrapNormalization(of: Environments.makeVectorEnvironment(
                try makeEnvironment(from: spec), count: environments))
        }
        if wrappers.clipActions || wrappers.rescaleActions {
            throw .invalidConfiguration("wrappers.\(wrappers.clipActions ? "clip_actions" : "rescale_actions") wraps "
                + "AgentLab's own environments, and \(spec.id) runs in Python: set it to false, or apply "
                + "gymnasium.wrappers.\(wrappers.clipActions ? "ClipAction" : "RescaleAction") there and register the "
                + "wrapped environment under an id of its own")
        }
        let vector: any VectorStepping
        do { vector = try spec.makeVectorEnvironment(count: environments) } catch {
            throw .invalidConfiguration(error.description)
        }
        try wrappers.validate(for: vector.actionSpace, environment: spec.id)
        return wrappers.wrapNormalization(of: vector)
    }

    package func makeAgent(observationSpace: Box, actionSpace: ActionSpace) throws(TrainingError) -> any Agent {
        try algorithmSpec.makeAgent(settings, context: AgentContext(
            observationSpace: observationSpace, actionSpace: actionSpace, copies: environments, totalSteps: steps,
            seed: seed, savesExperience: saveReplay, shardSize: shardSize))
    }
}

/// A config section's key: an algorithm's name.
private struct SectionKey: CodingKey {
    package var stringValue: String
    package var intValue: Int? { nil }
    package init(_ name: String) { stringValue = name }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}
