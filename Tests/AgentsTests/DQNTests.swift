import Autodiff
import Environments
import NeuralNet
import XCTest
@testable import Agents

/// A corridor of five cells, observed one-hot: start in cell 0; action 1 moves right,
/// action 0 moves left (a wall at cell 0). Reaching cell 4 pays +1 and terminates; every
/// other step pays −0.1. The best return is −0.1·3 + 1 = 0.7, in four steps.
private struct Corridor: Environment {
    static let length = 5
    var position = 0
    var isOver = true

    var observationSpace: Box { Box(low: 0, high: 1, shape: [Self.length]) }
    var actionSpace: ActionSpace { .discrete(Discrete(2)) }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        position = 0
        isOver = false
        write(into: observation)
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome {
        guard !isOver else { throw .episodeEnded }
        guard (0..<actionSpace.width).contains(action) else { throw .invalidAction(action, count: 2) }
        position = action == 1 ? position + 1 : max(0, position - 1)
        write(into: observation)
        if position == Self.length - 1 {
            isOver = true
            return StepOutcome(reward: 1, isTerminated: true)
        }
        return StepOutcome(reward: -0.1)
    }

    private func write(into observation: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<Self.length { observation[i] = i == position ? 1 : 0 }
    }

    func render() -> Frame { Frame(width: Self.length, height: 1) }
}

final class DQNTests: XCTestCase {
    /// Two one-hot states and two actions: with no hidden layers the Q-network is one
    /// Dense layer, so Q(sᵢ, ·) is row i of its weight once the biases are set to zero.
    private func makeLinearAgent(_ configure: (inout DQN.Configuration) -> Void = { _ in }) throws -> DQN {
        var c = DQN.Configuration()
        c.network.hiddenSizes = []
        c.gamma = 0.9
        configure(&c)
        return try DQN(configuration: c, observationSpace: Box(low: 0, high: 1, shape: [2]), actionCount: 2,
                       totalSteps: 1000, seed: 3)
    }

    private func dense(_ network: Sequential) -> Dense { network.layers[0] as! Dense }

    private func assertEqual(_ a: [Float], _ b: [Float], accuracy: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
    }

    // MARK: TD targets

    func testTargetFunctionByHandForPlainAndDoubleDQN() {
        let target = Tensor(shape: [3, 2], scalars: [2, 3, 4, 1, 4, 1])
        let online = Tensor(shape: [3, 2], scalars: [5, 0, 0, 1, 0, 1])
        let rewards: [Float] = [1, 0.5, -1], terminated: [Float] = [0, 1, 0]
        // Plain: max over the target network's values.
        let plain = DQN.temporalDifferenceTargets(
            rewards: rewards, terminated: terminated, nextTargetValues: target, nextOnlineValues: nil, gamma: 0.9)
        assertEqual(plain, [1 + 0.9 * 3, 0.5, -1 + 0.9 * 4])
        // Double: the online network picks the action, the target network values it.
        let double = DQN.temporalDifferenceTargets(
            rewards: rewards, terminated: terminated, nextTargetValues: target, nextOnlineValues: online, gamma: 0.9)
        assertEqual(double, [1 + 0.9 * 2, 0.5, -1 + 0.9 * 1])
    }

    /// Online Q(s₀) = [1, 2], Q(s₁) = [3, 0]; target Q′(s₀) = [0.5, −1], Q′(s₁) = [2, 4].
    private func setKnownWeights(_ agent: DQN) {
        dense(agent.qNetwork).weight.assign([1, 2, 3, 0])
        dense(agent.targetNetwork).weight.assign([0.5, -1, 2, 4])
        dense(agent.qNetwork).bias.assign([0, 0])
        dense(agent.targetNetwork).bias.assign([0, 0])
    }

    /// (s₀, a₀, r = 1, s₁), (s₁, a₁, r = 0, s₀), (s₁, a₀, r = 2, s₁, terminated).
    private var twoStateBatch: ReplayBatch {
        var batch = ReplayBatch(count: 3, observationSize: 2)
        batch.observations = [1, 0, 0, 1, 0, 1]
        batch.actions = [0, 1, 0]
        batch.rewards = [1, 0, 2]
        batch.nextObservations = [0, 1, 1, 0, 0, 1]
        batch.terminated = [0, 0, 1]
        return batch
    }

    func testTargetsFromTheNetworksOnTwoStates() throws {
        let plain = try makeLinearAgent()
        setKnownWeights(plain)
        // y = r + 0.9·max Q′(s′): 1 + 0.9·4, 0 + 0.9·0.5, and 2 with no bootstrap.
        assertEqual(plain.temporalDifferenceTargets(for: twoStateBatch), [4.6, 0.45, 2])

        let double = try makeLinearAgent { $0.doubleDQN = true }
        setKnownWeights(double)
        // a* = argmax Q(s′): Q(s₁) → 0, Q(s₀) → 1; valued by Q′: 1 + 0.9·2, 0.9·(−1).
        assertEqual(double.temporalDifferenceTargets(for: twoStateBatch), [2.8, -0.9, 2])
    }

    func testLossOfOneGradientStepByHand() throws {
        // Q(s, a) of the batch: Q(s₀,0) = 1, Q(s₁,1) = 0, Q(s₁,0) = 3; targets 4.6, 0.45, 2.
        let huber = try makeLinearAgent()
        setKnownWeights(huber)
        let (huberLoss, meanQ) = try huber.gradientStep(on: twoStateBatch)
        // Huber: |−3.6| − ½, ½·0.45², |1| → ½.
        XCTAssertEqual(huberLoss, (3.1 + 0.10125 + 0.5) / 3, accuracy: 1e-5)
        XCTAssertEqual(meanQ, 4.0 / 3, accuracy: 1e-6)

        let mse = try makeLinearAgent { $0.loss = .mse; $0.maxGradientNorm = nil; $0.learningRate = 0.1 }
        setKnownWeights(mse)
        let (mseLoss, _) = try mse.gradientStep(on: twoStateBatch)
        XCTAssertEqual(mseLoss, (3.6 * 3.6 + 0.45 * 0.45 + 1) / 3, accuracy: 1e-5)
        // Adam's first step moves each weight with a gradient by lr·sign(gradient):
        // ∂L/∂W[0][0] = 2(1 − 4.6)/3 < 0, ∂L/∂W[1][1] = 2(0 − 0.45)/3 < 0,
        // ∂L/∂W[1][0] = 2(3 − 2)/3 > 0; W[0][1] had no gradient from the loss.
        assertEqual(dense(mse.qNetwork).weight.scalars, [1.1, 2, 2.9, 0.1], accuracy: 1e-4)
        // Biases: ∂L/∂b₀ = 2(1 − 4.6 + 3 − 2)/3 < 0, ∂L/∂b₁ = 2(0 − 0.45)/3 < 0.
        assertEqual(dense(mse.qNetwork).bias.scalars, [0.1, 0.1], accuracy: 1e-4)
        // The target network is untouched by a gradient step.
        assertEqual(dense(mse.targetNetwork).weight.scalars, [0.5, -1, 2, 4])
    }

    func testNonFiniteLossThrows() throws {
        let agent = try makeLinearAgent()
        var batch = twoStateBatch
        batch.rewards[1] = .nan
        XCTAssertThrowsError(try agent.gradientStep(on: batch)) { error in
            XCTAssertEqual(error as? TrainingError, .nonFiniteLoss(name: "TD loss", step: 0))
        }
    }

    // MARK: Target network schedule

    /// Feeds `steps` vector steps of `copies` copies to an agent that learns every step,
    /// and returns, per step, whether the target network changed and whether it equals the
    /// online network afterwards.
    private func targetTrace(
        copies: Int, steps: Int, configure: (inout DQN.Configuration) -> Void,
        check: (_ agent: DQN, _ step: Int, _ before: [Float]) -> Void
    ) throws {
        let agent = try makeLinearAgent {
            $0.learningStarts = 0
            $0.trainFrequency = 1
            $0.batchSize = 4
            $0.learningRate = 0.05
            $0.maxGradientNorm = nil
            configure(&$0)
        }
        XCTAssertEqual(dense(agent.targetNetwork).weight.scalars, dense(agent.qNetwork).weight.scalars,
                       "the target network starts as a copy")
        let fixture = TransitionFixture(count: copies, observationSize: 2)
        for i in 0..<copies {
            fixture.observations[2 * i + i % 2] = 1
            fixture.nextObservations[2 * i + (i + 1) % 2] = 1
            fixture.actions[i] = i % 2
            fixture.rewards[i] = Float(i + 1)
        }
        for step in 1...steps {
            let before = dense(agent.targetNetwork).weight.scalars
            _ = try fixture.withTransitions(globalStep: step * copies) { try agent.observe($0) }
            check(agent, step * copies, before)
        }
    }

    func testHardTargetUpdatesEveryIntervalOfGlobalSteps() throws {
        for copies in [1, 2] {
            var updates: [Int] = []
            try targetTrace(copies: copies, steps: 7, configure: { $0.targetUpdateInterval = 3 }) { agent, step, before in
                let target = dense(agent.targetNetwork).weight.scalars
                if target != before {
                    updates.append(step)
                    XCTAssertEqual(target, dense(agent.qNetwork).weight.scalars, "a hard update copies Q at step \(step)")
                }
            }
            // Global steps 3, 6 (one copy); 4, 6, 10, 12 cross multiples of 3 (two copies).
            XCTAssertEqual(updates, copies == 1 ? [3, 6] : [4, 6, 10, 12])
        }
        // The schedule holds between training steps too: training at 2, 4, 6, 8 and
        // copies at 3 (not a training step) and 6.
        var updates: [Int] = []
        try targetTrace(copies: 1, steps: 8, configure: { $0.targetUpdateInterval = 3; $0.trainFrequency = 2 }) {
            agent, step, before in
            if dense(agent.targetNetwork).weight.scalars != before { updates.append(step) }
        }
        XCTAssertEqual(updates, [3, 6])
    }

    func testPolyakUpdateAveragesOnSchedule() throws {
        var updates: [Int] = []
        try targetTrace(copies: 1, steps: 6, configure: { $0.targetUpdateInterval = 2; $0.tau = 0.25 }) { agent, step, before in
            let target = dense(agent.targetNetwork).weight.scalars
            let online = dense(agent.qNetwork).weight.scalars
            if step % 2 == 0 {
                updates.append(step)
                // θ′ ← 0.25·θ + 0.75·θ′.
                self.assertEqual(target, zip(online, before).map { 0.25 * $0 + 0.75 * $1 })
            } else {
                XCTAssertEqual(target, before)
            }
        }
        XCTAssertEqual(updates, [2, 4, 6])
    }

    func testNoLearningBeforeLearningStartsOrBetweenTrainingSteps() throws {
        let agent = try makeLinearAgent {
            $0.learningStarts = 4; $0.trainFrequency = 3; $0.batchSize = 2
            $0.learningRate = 0.01; $0.annealLearningRate = true
        }
        let fixture = TransitionFixture(count: 2, observationSize: 2)
        fixture.observations = [1, 0, 0, 1]
        fixture.nextObservations = [0, 1, 1, 0]
        var learnedAt: [Int] = []
        for step in 1...9 {
            let metrics = try fixture.withTransitions(globalStep: 2 * step) { try agent.observe($0) }
            if !metrics.isEmpty {
                learnedAt.append(2 * step)
                XCTAssertEqual(Set(metrics.keys), Set(DQN.metricKeys))
                // Annealed linearly to 0 over the 1000-step run.
                XCTAssertEqual(metrics["charts/learning_rate"] ?? -1, 0.01 * (1 - Double(2 * step) / 1000), accuracy: 1e-12)
            }
        }
        // Vector steps 3, 6, 9 are training steps; all are past 4 global steps.
        XCTAssertEqual(learnedAt, [6, 12, 18])
        XCTAssertEqual(agent.replayBuffer.count, 18)
    }

    // MARK: Exploration

    func testEpsilonFallsLinearlyOverItsFractionThenStays() throws {
        let agent = try makeLinearAgent { $0.learningStarts = 1_000_000 }  // never learns
        let fixture = TransitionFixture(count: 1, observationSize: 2)
        var epsilons: [Double] = [agent.epsilon]
        for step in [250, 400, 500, 900] {
            _ = try fixture.withTransitions(globalStep: step) { try agent.observe($0) }
            epsilons.append(agent.epsilon)
        }
        // 1 → 0.05 over half of 1000 steps.
        XCTAssertEqual(epsilons.count, 5)
        for (e, expected) in zip(epsilons, [1, 0.525, 0.24, 0.05, 0.05]) { XCTAssertEqual(e, expected, accuracy: 1e-12) }
    }

    func testActIsGreedyAtEpsilonZeroAndUniformAtOne() throws {
        let greedy = try makeLinearAgent { $0.exploration = .constant(0) }
        setKnownWeights(greedy)  // argmax Q(s₀) = 1, argmax Q(s₁) = 0
        var actions = [Int](repeating: -1, count: 4)
        let observations: [Float] = [1, 0, 0, 1, 1, 0, 0, 1]
        observations.withUnsafeBufferPointer { o in
            actions.withUnsafeMutableBufferPointer { greedy.act(on: o, count: 4, into: $0) }
        }
        XCTAssertEqual(actions, [1, 0, 1, 0])
        let choice = [Float(0), 1].withUnsafeBufferPointer { greedy.choose(for: $0) }
        XCTAssertEqual(choice, ActionChoice(action: 0, scores: [3, 0], kind: .values))

        let random = try makeLinearAgent { $0.exploration = .constant(1) }
        setKnownWeights(random)
        var counts = [0, 0]
        let many = [[Float]](repeating: [1, 0], count: 1000).flatMap { $0 }  // s₀ in every copy
        var chosen = [Int](repeating: -1, count: 1000)
        many.withUnsafeBufferPointer { o in chosen.withUnsafeMutableBufferPointer { random.act(on: o, count: 1000, into: $0) } }
        for a in chosen { counts[a] += 1 }
        // Q says 1 in every copy; at ε = 1 the actions are uniform: 500 ± 4σ (σ ≈ 16).
        XCTAssertEqual(Double(counts[0]), 500, accuracy: 64)
        // And reproducible: the same seed explores the same way.
        let again = try makeLinearAgent { $0.exploration = .constant(1) }
        var chosenAgain = [Int](repeating: -1, count: 1000)
        many.withUnsafeBufferPointer { o in chosenAgain.withUnsafeMutableBufferPointer { again.act(on: o, count: 1000, into: $0) } }
        XCTAssertEqual(chosen, chosenAgain)
    }

    // MARK: Learning

    /// Plays one greedy episode of the corridor and returns its return.
    private func greedyReturn(_ agent: DQN) throws -> Float {
        var environment = TimeLimit(Corridor(), maxEpisodeSteps: 20)
        var observation = environment.reset(seed: 0)
        var total: Float = 0
        while true {
            let action = observation.withUnsafeBufferPointer { agent.choose(for: $0).action }
            let step = try environment.step(action)
            total += step.reward
            observation = step.observation
            if step.isDone { return total }
        }
    }

    func testLearnsTheCorridorInSixHundredSteps() throws {
        var c = DQN.Configuration()
        c.network.hiddenSizes = [32]
        c.learningRate = 1e-2
        c.bufferSize = 1000
        c.learningStarts = 64
        c.trainFrequency = 1
        c.batchSize = 32
        c.gamma = 0.9
        c.targetUpdateInterval = 20
        c.exploration = LinearSchedule(start: 1, end: 0.05, fraction: 0.5)
        let totalSteps = 600
        let environments = makeVectorEnvironment(TimeLimit(Corridor(), maxEpisodeSteps: 20), count: 2)
        let agent = try DQN(configuration: c, observationSpace: environments.observationSpace, actionCount: 2,
                            totalSteps: totalSteps, seed: 1)
        let loop = EnvironmentLoop(environments: environments, agent: agent, seed: 1)
        var lastMetrics: [String: Double] = [:]
        try loop.run(until: totalSteps) { event in
            if !event.metrics.isEmpty { lastMetrics = event.metrics }
        }
        XCTAssertEqual(agent.globalStep, totalSteps)
        XCTAssertEqual(lastMetrics["charts/epsilon"] ?? -1, 0.05, accuracy: 1e-9)
        // Greedy: straight to the goal, 0.7.
        XCTAssertEqual(try greedyReturn(agent), 0.7, accuracy: 1e-5)
        // Near the optimal Q-values (γ = 0.9): Q(3, right) = 1, Q(3, left) = −0.1 + 0.9·0.8 = 0.62,
        // Q(0, right) = −0.1 − 0.09 − 0.081 + 0.729 = 0.458, Q(0, left) = −0.1 + 0.9·0.458 = 0.312.
        let q3 = [Float](arrayLiteral: 0, 0, 0, 1, 0).withUnsafeBufferPointer { agent.choose(for: $0).scores }
        let q0 = [Float](arrayLiteral: 1, 0, 0, 0, 0).withUnsafeBufferPointer { agent.choose(for: $0).scores }
        XCTAssertEqual(q3[1], 1, accuracy: 0.05)
        XCTAssertEqual(q3[0], 0.62, accuracy: 0.1)
        XCTAssertEqual(q0[1], 0.458, accuracy: 0.1)
        XCTAssertEqual(q0[0], 0.312, accuracy: 0.1)
    }

    // MARK: Checkpoints and configuration

    func testCheckpointRoundTripsEverythingIncludingTheReplayBuffer() throws {
        func makeAgent(seed: UInt64) throws -> DQN {
            var c = DQN.Configuration()
            c.network.hiddenSizes = [8]
            c.learningStarts = 4
            c.trainFrequency = 1
            c.batchSize = 4
            c.bufferSize = 16
            return try DQN(configuration: c, observationSpace: Box(low: 0, high: 1, shape: [5]), actionCount: 2,
                           totalSteps: 200, seed: seed)
        }
        let agent = try makeAgent(seed: 5)
        agent.includesReplayInCheckpoint = true
        let environments = makeVectorEnvironment(TimeLimit(Corridor(), maxEpisodeSteps: 20), count: 2)
        try EnvironmentLoop(environments: environments, agent: agent, seed: 5).run(until: 40) { _ in }
        let saved = agent.checkpoint()
        XCTAssertEqual(saved.state["global_step"], "40")
        XCTAssertEqual(saved.state["vector_steps"], "20")
        XCTAssertEqual(saved.state["optimizer.steps"], "19")  // vector steps 2…20 (global ≥ 4) learn
        XCTAssertEqual(saved.state["replay.count"], "16")
        XCTAssertNotNil(saved.tensors["q.0.weight"])
        XCTAssertNotNil(saved.tensors["target.2.bias"])
        XCTAssertNotNil(saved.tensors["optimizer.m.0"])

        let resumed = try makeAgent(seed: 99)
        resumed.includesReplayInCheckpoint = true
        try resumed.restore(from: saved, weightsOnly: false)
        XCTAssertEqual(resumed.checkpoint(), saved)

        // Both continue identically: same exploration, sampling and updates.
        let fixture = TransitionFixture(count: 1, observationSize: 5)
        fixture.observations = [0, 1, 0, 0, 0]
        fixture.nextObservations = [0, 0, 1, 0, 0]
        fixture.actions = [1]
        fixture.rewards = [-0.1]
        let a = try fixture.withTransitions(globalStep: 41) { try agent.observe($0) }
        let b = try fixture.withTransitions(globalStep: 41) { try resumed.observe($0) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(agent.checkpoint(), resumed.checkpoint())

        // A damaged checkpoint changes nothing.
        let fresh = try makeAgent(seed: 7)
        let before = fresh.checkpoint()
        var damaged = saved
        damaged.tensors["optimizer.v.1"] = SafeTensors.Entry(shape: [3], scalars: [0, 0, 0])
        XCTAssertThrowsError(try fresh.restore(from: damaged, weightsOnly: false))
        XCTAssertEqual(fresh.checkpoint(), before)

        // Weights only: the online network, and the target set equal to it.
        try fresh.restore(from: saved, weightsOnly: true)
        XCTAssertEqual(fresh.qNetwork.parameters.map(\.scalars), saved.tensorsScalars(prefix: "q.", of: fresh.qNetwork))
        XCTAssertEqual(fresh.targetNetwork.parameters.map(\.scalars), fresh.qNetwork.parameters.map(\.scalars))
        XCTAssertEqual(fresh.globalStep, 0)
    }

    func testValidationNamesTheKey() {
        var c = DQN.Configuration()
        c.bufferSize = 0
        XCTAssertThrowsError(try c.validate(copies: 1)) { error in
            XCTAssertTrue("\(error)".contains("buffer_size"), "\(error)")
        }
        c = DQN.Configuration()
        c.tau = 1.5
        XCTAssertThrowsError(try c.validate(copies: 1)) { error in XCTAssertTrue("\(error)".contains("tau"), "\(error)") }
        XCTAssertNoThrow(try DQN.Configuration().validate(copies: 1))
    }
}

private extension AgentCheckpoint {
    /// The saved scalars of `network`'s parameters under `prefix`, in its order.
    func tensorsScalars(prefix: String, of network: Sequential) -> [[Float]] {
        network.namedParameters.map { tensors[prefix + $0.name]?.scalars ?? [] }
    }
}
