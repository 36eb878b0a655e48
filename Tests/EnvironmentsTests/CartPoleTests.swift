import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class CartPoleTests: XCTestCase {
    /// A cart-pole reset to exactly `state`.
    private func cartPole(at state: CartPole.State) -> CartPole {
        var env = CartPole()
        var observation = [Float](repeating: 0, count: 4)
        observation.withUnsafeMutableBufferPointer { env.reset(to: state, into: $0) }
        return env
    }

    func testPushRightFromRestMatchesClosedForm() throws {
        // At rest and upright, sin = 0 and cos = 1, so the equations reduce to fractions:
        // temp = 100/11, thetaAcc = -600/41, xAcc = 4400/451.
        var env = cartPole(at: .init(x: 0, xDot: 0, theta: 0, thetaDot: 0))
        let step = try env.step(1)
        XCTAssertEqual(env.state.x, 0)
        XCTAssertEqual(env.state.theta, 0)
        XCTAssertEqual(env.state.xDot, 0.02 * 4400 / 451, accuracy: 1e-14)
        XCTAssertEqual(env.state.thetaDot, -0.02 * 600 / 41, accuracy: 1e-14)
        XCTAssertEqual(step.observation, [0, Float(0.02 * 4400 / 451), 0, Float(-0.02 * 600 / 41)])
        XCTAssertEqual(step.reward, 1)
        XCTAssertFalse(step.isTerminated)
        XCTAssertFalse(step.isTruncated)

        var left = cartPole(at: .init(x: 0, xDot: 0, theta: 0, thetaDot: 0))
        _ = try left.step(0)
        XCTAssertEqual(left.state.xDot, -0.02 * 4400 / 451, accuracy: 1e-14)
        XCTAssertEqual(left.state.thetaDot, 0.02 * 600 / 41, accuracy: 1e-14)
    }

    func testEulerMovesPositionsWithTheOldVelocities() throws {
        var env = cartPole(at: .init(x: 0.5, xDot: 1, theta: 0, thetaDot: 0.5))
        _ = try env.step(0)
        XCTAssertEqual(env.state.x, 0.5 + 0.02 * 1)
        XCTAssertEqual(env.state.theta, 0.02 * 0.5)
    }

    func testTerminatesWhenTheCartLeavesTheTrack() throws {
        var env = cartPole(at: .init(x: 2.39, xDot: 1, theta: 0, thetaDot: 0))
        let step = try env.step(1)
        XCTAssertEqual(env.state.x, 2.41, accuracy: 1e-12)
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(step.reward, 1, "the terminating step earns its reward too")
        XCTAssertThrowsError(try env.step(1)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }

        var leftEdge = cartPole(at: .init(x: -2.39, xDot: -1, theta: 0, thetaDot: 0))
        XCTAssertTrue(try leftEdge.step(0).isTerminated)
    }

    func testTerminatesPastTwelveDegrees() throws {
        XCTAssertEqual(CartPole.thetaThreshold, 0.20943951023931953, accuracy: 1e-16)
        // theta 0.2 + 0.02 * 0.5 = 0.21 > 0.2094...: terminated.
        var over = cartPole(at: .init(x: 0, xDot: 0, theta: 0.2, thetaDot: 0.5))
        XCTAssertTrue(try over.step(1).isTerminated)
        // theta 0.2 + 0.02 * 0.4 = 0.208 < 0.2094...: still running.
        var under = cartPole(at: .init(x: 0, xDot: 0, theta: 0.2, thetaDot: 0.4))
        XCTAssertFalse(try under.step(1).isTerminated)
        var negative = cartPole(at: .init(x: 0, xDot: 0, theta: -0.2, thetaDot: -0.5))
        XCTAssertTrue(try negative.step(0).isTerminated)
    }

    func testContractErrors() throws {
        var env = CartPole()
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 1)
        XCTAssertThrowsError(try env.step(2)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(2, count: 2))
        }
        XCTAssertThrowsError(try env.step(-1)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 2))
        }
    }

    func testResetDrawsEachVariableFromTheSeededGenerator() {
        var env = CartPole()
        let first = env.reset(seed: 42)
        var generator = SeededGenerator(seed: 42)
        let expected = (0..<4).map { _ in generator.uniform(-0.05, 0.05) }
        XCTAssertEqual(env.state, .init(x: expected[0], xDot: expected[1], theta: expected[2], thetaDot: expected[3]))
        XCTAssertEqual(first, expected.map { Float($0) })
        XCTAssertTrue(first.allSatisfy { $0 >= -0.05 && $0 < 0.05 })

        XCTAssertEqual(env.reset(seed: 42), first, "the same seed gives the same start")
        let next = env.reset(seed: nil)
        let continued = (0..<4).map { _ in Float(generator.uniform(-0.05, 0.05)) }
        XCTAssertEqual(next, continued, "reset without a seed continues the generator")
    }

    func testSpaces() {
        let env = CartPole()
        XCTAssertEqual(env.actionSpace, .discrete(Discrete(2)))
        XCTAssertEqual(env.actionNames, ["left", "right"])
        XCTAssertEqual(env.observationSpace.shape, [4])
        XCTAssertEqual(env.observationSpace.high, [4.8, .infinity, 0.41887903, .infinity])
        XCTAssertEqual(env.observationSpace.low, [-4.8, -.infinity, -0.41887903, -.infinity])
    }

    func testRenderDrawsCartPoleAndTrack() {
        let upright = cartPole(at: .init(x: 0, xDot: 0, theta: 0, thetaDot: 0)).render()
        XCTAssertEqual(upright.width, 600)
        XCTAssertEqual(upright.height, 400)
        XCTAssertEqual(upright[5, 5], .white)
        XCTAssertEqual(upright[300, 300], .black, "cart centre")
        XCTAssertEqual(upright[300, 200], Color(202, 152, 101), "pole, straight above the hinge")
        XCTAssertEqual(upright[300, 150], .white, "above the pole's tip (row 192.5 - 100 - 5)")
        XCTAssertEqual(upright[300, 292], Color(129, 132, 203), "hinge")
        XCTAssertEqual(upright[100, 300], Color(110, 110, 110), "track")
        XCTAssertEqual(upright[60, 295], Color(200, 40, 40), "left end of the track, x = -2.4")
        XCTAssertEqual(upright[540, 295], Color(200, 40, 40), "right end of the track, x = 2.4")

        // Cart 1 m right (100 px), pole leaning 0.2 rad right: the pole's midpoint is
        // 50 px from the hinge along the pole.
        let moved = cartPole(at: .init(x: 1, xDot: 0, theta: 0.2, thetaDot: 0)).render()
        XCTAssertEqual(moved[400, 300], .black)
        XCTAssertEqual(moved[300, 300], Color(110, 110, 110), "the track shows where the cart was")
        let midX = 400 + 50 * sin(0.2), midY = 292.5 - 50 * cos(0.2)
        XCTAssertEqual(moved[Int(midX), Int(midY)], Color(202, 152, 101))
    }

    // MARK: Gymnasium reference trace

    func testReplaysGymnasiumTrace() throws {
        let trace = try GymnasiumTrace.load("cartpole_trace")
        XCTAssertEqual(Set(trace.episodes.map(\.end)), ["angle", "position", "truncated"])
        try trace.replay({ TimeLimit(CartPole(), maxEpisodeSteps: 500) }, start: { env, episode, observation in
            let s = episode.initial_state
            env.base.reset(to: .init(x: s[0], xDot: s[1], theta: s[2], thetaDot: s[3]), into: observation)
        }, state: { env in [env.base.state.x, env.base.state.xDot, env.base.state.theta, env.base.state.thetaDot] })
    }
}
