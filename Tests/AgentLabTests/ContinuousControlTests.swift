import Foundation
import XCTest

/// Continuous actions from the command line: training, normalisation saved and applied
/// frozen, rollouts with float actions, and the refusals that say what to do.
final class ContinuousControlTests: CommandLineTestCase {
    private func normalizingConfig() throws -> String {
        let text = """
            environment: Pendulum-v1
            algorithm: ppo
            steps: 256
            environments: 2
            wrappers:
              normalize_observations: true
              normalize_rewards: true
              reward_gamma: 0.9
            ppo:
              anneal_learning_rate: false  # an annealed rate follows the run's total, which --steps changes
              steps_per_rollout: 32
              minibatches: 2
              epochs: 2
              network:
                hidden_sizes: [8]

            """
        try text.write(toFile: path("pendulum.yaml"), atomically: true, encoding: .utf8)
        return path("pendulum.yaml")
    }

    /// A normalising run saves its statistics in the checkpoint; evaluation applies them
    /// frozen (two evaluations agree), and a resumed run ends with the same bytes as an
    /// uninterrupted one.
    func testNormalizationIsSavedAppliedAtEvaluationAndResumedExactly() throws {
        let config = try normalizingConfig()
        var result = try agentlab("train", "--config", config, "--out", path("run"))
        XCTAssertEqual(result.status, 0, result.error)
        let yaml = try String(contentsOfFile: path("run/config.yaml"), encoding: .utf8)
        XCTAssertTrue(yaml.contains("normalize_observations: true"), yaml)
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: path("run/checkpoint.safetensors")))
        XCTAssertNotNil(checkpoint.range(of: Data("agentlab.normalization".utf8)), "the statistics are in the checkpoint")

        result = try agentlab("eval", path("run"), "--episodes", "3", "--no-threshold", "--json", path("a.json"))
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.status, 0, result.error)
        result = try agentlab("eval", path("run"), "--episodes", "3", "--no-threshold", "--json", path("b.json"))
        XCTAssertEqual(result.status, 0, result.error)
        func episodeReturns(_ file: String) throws -> [Double] {
            let report = try XCTUnwrap(JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: path(file)))) as? [[String: Any]])
            return try XCTUnwrap(report.first?["episode_returns"] as? [Double])
        }
        let returns = try episodeReturns("a.json")
        XCTAssertEqual(returns.count, 3)
        XCTAssertEqual(try episodeReturns("b.json"), returns, "frozen statistics: the same episodes twice")
        XCTAssertTrue(returns.allSatisfy { $0 < 0 && $0 > -2_000 }, "raw Pendulum returns, not normalised rewards: \(returns)")

        // Stopped at 128 of 256 steps, then resumed: the same checkpoint as one run straight through.
        result = try agentlab("train", "--config", config, "--steps", "128", "--out", path("half"))
        XCTAssertEqual(result.status, 0, result.error)
        result = try agentlab("train", "--resume", path("half"), "--steps", "256")
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("half/checkpoint.safetensors"))), checkpoint)
    }

    /// Statistics in a checkpoint are input like any other: of the wrong size, or holding a
    /// NaN, they are refused with exit status 2 naming the checkpoint, never a crash.
    func testHostileNormalizationStatisticsAreRefused() throws {
        let config = try normalizingConfig()
        let result = try agentlab("train", "--config", config, "--steps", "128", "--out", path("run"))
        XCTAssertEqual(result.status, 0, result.error)
        let file = URL(fileURLWithPath: path("run/checkpoint.safetensors"))
        let original = try Data(contentsOf: file)
        let hostile = [
            #"{"observations":{"count":4,"mean":[0,0],"variance":[1,1]},"returns":{"count":4,"mean":[0],"variance":[1]},"running_returns":[0,0]}"#,
            #"{"observations":{"count":4,"mean":[0,0,0],"variance":[1,1,1]},"returns":{"count":4,"mean":[0,0],"variance":[1,1]},"running_returns":[0,0]}"#,
            #"{"observations":{"count":4,"mean":[0,0,"nan"],"variance":[1,1,1]},"running_returns":[]}"#,
        ]
        for statistics in hostile {
            try replacingMetadata("agentlab.normalization", with: statistics, in: original).write(to: file)
            let eval = try agentlab("eval", path("run"), "--episodes", "1", "--no-threshold")
            XCTAssertEqual(eval.status, 2, "\(statistics): \(eval.error)")
            XCTAssertTrue(eval.error.contains("checkpoint.safetensors") && eval.error.contains("normalis"), eval.error)
        }
    }

    /// `data` (a safetensors file) with metadata `key` set to `value`: the header rewritten,
    /// the tensors' bytes kept.
    private func replacingMetadata(_ key: String, with value: String, in data: Data) throws -> Data {
        let length = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        var metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        metadata[key] = value
        header["__metadata__"] = metadata
        let encoded = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var result = Data((0..<8).map { UInt8(truncatingIfNeeded: UInt64(encoded.count) >> (8 * UInt64($0))) })
        result.append(encoded)
        result.append(data.subdata(in: (8 + length)..<data.count))
        return result
    }

    func testEveryContinuousLearnerTrainsAndEvaluatesOnPendulum() throws {
        let settings = [
            "sac": "sac:\n  learning_starts: 100\n  batch_size: 32\n  network:\n    hidden_sizes: [16]\n",
            "td3": "td3:\n  learning_starts: 100\n  batch_size: 32\n  network:\n    hidden_sizes: [16]\n",
            "a2c": "a2c:\n  network:\n    hidden_sizes: [16]\n",
        ]
        for (algorithm, section) in settings.sorted(by: { $0.key < $1.key }) {
            try section.write(toFile: path("\(algorithm).yaml"), atomically: true, encoding: .utf8)
            let result = try agentlab("train", "--env", "Pendulum-v1", "--algo", algorithm, "--steps", "300",
                                      "--config", path("\(algorithm).yaml"), "--out", path(algorithm))
            XCTAssertEqual(result.status, 0, "\(algorithm): \(result.error)")
            let metrics = try String(contentsOfFile: path("\(algorithm)/metrics.csv"), encoding: .utf8)
            XCTAssertTrue(metrics.contains("losses/"), "\(algorithm) logs its losses")
            let eval = try agentlab("eval", path(algorithm), "--episodes", "2", "--no-threshold")
            XCTAssertEqual(eval.status, 0, "\(algorithm): \(eval.error)")
            XCTAssertTrue(eval.output.contains("Pendulum-v1"), eval.output)
        }
    }

    func testRolloutTakesFloatActionsAndRefusesWrongOnes() throws {
        var result = try agentlab("rollout", "Pendulum-v1", "--actions", "2,-2,0.5", "--json")
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, "a reset line and three steps")
        XCTAssertTrue(lines[1].contains(#""action":[2.0]"#), String(lines[1]))
        XCTAssertTrue(lines[2].contains(#""action":[-2.0]"#), String(lines[2]))

        result = try agentlab("rollout", "Pendulum-v1", "--actions", "1:2")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("give 1 finite float"), result.error)
        result = try agentlab("rollout", "Pendulum-v1", "--actions", "nan")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("finite"), result.error)
    }

    func testMismatchedAlgorithmsAndWrappersAreRefusedNamingTheFix() throws {
        var result = try agentlab("train", "--env", "CartPole-v1", "--algo", "sac", "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("sac learns only in continuous action spaces") && result.error.contains("dqn"),
                      result.error)
        result = try agentlab("train", "--env", "Pendulum-v1", "--algo", "dqn", "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("discrete") && result.error.contains("sac"), result.error)

        try "wrappers:\n  clip_actions: true\n".write(toFile: path("clip.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--env", "CartPole-v1", "--config", path("clip.yaml"), "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("wrappers.clip_actions needs continuous actions"), result.error)

        try "wrappers:\n  reward_clip: -1\n".write(toFile: path("range.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--env", "Pendulum-v1", "--config", path("range.yaml"), "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("wrappers.reward_clip"), result.error)

        try "wrappers:\n  normalise_rewards: true\n".write(toFile: path("typo.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--env", "Pendulum-v1", "--config", path("typo.yaml"), "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("wrappers.normalise_rewards"), result.error)

        result = try agentlab("play", "Pendulum-v1")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("continuous actions"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x")), "no folder is left behind by refused input")
    }
}
