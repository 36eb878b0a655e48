import Environments
import NeuralNet
import XCTest
@testable import Agents

/// Recurrent PPO's memory: what acting carries, what the update replays, and what a
/// player of single episodes carries.
final class RecurrentPPOTests: XCTestCase {
    private func makeAgent(cell: RecurrentCellKind, copies: Int, steps: Int) throws -> RecurrentPPO {
        let environment = CartPole()
        let configuration = RecurrentPPO.Configuration().with {
            $0.stepsPerRollout = steps
            $0.minibatches = 1
            $0.network = NetworkConfiguration(hiddenSizes: [8], activation: .tanh,
                                              recurrent: RecurrentConfiguration(cell: cell, size: 6))
        }
        return try RecurrentPPO(configuration: configuration, context: AgentContext(
            observationSpace: environment.observationSpace, actionSpace: environment.actionSpace, copies: copies,
            totalSteps: 10_000, seed: 3))
    }

    /// The update replays each copy's sequence from the rollout's stored initial states
    /// with the stored resets: before any update it must reproduce, step for step, the
    /// log-probabilities and values acting recorded (so the first ratio is exactly 1).
    /// 150 steps of a random-ish policy end several CartPole episodes mid-rollout, and the
    /// second rollout starts from states carried over from the first.
    func testTheUpdateReplaysWhatActingSaw() throws {
        for cell in RecurrentCellKind.allCases {
            let agent = try makeAgent(cell: cell, copies: 3, steps: 200)
            let loop = EnvironmentLoop(environments: makeVectorEnvironment(CartPole(), count: 3), agent: agent, seed: 5)
            var episodes = 0
            try loop.run(until: 3 * 150) { episodes += $0.finishedEpisodes.count }
            XCTAssertGreaterThan(episodes, 3, "episodes must end inside the rollout for the resets to matter")
            let replayed = agent.replayedRolloutForTesting(), recorded = agent.recordedRolloutForTesting
            XCTAssertEqual(replayed.logProbabilities.count, 450)
            for (a, b) in zip(replayed.logProbabilities, recorded.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(cell)") }
            for (a, b) in zip(replayed.values, recorded.values) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(cell)") }
        }
    }

    /// A player's memory starts at zero, changes with every observation, and makes the
    /// same observation give different scores later in an episode; `choose(for:)` alone
    /// is the episode's first step.
    func testPlayersCarryTheirOwnMemory() throws {
        let agent = try makeAgent(cell: .lstm, copies: 1, steps: 8)
        var memory = agent.makeMemory()
        XCTAssertEqual(memory?.state, Array(repeating: 0, count: 24), "h and c of a 6-unit LSTM, for each of two cells")
        let observation: [Float] = [0.01, -0.02, 0.03, 0.04]
        let first = observation.withUnsafeBufferPointer { agent.choose(for: $0, memory: &memory) }
        XCTAssertEqual(first, observation.withUnsafeBufferPointer { agent.choose(for: $0) })
        let afterOne = memory
        XCTAssertNotEqual(afterOne?.state, Array(repeating: 0, count: 24))
        var scores = first.scores
        for _ in 0..<5 {
            scores = observation.withUnsafeBufferPointer { agent.choose(for: $0, memory: &memory) }.scores
        }
        XCTAssertNotEqual(scores, first.scores, "the memory changed what the policy sees")
        // A second player from a fresh memory is not affected by the first.
        var other = agent.makeMemory()
        XCTAssertEqual(observation.withUnsafeBufferPointer { agent.choose(for: $0, memory: &other) }, first)
        XCTAssertEqual(other, afterOne)
    }

    func testConfigurationsWithoutMemoryOrWithBrokenMinibatchesAreRefused() throws {
        let environment = CartPole()
        let context = AgentContext(observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
                                   copies: 4, totalSteps: 1_000, seed: 0)
        var configuration = RecurrentPPO.Configuration()
        configuration.minibatches = 8  // divides the 512 rows, but not the 4 copies
        XCTAssertThrowsError(try RecurrentPPO(configuration: configuration, context: context)) { error in
            XCTAssertTrue("\(error)".contains("minibatches must divide environments = 4, got 8"), "\(error)")
        }
        configuration.minibatches = 2
        configuration.network.recurrent = nil
        XCTAssertThrowsError(try RecurrentPPO(configuration: configuration, context: context)) { error in
            XCTAssertTrue("\(error)".contains("needs network.recurrent"), "\(error)")
        }
        var feedForward = PPO.Configuration()
        feedForward.network.recurrent = RecurrentConfiguration()
        XCTAssertThrowsError(try PPO(configuration: feedForward, context: context)) { error in
            XCTAssertTrue("\(error)".contains("train recurrent_ppo"), "\(error)")
        }
    }
}
