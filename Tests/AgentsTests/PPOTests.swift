import XCTest
@testable import Agents

final class PPOTests: XCTestCase {
    private func smallConfiguration() -> PPO.Configuration {
        var c = PPO.Configuration()
        c.stepsPerRollout = 16
        c.minibatches = 2
        c.epochs = 4
        c.learningRate = 3e-3
        c.network = NetworkConfiguration(hiddenSizes: [16], activation: .tanh)
        return c
    }

    private func makeAgent(seed: UInt64, totalSteps: Int, configuration: PPO.Configuration? = nil,
                           copies: Int = 4) throws -> PPO {
        try PPO(configuration: configuration ?? smallConfiguration(),
                observationSpace: LockChain().observationSpace, actionCount: 2, copies: copies,
                totalSteps: totalSteps, seed: seed)
    }

    /// PPO opens the five-cell lock (the optimal return 0.7) within 6,000 steps; untrained,
    /// the greedy policy does not.
    func testLearnsTheCombinationLock() throws {
        let agent = try makeAgent(seed: 0, totalSteps: 6_000)
        XCTAssertLessThan(try greedyReturn(of: agent, on: LockChain.timeLimited()), 0)
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 4),
                                   agent: agent, seed: 0)
        var updates = 0
        try loop.run(until: 6_000) { event in
            if !event.metrics.isEmpty {
                updates += 1
                for key in PPO.metricKeys where key != "losses/explained_variance" {
                    XCTAssertTrue(event.metrics[key]?.isFinite ?? false, "\(key) missing or not finite")
                }
            }
        }
        XCTAssertEqual(updates, 6_000 / (16 * 4))
        XCTAssertEqual(try greedyReturn(of: agent, on: LockChain.timeLimited()), LockChain.bestReturn, accuracy: 1e-6)
    }

    /// A truncated step's reward carries γ·V(final observation); a terminated one does not.
    func testTruncationBootstrapsThroughTheTimeLimit() throws {
        let agent = try makeAgent(seed: 1, totalSteps: 1_000, copies: 1)
        let environments = makeVectorEnvironment(TimeLimit(LockChain(), maxEpisodeSteps: 2), count: 1)
        let loop = EnvironmentLoop(environments: environments, agent: agent, seed: 0)
        var truncatedAt: Int?
        var finalObservation: [Float] = []
        try loop.run(until: 2) { event in
            if environments.isTruncated[0] {
                truncatedAt = event.globalStep
                finalObservation = Array(environments.finalObservation(ofCopy: 0))
            }
        }
        let step = try XCTUnwrap(truncatedAt, "a two-step limit truncates by the second step unless the lock opened")
        let value = withoutGradients {
            agent.network.values(Tensor(shape: [1, LockChain.length], scalars: finalObservation))
        }.scalar
        let expected: Float = -0.1 + Float(agent.configuration.gamma) * value
        XCTAssertEqual(agent.bufferForTesting.rewards[step - 1], expected, accuracy: 1e-6)
        XCTAssertEqual(agent.bufferForTesting.rewards[0], -0.1, "the first step is an ordinary step")
        XCTAssertTrue(agent.bufferForTesting.episodeEnded[step - 1])
    }

    /// The learning rate falls linearly to zero: after the update that ends at step s of
    /// S, Adam used lr·(1 − (s − rollout)/S).
    func testLearningRateAnnealsLinearly() throws {
        let agent = try makeAgent(seed: 2, totalSteps: 256)
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 4),
                                   agent: agent, seed: 0)
        var rates: [Double] = []
        try loop.run(until: 256) { event in
            if let rate = event.metrics["charts/learning_rate"] { rates.append(rate) }
        }
        let lr = agent.configuration.learningRate
        XCTAssertEqual(rates.count, 4)
        for (k, rate) in rates.enumerated() {
            XCTAssertEqual(rate, lr * (1 - Double(k * 64) / 256), accuracy: 1e-12)
        }
    }

    /// A restored agent continues exactly as the original: weights, Adam's moments and step
    /// count, and the sampling generator all come back.
    func testCheckpointRestoresTheWholeTrainingState() throws {
        let original = try makeAgent(seed: 3, totalSteps: 2_000)
        let firstLoop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 4),
                                        agent: original, seed: 5)
        try firstLoop.run(until: 640) { _ in }
        let saved = original.checkpoint()

        let restored = try makeAgent(seed: 99, totalSteps: 2_000)
        XCTAssertNotEqual(restored.network.parameters[0].scalars, original.network.parameters[0].scalars)
        try restored.restore(from: saved, weightsOnly: false)

        // Both continue on identical environment streams from here.
        for agent in [original, restored] {
            let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 4),
                                       agent: agent, seed: 11, startStep: 640)
            try loop.run(until: 1_280) { _ in }
        }
        for (a, b) in zip(original.network.namedParameters, restored.network.namedParameters) {
            XCTAssertEqual(a.tensor.scalars, b.tensor.scalars, a.name)
        }
    }

    /// A checkpoint from another network is refused and changes nothing.
    func testMismatchedCheckpointIsRefusedWhole() throws {
        var wide = smallConfiguration()
        wide.network.hiddenSizes = [32]
        let other = try makeAgent(seed: 4, totalSteps: 100, configuration: wide)
        let agent = try makeAgent(seed: 5, totalSteps: 100)
        let before = agent.network.parameters.map(\.scalars)
        XCTAssertThrowsError(try agent.restore(from: other.checkpoint(), weightsOnly: true)) { error in
            guard case CheckpointError.shapeMismatch(let name, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "policy.0.weight")
        }
        XCTAssertEqual(agent.network.parameters.map(\.scalars), before)
    }

    func testConfigurationErrorsNameTheKey() {
        var c = smallConfiguration()
        c.minibatches = 3
        XCTAssertThrowsError(try c.validate(copies: 4)) { error in
            XCTAssertTrue("\(error)".contains("minibatches"), "\(error)")
        }
        c = smallConfiguration()
        c.gamma = 1.5
        XCTAssertThrowsError(try c.validate(copies: 4)) { error in
            XCTAssertTrue("\(error)".contains("gamma"), "\(error)")
        }
    }
}
