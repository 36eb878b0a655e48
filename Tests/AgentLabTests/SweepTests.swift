import Foundation
import Sweeps
import XCTest

/// `agentlab sweep` and `agentlab compare` as a user runs them: specs checked before
/// anything runs, the folder's tables, a kill and a resume, and the comparison plot.
final class SweepTests: CommandLineTestCase {
    /// A small sweep: 2 learning rates × 2 seeds of a short PPO run on CartPole.
    let smallSpec = """
        base:
          environment: CartPole-v1
          algorithm: ppo
          steps: 3072
          checkpoint_interval: 256
          ppo: {epochs: 2}
        search:
          ppo.learning_rate: [0.001, 0.003]
        method: grid
        seeds: [0, 1]
        eval_episodes: 3
        """

    func testSpecsAreCheckedBeforeAnythingRuns() throws {
        let cases: [(spec: String, message: String)] = [
            ("search:\n  ppo.learning_rat: [0.1]\n", "unknown key 'ppo.learning_rat'"),
            ("search:\n  ppo.learning_rate: {uniform: [-1.0, 0.1]}\n", "learning_rate"),
            ("search:\n  ppo.learning_rate: {log_uniform: [0.0, 0.1]}\n", "search.ppo.learning_rate.log_uniform"),
            ("search:\n  ppo.learning_rate: {uniform: [0.1, 0.01]}\n", "search.ppo.learning_rate.uniform"),
            ("search:\n  ppo.learning_rate: {normal: [0.1, 0.01]}\n", "search.ppo.learning_rate.normal"),
            ("search:\n  ppo.epochs: [1, 1]\n", "listed twice"),
            ("search:\n  ppo.epochs: [1, 2]\nmethod: bayes\n", "'bayes' is not one of grid, random, tpe"),
            ("search:\n  ppo.learning_rate: {uniform: [0.001, 0.01]}\nmethod: grid\n", "a grid needs a list of values here"),
            ("search:\n  ppo.epochs: [1, 2]\nseeds: [0, 0]\n", "a seed is listed twice"),
            ("search:\n  ppo.epochs: [1, 2]\nseeds: [-1]\n", "seeds[0]"),
            ("search:\n  ppo.epochs: [1, 2]\ntrials: 0\n", "'trials' is invalid"),
            ("search:\n  seed: [1, 2]\n", "seeds are listed under `seeds:`"),
            ("search:\n  threads: [1, 2]\n", "a sweep sets threads itself"),
            ("search:\n  algorithm: {uniform: [0.0, 1.0]}\n", "search.algorithm"),
            ("base:\n  ppo: {epochs: 2}\nsearch:\n  algorithm: [ppo, dqn]\n", "unknown key 'ppo'"),
            ("search:\n  ppo.epochs: [1, 2]\nobjective: speed\n", "'speed' is not one of final_return, auc"),
            ("search:\n  ppo.epochs: [1, 2]\nmetod: grid\n", "unknown key 'metod'"),
            ("base:\n  environment: Pong-v9\nsearch:\n  ppo.epochs: [1, 2]\n", "Pong-v9"),
            ("search: {}\n", "give at least one key to search"),
            ("search:\n  ppo.epochs: [1, 0]\nmethod: grid\n", "epochs"),
        ]
        for (i, c) in cases.enumerated() {
            try c.spec.write(toFile: path("bad\(i).yaml"), atomically: true, encoding: .utf8)
            let result = try agentlab("sweep", path("bad\(i).yaml"), "--out", path("bad\(i)"))
            XCTAssertEqual(result.status, 2, "\(c.spec): \(result.error)")
            XCTAssertTrue(result.error.contains(c.message), "\(c.spec): expected '\(c.message)' in \(result.error)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad\(i)/trials")), "nothing ran for \(c.spec)")
        }
        let usage = try agentlab("sweep")
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.error.contains("give a spec file"), usage.error)
        let ray = try agentlab("sweep", "x.yaml", "--backend", "ray")
        XCTAssertEqual(ray.status, 2)
        XCTAssertTrue(ray.error.contains("--address"), ray.error)
    }

    /// Seeded mutations of a valid spec (bytes replaced, inserted, removed): each ends with
    /// 0 (it ran), or 2 and a message; never a crash or a hang.
    func testMutatedSpecsNeverCrash() throws {
        let valid = """
            base: {environment: GridWorld-v0, algorithm: ppo, steps: 64}
            search:
              ppo.learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}
              ppo.epochs: [1, 2]
            method: random
            trials: 1
            seeds: [0]
            eval_episodes: 1
            """
        var statuses: [Int32: Int] = [:]
        for (caseIndex, mutated) in mutations(of: valid, count: 60, seed: 0x5EED_5EED).enumerated() {
            try mutated.write(to: URL(fileURLWithPath: path("m.yaml")))
            let result = try agentlab("sweep", path("m.yaml"), "--out", path("m\(caseIndex)"), "--parallel", "1")
            statuses[result.status, default: 0] += 1
            XCTAssertTrue([0, 2].contains(result.status), "case \(caseIndex): exit \(result.status): \(result.error)")
            if result.status == 2 { XCTAssertTrue(result.error.hasPrefix("error: ") || result.error.contains("Error:"), result.error) }
        }
        XCTAssertGreaterThan(statuses[0, default: 0], 0, "some mutations still run: \(statuses)")
        XCTAssertGreaterThan(statuses[2, default: 0], 0, "some are refused: \(statuses)")
    }

    func testKilledSweepResumesToTheSameTables() throws {
        try smallSpec.write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
        let whole = try agentlab("sweep", path("spec.yaml"), "--out", path("whole"), "--parallel", "2")
        XCTAssertEqual(whole.status, 0, whole.error)
        XCTAssertTrue(whole.output.contains("| rank | configuration | ppo.learning_rate |"), whole.output)

        // Kill the sweep with SIGKILL once its first trials have checkpoints, then resume.
        let (process, _, _) = makeProcess(["sweep", path("spec.yaml"), "--out", path("killed"), "--parallel", "2"])
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && !FileManager.default.fileExists(atPath: path("killed/trials/c000-s0/checkpoint.safetensors")) {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let atKill = try String(contentsOfFile: path("killed/trials.csv"), encoding: .utf8)
        XCTAssertTrue(atKill.contains(",running,"), "the kill landed while trials ran: \(atKill)")
        let resumed = try resumeWhenTrialsLetGo(path("killed"))
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("Resuming"), resumed.output)

        XCTAssertEqual(try table(path("whole/trials.csv"), without: "wall_seconds"),
                       try table(path("killed/trials.csv"), without: "wall_seconds"))
        XCTAssertEqual(try String(contentsOfFile: path("whole/summary.csv"), encoding: .utf8),
                       try String(contentsOfFile: path("killed/summary.csv"), encoding: .utf8))
        let trials = try table(path("whole/trials.csv"), without: "wall_seconds")
        XCTAssertEqual(trials.count, 5, "a header and 2 × 2 trials")
        XCTAssertTrue(trials.dropFirst().allSatisfy { $0.contains("done") }, "\(trials)")
        // best.yaml trains as it is.
        let best = try String(contentsOfFile: path("whole/best.yaml"), encoding: .utf8)
        XCTAssertTrue(best.contains("learning_rate: 0.00"), best)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("whole/trials/c001-s1/eval.json")))

        // compare draws the sweep's two configurations.
        let compared = try agentlab("compare", path("whole"), "--out", path("cmp.svg"))
        XCTAssertEqual(compared.status, 0, compared.error)
        XCTAssertTrue(compared.output.contains("c000 learning_rate=0.001 (2 seeds)") || compared.output.contains("c000"), compared.output)
        let svg = try String(contentsOfFile: path("cmp.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("c001"), "the legend names both configurations")
        let png = try Data(contentsOf: URL(fileURLWithPath: path("cmp.png")))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG file")
    }

    func testCtrlCStopsTheTrialsCleanly() throws {
        try smallSpec.replacingOccurrences(of: "steps: 3072", with: "steps: 200000")
            .write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
        let (process, out, _) = makeProcess(["sweep", path("spec.yaml"), "--out", path("s"), "--parallel", "2"])
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && !FileManager.default.fileExists(atPath: path("s/trials/c000-s1/checkpoint.safetensors")) {
            usleep(20_000)
        }
        let second = try agentlab("sweep", "--resume", path("s"))
        XCTAssertEqual(second.status, 2, "a second writer is refused")
        XCTAssertTrue(second.error.contains("is being written by process \(process.processIdentifier)"), second.error)
        process.interrupt()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, output)
        XCTAssertTrue(output.contains("agentlab sweep --resume"), output)
        let trials = try String(contentsOfFile: path("s/trials.csv"), encoding: .utf8)
        XCTAssertEqual(trials.components(separatedBy: ",running,").count - 1, 2, "both running trials stay resumable: \(trials)")
        for id in ["c000-s0", "c000-s1"] {
            let log = try String(contentsOfFile: path("s/logs/\(id).log"), encoding: .utf8)
            XCTAssertTrue(log.contains("Stopped by Ctrl-C (SIGINT)") && log.contains("the checkpoint is saved"), log)
        }
        XCTAssertEqual(try agentlab("sweep", "--resume", path("s"), "--out", path("x")).status, 2, "--resume takes no --out")
    }

    /// A trial whose training fails (Adam without ε on DQN: a NaN loss) is tried once more,
    /// then recorded as failed with its reason; the sweep goes on and ranks the rest.
    func testAFailingTrialIsRetriedOnceThenRecordedWithItsReason() throws {
        try """
            base: {environment: GridWorld-v0, algorithm: dqn, steps: 2000, shard_size: 8}
            search:
              dqn.adam_epsilon: [0.0, 1.0e-8]
            method: grid
            seeds: [0]
            eval_episodes: 1
            """.write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
        let result = try agentlab("sweep", path("spec.yaml"), "--out", path("s"), "--parallel", "2")
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.error.contains("c000-s0 failed") && result.error.contains("trying it once more"), result.error)
        XCTAssertTrue(result.output.contains("c000-s0 started: dqn.adam_epsilon=0.0 (attempt 2)"), result.output)
        let trials = try Table(path("s/trials.csv"))
        XCTAssertEqual(trials.value("status", trial: "c000-s0"), "failed")
        XCTAssertTrue(trials.value("reason", trial: "c000-s0")?.contains("NaN or infinite") == true, "\(trials.rows)")
        XCTAssertEqual(trials.value("status", trial: "c001-s0"), "done")
        let summary = try String(contentsOfFile: path("s/summary.csv"), encoding: .utf8)
        XCTAssertEqual(summary.split(separator: "\n").count, 2, "only the configuration that trained is ranked: \(summary)")
        XCTAssertTrue(result.output.contains("1 failed (see trials.csv)"), result.output)
    }

    func testCompareGroupsRunsBySettingsApartFromTheSeed() throws {
        try trainGridWorld("a2c-0", seed: 0)
        try trainGridWorld("a2c-1", seed: 1)
        let ppo = try agentlab("train", "--env", "GridWorld-v0", "--algo", "ppo", "--steps", "4000", "--out", path("ppo-0"))
        XCTAssertEqual(ppo.status, 0, ppo.error)
        let result = try agentlab("compare", path("a2c-0"), path("ppo-0"), path("a2c-1"), "--metric", "charts/episodic_length",
                                  "--out", path("runs.svg"))
        XCTAssertEqual(result.status, 0, result.error)
        let lines = result.output.split(separator: "\n").filter { $0.hasPrefix("| a2c") || $0.hasPrefix("| ppo") }
        XCTAssertEqual(lines.count, 2, "two groups: \(result.output)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("| a2c") && $0.contains("| 2 |") }, "the a2c seeds form one group: \(result.output)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("| ppo") && $0.contains("| 1 |") }, result.output)
        let svg = try String(contentsOfFile: path("runs.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("GridWorld-v0: charts/episodic_length"), "the title names the metric")
        XCTAssertFalse(svg.contains("solved"), "no threshold line for a metric other than the return")
        let bad = try agentlab("compare", path("a2c-0"), "--out", path("x.png"))
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.error.contains("--out must name an .svg file"), bad.error)
    }

    /// A table's rows by column name.
    private struct Table {
        let rows: [[String: String]]
        init(_ file: String) throws {
            let lines = try CSV.rows(String(contentsOfFile: file, encoding: .utf8), name: file)
            rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
        }
        func value(_ column: String, trial: String) -> String? { rows.first { $0["trial"] == trial }?[column] }
    }

    /// `objective: auc` scores a trial by the mean of its learning curve: every return its
    /// metrics.csv logged, worked out here from the file itself.
    func testAUCObjectiveIsTheMeanOfTheLoggedReturns() throws {
        try smallSpec.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]\nobjective: auc")
            .replacingOccurrences(of: "ppo.learning_rate: [0.001, 0.003]", with: "ppo.learning_rate: [0.001]")
            .write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
        let result = try agentlab("sweep", path("spec.yaml"), "--out", path("s"))
        XCTAssertEqual(result.status, 0, result.error)
        let metrics = try CSV.rows(String(contentsOfFile: path("s/trials/c000-s0/metrics.csv"), encoding: .utf8), name: "m")
        let column = try XCTUnwrap(metrics[0].firstIndex(of: "charts/episodic_return"))
        let returns = metrics.dropFirst().compactMap { Double($0[column]) }
        XCTAssertFalse(returns.isEmpty)
        let objective = try XCTUnwrap(Double(try XCTUnwrap(Table(path("s/trials.csv")).value("objective", trial: "c000-s0"))))
        XCTAssertEqual(objective, returns.reduce(0, +) / Double(returns.count), accuracy: 1e-9)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s/trials/c000-s0/eval.json")), "auc needs no evaluation")
    }

    func testResumingAFinishedSweepKeepsItsTrials() throws {
        try smallSpec.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]")
            .replacingOccurrences(of: "steps: 3072", with: "steps: 512")
            .write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try agentlab("sweep", path("spec.yaml"), "--out", path("s")).status, 0)
        let before = try String(contentsOfFile: path("s/trials.csv"), encoding: .utf8)
        let again = try agentlab("sweep", "--resume", path("s"))
        XCTAssertEqual(again.status, 0, again.error)
        XCTAssertFalse(again.output.contains("started"), "no trial runs again: \(again.output)")
        XCTAssertEqual(before, try String(contentsOfFile: path("s/trials.csv"), encoding: .utf8))
        let twice = try agentlab("sweep", path("spec.yaml"), "--out", path("s"))
        XCTAssertEqual(twice.status, 2)
        XCTAssertTrue(twice.error.contains("already holds a sweep"), twice.error)
    }

    /// Resumes the sweep; its killed trials stop themselves when they notice (within a
    /// fraction of a second), so a run folder still locked is waited for.
    private func resumeWhenTrialsLetGo(_ folder: String) throws -> (status: Int32, output: String, error: String) {
        var result = try agentlab("sweep", "--resume", folder)
        for _ in 0..<50 where result.status == 2 && result.error.contains("is being written by") {
            usleep(200_000)
            result = try agentlab("sweep", "--resume", folder)
        }
        return result
    }

    /// A CSV's lines with one column removed.
    private func table(_ file: String, without column: String) throws -> [String] {
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        guard let drop = lines.first?.split(separator: ",").firstIndex(of: Substring(column)) else { return lines }
        return lines.map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            fields.remove(at: drop)
            return fields.joined(separator: ",")
        }
    }

}
