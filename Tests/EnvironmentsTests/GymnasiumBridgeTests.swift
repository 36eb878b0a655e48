import Environments
import Foundation
import XCTest

/// The Gymnasium bridge against Gymnasium itself. These need a Python with `gymnasium`
/// (`$AGENTLAB_PYTHON`, else `python3`); without one they skip, saying so. `.ci/run` runs
/// them with a pinned Gymnasium in a virtual environment.
final class GymnasiumBridgeTests: XCTestCase {
    /// Tests/Fixtures/gymnasium: small environments that raise, hang, count or refuse.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gymnasium").path

    override func setUpWithError() throws {
        if case .failure(let reason) = GymnasiumBridge.installedVersion() {
            throw XCTSkip("Gymnasium bridge tests skipped: \(reason)")
        }
        setenv("PYTHONPATH", Self.fixtures, 1)
    }

    /// Runs `script` with the bridge's interpreter and returns its standard output.
    func python(_ script: String) throws -> String {
        let process = Process()
        let interpreter = ProcessInfo.processInfo.environment["AGENTLAB_PYTHON"] ?? "/usr/bin/env"
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = (interpreter == "/usr/bin/env" ? ["python3"] : []) + ["-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "the reference script failed")
        return String(decoding: data, as: UTF8.self)
    }

    /// An action sequence under which CartPole's pole falls after a dozen steps.
    static let actions = (0..<120).map { ($0 / 3 + $0 % 2) % 2 }

    func testCartPoleThroughTheBridgeIsGymnasiumsOwnBitForBit() throws {
        // Gymnasium's own run: observation bits, reward, terminated, truncated per line.
        let reference = try python("""
            import gymnasium, numpy as np
            env = gymnasium.make("CartPole-v1")
            obs, _ = env.reset(seed=7)
            print(" ".join(str(int(b)) for b in np.asarray(obs, dtype=np.float32).view(np.uint32)))
            for a in \(Self.actions):
                obs, r, term, trunc, _ = env.step(a)
                print(" ".join(str(int(b)) for b in np.asarray(obs, dtype=np.float32).view(np.uint32)), r, int(term), int(trunc))
                if term or trunc:
                    break
            """).split(separator: "\n")
        var environment = try GymnasiumEnvironment(id: "CartPole-v1")
        let first = environment.reset(seed: 7)
        XCTAssertEqual(first.map(\.bitPattern).map(String.init).joined(separator: " "), String(reference[0]))
        var compared = 0
        for (line, action) in zip(reference.dropFirst(), Self.actions) {
            let fields = line.split(separator: " ")
            let step = try environment.step(action)
            XCTAssertEqual(step.observation.map(\.bitPattern).map(String.init), fields[0..<4].map(String.init))
            XCTAssertEqual(Double(step.reward), Double(fields[4]))
            XCTAssertEqual(step.isTerminated, fields[5] == "1")
            XCTAssertEqual(step.isTruncated, fields[6] == "1")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 10, "the episode runs past its first steps, then the pole falls")
        XCTAssertThrowsError(try environment.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }
    }

    func testVectorCopiesOverTwoWorkersMatchSingleEnvironmentsSeededAlike() throws {
        let vector = try GymnasiumVectorEnvironment(id: "CartPole-v1", count: 4, workers: 2)
        var singles = try (0..<4).map { _ in try GymnasiumEnvironment(id: "CartPole-v1") }
        vector.reset(seed: 3)
        for i in 0..<4 {
            // Copy i of a vector reset with s is a single environment reset with seedForCopy(i, of: s).
            XCTAssertEqual(singles[i].reset(seed: seedForCopy(i, of: 3)), Array(vector.observation(ofCopy: i)))
        }
        var ended = 0
        for t in 0..<60 {
            let actions = (0..<4).map { (t + $0) % 2 }
            try vector.step(actions)
            for i in 0..<4 {
                let step = try singles[i].step(actions[i])
                XCTAssertEqual(vector.hasFinished(copy: i), step.isDone)
                if step.isDone {
                    ended += 1
                    XCTAssertEqual(Array(vector.finalObservation(ofCopy: i)), step.observation)
                    // An unseeded reset continues the copy's generator, as the vector's autoreset did.
                    XCTAssertEqual(singles[i].reset(seed: nil), Array(vector.observation(ofCopy: i)))
                } else {
                    XCTAssertEqual(Array(vector.observation(ofCopy: i)), step.observation)
                }
            }
            if ended > 0 { break }
        }
        XCTAssertGreaterThan(ended, 0, "alternating pushes end an episode within 60 steps")
    }

    func testAutoresetFinalObservationsActionStartAndRendering() throws {
        // AgentLabCounting-v0: Discrete(3, start=1), terminates after 3 steps, truncated at 2
        // by its registered time limit; observation [[step, action], [episode, seed]].
        let vector = try GymnasiumVectorEnvironment(
            id: "agentlab_test_envs:AgentLabCounting-v0", count: 2, workers: 1, render: true)
        XCTAssertEqual(vector.observationSpace.shape, [2, 2])
        XCTAssertEqual(vector.actionSpace, .discrete(Discrete(3)))
        vector.reset(seed: 11)
        XCTAssertEqual(Array(vector.observation(ofCopy: 0).prefix(3)), [0, 0, 1])
        try vector.step([0, 2])
        XCTAssertEqual(Array(vector.rewards), [1, 3], "the worker adds the space's start to each action")
        XCTAssertEqual(Array(vector.observation(ofCopy: 1).prefix(3)), [1, 3, 1])
        let frame = vector.render(copy: 1)
        XCTAssertEqual([frame.width, frame.height], [6, 4])
        XCTAssertEqual(frame[5, 3], Color(1, 3, 5), "pixel (y, x) holds (step, y, x)")
        try vector.step([1, 1])
        XCTAssertEqual(Array(vector.isTruncated), [true, true])
        XCTAssertEqual(Array(vector.isTerminated), [false, false])
        XCTAssertEqual(Array(vector.finalObservation(ofCopy: 0).prefix(3)), [2, 2, 1])
        XCTAssertEqual(Array(vector.observation(ofCopy: 0).prefix(3)), [0, 0, 2], "reset in the same step")
        XCTAssertEqual(Array(vector.finishedEpisodeReturns), [3, 5])
        XCTAssertEqual(Array(vector.finishedEpisodeLengths), [2, 2])
    }

    func testAnExceptionInTheEnvironmentNamesItsLastLineAndTheStep() throws {
        var environment = try GymnasiumEnvironment(id: "agentlab_test_envs:RaisingEnv")
        _ = environment.reset(seed: 0)
        _ = try environment.step(0)
        _ = try environment.step(1)
        XCTAssertThrowsError(try environment.step(0)) { error in
            guard case .external(let message) = error as? EnvironmentError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("gymnasium:agentlab_test_envs:RaisingEnv: ValueError: the reactor overheated"),
                          message)
            XCTAssertTrue(message.contains("step 3"), message)
        }
    }

    func testUnsupportedSpacesAndUnknownIdsAreRefusedByName() {
        let cases = [
            ("agentlab_test_envs:DictObservationEnv", "the observation space Dict("),
            ("agentlab_test_envs:MultiDiscreteActionEnv", "the action space MultiDiscrete([2 3]) is not supported"),
            ("NoSuchEnvironment-v3", "NoSuchEnvironment"),
        ]
        for (id, expected) in cases {
            XCTAssertThrowsError(try GymnasiumEnvironment(id: id)) { error in
                XCTAssertTrue("\(error)".hasPrefix("gymnasium:\(id): "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testAWorkerThatStopsAnsweringTimesOut() throws {
        setenv("AGENTLAB_GYMNASIUM_TIMEOUT", "1", 1)
        defer { unsetenv("AGENTLAB_GYMNASIUM_TIMEOUT") }
        var environment = try GymnasiumEnvironment(id: "agentlab_test_envs:HangingEnv")
        _ = environment.reset(seed: 0)
        _ = try environment.step(0)
        XCTAssertThrowsError(try environment.step(0)) { error in
            XCTAssertTrue("\(error)".contains("did not answer within 1 s"), "\(error)")
        }
        XCTAssertThrowsError(try environment.step(0), "a timed-out worker stays failed")
    }

    func testTheRegistryDescribesGymnasiumIds() throws {
        let spec = try EnvironmentRegistry.standard.spec(id: "gymnasium:CartPole-v1")
        XCTAssertEqual(spec.rewardThreshold, 475)
        XCTAssertNil(spec.maxEpisodeSteps, "Gymnasium's own time limit applies in Python")
        XCTAssertTrue(spec.summary.contains("time limit 500"), spec.summary)
        let vector = try spec.makeVectorEnvironment(count: 3)
        XCTAssertTrue(vector is GymnasiumVectorEnvironment)
        XCTAssertEqual(vector.observationSize, 4)
    }
}
