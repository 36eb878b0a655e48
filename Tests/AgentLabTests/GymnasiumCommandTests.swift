import Environments
import Foundation
import XCTest

/// `--env gymnasium:ID` from the command line: failures are messages with exit status 2,
/// and no worker process outlives `agentlab`. Skipped, saying so, without a Python that has
/// `gymnasium` (`$AGENTLAB_PYTHON`, else `python3`); `.ci/run` provides one.
final class GymnasiumCommandTests: CommandLineTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gymnasium").path

    override func setUpWithError() throws {
        try super.setUpWithError()
        if case .failure(let reason) = GymnasiumBridge.installedVersion() {
            throw XCTSkip("Gymnasium command tests skipped: \(reason)")
        }
        extraEnvironment["PYTHONPATH"] = Self.fixtures
    }

    func testEnvironmentFailuresExitWithStatus2AndSayWhatHappened() throws {
        let train = ["train", "--steps", "2000", "--environments", "2"]
        let raising = try agentlab(train + ["--env", "gymnasium:agentlab_test_envs:RaisingEnv", "--out", path("raising")])
        XCTAssertEqual(raising.status, 2, raising.error)
        XCTAssertTrue(raising.error.contains("ValueError: the reactor overheated (in step 3 of copy 0's episode)"),
                      raising.error)

        extraEnvironment["AGENTLAB_GYMNASIUM_TIMEOUT"] = "2"
        let hanging = try agentlab(train + ["--env", "gymnasium:agentlab_test_envs:HangingEnv", "--out", path("hanging")])
        XCTAssertEqual(hanging.status, 2, hanging.error)
        XCTAssertTrue(hanging.error.contains("did not answer within 2 s"), hanging.error)
        extraEnvironment["AGENTLAB_GYMNASIUM_TIMEOUT"] = nil

        for (id, expected) in [("agentlab_test_envs:DictObservationEnv", "the observation space Dict("),
                               ("agentlab_test_envs:MultiDiscreteActionEnv", "the action space MultiDiscrete"),
                               ("NoSuchEnvironment-v3", "NoSuchEnvironment")] {
            let result = try agentlab(train + ["--env", "gymnasium:\(id)", "--out", path("refused")])
            XCTAssertEqual(result.status, 2, result.error)
            XCTAssertTrue(result.error.contains("gymnasium:\(id): ") && result.error.contains(expected), result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("refused")), "nothing is written for a refused id")
        }

        extraEnvironment["AGENTLAB_PYTHON"] = "/nonexistent/python3"
        let noPython = try agentlab("rollout", "gymnasium:CartPole-v1")
        XCTAssertEqual(noPython.status, 2, noPython.error)
        XCTAssertTrue(noPython.error.contains("AGENTLAB_PYTHON is /nonexistent/python3"), noPython.error)
        XCTAssertEqual(workers(of: nil), [], "no worker is left behind")
    }

    func testNoWorkerOutlivesAgentlabWhateverStopsIt() throws {
        for (signalNumber, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGKILL, Int32(9))] {
            let (process, out, _) = makeProcess(["train", "--env", "gymnasium:CartPole-v1", "--environments", "4",
                                                 "--steps", "100000000", "--out", path("run-\(signalNumber)")])
            try process.run()
            var seen = ""  // the header comes once the workers run
            while !seen.contains("Training ppo on gymnasium:CartPole-v1") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            usleep(500_000)
            let started = workers(of: process.processIdentifier)
            XCTAssertFalse(started.isEmpty, "training runs in worker processes")
            kill(process.processIdentifier, signalNumber)
            _ = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, status)
            // A killed agentlab cannot close its workers: the kernel's parent-death signal does.
            let deadline = Date().addingTimeInterval(10)
            while started.contains(where: isRunning), Date() < deadline { usleep(50_000) }
            XCTAssertEqual(started.filter(isRunning), [], "workers outlived agentlab after signal \(signalNumber)")
        }
    }

    func testANativelyTrainedRunPlaysGymnasiumsCopyOfItsEnvironment() throws {
        let train = try agentlab("train", "--env", "CartPole-v1", "--steps", "2048", "--out", path("native"))
        XCTAssertEqual(train.status, 0, train.error)
        let eval = try agentlab("eval", path("native"), "--env", "gymnasium:CartPole-v1", "--episodes", "3",
                                "--no-threshold", "--json", "-")
        XCTAssertEqual(eval.status, 0, eval.error)
        let reports = try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [[String: Any]]
        XCTAssertEqual(reports?.first?["environment"] as? String, "gymnasium:CartPole-v1", eval.output)
        let other = try agentlab("eval", path("native"), "--env", "gymnasium:Acrobot-v1", "--episodes", "1")
        XCTAssertEqual(other.status, 2, other.error)
        XCTAssertTrue(other.error.contains("trained on CartPole-v1") && other.error.contains("Acrobot-v1"), other.error)
    }

    /// The process ids of running bridge workers started by `parent`, or (nil) those whose
    /// parent is gone: orphans. This test process's own workers (the bridge tests keep idle
    /// ones for reuse) are not orphans.
    func workers(of parent: pid_t?) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard isRunning(pid),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init)
            guard arguments.contains("agentlab_gymnasium"), let flag = arguments.firstIndex(of: "--parent-pid"),
                  flag + 1 < arguments.count else { return false }
            return parent.map { arguments[flag + 1] == String($0) } ?? !isRunning(Int32(arguments[flag + 1]) ?? 0)
        }.sorted()
    }

    /// Whether `pid` is a live process (not gone, not a zombie waiting for its reaper).
    func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }
}
