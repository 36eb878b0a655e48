import Agents
import Environments
import Foundation
import Viewer

// The training API a program uses: the same types `agentlab train`, `eval` and `watch` run
// on, with entry points that need no command line. A program registers its environment,
// then:
//
//     EnvironmentRegistry.register(EnvironmentSpec(
//         id: "Catch-v0", summary: "Catch a falling ball.", maxEpisodeSteps: 100,
//         rewardThreshold: 0.9, makeBase: { Catch() }))
//     var configuration = try RunConfiguration(environment: "Catch-v0", algorithm: "ppo")
//     configuration.steps = 50_000
//     try TrainingSession(starting: configuration, folder: "runs/catch").run()
//     let run = try TrainedRun("runs/catch")
//     print(try run.evaluate(episodes: 100).meanReturn)

extension RunConfiguration {
    /// The configuration `agentlab train --env environment --algo algorithm` starts from:
    /// the algorithm's preset for the environment (its fallback for an environment no preset
    /// names, such as a program's own), then `yaml`, a config file's text (`steps: 50000`,
    /// `ppo: {learning_rate: 0.001}`), laid over it.
    /// - Throws: an unknown environment or algorithm, or a key, type or value the
    ///   configuration refuses (the message names the key).
    public init(environment: String, algorithm: String = "ppo", yaml: String = "") throws {
        var layers: [ConfigurationValue] = [.object(["environment": .string(environment), "algorithm": .string(algorithm)])]
        if !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            layers.append(try ConfigurationValue.parse(yaml: yaml, file: "the yaml argument"))
            layers.append(layers[0])  // the text may not switch the environment or algorithm
        }
        self = try RunConfiguration.resolved(layers: layers)
    }
}

extension TrainingSession {
    /// A new run of `configuration` in the folder at `path`, which must not hold a run
    /// unless `replacing` is true. Everything (environment, agent, folder) is built and
    /// checked here; `run()` trains.
    public convenience init(starting configuration: RunConfiguration, folder path: String, replacing: Bool = false) throws {
        try configuration.validate()
        try self.init(starting: configuration, in: { _ in RunFolder(path) }, force: replacing)
    }

    /// The run in the folder at `path`, continued from its checkpoint; `steps` sets a new
    /// total (nil: the configured one).
    public convenience init(resuming path: String, steps: Int? = nil) throws {
        try self.init(resuming: RunFolder(path), steps: steps)
    }

    /// The run folder's path.
    public var path: String { folder.path }
}

/// What `TrainedRun.evaluate` found.
public struct EvaluationResult: Sendable {
    /// Every episode, in seed order.
    public var episodes: [EpisodeRecord]
    /// The mean undiscounted return over the episodes.
    public var meanReturn: Double { episodes.map(\.episodeReturn).reduce(0, +) / Double(max(1, episodes.count)) }
    /// The environment's reward threshold, nil when it has none.
    public var threshold: Double?
    /// Whether the mean return reaches the threshold (true when there is none).
    public var passes: Bool { threshold.map { meanReturn >= $0 } ?? true }
}

extension TrainedRun {
    /// Plays `episodes` seeded episodes with the checkpoint's agent, greedily unless
    /// `stochastic`, as `agentlab eval` does (episode `i` reset with `seedForCopy(i, of:
    /// seed)`, the same results for any number of threads).
    /// - Throws: `EvaluationError` when the environment refuses a step.
    public func evaluate(episodes: Int = 100, seed: UInt64 = 0, stochastic: Bool = false) throws -> EvaluationResult {
        precondition(episodes > 0, "evaluate at least one episode")
        let records = try Agents.evaluate(agent, makeEnvironment: environmentFactory, episodes: episodes, seed: seed,
                                          stochastic: stochastic)
        return EvaluationResult(episodes: records, threshold: spec.rewardThreshold)
    }

    /// Opens a window and plays the agent greedily, episode after episode, as `agentlab
    /// watch` does, until the window is closed or `episodes` episodes have been played.
    /// - Throws: `ViewerError` when there is no display or SDL fails.
    @discardableResult
    public func watch(episodes: Int? = nil, stepsPerSecond: Double = 30) throws -> WatchSummary {
        let options = WatchOptions(
            title: "\(spec.id) · \(configuration.algorithm)", stepsPerSecond: stepsPerSecond, maxEpisodes: episodes)
        return try watchEpisodes(environment: makeEnvironment(), advisor: AgentAdvisor(agent: agent), options: options)
    }
}
