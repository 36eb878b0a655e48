import Agents
import Environments
import Foundation

/// One training run from its resolved configuration to its final checkpoint: builds the
/// environments and the agent, drives the loop, logs metrics, writes checkpoints.
final class TrainingSession {
    let configuration: RunConfiguration
    let folder: RunFolder
    let agent: any Agent
    let loop: EnvironmentLoop
    private var metrics: MetricsLog
    private var episodes: Int
    private let spec: EnvironmentSpec

    /// A new run: creates the folder and writes config.yaml.
    convenience init(
        starting configuration: RunConfiguration, in folderFor: (RunConfiguration) -> RunFolder, force: Bool
    ) throws {
        let folder = folderFor(configuration)
        try folder.create(force: force)
        try folder.write(try Self.yaml(configuration), to: folder.configURL)
        try self.init(configuration: configuration, folder: folder, resumeFrom: nil)
    }

    /// An existing run, continued from its checkpoint; `steps` sets a new total.
    convenience init(resuming folder: RunFolder, steps: Int?) throws {
        var configuration = try folder.readConfiguration()
        let saved = try folder.loadCheckpoint()
        if let steps {
            guard steps > saved.info.step else {
                throw TrainingError.invalidConfiguration("--steps \(steps) is not beyond the checkpoint's \(saved.info.step) steps")
            }
            configuration.steps = steps
            try folder.write(try Self.yaml(configuration), to: folder.configURL)
        }
        try configuration.validate()
        try self.init(configuration: configuration, folder: folder, resumeFrom: saved)
    }

    private init(
        configuration: RunConfiguration, folder: RunFolder,
        resumeFrom saved: (checkpoint: AgentCheckpoint, info: CheckpointInfo, hash: String)?
    ) throws {
        self.configuration = configuration
        self.folder = folder
        spec = try EnvironmentRegistry.standard.spec(id: configuration.environment)
        let environments = makeVectorEnvironment(spec.makeEnvironment(), count: configuration.environments)
        let algorithm = try configuration.algorithmSpec
        agent = try configuration.makeAgent(observationSpace: environments.observationSpace,
                                            actionCount: environments.actionSpace.count)
        var startStep = 0
        metrics = MetricsLog(metricKeys: algorithm.metricKeys)
        episodes = 0
        var environmentSeed = configuration.seed
        if let saved {
            guard saved.info.environment == configuration.environment, saved.info.algorithm == configuration.algorithm,
                  saved.info.network == agent.networkDescription
            else {
                throw RunFolderError.mismatch("the checkpoint in \(folder.path) is for \(saved.info.algorithm) on "
                    + "\(saved.info.environment) with network '\(saved.info.network)', but config.yaml describes "
                    + "\(configuration.algorithm) on \(configuration.environment) with '\(agent.networkDescription)'")
            }
            try agent.restore(from: saved.checkpoint, weightsOnly: false)
            startStep = saved.info.step
            episodes = saved.info.episodes
            if let text = try? String(contentsOf: folder.metricsURL, encoding: .utf8) {
                metrics = MetricsLog.parse(text, metricKeys: algorithm.metricKeys)
                metrics.truncate(after: startStep)
            }
            // Episodes in progress at the checkpoint are not saved: start fresh ones, seeded
            // from the run's seed and the step so a resumed run is itself reproducible.
            environmentSeed = configuration.seed &+ UInt64(startStep) &* 0x9E37_79B9_7F4A_7C15
        }
        loop = EnvironmentLoop(environments: environments, agent: agent, seed: environmentSeed, startStep: startStep)
    }

    static func yaml(_ configuration: RunConfiguration) throws -> String {
        "# AgentLab run configuration, fully resolved (preset, then --config, then flags).\n"
            + "# Resume with: agentlab train --resume <this folder>\n"
            + (try ConfigurationValue(encoding: configuration))
            .yaml(order: ["environment", "algorithm", "steps", "seed", "environments", "checkpoint_interval"])
    }

    /// Trains to the configured number of steps or until Ctrl-C.
    func run() throws {
        installInterruptHandler()
        let c = configuration
        let startStep = loop.globalStep
        print("Training \(c.algorithm) on \(c.environment) for \(c.steps) steps (seed \(c.seed), "
            + "\(c.environments) environments) → \(folder.path)")
        if startStep > 0 { print("Resuming from step \(startStep).") }
        fflush(nil)  // show the header at once when the output is a pipe
        var progress = ProgressReporter(totalSteps: c.steps, startStep: startStep)
        let logInterval = max(c.environments, c.steps / 500)
        var nextLogStep = (startStep / logInterval + 1) * logInterval
        var nextCheckpointStep = (startStep / c.checkpointInterval + 1) * c.checkpointInterval
        var pendingReturns: [Double] = [], pendingLengths: [Double] = []
        var pendingMetrics: [String: (sum: Double, count: Double)] = [:]
        var recentReturns: [Double] = []
        var lastCheckpoint: (step: Int, path: String)? = startStep > 0 ? (startStep, folder.checkpointURL.path) : nil

        do {
            try loop.run(until: c.steps, shouldStop: { stopRequested.load(ordering: .relaxed) }) { event in
                for episode in event.finishedEpisodes {
                    pendingReturns.append(episode.episodeReturn)
                    pendingLengths.append(Double(episode.length))
                    recentReturns.append(episode.episodeReturn)
                    if recentReturns.count > 100 { recentReturns.removeFirst() }
                }
                episodes += event.finishedEpisodes.count
                for (key, value) in event.metrics {
                    let s = pendingMetrics[key] ?? (0, 0)
                    pendingMetrics[key] = (s.sum + value, s.count + 1)
                }
                if event.globalStep >= nextLogStep || event.globalStep >= c.steps {
                    var row: [String: Double] = ["step": Double(event.globalStep), "episodes": Double(episodes)]
                    if !pendingReturns.isEmpty {
                        row["charts/episodic_return"] = pendingReturns.reduce(0, +) / Double(pendingReturns.count)
                        row["charts/episodic_length"] = pendingLengths.reduce(0, +) / Double(pendingLengths.count)
                    }
                    for (key, s) in pendingMetrics { row[key] = s.sum / s.count }
                    metrics.append(row)
                    pendingReturns.removeAll(keepingCapacity: true)
                    pendingLengths.removeAll(keepingCapacity: true)
                    pendingMetrics.removeAll(keepingCapacity: true)
                    while nextLogStep <= event.globalStep { nextLogStep += logInterval }
                }
                if event.globalStep >= nextCheckpointStep, event.globalStep < c.steps {
                    try saveCheckpoint(step: event.globalStep)
                    lastCheckpoint = (event.globalStep, folder.checkpointURL.path)
                    while nextCheckpointStep <= event.globalStep { nextCheckpointStep += c.checkpointInterval }
                }
                progress.update(step: event.globalStep, episodes: episodes,
                                recentReturn: recentReturns.isEmpty ? nil : recentReturns.reduce(0, +) / Double(recentReturns.count))
            }
        } catch let error as TrainingError {
            progress.finish()
            try? writeMetricsAndPlot()
            let where_ = lastCheckpoint.map { "the last good checkpoint is \($0.path) (step \($0.step))" }
                ?? "no checkpoint was written before it"
            printError("\(error.description); \(where_)")
            throw ExitCodeError.trainingFailed
        }
        progress.finish()
        try saveCheckpoint(step: loop.globalStep)
        let seconds = progress.elapsedSeconds
        let recent = recentReturns.isEmpty ? "no episode finished" :
            String(format: "mean return of the last %d episodes %.2f", recentReturns.count,
                   recentReturns.reduce(0, +) / Double(recentReturns.count))
        print(String(format: "Trained %d steps in %.2f s (%.0f steps/s); %d episodes; %@.",
                     loop.globalStep - startStep, seconds, progress.stepsPerSecond(at: loop.globalStep),
                     episodes, recent))
        print("Run folder: \(folder.path) (config.yaml, metrics.csv, checkpoint.safetensors, learning_curve.svg)")
        if stopRequested.load(ordering: .relaxed) {
            print("Stopped by Ctrl-C at step \(loop.globalStep); the checkpoint is saved. Resume with:\n"
                + "  agentlab train --resume \(folder.path)")
            throw ExitCodeError.interrupted
        }
    }

    private func saveCheckpoint(step: Int) throws {
        let info = CheckpointInfo(
            environment: configuration.environment, algorithm: configuration.algorithm,
            network: agent.networkDescription, step: step, seed: configuration.seed, episodes: episodes,
            version: agentLabVersion, checkpointHash: nil)
        try folder.saveCheckpoint(agent.checkpoint(), info: info)
        try writeMetricsAndPlot()
    }

    private func writeMetricsAndPlot() throws {
        try folder.write(metrics.csv, to: folder.metricsURL)
        let title = "\(configuration.algorithm) on \(configuration.environment), seed \(configuration.seed)"
        try folder.write(learningCurveSVG(metrics.returnCurve, title: title, threshold: spec.rewardThreshold,
                                          totalSteps: Double(configuration.steps)),
                         to: folder.plotURL)
    }
}

/// Errors already reported on stderr that only need an exit status.
enum ExitCodeError: Error {
    /// Training stopped on a NaN or infinite loss (exit status 1).
    case trainingFailed
    /// Training was stopped by Ctrl-C after saving (exit status 130, the shell's convention).
    case interrupted
}
