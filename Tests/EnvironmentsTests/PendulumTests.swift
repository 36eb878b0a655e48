import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class PendulumTests: XCTestCase {
    /// A pendulum reset to exactly `state`.
    private func pendulum(at state: Pendulum.State) -> Pendulum {
        var env = Pendulum()
        var observation = [Float](repeating: 0, count: 3)
        observation.withUnsafeMutableBufferPointer { env.reset(to: state, into: $0) }
        return env
    }

    func testOneStepIsTheFormula() throws {
        // θ̇' = θ̇ + (15 sin θ + 3u) · 0.05, θ' = θ + θ̇' · 0.05, reward -(θ² + 0.1 θ̇² + 0.001 u²).
        var env = pendulum(at: .init(theta: 0.5, thetaDot: -0.3))
        let step = try env.step([1.25])
        let thetaDot = -0.3 + (15 * sin(0.5) + 3.75) * 0.05
        XCTAssertEqual(env.state.thetaDot, thetaDot)
        XCTAssertEqual(env.state.theta, 0.5 + thetaDot * 0.05)
        // Gymnasium 1.0.0's numbers for the same step, to the bit.
        XCTAssertEqual(env.state.thetaDot, 0.24706915395315227)
        XCTAssertEqual(env.state.theta, 0.5123534576976576)
        XCTAssertEqual(step.observation, [Float(cos(0.5123534576976576)), Float(sin(0.5123534576976576)), Float(0.24706915395315227)])
        XCTAssertEqual(step.observation[0], 0.8715932, accuracy: 1e-7)
        XCTAssertEqual(step.observation[1], 0.49022987, accuracy: 1e-7)
        // 0.25 + 0.009 + 0.0015625 (the last term in single precision: 0.0015625000232831).
        XCTAssertEqual(step.reward, Float(-0.2605625000232831))
        XCTAssertEqual(step.reward, -0.2605625, accuracy: 1e-7)
        XCTAssertFalse(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
        XCTAssertEqual(env.lastTorque, 1.25)
    }

    func testUprightAtRestIsTheBestState() throws {
        var env = pendulum(at: .init(theta: 0, thetaDot: 0))
        for _ in 0..<10 {
            let step = try env.step([0])
            XCTAssertEqual(step.reward, 0, "upright, at rest, no torque: no cost")
            XCTAssertEqual(step.observation, [1, 0, 0])
        }
        XCTAssertEqual(env.state, .init(theta: 0, thetaDot: 0), "an unstable equilibrium, held exactly")

        // Hanging down, spinning at full speed, full torque: the worst cost.
        var worst = pendulum(at: .init(theta: Double.pi, thetaDot: 8))
        let step = try worst.step([2])
        XCTAssertEqual(step.reward, Float(-(Double.pi * Double.pi + 0.1 * 64 + 0.004)), accuracy: 1e-5)
        XCTAssertEqual(step.reward, -16.2736, accuracy: 1e-4)
    }

    func testAngleNormalisationFollowsNumPy() {
        XCTAssertEqual(Pendulum.normalize(0), 0)
        XCTAssertEqual(Pendulum.normalize(0.5), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Pendulum.normalize(-0.5), -0.5, accuracy: 1e-15)
        XCTAssertEqual(Pendulum.normalize(3 * Double.pi / 2), -Double.pi / 2, accuracy: 1e-15)
        XCTAssertEqual(Pendulum.normalize(-3 * Double.pi / 2), Double.pi / 2, accuracy: 1e-15)
        XCTAssertEqual(Pendulum.normalize(2 * Double.pi + 0.25), 0.25, accuracy: 1e-14)
        XCTAssertEqual(Pendulum.normalize(-Double.pi), -Double.pi, "the interval is closed below")
        XCTAssertEqual(Pendulum.normalize(Double.pi), -Double.pi, "π maps to -π, as ((π + π) mod 2π) - π")
        // The reward sees the normalised angle: a full turn costs nothing.
        var turned = pendulum(at: .init(theta: 4 * Double.pi, thetaDot: 0))
        XCTAssertEqual(try turned.step([0]).reward, 0, accuracy: 1e-12)
    }

    func testActionsBeyondTheBoundsAreClipped() throws {
        let start = Pendulum.State(theta: 2.0, thetaDot: 1.5)
        let cases: [(beyond: Float, bound: Float)] = [(5, 2), (-7, -2), (2.0001, 2), (.greatestFiniteMagnitude, 2)]
        for (beyond, bound) in cases {
            var clipped = pendulum(at: start), exact = pendulum(at: start)
            let a = try clipped.step([beyond]), b = try exact.step([bound])
            XCTAssertEqual(a, b, "\(beyond) acts as \(bound), in the dynamics and in the cost")
            XCTAssertEqual(clipped.state, exact.state)
            XCTAssertEqual(clipped.lastTorque, bound)
        }
        // Inside the bounds a torque is used as given.
        var inside = pendulum(at: start), other = pendulum(at: start)
        XCTAssertNotEqual(try inside.step([1.5]), try other.step([2]))
    }

    func testSpeedIsClippedBeforeTheAngleMoves() throws {
        // θ̇' = 7.9 + (15 + 6) · 0.05 = 8.95, clipped to 8; the angle moves by 8 · 0.05.
        var env = pendulum(at: .init(theta: Double.pi / 2, thetaDot: 7.9))
        let step = try env.step([2])
        XCTAssertEqual(env.state.thetaDot, 8)
        XCTAssertEqual(env.state.theta, Double.pi / 2 + 8 * 0.05)
        XCTAssertEqual(step.observation[2], 8)
        var left = pendulum(at: .init(theta: -Double.pi / 2, thetaDot: -7.9))
        _ = try left.step([-2])
        XCTAssertEqual(left.state.thetaDot, -8)
    }

    func testNeverTerminates() throws {
        var env = Pendulum()
        _ = env.reset(seed: 3)
        for i in 0..<1000 {
            let step = try env.step([Float(i % 5) - 2])
            XCTAssertFalse(step.isDone)
            XCTAssertTrue(env.observationSpace.contains(step.observation), "step \(i): \(step.observation)")
        }
    }

    func testContractErrors() throws {
        var env = Pendulum()
        XCTAssertThrowsError(try env.step([0])) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        XCTAssertThrowsError(try env.step([.nan]), "before reset, .notReset comes first") {
            XCTAssertEqual($0 as? EnvironmentError, .notReset)
        }
        _ = env.reset(seed: 1)
        let expected = EnvironmentError.wrongActionKind(expected: .box(Box(low: -2, high: 2, shape: [1])))
        for invalid: [Float] in [[.nan], [.infinity], [-.infinity], [], [0, 0]] {
            XCTAssertThrowsError(try env.step(invalid), "\(invalid)") { XCTAssertEqual($0 as? EnvironmentError, expected) }
        }
        XCTAssertThrowsError(try env.step(0), "a continuous environment takes no action number") {
            XCTAssertEqual($0 as? EnvironmentError, expected)
        }
        XCTAssertNil(env.lastTorque, "a refused action changes nothing")
        XCTAssertNoThrow(try env.step([1]), "a refused action leaves the episode running")
    }

    func testResetDrawsTheStateFromTheSeededGenerator() {
        var env = Pendulum()
        let first = env.reset(seed: 42)
        var generator = SeededGenerator(seed: 42)
        let theta = generator.uniform(-Double.pi, Double.pi), thetaDot = generator.uniform(-1, 1)
        XCTAssertEqual(env.state, .init(theta: theta, thetaDot: thetaDot))
        XCTAssertEqual(first, [Float(cos(theta)), Float(sin(theta)), Float(thetaDot)])

        XCTAssertEqual(env.reset(seed: 42), first, "the same seed gives the same start")
        let next = env.reset(seed: nil)
        let theta2 = generator.uniform(-Double.pi, Double.pi), thetaDot2 = generator.uniform(-1, 1)
        XCTAssertEqual(next, [Float(cos(theta2)), Float(sin(theta2)), Float(thetaDot2)],
                       "reset without a seed continues the generator")

        var starts = Pendulum(seed: 7)
        for _ in 0..<200 {
            _ = starts.reset()
            XCTAssertTrue(abs(starts.state.theta) <= Double.pi && abs(starts.state.thetaDot) <= 1)
        }
    }

    func testSpaces() {
        let env = Pendulum()
        XCTAssertEqual(env.actionSpace, .box(Box(low: -2, high: 2, shape: [1])))
        XCTAssertEqual(env.actionNames, ["torque"])
        XCTAssertEqual(env.observationSpace.shape, [3])
        XCTAssertEqual(env.observationSpace.low, [-1, -1, -8])
        XCTAssertEqual(env.observationSpace.high, [1, 1, 8])
        XCTAssertEqual(Pendulum(gravity: 9.81).gravity, 9.81)
    }

    func testGravityIsAnArgument() throws {
        // Gymnasium's `g`: θ̇' = θ̇ + (3g/2 · sin θ + 3u) · dt.
        var env = Pendulum(gravity: 9.81)
        var observation = [Float](repeating: 0, count: 3)
        observation.withUnsafeMutableBufferPointer { env.reset(to: .init(theta: 1, thetaDot: 0), into: $0) }
        _ = try env.step([0])
        XCTAssertEqual(env.state.thetaDot, 0 + (3 * 9.81 / 2 * sin(1.0) + 0) * 0.05)
    }

    func testEnvironmentCheckerPasses() throws {
        var bare = Pendulum()
        let report = try EnvironmentChecker.check(&bare, seed: 3, steps: 300)
        XCTAssertEqual(report.notExercised, [.stepAfterEnd], "the bare pendulum never ends an episode")

        var limited = try XCTUnwrap(EnvironmentRegistry.standard.makeEnvironment(id: "Pendulum-v1") as? TimeLimit<Pendulum>)
        let limitedReport = try EnvironmentChecker.check(&limited, seed: 3, steps: 500)
        XCTAssertEqual(limitedReport.episodesEnded, 2)
        XCTAssertEqual(Set(limitedReport.passed), Set(EnvironmentChecker.Check.allCases))
    }

    func testRegistryEntry() throws {
        let spec = try EnvironmentRegistry.standard.spec(id: "Pendulum-v1")
        XCTAssertEqual(spec.maxEpisodeSteps, 200)
        XCTAssertNil(spec.rewardThreshold, "Gymnasium registers no threshold for Pendulum-v1")
        var env = spec.makeEnvironment()
        XCTAssertTrue(env is TimeLimit<Pendulum>)
        XCTAssertEqual(env.actionSpace, .box(Box(low: -2, high: 2, shape: [1])))
        _ = env.reset(seed: 0)
        var steps = 0
        while try !env.step([0]).isTruncated { steps += 1 }
        XCTAssertEqual(steps + 1, 200)
    }

    func testCheckpointRoundTripContinuesExactly() throws {
        var env = Pendulum(seed: 9)
        _ = env.reset(seed: 5)
        for torque: Float in [2, -1.5, 0.25, 3, -0.75] { _ = try env.step([torque]) }
        var restored = try JSONDecoder().decode(Pendulum.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(restored.state, env.state)
        XCTAssertEqual(restored.lastTorque, env.lastTorque)
        for torque: Float in [0.5, -2, 1, 1.75] { XCTAssertEqual(try restored.step([torque]), try env.step([torque])) }
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator travels too")
    }

    func testRenderDrawsRodAxleAndTorque() throws {
        let scale = 500 / 4.4
        let rod = Color(204, 77, 77)
        let upright = pendulum(at: .init(theta: 0, thetaDot: 0)).render()
        XCTAssertEqual(upright.width, 500)
        XCTAssertEqual(upright.height, 500)
        XCTAssertEqual(upright.pixels.count, 500 * 500 * 3)
        XCTAssertEqual(upright[5, 5], .white)
        XCTAssertEqual(upright[250, 250], .black, "the axle")
        XCTAssertEqual(upright[250, Int(250 - 0.6 * scale)], rod, "the rod points up at θ = 0")
        XCTAssertEqual(upright[250, Int(250 + 0.6 * scale)], .white, "nothing below")

        let hanging = pendulum(at: .init(theta: Double.pi, thetaDot: 0)).render()
        XCTAssertNotEqual(hanging, upright)
        XCTAssertEqual(hanging[250, Int(250 + 0.6 * scale)], rod, "the rod hangs down at θ = π")
        XCTAssertEqual(hanging[250, Int(250 - 0.6 * scale)], .white)

        // θ = π/2: counterclockwise from up, so the rod points left.
        let left = pendulum(at: .init(theta: Double.pi / 2, thetaDot: 0)).render()
        XCTAssertEqual(left[Int(250 - 0.6 * scale), 250], rod)
        XCTAssertEqual(left[Int(250 + 0.6 * scale), 250], .white)

        // After a step the torque is drawn round the pivot; at rest nothing is.
        var pushed = pendulum(at: .init(theta: Double.pi, thetaDot: 0))
        _ = try pushed.step([2])
        let withTorque = pushed.render()
        let arc = Color(64, 64, 64)
        XCTAssertTrue(withTorque.pixels != hanging.pixels)
        XCTAssertTrue((0..<500).contains { withTorque[$0, 250] == arc }, "the torque's arc crosses the pivot's row")
        XCTAssertFalse((0..<500).contains { hanging[$0, 250] == arc })
    }

    // MARK: Gymnasium reference trace

    func testReplaysGymnasiumTrace() throws {
        let trace = try GymnasiumContinuousTrace.load("pendulum_trace")
        XCTAssertEqual(trace.episodes.count, 5)
        XCTAssertEqual(Set(trace.episodes.map(\.end)), ["truncated"])
        XCTAssertGreaterThan(trace.episodes.map(\.clipped_actions).reduce(0, +), 0, "the trace clips actions")
        XCTAssertGreaterThan(trace.episodes.compactMap(\.speed_bound_hits).reduce(0, +), 0, "the trace hits the speed bound")
        let deviation = try trace.replay({ TimeLimit(Pendulum(), maxEpisodeSteps: 200) }, start: { env, episode, observation in
            let s = episode.initial_state
            env.base.reset(to: .init(theta: s[0], thetaDot: s[1]), into: observation)
        }, state: { env in [env.base.state.theta, env.base.state.thetaDot] })
        print("Pendulum trace: largest observation deviation from Gymnasium \(trace.gymnasium): \(deviation)")
    }
}
