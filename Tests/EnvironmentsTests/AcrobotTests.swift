import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class AcrobotTests: XCTestCase {
    /// An acrobot reset to exactly `state`.
    private func acrobot(at state: Acrobot.State) -> Acrobot {
        var env = Acrobot()
        var observation = [Float](repeating: 0, count: 6)
        observation.withUnsafeMutableBufferPointer { env.reset(to: state, into: $0) }
        return env
    }

    private static let hanging = Acrobot.State(theta1: 0, theta2: 0, theta1Dot: 0, theta2Dot: 0)

    func testHangingAtRestWithoutTorqueStaysPutAndCostsOne() throws {
        var env = acrobot(at: Self.hanging)
        let step = try env.step(1)
        // cos(-π/2) is 6e-17, not 0, so the pendulum is not perfectly still.
        for value in [env.state.theta1, env.state.theta2, env.state.theta1Dot, env.state.theta2Dot] {
            XCTAssertEqual(value, 0, accuracy: 1e-14)
        }
        XCTAssertEqual(step.observation[0], 1)
        XCTAssertEqual(step.observation[2], 1)
        XCTAssertEqual(step.reward, -1)
        XCTAssertFalse(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
    }

    func testTorqueTurnsTheJointItsWay() throws {
        // A positive torque at the joint speeds the second link up positively and, by
        // reaction, the first link the other way; a negative torque mirrors it exactly.
        var plus = acrobot(at: Self.hanging)
        _ = try plus.step(2)
        XCTAssertGreaterThan(plus.state.theta2Dot, 0.1)
        XCTAssertLessThan(plus.state.theta1Dot, 0)
        var minus = acrobot(at: Self.hanging)
        _ = try minus.step(0)
        XCTAssertEqual(minus.state.theta2Dot, -plus.state.theta2Dot, accuracy: 1e-12)
        XCTAssertEqual(minus.state.theta1Dot, -plus.state.theta1Dot, accuracy: 1e-12)
    }

    func testDerivativesAtRestAreTheClosedForm() {
        // Hanging at rest, sin θ2 = 0 and the gravity terms vanish (up to cos(-π/2) ≈ 6e-17):
        // d1 = 0.25 + 2.25 + 1 + 1 = 4.5 and d2 = 0.75 + 1 = 1.75, so with torque 1
        // θ̈2 = 1 / (1.25 - 1.75² / 4.5) = 72/41 and θ̈1 = -1.75 · θ̈2 / 4.5 = -28/41.
        let rates = Acrobot.derivatives(Self.hanging, torque: 1)
        XCTAssertEqual(rates.theta2Dot, 72.0 / 41.0, accuracy: 1e-14)
        XCTAssertEqual(rates.theta1Dot, -28.0 / 41.0, accuracy: 1e-14)
        XCTAssertEqual(rates.theta1, 0)
        XCTAssertEqual(rates.theta2, 0)
    }

    func testTerminatesWhenTheTipRisesAboveTheLine() throws {
        // Balanced straight up (θ1 = π): the tip is two link lengths above the pivot.
        var upright = acrobot(at: .init(theta1: .pi, theta2: 0, theta1Dot: 0, theta2Dot: 0))
        let step = try upright.step(1)
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(step.reward, 0, "the step that reaches the goal costs nothing")
        XCTAssertThrowsError(try upright.step(1)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }

        // The line is one link length up: -cos θ1 - cos(θ1 + θ2) > 1, strictly.
        XCTAssertTrue(Acrobot.tipIsAboveTheLine(.init(theta1: .pi / 2 + 0.01, theta2: .pi / 2, theta1Dot: 0, theta2Dot: 0)))
        XCTAssertFalse(Acrobot.tipIsAboveTheLine(.init(theta1: .pi / 2 - 0.01, theta2: .pi / 2, theta1Dot: 0, theta2Dot: 0)))
        XCTAssertFalse(Acrobot.tipIsAboveTheLine(.init(theta1: .pi, theta2: .pi, theta1Dot: 0, theta2Dot: 0)),
                       "folded back onto the pivot")
    }

    func testAnglesWrapAndVelocitiesAreBounded() throws {
        XCTAssertEqual(Acrobot.wrap(3 * .pi / 2), -.pi / 2, accuracy: 1e-15)
        XCTAssertEqual(Acrobot.wrap(-3 * .pi / 2), .pi / 2, accuracy: 1e-15)
        XCTAssertEqual(Acrobot.wrap(7 * .pi), .pi, accuracy: 1e-14)
        XCTAssertEqual(Acrobot.wrap(.pi), .pi, "the ends of the range stay")
        XCTAssertEqual(Acrobot.wrap(0.5), 0.5)

        // Spinning far faster than the bounds allow: both velocities come out clamped and the
        // first angle, turned past π, comes out wrapped.
        var spinning = acrobot(at: .init(theta1: 3.0, theta2: 0, theta1Dot: 30, theta2Dot: -60))
        let step = try spinning.step(1)
        XCTAssertEqual(spinning.state.theta1Dot, Acrobot.maxVelocity1)
        XCTAssertEqual(spinning.state.theta2Dot, -Acrobot.maxVelocity2)
        XCTAssertEqual(step.observation[4], Float(4 * Double.pi))
        XCTAssertEqual(step.observation[5], Float(-9 * Double.pi))
        for angle in [spinning.state.theta1, spinning.state.theta2] {
            XCTAssertTrue((-Double.pi...Double.pi).contains(angle), "\(angle)")
        }
        let space = spinning.observationSpace
        for i in 0..<6 {
            XCTAssertTrue(space.low[i] <= step.observation[i] && step.observation[i] <= space.high[i], "element \(i)")
        }
    }

    func testContractErrors() throws {
        var env = Acrobot()
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 1)
        XCTAssertThrowsError(try env.step(3)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(3, count: 3))
        }
        XCTAssertThrowsError(try env.step(-1)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 3))
        }
        XCTAssertThrowsError(try env.step(.min)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(.min, count: 3))
        }
        XCTAssertNoThrow(try env.step(2), "a refused action leaves the episode running")
    }

    func testResetDrawsEachVariableFromTheSeededGeneratorInSinglePrecision() {
        var env = Acrobot()
        let first = env.reset(seed: 42)
        var generator = SeededGenerator(seed: 42)
        let expected = (0..<4).map { _ in Double(Float(generator.uniform(-0.1, 0.1))) }
        XCTAssertEqual(env.state, .init(theta1: expected[0], theta2: expected[1],
                                        theta1Dot: expected[2], theta2Dot: expected[3]))
        XCTAssertTrue(expected.allSatisfy { $0 >= -0.1 && $0 <= 0.1 })
        XCTAssertEqual(first, [Float(cos(expected[0])), Float(sin(expected[0])),
                               Float(cos(expected[1])), Float(sin(expected[1])),
                               Float(expected[2]), Float(expected[3])])

        XCTAssertEqual(env.reset(seed: 42), first, "the same seed gives the same start")
        _ = env.reset(seed: nil)
        let continued = (0..<4).map { _ in Double(Float(generator.uniform(-0.1, 0.1))) }
        XCTAssertEqual(env.state.theta1, continued[0], "reset without a seed continues the generator")
        XCTAssertEqual(env.state.theta2Dot, continued[3])
    }

    func testSpaces() {
        let env = Acrobot()
        XCTAssertEqual(env.actionSpace, .discrete(Discrete(3)))
        XCTAssertEqual(env.actionNames, ["left", "no-op", "right"])
        XCTAssertEqual(env.observationSpace.shape, [6])
        XCTAssertEqual(env.observationSpace.high, [1, 1, 1, 1, 12.566371, 28.274334])
        XCTAssertEqual(env.observationSpace.low, [-1, -1, -1, -1, -12.566371, -28.274334])
    }

    func testCheckpointRoundTripContinuesExactly() throws {
        var env = Acrobot(seed: 9)
        _ = env.reset(seed: 5)
        for action in [2, 2, 0, 1, 2] { _ = try env.step(action) }
        var restored = try JSONDecoder().decode(Acrobot.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(restored.state, env.state)
        for action in [0, 2, 1, 2] { XCTAssertEqual(try restored.step(action), try env.step(action)) }
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator travels too")
    }

    func testRenderDrawsTwoLinksFromThePivot() {
        let background = Color.white, link = Color(0, 204, 204), joint = Color(204, 204, 0)
        let scale = 500.0 / 4.4  // pixels per metre: each link is about 114 px long

        let hanging = acrobot(at: Self.hanging).render()
        XCTAssertEqual(hanging.width, 500)
        XCTAssertEqual(hanging.height, 500)
        XCTAssertEqual(hanging[5, 5], background)
        XCTAssertEqual(hanging[250, 250], joint, "the pivot, at the centre")
        XCTAssertEqual(hanging[250, Int(250 + scale / 2)], link, "first link, straight down")
        XCTAssertEqual(hanging[250, Int(250 + scale)], joint, "the elbow")
        XCTAssertEqual(hanging[250, Int(250 + 1.5 * scale)], link, "second link, straight down")
        XCTAssertEqual(hanging[250, 250 - 60], background, "nothing above the pivot")
        XCTAssertEqual(hanging[20, 136], .black, "the goal line, one link above the pivot")

        // First link horizontal to the right, second link bent back up: θ1 = π/2, θ2 = π/2.
        let bent = acrobot(at: .init(theta1: .pi / 2, theta2: .pi / 2, theta1Dot: 0, theta2Dot: 0)).render()
        XCTAssertEqual(bent[Int(250 + scale / 2), 250], link, "first link, to the right")
        XCTAssertEqual(bent[Int(250 + scale), Int(250 - scale / 2)], link, "second link, upwards")
        XCTAssertEqual(bent[250, Int(250 + scale / 2)], background, "where the first link used to hang")
    }

    // MARK: Gymnasium reference trace

    func testReplaysGymnasiumTrace() throws {
        let trace = try GymnasiumTrace.load("acrobot_trace")
        XCTAssertEqual(Set(trace.episodes.map(\.end)), ["terminated", "truncated"])
        XCTAssertGreaterThan(trace.episodes.compactMap(\.velocity_bound_hits).reduce(0, +), 0,
                             "the trace exercises the velocity bound")
        // Gymnasium takes the cosines of its float32 starting angles in float32: within an ulp.
        let deviation = try trace.replay({ TimeLimit(Acrobot(), maxEpisodeSteps: 500) }, start: { env, episode, observation in
            let s = episode.initial_state
            env.base.reset(to: .init(theta1: s[0], theta2: s[1], theta1Dot: s[2], theta2Dot: s[3]), into: observation)
        }, state: { env in
            let final = env.base.state
            return [final.theta1, final.theta2, final.theta1Dot, final.theta2Dot]
        }, initialAccuracy: 1e-6)
        print("Acrobot trace: largest observation deviation from Gymnasium \(trace.gymnasium): \(deviation)")
    }
}
