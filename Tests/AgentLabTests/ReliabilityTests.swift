import Foundation
import XCTest

/// What the README's "Reliability" section promises, checked through the binary: bad
/// input is exit status 2 with a message naming it, signals save, one writer per run,
/// outputs written through devices and links, YAML bombs refused, resumes exact. (The kill
/// test and the checkpoint fuzzer run the release binary from `.ci/run`.)
final class ReliabilityTests: CommandLineTestCase {
    /// Bad flags and configuration values: each exits with 2 before anything is written,
    /// with a message that names the value.
    func testBadFlagsAndValuesAreRefusedByName() throws {
        let cases: [(arguments: [String], config: String?, message: String)] = [
            (["train", "--steps", "0"], nil, "--steps must be positive"),
            (["train", "--environments", "0"], nil, "--environments must be positive"),
            (["train", "--out", ""], nil, "--out must name a folder"),
            (["train", "--algo", "sarsa"], nil, "unknown algorithm 'sarsa'"),
            (["train", "--env", "Pong-v5"], nil, "unknown environment id 'Pong-v5'"),
            (["train"], "ppo:\n  adam_epsilon: -1\n", "adam_epsilon must be in [0, 1], got -1"),
            (["train"], "ppo:\n  steps_per_rollout: 9223372036854775807\n", "steps_per_rollout must be a whole number in 1...100000000"),
            (["train"], "ppo:\n  steps_per_rollout: 100000000\n", "needs about"),
            (["train"], "ppo:\n  network:\n    hidden_sizes: [9223372036854775807]\n", "network.hidden_sizes must be a whole number"),
            (["train", "--algo", "dqn"], "dqn:\n  buffer_size: 1e12\n", "buffer_size must be a whole number in 1...1000000000"),
            (["train", "--algo", "dqn"], "dqn:\n  batch_size: 50000\n  buffer_size: 1000\n", "batch_size (50000) must not exceed buffer_size (1000)"),
            (["train"], "ppo:\n  learning_rate: .nan\n", "'ppo.learning_rate'"),
            (["train"], "seed: -1\n", "'seed' has the wrong type: expected a whole number in 0...18446744073709551615, got -1"),
            (["train"], "environment: 5\n", "'environment' has the wrong type"),
            (["train"], "ppo:\n  entropy_coefficient: -0.5\n", "entropy_coefficient must not be negative, got -0.5"),
            (["train"], "ppo:\n  value_coefficient: -1\n", "value_coefficient must not be negative"),
            (["train"], "ppo:\n  target_kl: -0.01\n", "target_kl must be positive, got -0.01"),
            (["train"], "ppo:\n  epochs: 1000000000\n", "epochs must be a whole number in 1...10000, got 1000000000"),
            (["train"], "ppo:\n  epochs: 2.5\n", "'ppo.epochs' has the wrong type: expected a whole number, got 2.5"),
            (["train"], "steps: 1e30\n", "'steps' has the wrong type"),
            (["train"], "checkpoint_interval: 0\n", "checkpoint_interval must be a whole number in 1..."),
            (["train"], "ppo:\n  minibatches: 3\n", "minibatches must divide"),
            (["eval", "run", "--episodes", "10000000000"], nil, "--episodes must be at most 1000000"),
            (["eval", "run", "--min-return", "nan"], nil, "--min-return must be a finite number"),
            (["eval", "run", "--max-steps", "0"], nil, "--max-steps must be positive"),
            (["eval", "run", "--json", "-", "--junit", "-"], nil, "cannot both write to standard output"),
            (["eval", "run", "--json", "no/such/folder/x.json"], nil, "does not exist"),
            (["record", "GridWorld-v0", "--out", "no/such/folder/x.gif"], nil, "does not exist"),
        ]
        try trainGridWorld("run", steps: 200)
        for (index, testCase) in cases.enumerated() {
            var arguments = testCase.arguments
            if let config = testCase.config {
                try config.write(toFile: path("case.yaml"), atomically: true, encoding: .utf8)
                arguments += ["--config", path("case.yaml")]
            }
            if arguments[0] == "train", !arguments.contains("--out") { arguments += ["--out", path("x\(index)")] }
            if arguments[0] == "eval" { arguments[1] = path("run") }
            let result = try agentlab(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.error)")
            XCTAssertTrue(result.error.contains(testCase.message), "\(arguments): expected '\(testCase.message)' in: \(result.error)")
            XCTAssertFalse(result.error.contains("Fatal error"), result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x\(index)")), "\(arguments) left a folder behind")
        }
    }

    /// Alias bombs, deep nesting, huge and binary files are refused quickly with a message,
    /// also when they sit in a run folder's config.yaml read by eval.
    func testYAMLBombsAreRefused() throws {
        let aliasBomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + (1...8).map { level -> String in
                let previous = String(UnicodeScalar(UInt8(96 + level)))
                let name = String(UnicodeScalar(UInt8(97 + level)))
                return "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            }.joined()
        let keyBomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b {? *a : 1, ? [*a, *a] : 2}\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
            + "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\n"
        let bombs: [(name: String, text: String, message: String)] = [
            ("alias", aliasBomb, "expands to more than 10000 values"),
            ("keys", keyBomb, "expands to more than 10000 values"),
            ("list", "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "levels deep"),
            ("flow", "a: " + String(repeating: "{k: ", count: 20_000) + "1" + String(repeating: "}", count: 20_000), "levels deep"),
            ("block", (0..<40).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " 1\n", "levels deep"),
            ("items", "a:\n" + String(repeating: "- ", count: 30_000) + "x\n", "levels deep"),
            ("huge", "a: " + String(repeating: "x", count: 2 << 20), "a configuration may hold at most"),
            ("binary", String(decoding: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, as: UTF8.self), "cannot read config"),
            ("empty key", ": 1\n", "error: "),
        ]
        for bomb in bombs {
            try bomb.text.write(toFile: path("\(bomb.name).yaml"), atomically: true, encoding: .utf8)
            let result = try agentlab("train", "--config", path("\(bomb.name).yaml"), "--out", path("x"))
            XCTAssertEqual(result.status, 2, "\(bomb.name): \(result.error)")
            XCTAssertTrue(result.error.contains(bomb.message), "\(bomb.name): \(result.error)")
        }
        try trainGridWorld("run", steps: 200)
        try aliasBomb.write(toFile: path("run/config.yaml"), atomically: true, encoding: .utf8)
        let result = try agentlab("eval", path("run"), "--episodes", "1")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("expands to more than"), result.error)
    }

    /// Seeded random byte mutations of a valid configuration: every one is accepted or
    /// refused with status 2, never a crash.
    func testMutatedConfigurationsNeverCrash() throws {
        let valid = try agentlab("presets", "--env", "GridWorld-v0", "--algo", "ppo").output
        for (caseIndex, mutated) in mutations(of: valid, count: 40, seed: 0x5EED).enumerated() {
            try mutated.write(to: URL(fileURLWithPath: path("m.yaml")))
            let result = try agentlab("train", "--config", path("m.yaml"), "--steps", "64", "--out", path("m\(caseIndex)"))
            XCTAssertTrue([0, 2].contains(result.status), "case \(caseIndex): exit \(result.status): \(result.error)")
            if result.status == 2 { XCTAssertTrue(result.error.hasPrefix("error: ") || result.error.contains("Error:"), result.error) }
        }
    }

    /// SIGTERM (and SIGHUP) save a checkpoint like Ctrl-C and exit with 128 + the signal.
    func testSIGTERMAndSIGHUPSaveAndExitWithTheirStatus() throws {
        for (signalNumber, status) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let name = "run\(signalNumber)"
            let (process, out, err) = makeProcess(["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "50000000",
                                                   "--out", path(name)])
            try process.run()
            // The header line comes before the first step; then let it train a little.
            _ = out.fileHandleForReading.availableData
            Thread.sleep(forTimeInterval: 0.5)
            kill(process.processIdentifier, signalNumber)
            let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            _ = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit)
            XCTAssertEqual(process.terminationStatus, status, output)
            XCTAssertTrue(output.contains("the checkpoint is saved"), output)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("\(name)/checkpoint.safetensors")))
        }
    }

    /// A second writer of a run folder is refused, naming the holder; --force does not
    /// replace a run that is still training.
    func testASecondWriterIsRefused() throws {
        let (process, out, _) = makeProcess(["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "50000000",
                                             "--out", path("run")])
        try process.run()
        _ = out.fileHandleForReading.availableData  // the header: the folder is locked by now
        for arguments in [["train", "--resume", path("run")], ["train", "--out", path("run"), "--force"]] {
            let result = try agentlab(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.error)")
            XCTAssertTrue(result.error.contains("is being written by process \(process.processIdentifier)"), result.error)
        }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        // Once the writer is gone, the lock is free: a resume gets as far as checking --steps.
        let resumed = try agentlab("train", "--resume", path("run"), "--steps", "1")
        XCTAssertTrue(resumed.error.contains("is not beyond the checkpoint"), resumed.error)
    }

    /// Reports go through devices, pipes and symbolic links instead of replacing them, and
    /// `-` is standard output.
    func testOutputsWriteThroughDevicesLinksAndStandardOutput() throws {
        try trainGridWorld("run", steps: 200)
        var result = try agentlab("eval", path("run"), "--episodes", "1", "--junit", "/dev/null", "--min-return", "-100")
        XCTAssertEqual(result.status, 0, result.error)
        var status = stat()
        XCTAssertEqual(stat("/dev/null", &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")

        if FileManager.default.fileExists(atPath: "/dev/full") {
            result = try agentlab("eval", path("run"), "--episodes", "1", "--json", "/dev/full", "--min-return", "-100")
            XCTAssertEqual(result.status, 2, result.error)
            XCTAssertTrue(result.error.contains("No space left on device"), result.error)
            XCTAssertEqual(stat("/dev/full", &status), 0)
            XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/full is still a device")
        }

        try "old".write(toFile: path("target.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path("link.json"), withDestinationPath: "target.json")
        result = try agentlab("eval", path("run"), "--episodes", "1", "--json", path("link.json"), "--min-return", "-100")
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: path("link.json")), "target.json")
        XCTAssertTrue(try String(contentsOfFile: path("target.json"), encoding: .utf8).contains("\"episodes\" : 1"))

        result = try agentlab("eval", path("run"), "--episodes", "1", "--json", "-", "--min-return", "-100")
        XCTAssertEqual(result.status, 0, result.error)
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        XCTAssertEqual(report?.first?["episodes"] as? Int, 1, "stdout holds the JSON alone: \(result.output)")
    }

    /// A run stopped at any point and resumed writes the same metrics and checkpoint as
    /// one that was never stopped; a config.yaml edited in between is refused by key.
    func testAStoppedAndResumedRunEqualsAnUninterruptedOne() throws {
        let flags = ["--env", "GridWorld-v0", "--algo", "ppo", "--steps", "30000", "--seed", "7"]
        XCTAssertEqual(try agentlab(["train"] + flags + ["--out", path("whole")]).status, 0)
        // Stop it after its first progress line (10% on a pipe).
        let status = try trainAndInterrupt(["train"] + flags + ["--out", path("parts")])

        let config = path("parts/config.yaml")
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try original.replacingOccurrences(of: "seed: 7", with: "seed: 8").write(toFile: config, atomically: true, encoding: .utf8)
        var result = try agentlab("train", "--resume", path("parts"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("seed 7 → 8"), result.error)
        try original.write(toFile: config, atomically: true, encoding: .utf8)

        result = try agentlab("train", "--resume", path("parts"))
        XCTAssertEqual(result.status, 0, result.error)
        if status == 130 {
            XCTAssertTrue(result.output.contains("exactly where it stopped"), result.output)
        }
        for file in ["metrics.csv", "checkpoint.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("whole/\(file)"))),
                           try Data(contentsOf: URL(fileURLWithPath: path("parts/\(file)"))), file)
        }
    }

    /// A refused resume leaves config.yaml as it was.
    func testARefusedResumeChangesNothing() throws {
        try trainGridWorld("run", steps: 400)
        let before = try String(contentsOfFile: path("run/config.yaml"), encoding: .utf8)
        let result = try agentlab("train", "--resume", path("run"), "--steps", "100")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("--steps 100 is not beyond"), result.error)
        XCTAssertEqual(try String(contentsOfFile: path("run/config.yaml"), encoding: .utf8), before)
    }
}
