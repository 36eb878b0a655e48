import ArgumentParser
import Foundation
import Parallelism
import Sweeps
import Synchronization
import Training

/// `agentlab sweep`: settings × seeds, on this machine's cores or a Ray cluster.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train every configuration of a sweep spec on several seeds and rank them with confidence intervals.",
        discussion: """
            A spec is YAML in the run configuration's own keys:

              base:                       # any config.yaml keys
                environment: CartPole-v1
                algorithm: ppo
                steps: 100000
              search:                     # dotted keys: a list, or a range
                ppo.learning_rate: {log_uniform: [1.0e-4, 3.0e-3]}
                ppo.entropy_coefficient: [0.0, 0.01]
              method: random              # grid | random | tpe
              trials: 12                  # configurations (a grid runs all of its own)
              seeds: [0, 1, 2]            # each configuration runs once per seed
              objective: final_return     # greedy eval after training, or auc
              seed: 0                     # the same spec and seed give the same proposals

            Ranges are {uniform: [a, b]}, {log_uniform: [a, b]} and {int: [a, b]}. TPE also \
            reads `round` (configurations proposed at a time, each round from the results of \
            the rounds before; default 2) and `startup_trials` (random ones first). \
            `eval_episodes` sets the greedy episodes that score a trial (default 100). Every \
            configuration is checked before anything runs.

            The sweep folder (--out, default sweeps/NAME) holds spec.yaml, trials.csv (a row per \
            trial), summary.csv (a row per configuration: mean, interquartile mean and 95% \
            stratified-bootstrap intervals over seeds, ranked), best.yaml (ready for `agentlab \
            train --config`), and each trial's config, run folder and log. A failing trial is \
            tried once more, then recorded as failed with its reason. Ctrl-C stops the running \
            trials (each saves a checkpoint); `--resume DIR` continues a stopped or killed sweep \
            and ends with the tables an uninterrupted one would have written.

            --backend ray submits trials as jobs to a Ray cluster's Job Submission API \
            (--address http://HEAD:8265); see the README for starting a cluster. The nodes must \
            run this same agentlab binary at the same path, and see --out at the same path (a \
            shared folder). Trials whose node is lost are submitted again.

            Examples:
              agentlab sweep sweeps/ppo-cartpole.yaml --parallel 2
              agentlab sweep --resume sweeps/ppo-cartpole
              agentlab sweep spec.yaml --backend ray --address http://10.0.0.1:8265 --out /shared/sweep
            """)

    @Argument(help: ArgumentHelp("The sweep spec (YAML).", valueName: "spec.yaml"))
    var spec: String?

    @Option(help: "The sweep folder to write (default: sweeps/NAME, NAME from the spec's file name).")
    var out: String?

    @Option(help: "Trials at a time (default: one per core locally; every trial that may start on Ray).")
    var parallel: Int?

    @Option(help: "Threads per trial (default: the cores divided among the parallel trials locally; 1 on Ray).")
    var threads: Int?

    @Option(help: "Where trials run: local (processes on this machine) or ray (jobs on a Ray cluster).")
    var backend: Backend = .local

    @Option(help: ArgumentHelp("The Ray head's dashboard address, e.g. http://127.0.0.1:8265 (with --backend ray).", valueName: "url"))
    var address: String?

    @Option(help: ArgumentHelp("Continue the stopped or killed sweep in this folder.", valueName: "dir"))
    var resume: String?

    enum Backend: String, ExpressibleByArgument, CaseIterable { case local, ray }

    func validate() throws {
        if (spec == nil) == (resume == nil) { throw ValidationError("give a spec file to start a sweep, or --resume DIR to continue one (not both)") }
        if resume != nil && out != nil { throw ValidationError("--resume continues the sweep in its own folder: drop --out") }
        if let parallel, !(1...1024).contains(parallel) { throw ValidationError("--parallel must be in 1...1024, got \(parallel)") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1...1024, got \(threads)") }
        if backend == .ray && address == nil { throw ValidationError("--backend ray needs --address http://HEAD:8265 (the Ray dashboard's address)") }
        if backend == .local && address != nil { throw ValidationError("--address is for --backend ray") }
    }

    func run() throws {
        if backend == .ray { _ = try RayExecutor.connect(address!) }  // before any folder is made
        let (sweepSpec, folder, previous) = try prepareFolder()
        let lock = try RunFolderLock(folder)
        defer { withExtendedLifetime(lock) {} }
        AtomicFile.removeLeftovers(in: folder)

        let cores = WorkerPool.availableProcessors
        let executor: any TrialExecutor
        let parallelTrials: Int, threadsPerTrial: Int
        switch backend {
        case .local:
            parallelTrials = parallel ?? cores
            threadsPerTrial = threads ?? max(1, cores / parallelTrials)
            executor = LocalExecutor()
        case .ray:
            parallelTrials = parallel ?? sweepSpec.trialCount
            threadsPerTrial = threads ?? 1
            executor = try RayExecutor(address: address!, folder: folder)
        }
        let runner = SweepRunner(spec: sweepSpec, folder: folder, executor: executor, parallel: parallelTrials,
                                 threadsPerTrial: threadsPerTrial, binary: try Self.executablePath(), previous: previous)
        print("Sweep: \(sweepSpec.configurationCount) configuration(s) × \(sweepSpec.seeds.count) seed(s) = "
              + "\(sweepSpec.trialCount) trials (\(sweepSpec.method.rawValue) search, objective \(sweepSpec.objective.rawValue)), "
              + "\(parallelTrials) at a time on \(backend == .ray ? "Ray at \(address!)" : "this machine") with \(threadsPerTrial) thread(s) each → \(folder.path)")
        if !previous.isEmpty {
            let kept = previous.values.filter { $0.status == .done || $0.status == .failed }.count
            print("Resuming: \(kept) finished trial(s) kept; the others continue from their checkpoints.")
        }
        installSweepStopHandlers()
        let start = monotonicNanoseconds()
        let ending = try runner.run()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        if case .stopped(let signal) = ending {
            print("Stopped by \(signalName(signal)); finished trials are in trials.csv, running ones saved checkpoints. Resume with:\n"
                  + "  agentlab sweep --resume \(folder.path)")
            throw ExitCodeError.interrupted(signal: signal)
        }
        let rows = try runner.writeSummary()
        let trials = runner.trials
        let trialSeconds = trials.map(\.wallSeconds).reduce(0, +)
        print("")
        print(TrialTable.summaryMarkdown(rows, keys: sweepSpec.space.keys, objective: sweepSpec.objective.rawValue))
        let failed = trials.filter { $0.status == .failed }.count
        print(String(format: "%d trials in %.1f s (%.1f s of trial time, %.2f× from running them side by side)%@.",
                     trials.count, seconds, trialSeconds, trialSeconds / max(seconds, 1e-9),
                     failed > 0 ? ", \(failed) failed (see trials.csv)" : ""))
        print("Sweep folder: \(folder.path) (trials.csv, summary.csv\(rows.isEmpty ? "" : ", best.yaml"))")
        if rows.isEmpty { throw ExitCodeError.trainingFailed }
    }

    /// The spec, the sweep folder (created, with spec.yaml) and, when resuming, the trials
    /// recorded so far.
    private func prepareFolder() throws -> (SweepSpec, URL, [String: RecordedTrial]) {
        if let resume {
            let folder = URL(fileURLWithPath: resume, isDirectory: true).standardizedFileURL
            let specFile = folder.appendingPathComponent("spec.yaml").path
            guard FileManager.default.fileExists(atPath: specFile) else {
                throw SweepError.folder("\(folder.path) is not a sweep folder (it has no spec.yaml); start a sweep with `agentlab sweep SPEC.yaml`")
            }
            let spec = try SweepSpec.parse(yaml: ConfigurationValue.readText(of: specFile), file: specFile)
            let trialsFile = folder.appendingPathComponent("trials.csv")
            var previous: [String: RecordedTrial] = [:]
            if FileManager.default.fileExists(atPath: trialsFile.path) {
                let text = try Self.readText(trialsFile, limit: CSV.maximumSize)
                previous = try TrialTable.readTrials(text, name: trialsFile.path)
            }
            return (spec, folder, previous)
        }
        let specPath = spec!
        let text = try ConfigurationValue.readText(of: specPath)
        let parsed = try SweepSpec.parse(yaml: text, file: specPath)
        var folder: URL
        if let out {
            folder = URL(fileURLWithPath: out, isDirectory: true).standardizedFileURL
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("spec.yaml").path) {
                throw SweepError.folder("\(folder.path) already holds a sweep: continue it with `agentlab sweep --resume \(folder.path)`, or choose another --out")
            }
        } else {
            let name = URL(fileURLWithPath: specPath).deletingPathExtension().lastPathComponent
            var candidate = "sweeps/\(name)", k = 2
            while FileManager.default.fileExists(atPath: candidate) { candidate = "sweeps/\(name)-\(k)"; k += 1 }
            folder = URL(fileURLWithPath: candidate, isDirectory: true).standardizedFileURL
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw SweepError.folder("cannot create \(folder.path): \(error.localizedDescription)")
        }
        try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent("spec.yaml"))
        return (parsed, folder, [:])
    }

    /// A text file of at most `limit` bytes.
    static func readText(_ file: URL, limit: Int) throws -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        guard size <= limit else { throw SweepError.folder("\(file.path) is \(size) bytes; at most \(limit) are read") }
        guard let data = FileManager.default.contents(atPath: file.path) else { throw SweepError.folder("cannot read \(file.path)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// This binary's absolute path, which trials run (on Ray nodes too).
    static func executablePath() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// How many stop signals the sweep has received (a second one kills the trials).
nonisolated let stopSignalCount = Atomic<Int32>(0)

/// Ctrl-C, SIGTERM and SIGHUP ask the sweep to stop its trials and save; unlike training,
/// the handlers stay, so a second signal can kill the trials rather than orphan them.
func installSweepStopHandlers() {
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
        signal(signalNumber) { received in
            stopSignal.store(received, ordering: .relaxed)
            stopSignalCount.wrappingAdd(1, ordering: .relaxed)
        }
    }
}
