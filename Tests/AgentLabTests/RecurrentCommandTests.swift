import Foundation
import XCTest

/// Recurrent PPO from the command line: a run with memory resumes exactly, evaluation
/// carries the memory, and network settings are checked by key.
final class RecurrentCommandTests: CommandLineTestCase {
    /// Small LSTM, short rollouts, a constant rate (so that a run extended by `--resume`
    /// follows the same schedule as one that was never stopped).
    private let settings = """
        recurrent_ppo:
          steps_per_rollout: 16
          minibatches: 2
          epochs: 2
          anneal_learning_rate: false
          network: {hidden_sizes: [8], recurrent: {cell: lstm, size: 8}}
        environments: 4

        """

    func testARecurrentRunResumedFromItsCheckpointEqualsAnUninterruptedOne() throws {
        try settings.write(toFile: path("small.yaml"), atomically: true, encoding: .utf8)
        let flags = ["--env", "CartPole-v1", "--algo", "recurrent_ppo", "--config", path("small.yaml"), "--seed", "3"]
        XCTAssertEqual(try agentlab(["train"] + flags + ["--steps", "1600", "--out", path("whole")]).status, 0)
        // Stopped at a checkpoint partway through a rollout (1,000 = 15 rollouts of 64 and 40 steps).
        var result = try agentlab(["train"] + flags + ["--steps", "1000", "--out", path("parts")])
        XCTAssertEqual(result.status, 0, result.error)
        result = try agentlab("train", "--resume", path("parts"), "--steps", "1600")
        XCTAssertEqual(result.status, 0, result.error)
        for file in ["checkpoint.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("whole/\(file)"))),
                           try Data(contentsOf: URL(fileURLWithPath: path("parts/\(file)"))), file)
        }
        result = try agentlab("eval", path("whole"), "--episodes", "3", "--no-threshold")
        XCTAssertEqual(result.status, 0, result.error)
    }

    func testNetworkSettingsAreCheckedByKey() throws {
        try "recurrent_ppo:\n  network: {recurrent: {cell: rnn}}\n".write(toFile: path("cell.yaml"), atomically: true, encoding: .utf8)
        var result = try agentlab("train", "--algo", "recurrent_ppo", "--config", path("cell.yaml"), "--out", path("a"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("network.recurrent.cell"), result.error)

        try "ppo:\n  network: {dropout: 1.5}\n".write(toFile: path("dropout.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--config", path("dropout.yaml"), "--out", path("b"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("network.dropout must be in [0, 0.95], got 1.5"), result.error)

        try "ppo:\n  learning_rate_schedule: {kind: cosine, warmup: 2}\n".write(toFile: path("schedule.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--config", path("schedule.yaml"), "--out", path("c"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("learning_rate_schedule.warmup must be in [0, 1), got 2.0"), result.error)
    }
}
