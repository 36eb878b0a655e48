import Environments
import Foundation
import XCTest

/// A trace recorded from Gymnasium by a script in `Reference/`: episodes from a known
/// starting state, the actions taken (one digit each) and what Gymnasium returned.
struct GymnasiumTrace: Decodable {
    let gymnasium: String
    let episodes: [Episode]

    struct Episode: Decodable {
        let seed: Int
        let policy: String
        let initial_state: [Double]
        let initial_observation: [Float]
        let actions: String
        let observations: [[Float]]
        let rewards: [Float]
        let terminated: [Int]
        let truncated: [Int]
        let final_state: [Double]
        let end: String
        /// Steps that hit Acrobot's velocity bounds (Acrobot's trace only).
        let velocity_bound_hits: Int?
        /// Steps spent against MountainCar's left wall (MountainCar's trace only).
        let left_wall_steps: Int?

        var label: String { "seed \(seed) \(policy)" }
    }

    /// The trace in `Reference/NAME.json`.
    static func load(_ name: String) throws -> GymnasiumTrace {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Reference"))
        return try JSONDecoder().decode(GymnasiumTrace.self, from: Data(contentsOf: url))
    }

    /// Replays every episode: `start` puts a fresh environment in the episode's starting state
    /// and writes the first observation; every step's observation must then be within 1e-5
    /// of Gymnasium's, its reward and flags equal, the final state (`state`) equal to the
    /// bit, and a step after the end refused. Returns the largest observation deviation.
    @discardableResult
    func replay<Base: Environment>(
        _ makeEnvironment: () -> TimeLimit<Base>,
        start: (inout TimeLimit<Base>, Episode, UnsafeMutableBufferPointer<Float>) -> Void,
        state: (TimeLimit<Base>) -> [Double],
        initialAccuracy: Float = 0,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Float {
        var largestDeviation: Float = 0
        for episode in episodes {
            let label = episode.label
            var env = makeEnvironment()
            var observation = [Float](repeating: 0, count: env.observationSpace.count)
            observation.withUnsafeMutableBufferPointer { start(&env, episode, $0) }
            for (i, value) in observation.enumerated() {
                XCTAssertEqual(value, episode.initial_observation[i], accuracy: initialAccuracy,
                               "\(label), reset, element \(i)", file: file, line: line)
            }
            let actions = episode.actions.map { Int(String($0))! }
            XCTAssertEqual(actions.count, episode.observations.count, label, file: file, line: line)
            for (t, action) in actions.enumerated() {
                let step = try env.step(action)
                for i in observation.indices {
                    let deviation = abs(step.observation[i] - episode.observations[t][i])
                    largestDeviation = max(largestDeviation, deviation)
                    XCTAssertLessThanOrEqual(deviation, 1e-5, "\(label), step \(t + 1), element \(i)", file: file, line: line)
                }
                XCTAssertEqual(step.reward, episode.rewards[t], "\(label), step \(t + 1)", file: file, line: line)
                XCTAssertEqual(step.isTerminated, episode.terminated[t] == 1, "\(label), step \(t + 1)", file: file, line: line)
                XCTAssertEqual(step.isTruncated, episode.truncated[t] == 1, "\(label), step \(t + 1)", file: file, line: line)
            }
            XCTAssertEqual(state(env), episode.final_state, "\(label): the same operations in the same order, so the same bits",
                           file: file, line: line)
            XCTAssertThrowsError(try env.step(0), label, file: file, line: line) {
                XCTAssertEqual($0 as? EnvironmentError, .episodeEnded, file: file, line: line)
            }
        }
        return largestDeviation
    }
}

/// A trace of a continuous-action environment, recorded from Gymnasium by a script in
/// `Reference/`: as `GymnasiumTrace`, but each action is a vector of floats (written as the
/// float64 values the float32s widen to, so they read back exactly) and each reward is the
/// float64 that Gymnasium returned.
struct GymnasiumContinuousTrace: Decodable {
    let gymnasium: String
    let episodes: [Episode]

    struct Episode: Decodable {
        let seed: Int
        let policy: String
        let initial_state: [Double]
        let initial_observation: [Float]
        let actions: [[Double]]
        let observations: [[Float]]
        let rewards: [Double]
        let terminated: [Int]
        let truncated: [Int]
        let final_state: [Double]
        let end: String
        /// Steps whose action lay beyond the action space's bounds (Gymnasium clipped it).
        let clipped_actions: Int
        /// Steps that ended at Pendulum's speed bound (Pendulum's trace only).
        let speed_bound_hits: Int?
        /// Steps that ended against the left wall (MountainCarContinuous's trace only).
        let left_wall_steps: Int?

        var label: String { "seed \(seed) \(policy)" }
    }

    /// The trace in `Reference/NAME.json`.
    static func load(_ name: String) throws -> GymnasiumContinuousTrace {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Reference"))
        return try JSONDecoder().decode(GymnasiumContinuousTrace.self, from: Data(contentsOf: url))
    }

    /// Replays every episode: `start` puts a fresh environment in the episode's starting state
    /// and writes the first observation; every step's observation must then be within 1e-5
    /// of Gymnasium's, its reward equal to Gymnasium's rounded to `Float`, its flags equal,
    /// the final state (`state`) equal to the bit, and a step after the end refused.
    /// Returns the largest observation deviation.
    @discardableResult
    func replay<Base: Environment>(
        _ makeEnvironment: () -> TimeLimit<Base>,
        start: (inout TimeLimit<Base>, Episode, UnsafeMutableBufferPointer<Float>) -> Void,
        state: (TimeLimit<Base>) -> [Double],
        initialAccuracy: Float = 0,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Float {
        var largestDeviation: Float = 0
        for episode in episodes {
            let label = episode.label
            var env = makeEnvironment()
            var observation = [Float](repeating: 0, count: env.observationSpace.count)
            observation.withUnsafeMutableBufferPointer { start(&env, episode, $0) }
            for (i, value) in observation.enumerated() {
                XCTAssertEqual(value, episode.initial_observation[i], accuracy: initialAccuracy,
                               "\(label), reset, element \(i)", file: file, line: line)
            }
            XCTAssertEqual(episode.actions.count, episode.observations.count, label, file: file, line: line)
            for (t, values) in episode.actions.enumerated() {
                let action = values.map { Float($0) }
                XCTAssertEqual(action.map { Double($0) }, values, "\(label), step \(t + 1): a float32 action",
                               file: file, line: line)
                let step = try env.step(action)
                for i in observation.indices {
                    let deviation = abs(step.observation[i] - episode.observations[t][i])
                    largestDeviation = max(largestDeviation, deviation)
                    XCTAssertLessThanOrEqual(deviation, 1e-5, "\(label), step \(t + 1), element \(i)", file: file, line: line)
                }
                XCTAssertEqual(step.reward, Float(episode.rewards[t]), "\(label), step \(t + 1)", file: file, line: line)
                XCTAssertEqual(step.isTerminated, episode.terminated[t] == 1, "\(label), step \(t + 1)", file: file, line: line)
                XCTAssertEqual(step.isTruncated, episode.truncated[t] == 1, "\(label), step \(t + 1)", file: file, line: line)
            }
            XCTAssertEqual(state(env), episode.final_state, "\(label): the same operations in the same order, so the same bits",
                           file: file, line: line)
            let valid = [Float](repeating: 0, count: env.actionSpace.width)
            XCTAssertThrowsError(try env.step(valid), label, file: file, line: line) {
                XCTAssertEqual($0 as? EnvironmentError, .episodeEnded, file: file, line: line)
            }
        }
        return largestDeviation
    }
}
