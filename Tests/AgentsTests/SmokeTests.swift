import XCTest
@testable import Agents

/// Every algorithm runs on every registered environment: a few updates on two copies with
/// small settings, finite metrics, valid greedy choices and a checkpoint that restores.
final class SmokeTests: XCTestCase {
    private static let copies = 2

    private func makeAgent(_ algorithm: String, for environment: any Environment, steps: Int) throws -> any Agent {
        let (space, actions, copies) = (environment.observationSpace, environment.actionSpace.count, Self.copies)
        let small = NetworkConfiguration(hiddenSizes: [8], activation: .tanh, convolutionFilters: 2, convolutionDenseSize: 8)
        switch algorithm {
        case "ppo":
            var c = PPO.Configuration()
            c.stepsPerRollout = 8
            c.minibatches = 2
            c.epochs = 2
            c.network = small
            return try PPO(configuration: c, observationSpace: space, actionCount: actions, copies: copies,
                           totalSteps: steps, seed: 1)
        case "dqn":
            var c = DQN.Configuration()
            c.bufferSize = 64
            c.learningStarts = 8
            c.trainFrequency = 2
            c.batchSize = 4
            c.targetUpdateInterval = 8
            c.network = small
            return try DQN(configuration: c, observationSpace: space, actionCount: actions, totalSteps: steps, seed: 1)
        case "a2c":
            var c = A2C.Configuration()
            c.network = small
            return try A2C(configuration: c, observationSpace: space, actionCount: actions, copies: copies,
                           totalSteps: steps, seed: 1)
        default:
            var c = REINFORCE.Configuration()
            c.episodesPerUpdate = 1
            c.network = small
            return try REINFORCE(configuration: c, observationSpace: space, actionCount: actions, copies: copies,
                                 totalSteps: steps, seed: 1)
        }
    }

    func testEveryAlgorithmOnEveryEnvironment() throws {
        for spec in EnvironmentRegistry.standard.specs {
            // Long enough for several updates. REINFORCE learns from finished episodes: the
            // classic environments end (or hit their limit) within these steps; the arcade
            // games may not, so REINFORCE is not required to update there.
            let steps = spec.id.hasSuffix("MinAtar") ? 96 : 1_100  // past FourRooms' 500-step limit
            for algorithm in ["ppo", "dqn", "a2c", "reinforce"] {
                let prototype = spec.makeEnvironment()
                let agent = try makeAgent(algorithm, for: prototype, steps: steps)
                let loop = EnvironmentLoop(environments: makeVectorEnvironment(prototype, count: Self.copies),
                                           agent: agent, seed: 2)
                var updates = 0
                try loop.run(until: steps) { event in
                    guard !event.metrics.isEmpty else { return }
                    updates += 1
                    for (key, value) in event.metrics where key != "losses/explained_variance" {
                        XCTAssertTrue(value.isFinite, "\(algorithm) on \(spec.id): \(key) = \(value)")
                    }
                }
                if algorithm != "reinforce" || !spec.id.hasSuffix("MinAtar") {
                    XCTAssertGreaterThan(updates, 0, "\(algorithm) on \(spec.id) never learned")
                }
                var environment = spec.makeEnvironment()
                let observation = environment.reset(seed: 0)
                let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0) }
                XCTAssertTrue(environment.actionSpace.contains(choice.action), "\(algorithm) on \(spec.id)")
                XCTAssertEqual(choice.scores.count, environment.actionSpace.count)

                let restored = try makeAgent(algorithm, for: prototype, steps: steps)
                try restored.restore(from: agent.checkpoint(), weightsOnly: false)
                let again = observation.withUnsafeBufferPointer { restored.choose(for: $0) }
                XCTAssertEqual(again, choice, "\(algorithm) on \(spec.id): a restored agent chooses the same")
            }
        }
    }
}
