import Environments
import XCTest
@testable import Agents

/// Every registered algorithm runs on every registered environment: a few updates on two
/// copies with its small configuration, finite metrics, valid greedy choices and a
/// checkpoint that restores.
final class SmokeTests: XCTestCase {
    private static let copies = 2

    private func makeAgent(_ algorithm: AlgorithmSpec, for environment: any Environment, steps: Int) throws -> any Agent {
        try algorithm.makeAgent(algorithm.smallConfiguration, context: AgentContext(
            observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
            copies: Self.copies, totalSteps: steps, seed: 1))
    }

    func testEveryAlgorithmOnEveryEnvironment() throws {
        for spec in EnvironmentRegistry.builtIn.specs {
            // Long enough for several updates (past FourRooms' 500-step limit). Algorithms
            // that learn from whole episodes update only once one ends, which the arcade
            // games need not do in 96 steps.
            let steps = spec.id.hasSuffix("MinAtar") ? 96 : 1_100
            for algorithm in AlgorithmRegistry.standard.specs {
                let prototype = spec.makeEnvironment()
                guard algorithm.actionKinds.admit(prototype.actionSpace) else {
                    XCTAssertThrowsError(try makeAgent(algorithm, for: prototype, steps: steps),
                                         "\(algorithm.name) on \(spec.id) should be refused")
                    continue
                }
                let agent = try makeAgent(algorithm, for: prototype, steps: steps)
                let loop = EnvironmentLoop(environments: makeVectorEnvironment(prototype, count: Self.copies),
                                           agent: agent, seed: 2)
                var updates = 0, episodes = 0
                try loop.run(until: steps) { event in
                    episodes += event.finishedEpisodes.count
                    guard !event.metrics.isEmpty else { return }
                    updates += 1
                    for (key, value) in event.metrics where key != "losses/explained_variance" {
                        XCTAssertTrue(value.isFinite, "\(algorithm.name) on \(spec.id): \(key) = \(value)")
                        XCTAssertTrue(algorithm.metricKeys.contains(key), "\(algorithm.name) reports unlisted \(key)")
                    }
                }
                if !algorithm.learnsFromWholeEpisodes || episodes > 0 {
                    XCTAssertGreaterThan(updates, 0, "\(algorithm.name) on \(spec.id) never learned")
                }
                var environment = spec.makeEnvironment()
                let observation = environment.reset(seed: 0)
                let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0) }
                switch environment.actionSpace {
                case .discrete(let space):
                    XCTAssertTrue(space.contains(choice.action), "\(algorithm.name) on \(spec.id)")
                    XCTAssertEqual(choice.scores.count, space.count)
                case .box(let box):
                    XCTAssertTrue(box.contains(choice.values), "\(algorithm.name) on \(spec.id): \(choice.values)")
                }

                let restored = try makeAgent(algorithm, for: prototype, steps: steps)
                try restored.restore(from: agent.checkpoint(), weightsOnly: false)
                let again = observation.withUnsafeBufferPointer { restored.choose(for: $0) }
                XCTAssertEqual(again, choice, "\(algorithm.name) on \(spec.id): a restored agent chooses the same")
            }
        }
    }
}
