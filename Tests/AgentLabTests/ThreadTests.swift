import Foundation
import XCTest

/// `--threads`: the same run gives the same bytes with any number of threads (shards and
/// acting slices are cut by the configuration, never by the thread count), across a stop
/// and a resume on another count too; bad counts are refused by name.
final class ThreadTests: CommandLineTestCase {
    /// Trains `flags` with each thread count and compares metrics.csv and the checkpoint.
    private func assertSameBytes(
        _ name: String, _ flags: [String], config: String, threadCounts: [Int] = [1, 2, 3],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        try config.write(toFile: path("\(name).yaml"), atomically: true, encoding: .utf8)
        for threads in threadCounts {
            let result = try agentlab(["train"] + flags + ["--config", path("\(name).yaml"), "--threads", "\(threads)",
                                                           "--out", path("\(name)-\(threads)")])
            XCTAssertEqual(result.status, 0, result.error, file: file, line: line)
            XCTAssertTrue(result.output.contains("\(threads) thread"), result.output, file: file, line: line)
        }
        let first = threadCounts[0]
        for threads in threadCounts.dropFirst() {
            for output in ["metrics.csv", "checkpoint.safetensors"] {
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("\(name)-\(first)/\(output)"))),
                               try Data(contentsOf: URL(fileURLWithPath: path("\(name)-\(threads)/\(output)"))),
                               "\(name): \(output) with \(threads) threads differs from \(first)", file: file, line: line)
            }
        }
        // The run learned something: the update's losses were logged.
        let metrics = try String(contentsOfFile: path("\(name)-\(first)/metrics.csv"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("losses/"), file: file, line: line)
    }

    func testPPOIsTheSameForAnyThreadCount() throws {
        // 8 copies × 32 steps in one minibatch of 256 rows: 16 shards of 16.
        try assertSameBytes("ppo", ["--env", "CartPole-v1", "--algo", "ppo", "--steps", "1024"],
                            config: "shard_size: 16\nppo: {epochs: 2}\n")
    }

    func testRecurrentPPOIsTheSameForAnyThreadCount() throws {
        // The preset's 8 copies × 32 steps in one minibatch of 8 sequences: with a shard size
        // of 64 rows, 4 shards of 2 sequences each.
        try assertSameBytes("recurrent", ["--env", "CartPole-NoVelocity-v1", "--algo", "recurrent_ppo", "--steps", "1024"],
                            config: "shard_size: 64\nrecurrent_ppo: {epochs: 2, network: {recurrent: {size: 8}}}\n")
    }

    func testA2CIsTheSameForAnyThreadCount() throws {
        try assertSameBytes("a2c", ["--env", "CartPole-v1", "--algo", "a2c", "--steps", "2000"],
                            config: "shard_size: 7\n")
    }

    func testREINFORCEIsTheSameForAnyThreadCount() throws {
        try assertSameBytes("reinforce", ["--env", "CartPole-v1", "--algo", "reinforce", "--steps", "1500"],
                            config: "shard_size: 16\nreinforce: {episodes_per_update: 2}\n")
    }

    func testDQNIsTheSameForAnyThreadCount() throws {
        try assertSameBytes("dqn", ["--env", "CartPole-v1", "--algo", "dqn", "--steps", "400"],
                            config: "shard_size: 8\ndqn: {learning_starts: 200, train_frequency: 1}\n")
    }

    /// 64 Breakout copies: two acting slices and the vector environment stepped in slices.
    func testPPOOnBreakoutIsTheSameForAnyThreadCount() throws {
        try assertSameBytes("breakout", ["--env", "Breakout-MinAtar", "--algo", "ppo", "--steps", "512",
                                         "--environments", "64"],
                            config: "shard_size: 32\nppo: {steps_per_rollout: 4, minibatches: 2, epochs: 1, "
                                + "network: {convolution_filters: 4, convolution_dense_size: 16}}\n",
                            threadCounts: [1, 2])
    }

    /// Started on two threads, stopped by Ctrl-C (the pool ends with the process), resumed
    /// on one: the same bytes as a run never stopped.
    func testAResumeOnAnotherThreadCountContinuesExactly() throws {
        try "shard_size: 16\n".write(toFile: path("c.yaml"), atomically: true, encoding: .utf8)
        let flags = ["--env", "GridWorld-v0", "--algo", "ppo", "--steps", "30000", "--seed", "3", "--config", path("c.yaml")]
        XCTAssertEqual(try agentlab(["train"] + flags + ["--threads", "1", "--out", path("whole")]).status, 0)
        let status = try trainAndInterrupt(["train"] + flags + ["--threads", "2", "--out", path("parts")])
        XCTAssertTrue([0, 130].contains(status), "status \(status)")

        let resumed = try agentlab("train", "--resume", path("parts"), "--threads", "1")
        XCTAssertEqual(resumed.status, 0, resumed.error)
        for output in ["metrics.csv", "checkpoint.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("whole/\(output)"))),
                           try Data(contentsOf: URL(fileURLWithPath: path("parts/\(output)"))), output)
        }
    }

    /// A failure inside sharded work (a NaN loss, found after the shards ran on three
    /// threads) ends the run with its status and message; the pool is joined on the way out.
    func testAnErrorDuringParallelWorkEndsTheRunCleanly() throws {
        try "shard_size: 8\ndqn:\n  adam_epsilon: 0\n".write(toFile: path("nan.yaml"), atomically: true, encoding: .utf8)
        let result = try agentlab("train", "--env", "GridWorld-v0", "--algo", "dqn", "--config", path("nan.yaml"),
                                  "--steps", "20000", "--threads", "3", "--out", path("nan"))
        XCTAssertEqual(result.status, 1, result.error)
        XCTAssertTrue(result.error.contains("NaN or infinite at step"), result.error)
        XCTAssertTrue(result.output.contains("3 threads"), result.output)
    }

    func testBadThreadCountsAreRefusedByName() throws {
        for command in [["train"], ["bench", "nn"], ["eval", "somewhere"]] {
            for bad in ["0", "-1", "5000"] {
                let result = try agentlab(command + ["--threads", bad])
                XCTAssertEqual(result.status, 2, "\(command) --threads \(bad)")
                XCTAssertTrue(result.error.contains("--threads"), result.error)
            }
        }
        for (bad, key) in [("threads: -3", "threads"), ("threads: 100000", "threads"), ("shard_size: 0", "shard_size"),
                           ("shard_size: 9999999999", "shard_size"), ("shard_size: many", "shard_size")] {
            try (bad + "\n").write(toFile: path("bad.yaml"), atomically: true, encoding: .utf8)
            let result = try agentlab("train", "--config", path("bad.yaml"), "--out", path("never"))
            XCTAssertEqual(result.status, 2, bad)
            XCTAssertTrue(result.error.contains(key), "\(bad): \(result.error)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("never")), bad)
        }
    }
}
