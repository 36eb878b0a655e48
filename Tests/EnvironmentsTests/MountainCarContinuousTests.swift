import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class MountainCarContinuousTests: XCTestCase {
    /// A car reset to exactly `state` (its first step computes in double precision, as
    /// Gymnasium's first step after a reset does).
    private func car(at state: MountainCarContinuous.State) -> MountainCarContinuous {
        var env = MountainCarContinuous()
        var observation = [Float](repeating: 0, count: 2)
        observation.withUnsafeMutableBufferPointer { env.reset(to: state, into: $0) }
        return env
    }

    func testOneStepIsTheFormula() throws {
        // velocity += force · 0.0015 - 0.0025 · cos(3 · position); position += velocity;
        // reward -0.1 · force². From a reset's float64 state the push is a float32
        // (the float32 action times 0.0015 rounded to float32), the state stored as float32.
        var env = car(at: .init(position: -0.3, velocity: 0.01))
        let step = try env.step([0.5])
        let velocity = 0.01 + Double(Float(0.5) * Float(0.0015) - Float(0.0025 * cos(-0.9)))
        XCTAssertEqual(env.state.velocity, Double(Float(velocity)))
        XCTAssertEqual(env.state.position, Double(Float(-0.3 + velocity)))
        // By hand: cos(0.9) = 0.621610, so velocity = 0.01 + 0.00075 - 0.00155402 = 0.00919598.
        XCTAssertEqual(env.state.velocity, 0.00919598, accuracy: 1e-8)
        XCTAssertEqual(env.state.position, -0.29080402, accuracy: 1e-8)
        // Gymnasium 1.0.0's numbers for the same step, to the bit.
        XCTAssertEqual(env.state.position, -0.29080402851104736)
        XCTAssertEqual(env.state.velocity, 0.00919597502797842)
        XCTAssertEqual(step.observation, [Float(-0.29080402851104736), Float(0.00919597502797842)])
        XCTAssertEqual(step.reward, -0.025)
        XCTAssertFalse(step.isTerminated)
        XCTAssertFalse(step.isTruncated)

        // The next step starts from Gymnasium's float32 state and computes in single precision.
        let p = Float(env.state.position), v = Float(env.state.velocity)
        let second = try env.step([0.5])
        let v2 = v + (Float(0.5) * Float(0.0015) - Float(0.0025 * cos(Double(3 * p))))
        XCTAssertEqual(env.state.velocity, Double(v2))
        XCTAssertEqual(env.state.position, Double(p + v2))
        XCTAssertEqual(env.state.position, -0.28246551752090454, "Gymnasium's second step")
        XCTAssertEqual(env.state.velocity, 0.008338522166013718)
        XCTAssertEqual(second.reward, -0.025)
    }

    func testForceIsClippedButThePenaltyIsNot() throws {
        // Gymnasium clips the force for the dynamics but charges -0.1 · action² on the action
        // as given: 3 moves the car as 1 does and costs 0.9.
        let start = MountainCarContinuous.State(position: -0.3, velocity: 0.01)
        var beyond = car(at: start), bound = car(at: start)
        let a = try beyond.step([3]), b = try bound.step([1])
        XCTAssertEqual(beyond.state, bound.state)
        XCTAssertEqual(beyond.state.position, -0.2900540232658386, "Gymnasium's numbers")
        XCTAssertEqual(beyond.state.velocity, 0.009945974685251713)
        XCTAssertEqual(a.observation, b.observation)
        XCTAssertEqual(a.reward, -0.9)
        XCTAssertEqual(b.reward, -0.1)

        var left = car(at: start), leftBound = car(at: start)
        let c = try left.step([-2]), d = try leftBound.step([-1])
        XCTAssertEqual(left.state.position, leftBound.state.position, accuracy: 1e-7)
        XCTAssertEqual(left.state.velocity, leftBound.state.velocity, accuracy: 1e-7)
        XCTAssertEqual(c.reward, -0.4)
        XCTAssertEqual(d.reward, -0.1)

        // Over several steps the clipped car follows the bound car (both in single precision).
        for _ in 0..<20 {
            _ = try beyond.step([1.5])
            _ = try bound.step([1])
            XCTAssertEqual(beyond.state.position, bound.state.position, accuracy: 1e-6)
        }
        // Inside the bounds a force is used as given.
        var half = car(at: start), full = car(at: start)
        _ = try half.step([0.5])
        _ = try full.step([1])
        XCTAssertLessThan(half.state.velocity, full.state.velocity)
    }

    func testTheLeftWallStopsTheCar() throws {
        // From a reset (double precision) straight into the wall.
        var env = car(at: .init(position: -1.15, velocity: -0.06))
        let step = try env.step([-1])
        XCTAssertEqual(env.state.position, Double(Float(-1.2)))
        XCTAssertEqual(env.state.velocity, 0, "a car moving into the wall stops dead")
        XCTAssertEqual(step.observation, [-1.2, 0])
        XCTAssertEqual(step.reward, -0.1)
        XCTAssertFalse(step.isTerminated)

        // At the wall the slope pushes the car back out, even against a full push left: the
        // velocity is not zeroed then.
        let away = try env.step([-1])
        XCTAssertGreaterThan(env.state.velocity, 0)
        XCTAssertGreaterThan(env.state.position, -1.2)
        XCTAssertFalse(away.isTerminated)

        // In single precision (after some steps), rolling left into the wall.
        var rolling = car(at: .init(position: -0.9, velocity: -0.065))
        var hit: Step?
        for _ in 0..<20 {
            let step = try rolling.step([-1.5])
            if rolling.state.position == Double(Float(-1.2)) {
                hit = step
                break
            }
            XCTAssertLessThan(rolling.state.velocity, 0)
        }
        let wall = try XCTUnwrap(hit, "the car reaches the wall")
        XCTAssertEqual(rolling.state.velocity, 0)
        XCTAssertEqual(wall.observation, [-1.2, 0])
        XCTAssertEqual(wall.reward, Float(-(1.5 * 1.5 * 0.1)))
    }

    func testReachingTheFlagTerminates() throws {
        var env = car(at: .init(position: 0.44, velocity: 0.02))
        let step = try env.step([0])
        XCTAssertGreaterThanOrEqual(env.state.position, 0.45)
        XCTAssertTrue(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
        XCTAssertEqual(step.reward, 100, "no push, no penalty: 100 for the flag")
        XCTAssertTrue(env.isTerminated)
        XCTAssertThrowsError(try env.step([0])) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }

        // The flag step pays 100 less the penalty on the action as given.
        var pushing = car(at: .init(position: 0.44, velocity: 0.02))
        XCTAssertEqual(try pushing.step([2]).reward, Float(100 - 4 * 0.1))

        // Past the flag but rolling back: not yet.
        var rolling = car(at: .init(position: 0.5, velocity: -0.01))
        let back = try rolling.step([0])
        XCTAssertGreaterThanOrEqual(rolling.state.position, 0.45)
        XCTAssertLessThan(rolling.state.velocity, 0)
        XCTAssertFalse(back.isTerminated)
        XCTAssertEqual(back.reward, 0)

        // The right edge clips the position (its velocity is kept); the car still counts as arrived.
        var edge = car(at: .init(position: 0.58, velocity: 0.07))
        let last = try edge.step([1])
        XCTAssertTrue(last.isTerminated)
        XCTAssertEqual(edge.state.position, Double(Float(0.6)))
        XCTAssertEqual(edge.state.velocity, Double(Float(0.07)))
        XCTAssertEqual(last.reward, Float(99.9), "Gymnasium's 99.9")
    }

    func testContractErrors() throws {
        var env = MountainCarContinuous()
        XCTAssertThrowsError(try env.step([0])) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        XCTAssertThrowsError(try env.step([.nan]), "before reset, .notReset comes first") {
            XCTAssertEqual($0 as? EnvironmentError, .notReset)
        }
        _ = env.reset(seed: 1)
        let expected = EnvironmentError.wrongActionKind(expected: .box(Box(low: -1, high: 1, shape: [1])))
        for invalid: [Float] in [[.nan], [.infinity], [-.infinity], [], [0, 0]] {
            XCTAssertThrowsError(try env.step(invalid), "\(invalid)") { XCTAssertEqual($0 as? EnvironmentError, expected) }
        }
        XCTAssertThrowsError(try env.step(2), "a continuous environment takes no action number") {
            XCTAssertEqual($0 as? EnvironmentError, expected)
        }
        XCTAssertNoThrow(try env.step([1]), "a refused action leaves the episode running")
    }

    func testResetDrawsThePositionFromTheSeededGenerator() {
        var env = MountainCarContinuous()
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
        let env = MountainCarContinuous()
        XCTAssertEqual(env.actionSpace, .box(Box(low: -1, high: 1, shape: [1])))
        XCTAssertEqual(env.actionNames, ["force"])
        XCTAssertEqual(env.observationSpace.shape, [2])
        XCTAssertEqual(env.observationSpace.low, [-1.2, -0.07])
        XCTAssertEqual(env.observationSpace.high, [0.6, 0.07])
    }

    func testEnvironmentCheckerPasses() throws {
        var bare = MountainCarContinuous()
        _ = try EnvironmentChecker.check(&bare, seed: 3, steps: 300)

        var limited = try XCTUnwrap(
            EnvironmentRegistry.standard.makeEnvironment(id: "MountainCarContinuous-v0") as? TimeLimit<MountainCarContinuous>)
        let report = try EnvironmentChecker.check(&limited, seed: 3, steps: 2500)
        XCTAssertGreaterThanOrEqual(report.episodesEnded, 2)
        XCTAssertEqual(Set(report.passed), Set(EnvironmentChecker.Check.allCases))
    }

    func testRegistryEntry() throws {
        let spec = try EnvironmentRegistry.standard.spec(id: "MountainCarContinuous-v0")
        XCTAssertEqual(spec.maxEpisodeSteps, 999)
        XCTAssertEqual(spec.rewardThreshold, 90)
        var env = spec.makeEnvironment()
        XCTAssertTrue(env is TimeLimit<MountainCarContinuous>)
        _ = env.reset(seed: 0)
        var steps = 1
        while try !env.step([0]).isTruncated { steps += 1 }
        XCTAssertEqual(steps, 999, "without a push the car never leaves the valley")
    }

    func testCheckpointRoundTripContinuesExactly() throws {
        var env = MountainCarContinuous(seed: 9)
        _ = env.reset(seed: 5)
        // Saved right after a reset, the next step computes in double precision; later ones
        // in single precision: both kinds of state continue exactly.
        var fresh = try JSONDecoder().decode(MountainCarContinuous.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(try fresh.step([0.3]), try env.step([0.3]))
        for force: Float in [1, 1, -0.4, 0.25, 2] { _ = try env.step([force]) }
        var restored = try JSONDecoder().decode(MountainCarContinuous.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(restored.state, env.state)
        for force: Float in [-1, 0.7, -1.5, 0.1] {
            XCTAssertEqual(try restored.step([force]), try env.step([force]))
            XCTAssertEqual(restored.state, env.state)
        }
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator travels too")
    }

    func testRenderDrawsHillCarAndFlag() {
        let scale = 600.0 / (0.6 - -1.2)  // as Gymnasium computes it: 333.33333333333337
        func column(_ x: Double) -> Double { (x - -1.2) * scale }
        func row(_ x: Double) -> Double { 400 - MountainCar.height(at: x) * scale }

        let frame = car(at: .init(position: -0.5, velocity: 0)).render()
        XCTAssertEqual(frame.width, 600)
        XCTAssertEqual(frame.height, 400)
        XCTAssertEqual(frame.pixels.count, 600 * 400 * 3)
        XCTAssertEqual(frame[5, 5], .white)
        XCTAssertEqual(frame[Int(column(0)), Int(row(0))], .black, "the hill curve at x = 0")
        XCTAssertEqual(frame[Int(column(-0.5)), Int(row(-0.5) - 22)], .black, "the car's body")
        XCTAssertEqual(frame[Int(column(-0.5) + 10), Int(row(-0.5) - 11)], Color(128, 128, 128), "a wheel")
        // The flag at x = 0.45 (MountainCar-v0's is at 0.5).
        XCTAssertEqual(frame[Int(column(0.45) + 6), Int(row(0.45) - 45)], Color(204, 204, 0), "the pennant")
        XCTAssertEqual(Int(column(0.45)), 550, "Gymnasium's flag column")
        XCTAssertEqual(frame[Int(column(0.45)), Int(row(0.45) - 25)], .black, "the flag pole")
        XCTAssertEqual(frame[Int(column(0.45)) - 1, Int(row(0.45) - 25)], .white, "one pixel wide")
        XCTAssertEqual(frame[Int(column(0.5)), Int(row(0.5) - 25)], .white, "no pole at 0.5")

        let moved = car(at: .init(position: 0.2, velocity: 0)).render()
        XCTAssertNotEqual(moved, frame)
        XCTAssertEqual(moved[Int(column(-0.5)), Int(row(-0.5) - 22)], .white, "the valley floor is empty")
        XCTAssertNotEqual(moved[Int(column(0.2)), Int(row(0.2) - 20)], .white, "the car on the right slope")
    }

    // MARK: Gymnasium reference trace

    func testReplaysGymnasiumTrace() throws {
        let trace = try GymnasiumContinuousTrace.load("mountaincarcontinuous_trace")
        XCTAssertEqual(trace.episodes.count, 5)
        XCTAssertEqual(Set(trace.episodes.map(\.end)), ["goal", "truncated"])
        XCTAssertGreaterThan(trace.episodes.map(\.clipped_actions).reduce(0, +), 0, "the trace clips actions")
        XCTAssertGreaterThan(trace.episodes.compactMap(\.left_wall_steps).reduce(0, +), 0, "the trace hits the left wall")
        let deviation = try trace.replay({ TimeLimit(MountainCarContinuous(), maxEpisodeSteps: 999) }, start: { env, episode, observation in
            let s = episode.initial_state
            env.base.reset(to: .init(position: s[0], velocity: s[1]), into: observation)
        }, state: { env in [env.base.state.position, env.base.state.velocity] })
        print("MountainCarContinuous trace: largest observation deviation from Gymnasium \(trace.gymnasium): \(deviation)")
    }
}
