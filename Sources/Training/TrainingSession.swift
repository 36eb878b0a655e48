import Agents
import Autodiff
import Environments
import Foundation
import Parallelism

/// One training run from its resolved configuration to its final checkpoint: builds the
/// environments and the agent, drives the loop, logs metrics, writes checkpoints. Everything
/// is built and checked before the run folder is touched.
public final class TrainingSession {
    /// What the session trains, fully resolved.
    public let configuration: RunConfiguration
    package let folder: RunFolder
    /// The agent being trained.
    public let agent: any Agent
    package let loop: EnvironmentLoop
    private let environments: any VectorStepping
    private let spec: EnvironmentSpec
    private var metrics: MetricsLog
    private var state = SessionState()
    /// Held while the session lives: one writer per run folder.
    private var lock: RunFolderLock?
    /// This session's TensorBoard event file: every metrics row, with steps per second and
    /// wall-clock time (nil once writing it failed: training goes on without it).
    private var events: TensorBoardEventWriter?
    /// Why a resumed run does not continue exactly as an uninterrupted one (nil: it does).
    private(set) var inexactResume: String?

    /// A new run: builds everything, then creates and locks the folder and writes config.yaml.
    package convenience init(
        starting configuration: RunConfiguration, in folderFor: (RunConfiguration) -> RunFolder, force: Bool
    ) throws {
        let folder = folderFor(configuration)
        try self.init(configuration: configuration, folder: folder, resumeFrom: nil)
        lock = try folder.create(force: force)
        try folder.write(try Self.yaml(configuration), to: folder.configURL)
    }

    /// An existing run, continued from its checkpoint; `steps` sets a new total. The folder
    /// is locked first; config.yaml must still describe the run the checkpoint was trained
    /// as (only `steps` and `checkpoint_interval` may change), and is rewritten only once
    /// everything has been checked.
    package convenience init(resuming folder: RunFolder, steps: Int?, threads: Int? = nil) throws {
        let lock = try folder.lockForResume()
        var configuration = try folder.readConfiguration()
        let saved = try folder.loadCheckpoint()
        if let trained = saved.configuration {
            try Self.checkUnchanged(configuration, since: trained, folder: folder)
        }
        if let steps {
            guard steps > saved.info.step else {
                throw TrainingError.invalidConfiguration("--steps \(steps) is not beyond the checkpoint's \(saved.info.step) steps")
            }
            configuration.steps = steps
        }
        guard saved.info.step <= configuration.steps else {
            throw RunFolderError.corrupt(folder.checkpointURL.path, reason: "its step \(saved.info.step) is beyond the run's "
                + "\(configuration.steps) steps")
        }
        if let threads { configuration.threads = threads }
        try configuration.validate()
        try self.init(configuration: configuration, folder: folder, resumeFrom: saved)
        self.lock = lock
        if steps != nil { try folder.write(try Self.yaml(configuration), to: folder.configURL) }
    }

    private init(configuration: RunConfiguration, folder: RunFolder, resumeFrom saved: SavedCheckpoint?) throws {
        self.configuration = configuration
        self.folder = folder
        spec = try EnvironmentRegistry.standard.spec(id: configuration.environment)
        environments = try configuration.makeVectorEnvironment(from: spec)
        let algorithm = try configuration.algorithmSpec
        agent = try configuration.makeAgent(observationSpace: environments.observationSpace,
                                            actionSpace: environments.actionSpace)
        metrics = MetricsLog(metricKeys: algorithm.metricKeys)
        guard let saved else {
            loop = EnvironmentLoop(environments: environments, agent: agent, seed: configuration.seed)
            return
        }
        guard saved.info.environment == configuration.environment, saved.info.algorithm == configuration.algorithm,
              saved.info.network == agent.networkDescription
        else {
            throw RunFolderError.mismatch("the checkpoint in \(folder.path) is for \(saved.info.algorithm) on "
                + "\(saved.info.environment) with network '\(saved.info.network)', but config.yaml describes "
                + "\(configuration.algorithm) on \(configuration.environment) with '\(agent.networkDescription)'")
        }
        do {
            try agent.restore(from: saved.agent, weightsOnly: false)
        } catch {
            throw RunFolderError.checkpoint(folder.checkpointURL.path, error)
        }
        let startStep = saved.info.step
        state = saved.session ?? SessionState(episodes: saved.info.episodes)
        let metricsText = saved.metrics ?? (try? String(contentsOf: folder.metricsURL, encoding: .utf8)) ?? ""
        metrics = MetricsLog.parse(metricsText, metricKeys: algorithm.metricKeys)
        metrics.truncate(after: startStep)
        if let environmentState = saved.environments {
            loop = EnvironmentLoop(environments: environments, agent: agent, seed: configuration.seed, startStep: startStep)
            do {
                try environments.restoreState(from: environmentState)
            } catch {
                throw RunFolderError.corrupt(folder.checkpointURL.path, reason: error.description)
            }
            if !agent.resumesExactly {
                inexactResume = "the checkpoint has no replay buffer (train with --save-replay to keep it), so the "
                    + "agent refills it from scratch"
            }
        } else {
            // The statistics travel beside the state too, so normalisation continues.
            if let normalized = environments as? NormalizedVectorEnvironment, let statistics = saved.normalization {
                if let misfit = statistics.misfit(observationSize: environments.observationSize) {
                    throw RunFolderError.corrupt(folder.checkpointURL.path, reason: "its normalisation holds \(misfit)")
                }
                normalized.statistics.observations = statistics.observations
                normalized.statistics.returns = statistics.returns
            }
            // Without the environments' state, start fresh episodes, seeded from the run's
            // seed and the step so a resumed run is itself reproducible.
            loop = EnvironmentLoop(environments: environments, agent: agent,
                                   seed: configuration.seed &+ UInt64(startStep) &* 0x9E37_79B9_7F4A_7C15,
                                   startStep: startStep)
            inexactResume = "the checkpoint holds no environment state (it was written by an older AgentLab, or "
                + "\(configuration.environment) cannot save its state), so the episodes in progress start over"
        }
    }

    /// Refuses a config.yaml edited since the checkpoint in anything but `steps` and
    /// `checkpoint_interval`, naming each changed key with both values.
    private static func checkUnchanged(
        _ configuration: RunConfiguration, since trained: RunConfiguration, folder: RunFolder
    ) throws {
        func settings(_ c: RunConfiguration) throws -> [String: String] {
            var c = c
            c.steps = 0
            c.checkpointInterval = 1
            c.threads = 0
            return Dictionary(try ConfigurationValue(encoding: c).flattened(), uniquingKeysWith: { a, _ in a })
        }
        let now = try settings(configuration), then = try settings(trained)
        let changed = Set(now.keys).union(then.keys).sorted().filter { now[$0] != then[$0] }
        guard !changed.isEmpty else { return }
        let list = changed.map { "\($0) \(then[$0] ?? "absent") → \(now[$0] ?? "absent")" }.joined(separator: ", ")
        throw RunFolderError.mismatch("\(folder.configURL.path) no longer describes the run its checkpoint was "
            + "trained as (\(list)); undo the edit, or start a new run with these settings (only steps, "
            + "checkpoint_interval and threads may change on resume)")
    }

    package static func yaml(_ configuration: RunConfiguration) throws -> String {
        "# AgentLab run configuration, fully resolved (preset, then --config, then flags).\n"
            + "# Resume with: agentlab train --resume <this folder>\n"
            + (try ConfigurationValue(encoding: configuration))
            .yaml(order: ["environment", "algorithm", "steps", "seed", "environments", "checkpoint_interval"])
    }

    /// Trains to the configured number of steps or until SIGINT, SIGTERM or SIGHUP, printing
    /// progress, and writes the final checkpoint. The folder is unlocked when it returns
    /// (another session may then resume it); a session trains once.
    /// - Throws: `ExitCodeError` when training stopped on a NaN loss, a failing environment
    ///   (after saying why on standard error) or a signal (after saving); the folder's
    ///   errors (`RunFolderError`) when a checkpoint cannot be written.
    public func run() throws {
        precondition(lock != nil, "a TrainingSession trains once")
        defer { lock = nil }
        installStopHandlers()
        let c = configuration
        let startStep = loop.globalStep
        WorkerPool.shared.setThreadCount(c.resolvedThreads)
        print("Training \(c.algorithm) on \(c.environment) for \(c.steps) steps (seed \(c.seed), "
            + "\(c.environments) environments, \(c.resolvedThreads) thread\(c.resolvedThreads == 1 ? "" : "s")) → \(folder.path)")
        if let warning = BLASKernels.slowKernelWarning() { print(warning) }
        if startStep > 0 {
            print("Resuming from step \(startStep)"
                + (inexactResume.map { ". Note: it will not match an uninterrupted run exactly: \($0)." } ?? ", exactly where it stopped."))
        }
        openEventFile(resumingAt: startStep)
        defer { events?.close() }
        fflush(nil)  // show the header at once when the output is a pipe
        var progress = ProgressReporter(totalSteps: c.steps, startStep: startStep)
        let logInterval = max(c.environments, c.steps / 500)
        var nextLogStep = (startStep / logInterval + 1) * logInterval
        var nextCheckpointStep = (startStep / c.checkpointInterval + 1) * c.checkpointInterval
        var lastCheckpoint: (step: Int, path: String)? = startStep > 0 ? (startStep, folder.checkpointURL.path) : nil

        do {
            try loop.run(until: c.steps, shouldStop: { stopSignal.load(ordering: .relaxed) != 0 }) { event in
                for episode in event.finishedEpisodes {
                    state.pendingReturns.append(episode.episodeReturn)
                    state.pendingLengths.append(Double(episode.length))
                    state.recentReturns.append(episode.episodeReturn)
                    if state.recentReturns.count > 100 { state.recentReturns.removeFirst() }
                }
                state.episodes += event.finishedEpisodes.count
                for (key, value) in event.metrics {
                    let s = state.pendingMetrics[key] ?? .init(sum: 0, count: 0)
                    state.pendingMetrics[key] = .init(sum: s.sum + value, count: s.count + 1)
                }
                if event.globalStep >= nextLogStep || event.globalStep >= c.steps {
                    logRow(step: event.globalStep, stepsPerSecond: progress.stepsPerSecond(at: event.globalStep),
                           seconds: progress.elapsedSeconds)
                    while nextLogStep <= event.globalStep { nextLogStep += logInterval }
                }
                if event.globalStep >= nextCheckpointStep, event.globalStep < c.steps {
                    try saveCheckpoint(step: event.globalStep)
                    lastCheckpoint = (event.globalStep, folder.checkpointURL.path)
                    while nextCheckpointStep <= event.globalStep { nextCheckpointStep += c.checkpointInterval }
                }
                progress.update(step: event.globalStep, episodes: state.episodes, recentReturn: recentReturn)
            }
        } catch let error as TrainingError {
            progress.finish()
            try? writeMetricsAndPlot()
            let where_ = lastCheckpoint.map { "the last good checkpoint is \($0.path) (step \($0.step))" }
                ?? "no checkpoint was written before it"
            printError("\(error.description); \(where_)")
            if case .environmentFailed = error { throw ExitCodeError.environmentFailed }
            throw ExitCodeError.trainingFailed
        }
        progress.finish()
        try saveCheckpoint(step: loop.globalStep)
        let seconds = progress.elapsedSeconds
        let recent = recentReturn.map {
            String(format: "mean return of the last %d episodes %.2f", state.recentReturns.count, $0)
        } ?? "no episode finished"
        print(String(format: "Trained %d steps in %.2f s (%.0f steps/s); %d episodes; %@.",
                     loop.globalStep - startStep, seconds, progress.stepsPerSecond(at: loop.globalStep),
                     state.episodes, recent))
        print("Run folder: \(folder.path) (config.yaml, metrics.csv, checkpoint.safetensors, learning_curve.svg, "
            + "TensorBoard events)")
        let signal = stopSignal.load(ordering: .relaxed)
        if signal != 0 {
            print("Stopped by \(signalName(signal)) at step \(loop.globalStep); the checkpoint is saved. Resume with:\n"
                + "  agentlab train --resume \(folder.path)")
            throw ExitCodeError.interrupted(signal: signal)
        }
    }

    private var recentReturn: Double? {
        state.recentReturns.isEmpty ? nil : state.recentReturns.reduce(0, +) / Double(state.recentReturns.count)
    }

    /// Appends a metrics row: the means of what happened since the previous row. The event
    /// file gets the same values under the same keys, with the session's steps per second
    /// (`charts/SPS`) and seconds since it started (`charts/wall_seconds`).
    private func logRow(step: Int, stepsPerSecond: Double, seconds: Double) {
        var row: [String: Double] = ["step": Double(step), "episodes": Double(state.episodes)]
        if !state.pendingReturns.isEmpty {
            row["charts/episodic_return"] = state.pendingReturns.reduce(0, +) / Double(state.pendingReturns.count)
            row["charts/episodic_length"] = state.pendingLengths.reduce(0, +) / Double(state.pendingLengths.count)
        }
        for (key, s) in state.pendingMetrics { row[key] = s.sum / s.count }
        metrics.append(row)
        let scalars = metrics.columns.dropFirst().compactMap { key in row[key].map { (tag: key, value: $0) } }
        writeEvents { try $0.addScalars(scalars + [("charts/SPS", stepsPerSecond), ("charts/wall_seconds", seconds)], step: step) }
        state.pendingReturns.removeAll(keepingCapacity: true)
        state.pendingLengths.removeAll(keepingCapacity: true)
        state.pendingMetrics.removeAll(keepingCapacity: true)
    }

    /// A new event file for this session. A resumed run's file starts with a session-start
    /// event at the step after its checkpoint, which tells TensorBoard to drop what an
    /// earlier file logged from there on (the steps this session trains again).
    private func openEventFile(resumingAt startStep: Int) {
        do {
            events = try TensorBoardEventWriter(folder: URL(fileURLWithPath: folder.path))
        } catch {
            printError("warning: \(error); training goes on without TensorBoard events")
            return
        }
        if startStep > 0 { writeEvents { try $0.addSessionStart(step: startStep + 1) } }
    }

    /// Writes to the event file; the first failure is reported and ends the event file, not
    /// the run (metrics.csv and the checkpoints hold everything that matters).
    private func writeEvents(_ write: (TensorBoardEventWriter) throws -> Void) {
        guard let writer = events else { return }
        do {
            try write(writer)
        } catch {
            printError("warning: \(error); training goes on without TensorBoard events")
            writer.close()
            events = nil
        }
    }

    private func saveCheckpoint(step: Int) throws {
        let info = CheckpointInfo(
            environment: configuration.environment, algorithm: configuration.algorithm,
            network: agent.networkDescription, step: step, seed: configuration.seed, episodes: state.episodes,
            version: agentLabVersion, checkpointHash: nil)
        let csv = metrics.csv
        do {
            try folder.saveCheckpoint(SavedCheckpoint(
                agent: agent.checkpoint(), info: info, configuration: configuration, session: state, metrics: csv,
                environments: environments.savedState(),
                normalization: (environments as? NormalizedVectorEnvironment)?.statistics))
            try writeMetricsAndPlot(csv: csv)
            writeEvents { try $0.flush() }
        } catch RunFolderError.unwritable(let path, let reason) {
            let previous = FileManager.default.fileExists(atPath: folder.checkpointURL.path)
                ? "the previous checkpoint is intact: fix that, then resume with `agentlab train --resume \(folder.path)`"
                : "no checkpoint was written yet"
            throw RunFolderError.unwritable(path, reason: "\(reason); \(previous)")
        }
    }

    private func writeMetricsAndPlot(csv: String? = nil) throws {
        try folder.write(csv ?? metrics.csv, to: folder.metricsURL)
        let title = "\(configuration.algorithm) on \(configuration.environment), seed \(configuration.seed)"
        try folder.write(learningCurveSVG(metrics.returnCurve, title: title, threshold: spec.rewardThreshold),
                         to: folder.plotURL)
    }
}

/// Errors already reported on stderr that only need an exit status.
public enum ExitCodeError: Error {
    /// Training stopped on a NaN or infinite loss (exit status 1).
    case trainingFailed
    /// An environment failed (a Gymnasium environment raised, its worker died or hung):
    /// exit status 2, as for other input the user must fix.
    case environmentFailed
    /// Training was stopped by a signal after saving (exit status 128 + its number: 130 for
    /// Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, the shell's convention).
    case interrupted(signal: Int32)
}
