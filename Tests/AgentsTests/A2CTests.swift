import Environments
import Foundation
import NeuralNet
import XCTest
@testable import Agents

final class A2CTests: XCTestCase {
    private func makeAgent(
        _ configure: (inout A2C.Configuration) -> Void = { _ in }, observationSize: Int, actions: Int = 2,
        copies: Int, seed: UInt64 = 0
    ) throws -> A2C {
        var configuration = A2C.Configuration()
        configure(&configuration)
        return try A2C(configuration: configuration, observationSpace: Box(low: -10, high: 10, shape: [observationSize]),
                       actionCount: actions, copies: copies, totalSteps: 1000, seed: seed)
    }

    /// The rollout of `AdvantagesTests` played through the agent: two copies, three steps,
    /// γ = 0.9, with V(o) = tanh(o) so each observation is atanh of the value it should
    /// have. Copy 0 terminates at t = 1 (its final observation, worth 0.9, must not be
    /// used); copy 1 is truncated at t = 1 with reward 1 and a final observation worth 0.4,
    /// which the agent must fold in as 1 + 0.9·0.4 = 1.36.
    private func targetsOfHandMadeRollout(lambda: Double) throws -> (advantages: [Float], returns: [Float]) {
        let agent = try makeAgent({
            $0.stepsPerRollout = 3
            $0.gamma = 0.9
            $0.gaeLambda = lambda
            $0.network.hiddenSizes = [1]
        }, observationSize: 1, copies: 2)
        makeValueTanhOfObservation(agent.network)
        let values: [[Float]] = [[0.2, 0.6], [0.3, -0.4], [-0.1, 0.1]]
        let rewards: [[Float]] = [[1, 0.5], [0, 1], [2, -1]]
        let fixture = TransitionFixture(count: 2, observationSize: 1)
        let chosen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2)
        defer { chosen.deallocate() }
        var targets: (advantages: [Float], returns: [Float]) = ([], [])
        for t in 0..<3 {
            fixture.observations = values[t].map { atanh($0) }
            fixture.observations.withUnsafeBufferPointer { agent.act(on: $0, count: 2, into: chosen) }
            fixture.rewards = rewards[t]
            fixture.isTerminated = [t == 1, false]
            fixture.isTruncated = [false, t == 1]
            fixture.finalObservations = t == 1 ? [atanh(0.9), atanh(0.4)] : [atanh(-0.9), atanh(-0.9)]
            fixture.nextObservations = t == 2 ? [atanh(0.5), atanh(-0.5)] : values[t + 1].map { atanh($0) }
            fixture.withTransitions(globalStep: 2 * (t + 1)) { transitions in
                agent.store(transitions)
                if t == 2 { targets = agent.targets(after: transitions) }
            }
        }
        return targets
    }

    func testTargetsAreNStepReturnsWithLambdaOne() throws {
        let (advantages, returns) = try targetsOfHandMadeRollout(lambda: 1)
        // By hand (see AdvantagesTests): step-major [t0c0, t0c1, t1c0, t1c1, t2c0, t2c1].
        assertElementsEqual(advantages, [0.8, 1.124, -0.3, 1.76, 2.55, -1.55], accuracy: 1e-4)
        assertElementsEqual(returns, [1, 1.724, 0, 1.36, 2.45, -1.45], accuracy: 1e-4)
    }

    func testTargetsWithGAELambda() throws {
        let (advantages, returns) = try targetsOfHandMadeRollout(lambda: 0.95)
        assertElementsEqual(advantages, [0.8135, 1.0448, -0.3, 1.76, 2.55, -1.55], accuracy: 1e-4)
        assertElementsEqual(returns, [1.0135, 1.6448, 0, 1.36, 2.45, -1.45], accuracy: 1e-4)
    }

    /// One update on a one-step bandit whose observation is 0, with the policy's output
    /// weights zeroed: then only the output biases (the logits) get a gradient,
    /// ∂loss/∂logitₐ = −Â·(1[a = taken] − πₐ) = ∓0.5 for Â = r − V = ±1 and π = (½, ½).
    /// RMSprop's first step moves each by η·g/(√(1 − α)·|g| + ε), so the taken arm's
    /// probability becomes logistic(2·that step), up for a reward and down for a penalty.
    func testOneUpdateMovesTheTakenArmByRMSpropsFirstStep() throws {
        for reward: Float in [1, -1] {
            let learningRate = 0.01
            let agent = try makeAgent({
                $0.stepsPerRollout = 1
                $0.learningRate = learningRate
                $0.maxGradientNorm = 100  // no clipping: the step below is unscaled
                $0.network.hiddenSizes = [8]
            }, observationSize: 1, copies: 1)
            parameter("policy.2.weight", of: agent.network).assign(Array(repeating: 0, count: 16))
            let zero: [Float] = [0]
            XCTAssertEqual(zero.withUnsafeBufferPointer { agent.choose(for: $0) }.scores, [0.5, 0.5])

            let fixture = TransitionFixture(count: 1, observationSize: 1)
            fixture.actions = [1]
            fixture.rewards = [reward]
            fixture.isTerminated = [true]
            let chosen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1)
            defer { chosen.deallocate() }
            fixture.observations.withUnsafeBufferPointer { agent.act(on: $0, count: 1, into: chosen) }
            let metrics = try fixture.withTransitions(globalStep: 1) { try agent.observe($0) }
            XCTAssertEqual(metrics["losses/policy_loss"]!, -Double(reward) * log(0.5), accuracy: 1e-6)
            XCTAssertEqual(metrics["losses/value_loss"]!, 1, accuracy: 1e-6)  // (r − V)² with V = 0
            XCTAssertEqual(metrics["losses/entropy"]!, log(2), accuracy: 1e-6)

            let g = 0.5, alpha = 0.99, epsilon = 1e-5
            let step = learningRate * g / ((1 - alpha).squareRoot() * g + epsilon)  // ≈ 10·η
            let expected = logistic(2 * step * Double(reward))  // 0.54982 for +1, 0.45018 for −1
            let probability = zero.withUnsafeBufferPointer { agent.choose(for: $0) }.scores[1]
            XCTAssertEqual(Double(probability), expected, accuracy: 1e-5, "reward \(reward)")
        }
    }

    func testLearnsTheLockChain() throws {
        // SB3's settings but a larger learning rate and a small network, to stay fast in a debug build.
        let copies = 4
        let agent = try makeAgent({
            $0.learningRate = 0.01
            $0.network.hiddenSizes = [16]
        }, observationSize: LockChain.length, copies: copies, seed: 3)
        XCTAssertEqual(try greedyReturn(of: agent, on: LockChain.timeLimited()), -2, accuracy: 1e-5, "untrained")
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: copies),
                                   agent: agent, seed: 3)
        try loop.run(until: 4000) { _ in }
        XCTAssertEqual(try greedyReturn(of: agent, on: LockChain.timeLimited()), LockChain.bestReturn, accuracy: 1e-5)
    }

    func testCheckpointRestoresWeightsOptimizerAndGenerator() throws {
        let agent = try makeAgent({ $0.stepsPerRollout = 2; $0.network.hiddenSizes = [8] },
                                  observationSize: LockChain.length, copies: 2, seed: 1)
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(LockChain.timeLimited(), count: 2),
                                   agent: agent, seed: 1)
        try loop.run(until: 40) { _ in }
        let saved = agent.checkpoint()
        XCTAssertEqual(saved.state["optimizer.steps"], "10")
        XCTAssertNotNil(saved.tensors["optimizer.square_average.0"])

        let copy = try makeAgent({ $0.stepsPerRollout = 2; $0.network.hiddenSizes = [8] },
                                 observationSize: LockChain.length, copies: 2, seed: 99)
        try copy.restore(from: saved, weightsOnly: false)
        XCTAssertEqual(copy.checkpoint(), saved)
        // The restored generator samples the same actions.
        let observations = [Float](repeating: 0.2, count: 2 * LockChain.length)
        let a = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64), b = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { a.deallocate(); b.deallocate() }
        for _ in 0..<32 {
            observations.withUnsafeBufferPointer { agent.act(on: $0, count: 2, into: a) }
            observations.withUnsafeBufferPointer { copy.act(on: $0, count: 2, into: b) }
            XCTAssertEqual(Array(a.prefix(2)), Array(b.prefix(2)))
        }

        var broken = saved
        broken.tensors["value.0.bias"] = nil
        let fresh = try makeAgent({ $0.stepsPerRollout = 2; $0.network.hiddenSizes = [8] },
                                  observationSize: LockChain.length, copies: 2, seed: 5)
        let before = fresh.checkpoint()
        XCTAssertThrowsError(try fresh.restore(from: broken, weightsOnly: false))
        XCTAssertEqual(fresh.checkpoint(), before, "a failed restore changes nothing")
    }

    func testValidationNamesTheKey() {
        var configuration = A2C.Configuration()
        configuration.stepsPerRollout = 0
        XCTAssertThrowsError(try configuration.validate(copies: 1)) { error in
            XCTAssertTrue("\(error)".contains("steps_per_rollout"), "\(error)")
        }
        configuration = A2C.Configuration()
        configuration.gaeLambda = 1.5
        XCTAssertThrowsError(try configuration.validate(copies: 1)) { error in
            XCTAssertTrue("\(error)".contains("gae_lambda"), "\(error)")
        }
    }

    func testDefaultsAreSB3s() {
        let c = A2C.Configuration()
        XCTAssertEqual(c.learningRate, 7e-4)
        XCTAssertEqual(c.stepsPerRollout, 5)
        XCTAssertEqual(c.gamma, 0.99)
        XCTAssertEqual(c.gaeLambda, 1)
        XCTAssertEqual(c.entropyCoefficient, 0)
        XCTAssertEqual(c.valueCoefficient, 0.5)
        XCTAssertEqual(c.maxGradientNorm, 0.5)
        XCTAssertEqual(c.rmspropAlpha, 0.99)
        XCTAssertEqual(c.rmspropEpsilon, 1e-5)
        XCTAssertFalse(c.normalizeAdvantages)
        XCTAssertEqual(A2C.algorithm, "a2c")
    }
}
