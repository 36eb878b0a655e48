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
        let one = evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, threads: 1)
        let three = evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, threads: 3)
        XCTAssertEqual(one, three)
        XCTAssertEqual(one[4], playEpisode(agent, environment: make(), seed: seedForCopy(4, of: 9), stochastic: false))
        XCTAssertGreaterThan(Set(one.map(\.episodeReturn)).count, 1, "different seeds give different episodes")
        let stochastic = evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, stochastic: true, threads: 2)
        XCTAssertEqual(stochastic, evaluate(agent, makeEnvironment: make, episodes: 7, seed: 9, stochastic: true, threads: 1))
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
