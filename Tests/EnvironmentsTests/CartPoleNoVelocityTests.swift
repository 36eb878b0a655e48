import Foundation
import SeededRandom
import XCTest
@testable import Environments

/// The name of the concrete type behind an existential, found by opening it.
private func concreteTypeName<E: Environment>(_ environment: E) -> String { String(describing: E.self) }

final class CartPoleNoVelocityTests: XCTestCase {
    /// The same seed and actions as CartPole-v1, through both registry entries, for 300 steps
    /// over several episodes (resetting both without a seed when one ends): every observation
    /// is CartPole's elements 0 and 2, bit for bit, and every reward and end flag is CartPole's.
    func testSameSeedAndActionsGiveCartPolesEpisodeWithoutTheVelocities() throws {
        var full = try makeEnvironment(id: "CartPole-v1")
        var partial = try makeEnvironment(id: "CartPole-NoVelocity-v1")
        var fullObservation = full.reset(seed: 7)
        XCTAssertEqual(partial.reset(seed: 7), [fullObservation[0], fullObservation[2]])

        var actions = SeededGenerator(seed: 1)
        var episodes = 1
        for step in 1...300 {
            let action = actions.int(below: 2)
            let expected = try full.step(action)
            let seen = try partial.step(action)
            fullObservation = expected.observation
            XCTAssertEqual(seen.observation, [fullObservation[0], fullObservation[2]], "step \(step)")
            XCTAssertEqual(seen.reward, expected.reward, "step \(step)")
            XCTAssertEqual(seen.isTerminated, expected.isTerminated, "step \(step)")
            XCTAssertEqual(seen.isTruncated, expected.isTruncated, "step \(step)")
            if expected.isDone {
                fullObservation = full.reset(seed: nil)
                XCTAssertEqual(partial.reset(seed: nil), [fullObservation[0], fullObservation[2]], "reset after step \(step)")
                episodes += 1
            }
        }
        XCTAssertGreaterThan(episodes, 5, "random pushes end an episode in a few dozen steps")
    }

    /// A controller that reads the velocities the agent cannot see keeps the pole up for the
    /// whole 500-step limit: the same run as CartPole-v1's in `RegistryTests`.
    func testIsTruncatedAtFiveHundredStepsLikeCartPole() throws {
        let spec = try EnvironmentRegistry.standard.spec(id: "CartPole-NoVelocity-v1")
        XCTAssertEqual(spec.maxEpisodeSteps, 500)
        XCTAssertEqual(spec.rewardThreshold, 475)
        let made = spec.makeEnvironment()
        XCTAssertEqual(concreteTypeName(made), "TimeLimit<CartPoleNoVelocity>")
        XCTAssertEqual(concreteTypeName(spec.makeBase()), "CartPoleNoVelocity")
        var env = try XCTUnwrap(made as? TimeLimit<CartPoleNoVelocity>)
        _ = env.reset(seed: 0)
        var steps = 0
        while true {
            let s = env.base.cartPole.state
            let o = [Float(s.x), Float(s.xDot), Float(s.theta), Float(s.thetaDot)]
            let action = o[2] + 0.5 * o[3] + 0.05 * o[0] + 0.2 * o[1] > 0 ? 1 : 0
            let step = try env.step(action)
            steps += 1
            XCTAssertEqual(step.observation, [Float(env.base.cartPole.state.x), Float(env.base.cartPole.state.theta)])
            if step.isDone {
                XCTAssertTrue(step.isTruncated)
                XCTAssertFalse(step.isTerminated)
                break
            }
        }
        XCTAssertEqual(steps, 500)
    }

    func testResetToAStateAndTermination() throws {
        var env = CartPoleNoVelocity()
        var observation = [Float](repeating: .nan, count: 2)
        observation.withUnsafeMutableBufferPointer {
            env.reset(to: .init(x: 2.39, xDot: 1, theta: 0.1, thetaDot: 0), into: $0)
        }
        XCTAssertEqual(observation, [Float(2.39 as Double), Float(0.1 as Double)])
        let step = try env.step(1)
        XCTAssertEqual(step.observation, [Float(env.cartPole.state.x), Float(env.cartPole.state.theta)])
        XCTAssertTrue(step.isTerminated, "x = 2.41 is off the track")
        XCTAssertTrue(env.isTerminated)
        XCTAssertEqual(step.reward, 1)
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }
    }

    func testSpaces() {
        let env = CartPoleNoVelocity()
        let full = CartPole().observationSpace
        XCTAssertEqual(env.actionSpace, .discrete(Discrete(2)))
        XCTAssertEqual(env.actionNames, ["left", "right"])
        XCTAssertEqual(env.observationSpace.shape, [2])
        XCTAssertEqual(env.observationSpace.high, [4.8, 0.41887903])
        XCTAssertEqual(env.observationSpace.low, [-4.8, -0.41887903])
        XCTAssertEqual(env.observationSpace.high, [full.high[0], full.high[2]])
        XCTAssertEqual(env.observationSpace.low, [full.low[0], full.low[2]])
        XCTAssertFalse(env.observationSpace.isBinary)
    }

    func testContractErrorsLeaveTheObservationAlone() throws {
        var env = CartPoleNoVelocity()
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        let first = env.reset(seed: 1)
        var observation: [Float] = [9, 9]
        let result = observation.withUnsafeMutableBufferPointer { buffer -> Result<StepOutcome, EnvironmentError> in
            do throws(EnvironmentError) { return .success(try env.step(2, into: buffer)) }
            catch { return .failure(error) }
        }
        XCTAssertEqual(result, .failure(.invalidAction(2, count: 2)))
        XCTAssertEqual(observation, [9, 9], "a refused action writes nothing")
        XCTAssertThrowsError(try env.step(-1)) {
            XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 2))
        }
        XCTAssertEqual(env.reset(seed: 1), first, "the same seed gives the same start")
    }

    /// The viewer draws whatever `render()` gives: CartPole's frame of the same state.
    func testRendersCartPolesFrame() throws {
        var full = CartPole()
        var partial = CartPoleNoVelocity()
        _ = full.reset(seed: 3)
        _ = partial.reset(seed: 3)
        for action in [1, 1, 0, 1, 1, 1] {
            _ = try full.step(action)
            _ = try partial.step(action)
        }
        XCTAssertEqual(partial.cartPole.state, full.state)
        let frame = partial.render()
        XCTAssertEqual(frame.width, CartPole.frameWidth)
        XCTAssertEqual(frame.height, CartPole.frameHeight)
        XCTAssertEqual(frame, full.render())
    }

    func testSavedStateContinuesTheEpisode() throws {
        var env = CartPoleNoVelocity()
        _ = env.reset(seed: 5)
        _ = try env.step(1)
        var restored = try JSONDecoder().decode(CartPoleNoVelocity.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(try restored.step(0), try env.step(0))
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator was saved too")
    }

    func testPassesTheChecker() throws {
        var env = try makeEnvironment(id: "CartPole-NoVelocity-v1")
        let report = try EnvironmentChecker.check(&env, seed: 11, steps: 1200)
        XCTAssertGreaterThan(report.episodesEnded, 0)
        XCTAssertEqual(report.passed, EnvironmentChecker.Check.allCases)
        XCTAssertEqual(report.notExercised, [])
    }
}
