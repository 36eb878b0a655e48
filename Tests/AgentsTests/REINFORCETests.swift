import Environments
import Foundation
import NeuralNet
import XCTest
@testable import Agents

final class REINFORCETests: XCTestCase {
    private func makeAgent(
        _ configure: (inout REINFORCE.Configuration) -> Void = { _ in }, observationSize: Int, copies: Int,
        totalSteps: Int = 1000, seed: UInt64 = 0
    ) throws -> REINFORCE {
        var configuration = REINFORCE.Configuration()
        configure(&configuration)
        return try REINFORCE(configuration: configuration, observationSpace: Box(low: -10, high: 10, shape: [observationSize]),
                             actionCount: 2, copies: copies, totalSteps: totalSteps, seed: seed)
    }

    /// Two copies whose episodes end at different times; the vector environment resets a
    /// copy in the same step, so the next step's observation already belongs to its next
    /// episode. γ = 0.5 and V(o) = tanh(o).
    ///
    /// | step | copy 0 (obs, action, reward)    | copy 1 (obs, action, reward)              |
    /// |------|---------------------------------|-------------------------------------------|
    /// | 0    | 0.1, 0, 1                       | 0.2, 1, 2                                 |
    /// | 1    | 0.3, 1, 3, terminated (A)       | 0.4, 0, 4                                 |
    /// | 2    | 0.5, 1, 5, terminated (B)       | 0.6, 1, 6, truncated, V(final) = 0.4 (C)  |
    ///
    /// A: G = (1 + 0.5·3, 3) = (2.5, 3); its final observation is worth 0.9 but a
    /// terminated episode has no future. B: G = (5). C bootstraps: G₂ = 6 + 0.5·0.4 = 6.2,
    /// G₁ = 4 + 0.5·6.2 = 7.1, G₀ = 2 + 0.5·7.1 = 5.55.
    func testEachCopyKeepsItsOwnEpisodeAcrossAutoreset() throws {
        let agent = try makeAgent({
            $0.gamma = 0.5
            $0.episodesPerUpdate = 100  // only bookkeeping here: no update
            $0.network.hiddenSizes = [1]
        }, observationSize: 1, copies: 2)
        makeValueTanhOfObservation(agent.network)
        let fixture = TransitionFixture(count: 2, observationSize: 1)
        let steps: [(observations: [Float], actions: [Int], rewards: [Float], terminated: [Bool], truncated: [Bool])] = [
            ([0.1, 0.2], [0, 1], [1, 2], [false, false], [false, false]),
            ([0.3, 0.4], [1, 0], [3, 4], [true, false], [false, false]),
            ([0.5, 0.6], [1, 1], [5, 6], [true, false], [false, true]),
        ]
        for (t, step) in steps.enumerated() {
            fixture.observations = step.observations
            fixture.actions = step.actions
            fixture.rewards = step.rewards
            fixture.isTerminated = step.terminated
            fixture.isTruncated = step.truncated
            fixture.finalObservations = [atanh(0.9), atanh(0.4)]
            let metrics = try fixture.withTransitions(globalStep: 2 * (t + 1)) { try agent.observe($0) }
            XCTAssertTrue(metrics.isEmpty)
        }
        let episodes = agent.finishedEpisodes
        XCTAssertEqual(episodes.count, 3)
        guard episodes.count == 3 else { return }
        // In the order they ended; within a step, in copy order.
        XCTAssertEqual(episodes[0].observations, [0.1, 0.3])
        XCTAssertEqual(episodes[0].actions, [0, 1])
        assertElementsEqual(episodes[0].returns, [2.5, 3])
        XCTAssertEqual(episodes[1].observations, [0.5])
        XCTAssertEqual(episodes[1].actions, [1])
        assertElementsEqual(episodes[1].returns, [5])
        XCTAssertEqual(episodes[2].observations, [0.2, 0.4, 0.6])
        XCTAssertEqual(episodes[2].actions, [1, 0, 1])
        assertElementsEqual(episodes[2].returns, [5.55, 7.1, 6.2])
        // Every copy starts its next episode empty.
        XCTAssertTrue(agent.trajectories.allSatisfy { $0.actions.isEmpty && $0.observations.isEmpty })
    }

    func testUpdatesOnceEnoughEpisodesHaveEnded() throws {
        let agent = try makeAgent({ $0.episodesPerUpdate = 2; $0.network.hiddenSizes = [4] },
                                  observationSize: 1, copies: 1)
        let fixture = TransitionFixture(count: 1, observationSize: 1)
        fixture.rewards = [1]
        fixture.isTerminated = [true]
        let first = try fixture.withTransitions(globalStep: 1) { try agent.observe($0) }
        XCTAssertTrue(first.isEmpty)
        XCTAssertEqual(agent.finishedEpisodes.count, 1)
        let second = try fixture.withTransitions(globalStep: 2) { try agent.observe($0) }
        XCTAssertEqual(Set(second.keys), Set(REINFORCE.metricKeys))
        XCTAssertEqual(agent.finishedEpisodes.count, 0, "the batch is consumed by the update")
        XCTAssertEqual(agent.checkpoint().state["optimizer.steps"], "1")
    }

    /// One update on a one-step bandit whose observation is 0, with the policy's output
    /// weights zeroed, so only the logits' biases get a gradient:
    /// ∂loss/∂logitₐ = −Â·(1[a = taken] − πₐ) = ∓0.5 for Â = r − V = ±1, π = (½, ½).
    /// Adam's first step moves every such parameter by η·g/(|g| + ε) (its bias-corrected
    /// moments are g and g²), so the taken arm's probability becomes logistic(±2η).
    func testOneUpdateMovesTheTakenArmByAdamsFirstStep() throws {
        for reward: Float in [1, -1] {
            let learningRate = 0.05
            let agent = try makeAgent({
                $0.episodesPerUpdate = 1
                $0.learningRate = learningRate
                $0.annealLearningRate = false
                $0.normalizeAdvantages = false
                $0.network.hiddenSizes = [8]
            }, observationSize: 1, copies: 1)
            parameter("policy.2.weight", of: agent.network).assign(Array(repeating: 0, count: 16))
            let zero: [Float] = [0]
            XCTAssertEqual(zero.withUnsafeBufferPointer { agent.choose(for: $0) }.scores, [0.5, 0.5])

            let fixture = TransitionFixture(count: 1, observationSize: 1)
            fixture.actions = [1]
            fixture.rewards = [reward]
            fixture.isTerminated = [true]
            let metrics = try fixture.withTransitions(globalStep: 1) { try agent.observe($0) }
            XCTAssertEqual(metrics["losses/policy_loss"]!, -Double(reward) * log(0.5), accuracy: 1e-6)
            XCTAssertEqual(metrics["losses/value_loss"]!, 1, accuracy: 1e-6)

            let step = learningRate * 0.5 / (0.5 + 1e-8)
            let expected = logistic(2 * step * Double(reward))  // 0.52498 for +1, 0.47502 for −1
            let probability = zero.withUnsafeBufferPointer { agent.choose(for: $0) }.scores[1]
            XCTAssertEqual(Double(probability), expected, accuracy: 1e-5, "reward \(reward)")
        }
    }

    func testLearnsTheLockChain() throws {
        let copies = 4
        let agent = try makeAgent({
            $0.learningRate = 0.01
            $0.network.hiddenSizes = [16]
        }, observationSize: LockChain.length, copies: copies, totalSteps: 4000, seed: 3)
        XCTAssertEqual(try greedyReturn(of: agent, on: LockChain.timeLimited()), -2, accuracy: 1e-5, "untrained")
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: copies),
                                   agent: agent, seed: 3)
        try loop.run(until: 4000) { _ in }
        XCTAssertEqual(try greedyReturn(of: agent, on: LockChain.timeLimited()), LockChain.bestReturn, accuracy: 1e-5)
    }

    func testCheckpointRoundTrip() throws {
        let agent = try makeAgent({ $0.episodesPerUpdate = 1; $0.network.hiddenSizes = [8] },
                                  observationSize: LockChain.length, copies: 2, seed: 1)
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 2),
                                   agent: agent, seed: 1)
        try loop.run(until: 200) { _ in }
        let saved = agent.checkpoint()
        XCTAssertNotEqual(saved.state["optimizer.steps"], "0")
        XCTAssertNotNil(saved.tensors["optimizer.m.0"])
        let copy = try makeAgent({ $0.episodesPerUpdate = 1; $0.network.hiddenSizes = [8] },
                                 observationSize: LockChain.length, copies: 2, seed: 42)
        try copy.restore(from: saved, weightsOnly: false)
        XCTAssertEqual(copy.checkpoint(), saved)

        let weightsOnly = try makeAgent({ $0.episodesPerUpdate = 1; $0.network.hiddenSizes = [8] },
                                        observationSize: LockChain.length, copies: 2, seed: 42)
        try weightsOnly.restore(from: AgentCheckpoint(tensors: saved.tensors.filter { !$0.key.hasPrefix("optimizer.") }),
                                weightsOnly: true)
        let observation = [Float](repeating: 0.3, count: LockChain.length)
        XCTAssertEqual(observation.withUnsafeBufferPointer { weightsOnly.choose(for: $0) },
                       observation.withUnsafeBufferPointer { agent.choose(for: $0) })
    }

    func testValidationNamesTheKey() {
        var configuration = REINFORCE.Configuration()
        configuration.episodesPerUpdate = 0
        XCTAssertThrowsError(try configuration.validate(copies: 1)) { error in
            XCTAssertTrue("\(error)".contains("episodes_per_update"), "\(error)")
        }
        configuration = REINFORCE.Configuration()
        configuration.maxGradientNorm = -1
        XCTAssertThrowsError(try configuration.validate(copies: 1)) { error in
            XCTAssertTrue("\(error)".contains("max_gradient_norm"), "\(error)")
        }
    }
}
