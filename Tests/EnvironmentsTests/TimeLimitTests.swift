import XCTest
@testable import Environments

final class TimeLimitTests: XCTestCase {
    func testTruncatesAtTheLimitAndEndsTheEpisode() throws {
        var env = TimeLimit(GridWorld(), maxEpisodeSteps: 3)
        _ = env.reset(seed: 0)
        let steps = try (0..<3).map { _ in try env.step(GridWorld.Move.up.rawValue) }
        XCTAssertEqual(steps.map(\.isTruncated), [false, false, true])
        XCTAssertEqual(steps.map(\.isTerminated), [false, false, false])
        XCTAssertEqual(env.elapsedSteps, 3)
        XCTAssertTrue(env.isTruncated)
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }

        _ = env.reset()
        XCTAssertEqual(env.elapsedSteps, 0)
        XCTAssertFalse(env.isTruncated)
        XCTAssertFalse(try env.step(0).isTruncated)
    }

    func testTerminationOnTheLastStepKeepsBothFlags() throws {
        var env = TimeLimit(GridWorld(map: try GridWorld.Map(parsing: "SG")), maxEpisodeSteps: 1)
        _ = env.reset(seed: 0)
        let step = try env.step(GridWorld.Move.right.rawValue)
        XCTAssertTrue(step.isTerminated)
        XCTAssertTrue(step.isTruncated)
        XCTAssertEqual(step.reward, 1)
    }

    func testTerminationBeforeTheLimitIsNotTruncation() throws {
        var env = TimeLimit(GridWorld(map: try GridWorld.Map(parsing: "SG")), maxEpisodeSteps: 5)
        _ = env.reset(seed: 0)
        let step = try env.step(GridWorld.Move.right.rawValue)
        XCTAssertTrue(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }
    }

    func testStepsThatThrowDoNotCount() throws {
        var env = TimeLimit(CartPole(), maxEpisodeSteps: 2)
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 3)
        XCTAssertThrowsError(try env.step(7))
        XCTAssertEqual(env.elapsedSteps, 0)
        XCTAssertFalse(try env.step(0).isTruncated)
        XCTAssertTrue(try env.step(1).isTruncated)
    }

    func testPassesSpacesAndObservationsThrough() throws {
        var wrapped = TimeLimit(CartPole(), maxEpisodeSteps: 500)
        var bare = CartPole()
        XCTAssertEqual(wrapped.observationSpace, bare.observationSpace)
        XCTAssertEqual(wrapped.actionNames, ["left", "right"])
        XCTAssertEqual(wrapped.reset(seed: 5), bare.reset(seed: 5))
        XCTAssertEqual(try wrapped.step(1).observation, try bare.step(1).observation)
    }
}
