import Agents
import Environments
import Foundation
import Parallelism
import Training
import XCTest

/// The public training API as a program uses it: its own environment, registered at run
/// time, trained, evaluated.
final class LibraryAPITests: XCTestCase {
    /// A training session sizes the shared worker pool to its thread count; later tests
    /// expect the pool's default of one thread.
    override func tearDown() {
        WorkerPool.shared.setThreadCount(1)
    }

    /// A corridor of five cells: start in the middle, +1 for reaching the right end, −1 for
    /// the left end, nothing otherwise. The best return is 1 in two steps.
    struct Corridor: Environment {
        /// −1 before the first reset.
        var position = -1
        var observationSpace: Box { Box(low: 0, high: 1, shape: [5]) }
        var actionSpace: ActionSpace { .discrete(Discrete(2)) }

        mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
            position = 2
            observe(into: observation)
        }

        mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
            throws(EnvironmentError) -> StepOutcome
        {
            guard action == 0 || action == 1 else { throw .invalidAction(action, count: 2) }
            guard position >= 0 else { throw .notReset }
            guard position > 0 && position < 4 else { throw .episodeEnded }
            position += action == 1 ? 1 : -1
            observe(into: observation)
            let ended = position == 0 || position == 4
            return StepOutcome(reward: position == 4 ? 1 : position == 0 ? -1 : 0, isTerminated: ended)
        }

        func observe(into observation: UnsafeMutableBufferPointer<Float>) {
            for i in 0..<5 { observation[i] = i == position ? 1 : 0 }
        }

        func render() -> Frame { Frame(width: 5, height: 1) }
    }

    func testARegisteredEnvironmentTrainsEvaluatesAndResumesThroughThePublicAPI() throws {
        EnvironmentRegistry.register(EnvironmentSpec(
            id: "Corridor-v0", summary: "Walk right.", maxEpisodeSteps: 20, rewardThreshold: 1,
            makeBase: { Corridor() }))
        var corridor = try EnvironmentRegistry.standard.makeEnvironment(id: "Corridor-v0")
        func check<E: Environment>(_ environment: inout E) throws -> EnvironmentChecker.Report {
            try EnvironmentChecker.check(&environment, steps: 200)
        }
        _ = try check(&corridor)

        // The preset fallback, then the YAML laid over it.
        let configuration = try RunConfiguration(
            environment: "Corridor-v0", algorithm: "ppo", yaml: "steps: 4096\nseed: 3\nppo: {learning_rate: 0.003}")
        XCTAssertEqual(configuration.environment, "Corridor-v0")
        XCTAssertEqual(configuration.steps, 4096)
        XCTAssertEqual(configuration.seed, 3)
        XCTAssertEqual((configuration.settings as? PPO.Configuration)?.learningRate, 0.003)
        XCTAssertThrowsError(try RunConfiguration(environment: "Corridor-v0", yaml: "stepz: 1")) {
            XCTAssertTrue("\($0)".contains("stepz"), "\($0)")
        }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentlab-api-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = try TrainingSession(starting: configuration, folder: folder)
        try session.run()
        for file in ["config.yaml", "metrics.csv", "checkpoint.safetensors", "learning_curve.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), file)
        }
        XCTAssertThrowsError(try TrainingSession(starting: configuration, folder: folder), "a run is never overwritten silently")

        // Resumed to a new total: the metrics continue to it.
        try TrainingSession(resuming: folder, steps: 6144).run()
        let metrics = try String(contentsOfFile: "\(folder)/metrics.csv", encoding: .utf8)
        XCTAssertTrue(metrics.split(separator: "\n").last?.hasPrefix("6144,") ?? false, metrics)

        let run = try TrainedRun(folder)
        let result = try run.evaluate(episodes: 10)
        XCTAssertEqual(result.episodes.count, 10)
        XCTAssertEqual(result.meanReturn, 1, "two steps right is learned in 6,144 steps")
        XCTAssertEqual(result.episodes.map(\.length), Array(repeating: 2, count: 10))
        XCTAssertTrue(result.passes)
    }
}
