import Agents
import ArgumentParser
import Environments
import Foundation
import Training

/// `agentlab train`: trains an agent and writes a run folder.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an agent; with no arguments, PPO on CartPole-v1.",
        discussion: """
            The configuration is built in layers: the preset for the environment and algorithm \
            (see `agentlab presets`), then --config FILE.yaml, then flags. The run folder \
            (--out, default runs/ENV-ALGO-seedS) receives config.yaml (fully resolved), \
            metrics.csv, checkpoint.safetensors (with a readable checkpoint.json) and \
            learning_curve.svg. Checkpoints are written every checkpoint_interval steps and at \
            the end, each committed whole by one rename; the folder is locked while it is written.

            Ctrl-C, SIGTERM and SIGHUP stop cleanly after the current step, save a checkpoint, \
            print how to resume and exit with 128 + the signal; a second signal stops at once. \
            `--resume RUN` continues a run exactly where it stopped (optimiser, counters, \
            generators, the environments and the episodes in progress), refusing a config.yaml \
            edited since in anything but steps, checkpoint_interval and threads. The same seed \
            gives the same metrics and checkpoint, with any number of threads (--threads, default \
            every core).

            Examples:
              agentlab train
              agentlab train --env Breakout-MinAtar --algo ppo --seed 1 --out runs/breakout
              agentlab train --config my.yaml --steps 200000
              agentlab train --resume runs/breakout --steps 10000000
            """)

    @Option(help: "Environment id (see `agentlab envs`).")
    var env: String?

    @Option(help: "Algorithm: \(AlgorithmRegistry.standard.names.joined(separator: ", ")).")
    var algo: String?

    @Option(help: "Environment steps to train for (with --resume: the new total).")
    var steps: Int?

    @Option(help: "Seed of everything random.")
    var seed: UInt64?

    @Option(help: "Number of environment copies stepped together.")
    var environments: Int?

    @Option(help: ArgumentHelp("A YAML file of settings; flags override it, it overrides the preset.", valueName: "file.yaml"))
    var config: String?

    @Option(help: "The run folder to write (default: runs/ENV-ALGO-seedS).")
    var out: String?

    @Option(help: ArgumentHelp("Continue the run in this folder from its checkpoint.", valueName: "run"))
    var resume: String?

    @Flag(help: "Replace the run already in --out.")
    var force = false

    @Flag(help: "Keep DQN's replay buffer in its checkpoints, so a resumed run keeps its experience.")
    var saveReplay = false

    @Option(help: "Threads to train on (default: the configuration's threads, 0 meaning every core); the results are the same for any number.")
    var threads: Int?

    func validate() throws {
        if let steps, steps <= 0 { throw ValidationError("--steps must be positive, got \(steps)") }
        if let environments, environments <= 0 { throw ValidationError("--environments must be positive, got \(environments)") }
        if let threads { try ThreadCount.check(threads) }
        if let out, out.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--out must name a folder, got an empty path") }
        if let resume, resume.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--resume must name a run folder, got an empty path") }
        if resume != nil, env != nil || algo != nil || config != nil || out != nil || seed != nil || environments != nil || saveReplay {
            throw ValidationError("--resume continues a run as it was configured: only --steps and --threads may be given with it")
        }
    }

    func run() throws {
        // Configuration, checkpoint and disk errors (a full disk included) exit with status 2
        // through AgentLab.main, each with its message.
        let session = try resume.map { try TrainingSession(resuming: RunFolder($0), steps: steps, threads: threads) }
            ?? TrainingSession(starting: resolvedConfiguration(), in: outputFolder(), force: force)
        try session.run()
    }

    /// Preset, then file, then flags.
    private func resolvedConfiguration() throws -> RunConfiguration {
        var fileTree = ConfigurationValue.object([:])
        if let config {
            fileTree = try ConfigurationValue.parse(yaml: ConfigurationValue.readText(of: config), file: config)
        }
        var flags: [String: ConfigurationValue] = [:]
        if let env { flags["environment"] = .string(env) }
        if let algo { flags["algorithm"] = .string(algo) }
        if let steps { flags["steps"] = .int(steps) }
        if let seed { flags["seed"] = .int(Int(truncatingIfNeeded: seed)) }
        if let environments { flags["environments"] = .int(environments) }
        if saveReplay { flags["save_replay"] = .bool(true) }
        if let threads { flags["threads"] = .int(threads) }
        return try RunConfiguration.resolved(layers: [fileTree, .object(flags)])
    }

    /// --out, or the first free runs/ENV-ALGO-seedS[-k].
    private func outputFolder() throws -> (RunConfiguration) -> RunFolder {
        { configuration in
            if let out { return RunFolder(out) }
            let base = "runs/\(configuration.environment)-\(configuration.algorithm)-seed\(configuration.seed)"
            var candidate = RunFolder(base), k = 2
            while candidate.holdsRun && !force { candidate = RunFolder("\(base)-\(k)"); k += 1 }
            return candidate
        }
    }
}
