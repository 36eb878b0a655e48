import Agents
import ArgumentParser
import Environments
import Foundation
import Parallelism
import Sweeps
import Training

@main
struct AgentLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentlab",
        abstract: "Train, watch and evaluate reinforcement-learning agents.",
        discussion: """
            Training: `agentlab train` (PPO on CartPole-v1 by default) writes a run folder.
            Environments: `agentlab envs` lists them, `agentlab rollout ID` plays one.
            Speed: `agentlab bench` measures the neural-network core and the environments.
            Sweeps: `agentlab sweep SPEC.yaml` trains settings × seeds and ranks them;
            `agentlab compare RUN_OR_SWEEP...` plots learning curves with confidence bands.
            Formats: runs write TensorBoard events; `agentlab export RUN` writes ONNX;
            `agentlab record RUN --out x.mp4 --saliency` films what the agent looks at.
            """,
        subcommands: [
            TrainCommand.self, EvalCommand.self, WatchCommand.self, PresetsCommand.self, EnvsCommand.self, RolloutCommand.self, BenchCommand.self,
            PlayCommand.self, RecordCommand.self, ExportCommand.self, SweepCommand.self, CompareCommand.self,
        ])

    /// Runs the command line. Usage errors (a bad flag, an unknown id, a value out of
    /// range) exit with status 2 and a message on stderr; `--help` exits with 0.
    static func main() {
        watchSweepParent()
        do {
            var command = try parseAsRoot()
            try command.run()
            WorkerPool.shared.shutDown()
        } catch let error as UsageError {
            printError(error.description)
            finish(ExitCode.usageError.rawValue)
        } catch ExitCodeError.trainingFailed {
            finish(1)
        } catch ExitCodeError.environmentFailed {
            finish(ExitCode.usageError.rawValue)
        } catch ExitCodeError.interrupted(let signal) {
            finish(128 + signal)
        } catch where error is EnvironmentError || error is GymnasiumError || error is RunFolderError || error is ConfigurationError
                        || error is TrainingError || error is SweepSpecError || error is SweepError || error is CSVError
                        || error is ExportError {
            // Input the user can fix: an unknown id, a bad setting or file, a full disk.
            printError("\(error)")
            finish(ExitCode.usageError.rawValue)
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                finish(ExitCode.usageError.rawValue)
            }
            WorkerPool.shared.shutDown()
            exit(withError: error)
        }
    }

    /// Joins the worker threads, then exits with `status`: however a command ends (an
    /// error, a signal's status), no worker is left running while the process exits.
    static func finish(_ status: Int32) -> Never {
        WorkerPool.shared.shutDown()
        Foundation.exit(status)
    }
}

extension ExitCode {
    /// Bad input: a usage mistake, an unknown id, a value out of range.
    static let usageError = ExitCode(2)
}

/// A usage error with the message to show; `AgentLab.main` turns it into exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

