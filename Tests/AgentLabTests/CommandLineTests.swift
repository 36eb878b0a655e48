import Environments
import Foundation
import XCTest

/// The command line as a user meets it: the built binary run as a process, its exit
/// status, its messages and the files it writes. Runs are tiny (GridWorld, a few thousand
/// steps) so the debug build stays quick.
final class CommandLineTests: CommandLineTestCase {
    func testEveryCommandHasHelp() throws {
        for command in ["train", "eval", "watch", "play", "record", "presets", "envs", "rollout", "bench"] {
            let result = try agentlab(command, "--help")
            XCTAssertEqual(result.status, 0, command)
            XCTAssertTrue(result.output.contains("USAGE: agentlab \(command)"), "\(command): \(result.output)")
        }
    }

    func testBadInputExitsWithStatusTwoAndNamesTheProblem() throws {
        var result = try agentlab("train", "--env", "Pong-v5", "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("unknown environment id 'Pong-v5'") && result.error.contains("CartPole-v1"), result.error)

        result = try agentlab("train", "--algo", "sarsa", "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("unknown algorithm 'sarsa'") && result.error.contains("dqn"), result.error)

        try "ppo:\n  learnin_rate: 0.1\n".write(toFile: path("bad.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--config", path("bad.yaml"), "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("unknown key 'ppo.learnin_rate'"), result.error)

        try "ppo:\n  gamma: 1.5\n".write(toFile: path("range.yaml"), atomically: true, encoding: .utf8)
        result = try agentlab("train", "--config", path("range.yaml"), "--out", path("x"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("gamma must be in [0, 1], got 1.5"), result.error)

        result = try agentlab("rollout", "CartPole-v1", "--actions", "0,2")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("valid actions are 0...1"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x")), "no folder is left behind by refused input")
    }

    func testTrainWritesARunFolderThatEvalGates() throws {
        try trainGridWorld("run")
        for file in ["config.yaml", "metrics.csv", "checkpoint.safetensors", "checkpoint.json", "learning_curve.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("run/\(file)")), file)
        }
        let metrics = try String(contentsOfFile: path("run/metrics.csv"), encoding: .utf8)
        XCTAssertTrue(metrics.hasPrefix("step,episodes,charts/episodic_return,charts/episodic_length,"), metrics)

        let pass = try agentlab("eval", path("run"), "--episodes", "10", "--min-return", "-1000",
                                "--json", path("eval.json"), "--junit", path("eval.xml"))
        XCTAssertEqual(pass.status, 0, pass.error)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("eval.json")))) as? [[String: Any]])
        XCTAssertEqual(report.first?["environment"] as? String, "GridWorld-v0")
        XCTAssertEqual((report.first?["episode_returns"] as? [Double])?.count, 10)
        XCTAssertEqual(report.first?["checkpoint_step"] as? Int, 4_000)
        let junit = try String(contentsOfFile: path("eval.xml"), encoding: .utf8)
        XCTAssertTrue(junit.contains("<testcase") && !junit.contains("<failure"), junit)

        let fail = try agentlab("eval", path("run"), "--episodes", "5", "--min-return", "1000", "--junit", path("fail.xml"))
        XCTAssertEqual(fail.status, 1)
        XCTAssertTrue(try String(contentsOfFile: path("fail.xml"), encoding: .utf8).contains("<failure"))

        // An existing run is not overwritten without --force.
        let again = try agentlab("train", "--env", "GridWorld-v0", "--out", path("run"))
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.error.contains("already holds a run"), again.error)
    }

    func testSameSeedGivesTheSameFilesByteForByte() throws {
        try trainGridWorld("a", seed: 3)
        try trainGridWorld("b", seed: 3)
        for file in ["metrics.csv", "checkpoint.safetensors", "checkpoint.json"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/\(file)"))),
                           try Data(contentsOf: URL(fileURLWithPath: path("b/\(file)"))), file)
        }
        try trainGridWorld("c", seed: 4)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/checkpoint.safetensors"))),
                          try Data(contentsOf: URL(fileURLWithPath: path("c/checkpoint.safetensors"))))
    }

    func testResumeContinuesFromTheCheckpoint() throws {
        try trainGridWorld("run", steps: 2_000)
        let result = try agentlab("train", "--resume", path("run"), "--steps", "4000")
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("Resuming from step 2000"), result.output)
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("run/checkpoint.json")))) as? [String: Any]
        XCTAssertEqual(info?["step"] as? Int, 4_000)
        XCTAssertTrue(try String(contentsOfFile: path("run/config.yaml"), encoding: .utf8).contains("steps: 4000"))
    }

    func testCorruptOrMismatchedCheckpointsAreRefused() throws {
        try trainGridWorld("run")
        // Truncate the checkpoint: refused, naming the file and the problem.
        let weights = URL(fileURLWithPath: path("run/checkpoint.safetensors"))
        try Data(contentsOf: weights).prefix(100).write(to: weights)
        var result = try agentlab("eval", path("run"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("checkpoint.safetensors") && result.error.contains("is truncated"), result.error)

        // A run whose config names another environment than its checkpoint.
        try trainGridWorld("other")
        let config = path("other/config.yaml")
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "environment: GridWorld-v0", with: "environment: GridWorld-Cliff-v0")
            .write(toFile: config, atomically: true, encoding: .utf8)
        result = try agentlab("eval", path("other"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("GridWorld-v0") && result.error.contains("GridWorld-Cliff-v0"), result.error)

        result = try agentlab("watch", path("missing"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("no such run folder"), result.error)
    }

    func testNonFiniteLossStopsTrainingWithStatusOne() throws {
        // Adam without its ε divides 0 by 0 for every weight whose gradient is 0 (the
        // one-hot inputs that were not seen): NaN in the first update.
        try "dqn:\n  adam_epsilon: 0\n"
            .write(toFile: path("nan.yaml"), atomically: true, encoding: .utf8)
        let result = try agentlab("train", "--env", "GridWorld-v0", "--algo", "dqn", "--config", path("nan.yaml"),
                                  "--steps", "20000", "--out", path("nan"))
        XCTAssertEqual(result.status, 1, result.error)
        XCTAssertTrue(result.error.contains("NaN or infinite at step"), result.error)
        XCTAssertTrue(result.error.contains("no checkpoint was written"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("nan/checkpoint.safetensors")),
                       "no checkpoint of a diverged agent")
    }

    func testRecordWritesAGIFOfATrainedRunHeadless() throws {
        try trainGridWorld("run")
        let result = try agentlab("record", path("run"), "--out", path("run.gif"), "--episodes", "1", "--max-steps", "5")
        XCTAssertEqual(result.status, 0, result.error)
        let gif = try Data(contentsOf: URL(fileURLWithPath: path("run.gif")))
        XCTAssertEqual(Array(gif.prefix(6)), Array("GIF89a".utf8))
    }

    /// The presets table keeps one line per preset: nested settings are flattened
    /// (`exploration.end=0.01`) instead of spilling YAML lines into the table.
    func testPresetsTableFlattensNestedSettings() throws {
        let result = try agentlab("presets")
        XCTAssertEqual(result.status, 0, result.error)
        let rows = result.output.split(separator: "\n").filter { $0.contains(" dqn ") }
        XCTAssertEqual(rows.count, EnvironmentRegistry.builtIn.specs.count, result.output)
        let cartPole = try XCTUnwrap(rows.first { $0.contains("CartPole-v1") })
        for setting in ["exploration.end=0.01", "exploration.fraction=0.1", "network.hidden_sizes=[128, 128]",
                        "double_dqn=true"] {
            XCTAssertTrue(cartPole.contains(setting), "\(setting) missing in: \(cartPole)")
        }
        XCTAssertFalse(result.output.contains("\n  end:"), "nested YAML inside the table:\n\(result.output)")
    }

    /// A config.yaml edited to hold a section of another algorithm, or a key no run has,
    /// is refused by name when a run folder is read back.
    func testRunFolderConfigRefusesUnknownSections() throws {
        try trainGridWorld("run", steps: 400)
        let config = path("run/config.yaml")
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "dqn:\n  gamma: 0.5\n").write(toFile: config, atomically: true, encoding: .utf8)
        let result = try agentlab("eval", path("run"), "--episodes", "1")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("unknown key 'dqn'"), result.error)
    }

    func testEvalStepLimitMustBePositive() throws {
        try trainGridWorld("run", steps: 400)
        let result = try agentlab("eval", path("run"), "--max-steps", "0")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("--max-steps must be positive"), result.error)
        let report = try agentlab("eval", path("run"), "--episodes", "2", "--max-steps", "3", "--json", path("e.json"))
        XCTAssertEqual(report.status, 1, "three steps never reach the goal: \(report.output)")
        let json = try String(contentsOfFile: path("e.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"episodes_cut_short\" : 2"), json)
        XCTAssertTrue(report.output.contains("2 of 2 episodes were cut short at --max-steps"), report.output)
    }
}
