import Foundation
import Sweeps
import Training

/// Runs a sweep's trials on an executor, `parallel` at a time, and keeps its folder:
///
///     spec.yaml     the spec, as given (a resumed sweep reads it back)
///     trials.csv    one row per trial, rewritten atomically whenever one changes
///     summary.csv   one row per configuration, ranked (at the end)
///     best.yaml     the best configuration as a run configuration (at the end)
///     configs/      each trial's resolved run configuration
///     trials/       each trial's run folder
///     logs/         each trial's output
///
/// Trials start in order: configuration by configuration, seed by seed. A trial that fails
/// is tried once more (from its checkpoint if it has one), then recorded as failed with its
/// reason. A stopped sweep leaves running trials with checkpoints; `--resume` keeps
/// finished trials and continues the rest, so it ends with the tables an uninterrupted
/// sweep would have written.
final class SweepRunner {
    let spec: SweepSpec
    let folder: URL
    let executor: any TrialExecutor
    let parallel: Int
    let threadsPerTrial: Int
    /// The `agentlab` binary the trials run (an absolute path: Ray nodes run it too).
    let binary: String
    /// The trials proposed so far, configuration by configuration, seed by seed.
    private(set) var trials: [Trial] = []
    private let search: Search
    private var attempts: [String: Int] = [:]
    private var startTimes: [String: UInt64] = [:]
    /// How many times a trial may fail before it is recorded as failed.
    static let maximumAttempts = 2
    /// How many times a trial whose node was lost is submitted again.
    static let maximumResubmissions = 5
    private var lostCount: [String: Int] = [:]

    init(spec: SweepSpec, folder: URL, executor: any TrialExecutor, parallel: Int, threadsPerTrial: Int, binary: String,
         previous: [String: RecordedTrial] = [:]) {
        self.spec = spec
        self.folder = folder
        self.executor = executor
        self.parallel = parallel
        self.threadsPerTrial = threadsPerTrial
        self.binary = binary
        self.previous = previous
        search = Search(space: spec.space, method: spec.method, seed: spec.seed, startupCount: spec.startupCount)
    }

    private let previous: [String: RecordedTrial]

    /// How the sweep ended.
    enum Ending: Equatable { case finished, stopped(signal: Int32) }

    /// Runs until every trial has finished or failed, or until a signal arrives (then
    /// running trials are stopped and saved).
    func run() throws -> Ending {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("configs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("trials"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        proposeWhatIsKnown()
        try writeTrials()
        let total = spec.trialCount
        while true {
            let signal = stopSignal.load(ordering: .relaxed)
            if signal != 0 { return try stop(signal: signal) }
            proposeWhatIsKnown()
            while executor.runningCount < parallel, let index = trials.firstIndex(where: { $0.status == .pending }) {
                try launch(index)
            }
            if executor.runningCount == 0 {
                guard trials.contains(where: { $0.status == .pending }) || trials.count < total else { break }
                // Only reachable if a round's trials all ended without one starting: propose again.
                continue
            }
            for (id, outcome) in executor.collect(timeout: 0.5) { try record(id: id, outcome: outcome) }
        }
        try writeTrials()
        return .finished
    }

    /// Stops the running trials (a second signal kills them) and records them as running,
    /// so `--resume` continues them from their checkpoints.
    private func stop(signal: Int32) throws -> Ending {
        printNote("Stopping \(executor.runningCount) running trial(s); each saves a checkpoint (Ctrl-C again to kill them)…")
        executor.stopAll()
        // A Ray job still waiting for a node may never confirm its stop: give up after a while.
        let deadline = monotonicNanoseconds() + 120_000_000_000
        while executor.runningCount > 0 && monotonicNanoseconds() < deadline {
            if stopSignalCount.load(ordering: .relaxed) > 1 { executor.killAll() }
            for (id, outcome) in executor.collect(timeout: 0.5) {
                if case .stopped = outcome { continue }
                try record(id: id, outcome: outcome, retrying: false)
            }
        }
        if executor.runningCount > 0 {
            printNote("\(executor.runningCount) trial(s) did not confirm their stop; they stay recorded as running")
        }
        try writeTrials()
        return .stopped(signal: signal)
    }

    /// Proposes every configuration whose proposal depends only on finished results: all of
    /// them for grid and random search; for TPE, each round once the rounds before it ended.
    private func proposeWhatIsKnown() {
        while trials.count < spec.trialCount {
            let k = trials.count / spec.seeds.count
            let roundStart = spec.method == .tpe ? (k / spec.round) * spec.round : 0
            let earlier = trials.prefix(roundStart * spec.seeds.count)
            guard earlier.allSatisfy({ $0.status == .done || $0.status == .failed }) else { return }
            let observations = (0..<roundStart).compactMap { c -> Observation? in
                let scores = trials[(c * spec.seeds.count)..<((c + 1) * spec.seeds.count)]
                    .compactMap { $0.status == .done ? $0.objective : nil }
                guard !scores.isEmpty else { return nil }
                return Observation(assignment: trials[c * spec.seeds.count].assignment, score: SeedStatistics.mean(scores))
            }
            let assignment = search.propose(index: k, observations: observations)
            for seed in spec.seeds {
                var trial = Trial(configuration: k, seed: seed, assignment: assignment)
                if let saved = previous[trial.id], saved.status == .done || saved.status == .failed {
                    trial.status = saved.status
                    trial.objective = saved.objective
                    trial.wallSeconds = saved.wallSeconds
                    trial.reason = saved.reason
                } else if let saved = previous[trial.id] {
                    trial.wallSeconds = saved.wallSeconds
                }
                trials.append(trial)
            }
        }
    }

    private func launch(_ index: Int) throws {
        let trial = trials[index]
        let configuration = try spec.configuration(trial.assignment, seed: trial.seed)
        let configFile = folder.appendingPathComponent("configs/\(trial.id).yaml")
        try AtomicFile.write(Data(try TrainingSession.yaml(configuration).utf8), to: configFile)
        let run = RunFolder(folder.appendingPathComponent(trial.runFolder).path)
        let t = String(threadsPerTrial)
        waitUntilUnlocked(run)
        var commands: [[String]] = []
        if FileManager.default.fileExists(atPath: run.checkpointURL.path) {
            commands.append([binary, "train", "--resume", run.path, "--threads", t])
        } else {
            commands.append([binary, "train", "--config", configFile.path, "--out", run.path, "--force", "--threads", t])
        }
        if spec.objective == .finalReturn {
            commands.append([binary, "eval", run.path, "--episodes", String(spec.evaluationEpisodes), "--no-threshold",
                             "--json", run.url.appendingPathComponent("eval.json").path, "--threads", t])
        }
        try executor.launch(id: trial.id, commands: commands, threads: threadsPerTrial,
                            log: folder.appendingPathComponent("logs/\(trial.id).log"))
        trials[index].status = .running
        attempts[trial.id, default: 0] += 1
        startTimes[trial.id] = monotonicNanoseconds()
        let done = trials.filter { $0.status == .done || $0.status == .failed }.count
        say("[\(done)/\(spec.trialCount)] \(trial.id) started\(describe(trial.assignment))"
              + (attempts[trial.id]! > 1 ? " (attempt \(attempts[trial.id]!))" : ""))
        try writeTrials()
    }

    /// Waits (up to a minute) while another process still writes `run`: after the sweep was
    /// killed, its trials take a moment to notice, save their checkpoints and let go.
    private func waitUntilUnlocked(_ run: RunFolder) {
        guard FileManager.default.fileExists(atPath: run.path) else { return }
        var noted = false
        for _ in 0..<600 {
            let holder: String
            do {
                _ = try RunFolderLock(run.url)
                return
            } catch {
                guard case .locked(_, let who) = error else { return }
                holder = who
            }
            if !noted { printNote("Waiting for \(holder) to let go of \(run.path)…"); noted = true }
            usleep(100_000)
        }
    }

    private func record(id: String, outcome: TrialOutcome, retrying: Bool = true) throws {
        guard let index = trials.firstIndex(where: { $0.id == id }) else { return }
        if let start = startTimes.removeValue(forKey: id) {
            trials[index].wallSeconds += Double(monotonicNanoseconds() - start) / 1e9
        }
        let done = { self.trials.filter { $0.status == .done || $0.status == .failed }.count }
        switch outcome {
        case .succeeded:
            do {
                trials[index].objective = try score(trials[index])
                trials[index].status = .done
                say("[\(done())/\(spec.trialCount)] \(id) done in \(String(format: "%.1f", trials[index].wallSeconds)) s: "
                      + "\(spec.objective.rawValue) \(TrialTable.short(trials[index].objective!))\(timeLeft())")
            } catch {
                fail(index, reason: "\(error)", retrying: retrying)
            }
        case .failed(let reason):
            fail(index, reason: reason, retrying: retrying)
        case .stopped:
            // Only `stop` expects stopped trials; one stopped by someone else failed.
            fail(index, reason: "stopped from outside the sweep", retrying: retrying)
        case .lost(let reason):
            lostCount[id, default: 0] += 1
            attempts[id, default: 1] -= 1
            if lostCount[id]! > Self.maximumResubmissions {
                fail(index, reason: "lost \(lostCount[id]!) times: \(reason)", retrying: false)
            } else {
                printNote("\(id) lost its node (\(reason)); submitting it again")
                trials[index].status = .pending
            }
        }
        try writeTrials()
    }

    /// "; about 3 min left": the mean time of the trials done so far, times those left,
    /// over the trials run at a time.
    private func timeLeft() -> String {
        let finished = trials.filter { $0.status == .done }
        let left = spec.trialCount - trials.filter { $0.status == .done || $0.status == .failed }.count
        guard !finished.isEmpty, left > 0 else { return "" }
        let seconds = finished.map(\.wallSeconds).reduce(0, +) / Double(finished.count) * Double(left) / Double(min(parallel, left))
        return seconds < 90 ? String(format: "; about %.0f s left", seconds) : String(format: "; about %.0f min left", seconds / 60)
    }

    private func fail(_ index: Int, reason: String, retrying: Bool) {
        let id = trials[index].id
        if retrying && attempts[id, default: 0] < Self.maximumAttempts {
            printNote("\(id) failed (\(reason)); trying it once more (log: logs/\(id).log)")
            trials[index].status = .pending
        } else {
            trials[index].status = .failed
            trials[index].reason = reason
            printNote("\(id) failed: \(reason) (log: logs/\(id).log)")
        }
    }

    /// A finished trial's objective, read from its run folder.
    private func score(_ trial: Trial) throws -> Double {
        let run = folder.appendingPathComponent(trial.runFolder)
        switch spec.objective {
        case .finalReturn:
            return try RunResults.evaluatedReturn(of: run)
        case .auc:
            let values = try RunResults.curve(of: run, metric: "charts/episodic_return").map(\.value)
            guard !values.isEmpty else { throw SweepError.folder("\(run.path)/metrics.csv has no finished episode to score") }
            return SeedStatistics.mean(values)
        }
    }

    private func describe(_ assignment: Assignment) -> String {
        let pairs = zip(spec.space.keys, assignment).map { "\($0)=\($1)" }
        return pairs.isEmpty ? "" : ": " + pairs.joined(separator: " ")
    }

    func writeTrials() throws {
        try AtomicFile.write(Data(TrialTable.trialsCSV(trials, keys: spec.space.keys).utf8),
                             to: folder.appendingPathComponent("trials.csv"))
    }

    /// Writes summary.csv and best.yaml; returns the summary rows.
    func writeSummary() throws -> [TrialTable.Row] {
        let rows = TrialTable.summary(trials, seed: spec.seed)
        try AtomicFile.write(Data(TrialTable.summaryCSV(rows, keys: spec.space.keys).utf8),
                             to: folder.appendingPathComponent("summary.csv"))
        if let best = rows.first {
            var configuration = try spec.configuration(best.assignment, seed: spec.seeds[0])
            configuration.threads = 0
            let text = "# The best configuration of the sweep in \(folder.path) (\(String(format: "c%03d", best.configuration)), "
                + "\(spec.objective.rawValue) IQM \(TrialTable.short(best.aggregate.interquartileMean)) over \(best.aggregate.count) seed(s)).\n"
                + "# Train it with: agentlab train --config best.yaml\n"
                + (try ConfigurationValue(encoding: configuration))
                .yaml(order: ["environment", "algorithm", "steps", "seed", "environments", "checkpoint_interval"])
            try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent("best.yaml"))
        }
        return rows
    }

    /// A progress line, shown at once even when the output is a file or a pipe.
    private func say(_ line: String) {
        print(line)
        fflush(nil)  // all streams: naming `stdout` is not concurrency-safe in Swift 6
    }
}
