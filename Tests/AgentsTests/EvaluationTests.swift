import Environments
import SeededRandom
import Parallelism
import XCTest
@testable import Agents

final class EvaluationTests: XCTestCase {
    private func makeAgent() throws -> PPO {
        var c = PPO.Configuration()
        c.network = NetworkConfiguration(hiddenSizes: [8], activation: .tanh)
        return try PPO(configuration: c, observationSpace: CartPole().observationSpace, actionCount: 2, copies: 1,
                       totalSteps: 1, seed: 4)
    }

    /// Episode i is seeded from (seed, i) alone: one thread or three give the same returns,
    /// in the same order, and each equals the episode played on its own.
    func testResultsDoNotDependOnTheNumberOfThreads() throws {
        let agent = try makeAgent()
        let make: @Sendable () -> any Environment = { TimeLimit(CartPole(), maxEpisodeSteps: 500) }
        let one = try evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, pool: WorkerPool(threadCount: 1))
        let three = try evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, pool: WorkerPool(threadCount: 3))
        XCTAssertEqual(one, three)
        XCTAssertEqual(one[4], try playEpisode(agent, environment: make(), seed: seedForCopy(4, of: 9), stochastic: false))
        XCTAssertGreaterThan(Set(one.map(\.episodeReturn)).count, 1, "different seeds give different episodes")
        let stochastic = try evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, stochastic: true, pool: WorkerPool(threadCount: 2))
        XCTAssertEqual(stochastic, try evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, stochastic: true, pool: WorkerPool(threadCount: 1)))
    }

    /// An environment without a time limit that the agent never ends: every episode stops
    /// at `maxSteps` and says so, with the return of exactly those steps.
    func testEpisodesWithoutAnEndAreCutShortAtTheStepLimit() throws {
        let agent = try makeAgent()
        let results = try evaluate(agent, makeEnvironment: { Endless() }, episodes: 3, seed: 0, maxSteps: 25, pool: WorkerPool(threadCount: 2))
        XCTAssertEqual(results, Array(repeating: EpisodeRecord(episodeReturn: 25, length: 25, ending: .cutShort), count: 3))
        let limited = try evaluate(agent, makeEnvironment: { TimeLimit(Endless(), maxEpisodeSteps: 10) },
                                   episodes: 1, seed: 0, maxSteps: 25)
        XCTAssertEqual(limited, [EpisodeRecord(episodeReturn: 10, length: 10, ending: .truncated)])
    }

    /// A step that fails is reported with the episode and step it happened at, instead of
    /// ending the episode as if it had finished.
    func testAFailingStepIsReportedNotTakenForTheEnd() throws {
        let agent = try makeAgent()
        XCTAssertThrowsError(try evaluate(agent, makeEnvironment: { Endless(failingAtStep: 7) }, episodes: 4, seed: 0,
                                          maxSteps: 100, pool: WorkerPool(threadCount: 2))) { error in
            XCTAssertEqual(error as? EvaluationError,
                           EvaluationError(episode: 0, step: 6, underlying: .invalidConfiguration("broken at step 7")))
            XCTAssertTrue("\(error)".contains("episode 0 failed at step 6"), "\(error)")
        }
    }

    func testStochasticChoicesFollowTheScores() {
        var generator = SeededGenerator(seed: 1)
        let policy = ActionChoice(action: 0, scores: [0.2, 0.8], kind: .probabilities)
        var counts = [0, 0]
        for _ in 0..<10_000 { counts[sampleAction(from: policy, using: &generator)] += 1 }
        XCTAssertEqual(Double(counts[1]) / 10_000, 0.8, accuracy: 0.02)
        // Q-values: greedy but for ε = 0.05 of uniform choices, so the other action has 2.5%.
        let values = ActionChoice(action: 1, scores: [-1, 3], kind: .values)
        counts = [0, 0]
        for _ in 0..<10_000 { counts[sampleAction(from: values, using: &generator)] += 1 }
        XCTAssertEqual(Double(counts[0]) / 10_000, 0.025, accuracy: 0.008)
    }
}

/// CartPole-shaped observations, reward 1 per step, never ends by itself; optionally its
/// step number `failingAtStep` throws.
private struct Endless: Environment {
    var failingAtStep: Int?
    var steps = 0

    var observationSpace: Box { Box(low: -1, high: 1, shape: [4]) }
    var actionSpace: ActionSpace { .discrete(Discrete(2)) }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        steps = 0
        for i in 0..<4 { observation[i] = 0 }
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome {
        steps += 1
        if steps == failingAtStep { throw .invalidConfiguration("broken at step \(steps)") }
        for i in 0..<4 { observation[i] = Float(steps % 3) / 3 }
        return StepOutcome(reward: 1)
    }

    func render() -> Frame { Frame(width: 1, height: 1) }
}
