import Agents
import Environments
import Foundation

/// A run folder loaded for playing: its configuration, its agent with the checkpoint's
/// weights, and the checkpoint's description. Used by `eval`, `watch` and `record`.
public struct TrainedRun {
    package let folder: RunFolder
    /// The run's config.yaml, as trained.
    public let configuration: RunConfiguration
    /// The agent with the checkpoint's weights.
    public let agent: any Agent
    package let info: CheckpointInfo
    /// FNV-1a hash of checkpoint.safetensors.
    package let checkpointHash: String
    /// The environment it plays: its own, or the one `init(_:environment:)` named.
    public let spec: EnvironmentSpec
    /// The normalisation statistics saved with the checkpoint (nil when the run normalises nothing).
    package let normalization: NormalizedVectorEnvironment.Statistics?

    /// Loads and checks everything before anything runs: a missing, corrupt or mismatched
    /// checkpoint (another environment, another network) is an error naming both sides.
    ///
    /// `environment` plays the agent on another environment than it trained on, one with the
    /// same observation and action spaces (a natively trained CartPole-v1 agent on
    /// `gymnasium:CartPole-v1`); anything else is refused, naming both.
    public init(_ path: String, environment replacement: String? = nil) throws(RunFolderError) {
        folder = RunFolder(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .corrupt(folder.path, reason: "no such run folder")
        }
        configuration = try folder.readConfiguration()
        let saved = try folder.loadCheckpoint()
        info = saved.info
        checkpointHash = saved.hash
        guard info.environment == configuration.environment, info.algorithm == configuration.algorithm else {
            throw .mismatch("the checkpoint in \(folder.path) is for \(info.algorithm) on \(info.environment), "
                + "but its config.yaml describes \(configuration.algorithm) on \(configuration.environment)")
        }
        let trainedSpec: EnvironmentSpec
        do {
            trainedSpec = try EnvironmentRegistry.standard.spec(id: configuration.environment)
        } catch {
            throw .mismatch("the run's environment is unusable: \(error)")
        }
        if let replacement, replacement != configuration.environment {
            do {
                spec = try EnvironmentRegistry.standard.spec(id: replacement)
            } catch {
                throw .mismatch("--env \(replacement) is unusable: \(error)")
            }
            let trained = trainedSpec.makeEnvironment(), other = spec.makeEnvironment()
            guard trained.observationSpace.shape == other.observationSpace.shape,
                  trained.actionSpace.discrete == other.actionSpace.discrete,
                  trained.actionSpace.box?.shape == other.actionSpace.box?.shape
            else {
                throw .mismatch("\(folder.path) was trained on \(configuration.environment) (observations "
                    + "\(trained.observationSpace.shape), actions \(trained.actionSpace)), and \(replacement) has "
                    + "observations \(other.observationSpace.shape) and actions \(other.actionSpace); pick an "
                    + "environment with the same spaces")
            }
        } else {
            spec = trainedSpec
        }
        normalization = saved.normalization
        if configuration.wrappers.normalizeObservations, saved.normalization?.observations == nil {
            throw .mismatch("\(folder.path)'s config.yaml normalises observations, but its checkpoint holds no "
                + "statistics to normalise them with; train the run again")
        }
        let environment: any Environment
        do {
            environment = try configuration.makeEnvironment(from: spec)
        } catch {
            throw .mismatch("the run's config.yaml is invalid: \(error)")
        }
        if let misfit = saved.normalization?.misfit(observationSize: environment.observationSpace.count) {
            throw .corrupt(folder.checkpointURL.path, reason: "its normalisation holds \(misfit)")
        }
        do {
            agent = try configuration.makeAgent(observationSpace: environment.observationSpace,
                                                actionSpace: environment.actionSpace)
        } catch {
            throw .mismatch("the run's config.yaml is invalid: \(error)")
        }
        guard agent.networkDescription == info.network else {
            throw .mismatch("the checkpoint's network is '\(info.network)' but \(configuration.environment) with this "
                + "configuration needs '\(agent.networkDescription)'")
        }
        do {
            try agent.restore(from: saved.agent, weightsOnly: true)
        } catch {
            throw .checkpoint(folder.checkpointURL.path, error)
        }
    }

    /// A fresh environment as the agent was trained to see it: the run's action wrappers,
    /// and its saved observation statistics applied frozen (evaluation, watching, recording).
    public func makeEnvironment() -> any Environment { environmentFactory() }

    /// `makeEnvironment()` as a closure that threads may share.
    public var environmentFactory: @Sendable () -> any Environment {
        let (wrappers, spec, statistics) = (configuration.wrappers, spec, normalization)
        return { wrappers.wrapForEvaluation(spec.makeEnvironment(), statistics: statistics) }
    }
}
