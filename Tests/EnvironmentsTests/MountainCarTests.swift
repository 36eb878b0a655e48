import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class MountainCarTests: XCTestCase {
    /// A mountain car reset to exactly `state`.
    private func mountainCar(at state: MountainCar.State) -> MountainCar {
        var env = MountainCar()
        var observation = [Float](repeating: 0, count: 2)
        observation.withUnsafeMutableBufferPointer { env.reset(to: state, into: $0) }
        return env
    }

    func testOneStepIsTheFormula() throws {
        // velocity += (action - 1) · 0.001 - 0.0025 · cos(3 · position); position += velocity.
        for action in 0..<3 {
            var env = mountainCar(at: .init(position: -0.3, velocity: 0.01))
            let step = try env.step(action)
            let velocity = 0.01 + (Double(action - 1) * 0.001 + cos(-0.9) * -0.0025)
            XCTAssertEqual(env.state.velocity, velocity, "action \(action)")
            XCTAssertEqual(env.state.position, -0.3 + velocity, "action \(action)")
            XCTAssertEqual(step.observation, [Float(-0.3 + velocity), Float(velocity)])
            XCTAssertEqual(step.reward, -1)
            XCTAssertFalse(step.isTerminated)
            XCTAssertFalse(step.isTruncated)
        }
    }

    func testVelocityIsClippedBeforeThePositionMoves() throws {
        // At the valley floor (3x = -π/2) the slope does not pull; pushing right at top speed
        // stays at top speed, and the position moves by exactly that.
        var env = mountainCar(at: .init(position: -Double.pi / 6, velocity: 0.07))
        _ = try env.step(2)
        XCTAssertEqual(env.state.velocity, 0.07)
        XCTAssertEqual(env.state.position, -Double.pi / 6 + 0.07)
        var left = mountainCar(at: .init(position: -Double.pi / 6, velocity: -0.07))
        _ = try left.step(0)
        XCTAssertEqual(left.state.velocity, -0.07)
    }

    func testTheLeftWallStopsTheCar() throws {
        var env = mountainCar(at: .init(position: -1.19, velocity: -0.05))
        let step = try env.step(0)
        XCTAssertEqual(env.state.position, -1.2)
        XCTAssertEqual(env.state.velocity, 0, "a car moving into the wall stops dead")
        XCTAssertEqual(step.observation, [-1.2, 0])
        XCTAssertFalse(step.isTerminated)

        // At the wall the slope pushes the car back out: the velocity is not zeroed then.
        let away = try env.step(2)
        XCTAssertGreaterThan(env.state.velocity, 0)
        XCTAssertGreaterThan(env.state.position, -1.2)
        XCTAssertFalse(away.isTerminated)
    }

    func testReachingTheFlagTerminates() throws {
        var env = mountainCar(at: .init(position: 0.49, velocity: 0.02))
        let step = try env.step(2)
        XCTAssertGreaterThanOrEqual(env.state.position, 0.5)
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(step.reward, -1, "the last step costs like any other")
        XCTAssertThrowsError(try env.step(1)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }

        // Past the flag but rolling back: not yet.
        var rolling = mountainCar(at: .init(position: 0.58, velocity: -0.01))
        let back = try rolling.step(1)
        XCTAssertGreaterThanOrEqual(rolling.state.position, 0.5)
        XCTAssertLessThan(rolling.state.velocity, 0)
        XCTAssertFalse(back.isTerminated)

        // The right edge clips the position; the car still counts as arrived.
        var edge = mountainCar(at: .init(position: 0.59, velocity: 0.07))
        XCTAssertTrue(try edge.step(2).isTerminated)
        XCTAssertEqual(edge.state.position, 0.6)
    }

    func testContractErrors() throws {
        var env = MountainCar()
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 1)
        XCTAssertThrowsError(try env.step(3)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(3, count: 3))
        }
        XCTAssertThrowsError(try env.step(-1)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 3))
        }
        XCTAssertThrowsError(try env.step(.max)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(.max, count: 3))
        }
        XCTAssertNoThrow(try env.step(2), "a refused action leaves the episode running")
    }

    func testResetDrawsThePositionFromTheSeededGenerator() {
        var env = MountainCar()
        let first = env.reset(seed: 42)
        var generator = SeededGenerator(seed: 42)
        let position = generator.uniform(-0.6, -0.4)
        XCTAssertEqual(env.state, .init(position: position, velocity: 0))
        XCTAssertEqual(first, [Float(position), 0])
        XCTAssertTrue(position >= -0.6 && position < -0.4)

        XCTAssertEqual(env.reset(seed: 42), first, "the same seed gives the same start")
        let next = env.reset(seed: nil)
        XCTAssertEqual(next, [Float(generator.uniform(-0.6, -0.4)), 0], "reset without a seed continues the generator")
    }

    func testSpaces() {
        let env = MountainCar()
        XCTAssertEqual(env.actionSpace, .discrete(Discrete(3)))
        XCTAssertEqual(env.actionNames, ["left", "no-op", "right"])
        XCTAssertEqual(env.observationSpace.shape, [2])
        XCTAssertEqual(env.observationSpace.low, [-1.2, -0.07])
        XCTAssertEqual(env.observationSpace.high, [0.6, 0.07])
    }

    func testCheckpointRoundTripContinuesExactly() throws {
        var env = MountainCar(seed: 9)
        _ = env.reset(seed: 5)
        for action in [2, 2, 0, 1, 2] { _ = try env.step(action) }
        var restored = try JSONDecoder().decode(MountainCar.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(restored.state, env.state)
        for action in [0, 2, 1, 2] { XCTAssertEqual(try restored.step(action), try env.step(action)) }
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator travels too")
    }

    func testRenderDrawsHillCarAndFlag() {
        let scale = 600.0 / 1.8
        func column(_ x: Double) -> Double { (x + 1.2) * scale }
        func row(_ x: Double) -> Double { 400 - MountainCar.height(at: x) * scale }

        let frame = mountainCar(at: .init(position: -0.5, velocity: 0)).render()
        XCTAssertEqual(frame.width, 600)
        XCTAssertEqual(frame.height, 400)
        XCTAssertEqual(frame[5, 5], .white)
        XCTAssertEqual(frame[Int(column(0)), Int(row(0))], .black, "the hill curve at x = 0")
        XCTAssertEqual(frame[Int(column(0)), Int(row(0)) - 20], .white, "above the hill")
        // The car body stands 10 to 30 px above the curve (tilted by cos(-1.5) ≈ 0.07 rad).
        XCTAssertEqual(frame[Int(column(-0.5)), Int(row(-0.5) - 22)], .black, "the car's body")
        XCTAssertEqual(frame[Int(column(-0.5) + 10), Int(row(-0.5) - 11)], Color(128, 128, 128), "a wheel")
        XCTAssertEqual(frame[Int(column(-0.5)), Int(row(-0.5) - 45)], .white, "above the car")
        // The flag at x = 0.5: a pole 50 px high, the pennant at its top pointing right.
        XCTAssertEqual(frame[Int(column(0.5) + 6), Int(row(0.5) - 45)], Color(204, 204, 0), "the pennant")
        XCTAssertEqual(frame[Int(column(0.5)), Int(row(0.5) - 25)], .black, "the flag pole")

        // The car drawn elsewhere leaves the valley floor empty.
        let moved = mountainCar(at: .init(position: 0.3, velocity: 0)).render()
        XCTAssertEqual(moved[Int(column(-0.5)), Int(row(-0.5) - 22)], .white)
        XCTAssertNotEqual(moved[Int(column(0.3)), Int(row(0.3) - 20)], .white, "the car on the right slope")
    }

    // MARK: Gymnasium reference trace

    func testReplaysGymnasiumTrace() throws {
        let trace = try GymnasiumTrace.load("mountaincar_trace")
        XCTAssertEqual(Set(trace.episodes.map(\.end)), ["goal", "truncated"])
        XCTAssertGreaterThan(trace.episodes.compactMap(\.left_wall_steps).reduce(0, +), 0, "the trace hits the left wall")
        let deviation = try trace.replay({ TimeLimit(MountainCar(), maxEpisodeSteps: 200) }, start: { env, episode, observation in
            let s = episode.initial_state
            env.base.reset(to: .init(position: s[0], velocity: s[1]), into: observation)
        }, state: { env in [env.base.state.position, env.base.state.velocity] })
        print("MountainCar trace: largest observation deviation from Gymnasium \(trace.gymnasium): \(deviation)")
    }
}
