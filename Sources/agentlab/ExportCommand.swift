import ArgumentParser
import Foundation
import Training

/// `agentlab export`: a trained run's policy in a format other tools read.
struct ExportCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case onnx
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trained run's policy as an ONNX model.",
        discussion: """
            Writes the network behind the run's greedy choice as a standard ONNX model \
            (IR version 8, opset 17), readable by ONNX Runtime and other runtimes. Input \
            `observations`: raw observations, [batch] + the observation shape (channels last \
            for the arcade games); the run's observation normalisation is part of the model. \
            Output: `probabilities` for a policy over numbered actions (PPO, A2C, REINFORCE), \
            `q_values` for DQN, `action_mean` for a Gaussian policy (PPO and A2C in the \
            environment's units; SAC before its tanh and scaling), `squashed_action` for TD3 \
            (in [-1, 1], before scaling). The metadata holds the environment id, the \
            algorithm, the checkpoint's hash and step. A recurrent_ppo model takes one step: \
            it also reads `state` (the policy cell's state, zeros at an episode's start) and \
            writes `next_state`, to feed back at the next step.

            --samples N also plays greedy episodes and writes N raw observations with \
            AgentLab's outputs for each to NAME.samples.json beside the model, to check \
            another runtime against AgentLab. Files appear only when complete.

            Examples:
              agentlab export runs/CartPole-v1-ppo-seed0 --out cartpole.onnx
              agentlab export runs/breakout --format onnx --out breakout.onnx --samples 1000
            """)

    @Argument(help: "A run folder written by `agentlab train`.")
    var runFolder: String

    @Option(help: "The format to write.")
    var format: Format = .onnx

    @Option(help: "The file to write (e.g. policy.onnx).")
    var out: String

    @Option(help: "Also write this many observations from greedy episodes with AgentLab's outputs (0: none).")
    var samples = 0

    @Option(help: "Seed of the sample episodes.")
    var seed: UInt64 = 0

    func validate() throws {
        if !(0...1_000_000).contains(samples) {
            throw ValidationError("--samples must be in 0...1000000, got \(samples)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--out \(out) is a folder; give a file name such as policy.onnx")
        }
    }

    func run() throws {
        try checkParentFolder(of: out)
        let trained = try TrainedRun(runFolder)
        let summary = try trained.exportONNX(to: out, samples: samples, seed: seed)
        print("wrote \(summary.path): observations → \(summary.outputName) (\(summary.outputWidth) per observation)"
            + (summary.normalizesObservations ? ", observation normalisation included" : ""))
        if let samplesPath = summary.samplesPath {
            print("wrote \(summary.sampleCount) observations with AgentLab's outputs to \(samplesPath)")
        }
    }
}
