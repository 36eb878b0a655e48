import Autodiff
import Environments
import NeuralNet
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

    /// A checkpoint with a tensor the agent does not have is refused by name, whole, for a
    /// full restore and a weights-only one alike.
    func testCheckpointWithAnUnexpectedTensorIsRefused() throws {
        let agent = try makeAgent(seed: 6, totalSteps: 100)
        var saved = agent.checkpoint()
        saved.tensors["policy.9.weight"] = SafeTensors.Entry(shape: [1], scalars: [0])
        let other = try makeAgent(seed: 7, totalSteps: 100)
        let before = other.network.parameters.map(\.scalars)
        for weightsOnly in [false, true] {
            XCTAssertThrowsError(try other.restore(from: saved, weightsOnly: weightsOnly)) { error in
                XCTAssertEqual(error as? CheckpointError, .unexpectedTensor(name: "policy.9.weight"))
            }
        }
        XCTAssertEqual(other.network.parameters.map(\.scalars), before)
    }

    /// Non-finite weights or optimiser state are refused on load, naming the tensor, and
    /// hostile counters are refused before anything changes.
    func testNonFiniteTensorsAndHostileCountersAreRefused() throws {
        let agent = try makeAgent(seed: 8, totalSteps: 100)
        let other = try makeAgent(seed: 9, totalSteps: 100)
        let before = other.network.parameters.map(\.scalars)
        for name in ["value.2.bias", "policy.0.weight"] {
            var saved = agent.checkpoint()
            var entry = try XCTUnwrap(saved.tensors[name])
            entry.scalars[0] = .nan
            saved.tensors[name] = entry
            XCTAssertThrowsError(try other.restore(from: saved, weightsOnly: true)) { error in
                XCTAssertEqual(error as? CheckpointError, .nonFiniteValue(name: name))
            }
        }
        for steps in ["-1", String(Int.max), "1.5", ""] {
            var saved = agent.checkpoint()
            saved.state["optimizer.steps"] = steps
            XCTAssertThrowsError(try other.restore(from: saved, weightsOnly: false)) { error in
                guard case .valueOutOfRange(let key, _, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertEqual(key, "optimizer.steps")
            }
        }
        XCTAssertEqual(other.network.parameters.map(\.scalars), before)
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

    // MARK: The loss, worked out by hand

    /// Four samples, two actions, logits [0, zⱼ], ε = 0.2. The old log-probabilities are
    /// set so the ratios are r = 1.5, 0.5, 0.9, 1.3 with advantages +1, −1, +2, −0.5:
    ///
    /// | j | r   | Â    | max(−Â·r, −Â·clip(r)) | branch                          |
    /// |---|-----|------|------------------------|---------------------------------|
    /// | 0 | 1.5 | +1   | max(−1.5, −1.2) = −1.2 | clipped above (gradient 0)      |
    /// | 1 | 0.5 | −1   | max(0.5, 0.8) = 0.8    | clipped below (gradient 0)      |
    /// | 2 | 0.9 | +2   | −1.8                   | inside the clip range           |
    /// | 3 | 1.3 | −0.5 | max(0.65, 0.6) = 0.65  | outside, but the plain term wins |
    ///
    /// policy loss = (−1.2 + 0.8 − 1.8 + 0.65)/4 = −0.3875. Values V, old V, returns R:
    /// (1, 0.5, 2): clipped V 0.7, max(1, 1.69) = 1.69 (clipped branch); (0.3, 0, 0):
    /// clipped 0.2, max(0.09, 0.04) = 0.09 (plain branch); (−1, −1, 0): 1; (2, 1, 3):
    /// clipped 1.2, max(1, 3.24) = 3.24. value loss = ½·(1.69 + 0.09 + 1 + 3.24)/4 = 0.7525;
    /// unclipped ½·(1 + 0.09 + 1 + 1)/4 = 0.38625. approx KL = mean((r − 1) − ln r)
    /// = (0.0945349 + 0.1931472 + 0.0053605 + 0.0376357)/4 = 0.0826696; clip fraction 3/4.
    func testLossByHandOnBothSidesOfTheClip() throws {
        let z: [Double] = [0.5, -1.0, 2.0, 0.0]
        let actions = [1, 0, 1, 0]
        let ratios: [Double] = [1.5, 0.5, 0.9, 1.3]
        let advantages: [Float] = [1, -1, 2, -0.5]
        // log π(a|s) for logits [0, z]: log σ(z) for action 1, log σ(−z) for action 0.
        let newLogProbabilities = zip(z, actions).map { z, a in a == 1 ? -log(1 + exp(-z)) : -log(1 + exp(z)) }
        let oldLogProbabilities = zip(newLogProbabilities, ratios).map { Float($0 - log($1)) }
        let logits = Tensor(shape: [4, 2], scalars: z.flatMap { [0, Float($0)] }, requiresGradient: true)
        var c = PPO.Configuration()
        c.clipCoefficient = 0.2
        c.entropyCoefficient = 0.01
        c.valueCoefficient = 0.5
        let values = Tensor(shape: [4], scalars: [1, 0.3, -1, 2])
        let oldValues = Tensor(shape: [4], scalars: [0.5, 0, -1, 1])
        let returns = Tensor(shape: [4], scalars: [2, 0, 0, 3])
        let loss = PPO.loss(distribution: .categorical(Categorical(logits: logits)), values: values, actions: .discrete(actions),
                            oldLogProbabilities: Tensor(shape: [4], scalars: oldLogProbabilities), oldValues: oldValues,
                            advantages: Tensor(shape: [4], scalars: advantages), returns: returns, configuration: c)

        XCTAssertEqual(loss.policy.scalar, -0.3875, accuracy: 1e-5)
        XCTAssertEqual(loss.value.scalar, 0.7525, accuracy: 1e-5)
        XCTAssertEqual(loss.approximateKL, 0.0826696, accuracy: 1e-5)
        XCTAssertEqual(loss.clipFraction, 0.75)
        // Entropy of [1 − p, p], p = σ(z): −p·ln p − (1 − p)·ln(1 − p).
        let entropy = z.map { z -> Double in
            let p = 1 / (1 + exp(-z))
            return -p * log(p) - (1 - p) * log(1 - p)
        }.reduce(0, +) / 4
        XCTAssertEqual(Double(loss.entropy.scalar), entropy, accuracy: 1e-5)
        XCTAssertEqual(Double(loss.total.scalar), -0.3875 - 0.01 * entropy + 0.5 * 0.7525, accuracy: 1e-5)

        // The policy loss's gradient: zero through the clipped samples 0 and 1; −Âⱼ·rⱼ/4
        // times ∂log π(aⱼ)/∂z = (aⱼ − σ(zⱼ)) elsewhere (logit 0 gets the opposite).
        loss.policy.backward()
        let gradient = try XCTUnwrap(logits.gradient)
        for j in 0..<4 {
            let p = 1 / (1 + exp(-z[j]))
            let expected = j < 2 ? 0 : -Double(advantages[j]) * ratios[j] / 4 * (Double(actions[j]) - p)
            XCTAssertEqual(Double(gradient[2 * j + 1]), expected, accuracy: 1e-5, "sample \(j)")
            XCTAssertEqual(Double(gradient[2 * j]), -expected, accuracy: 1e-5, "sample \(j)")
        }

        c.clipValueLoss = false
        let plain = PPO.loss(distribution: .categorical(Categorical(logits: logits)), values: values, actions: .discrete(actions),
                             oldLogProbabilities: Tensor(shape: [4], scalars: oldLogProbabilities), oldValues: oldValues,
                             advantages: Tensor(shape: [4], scalars: advantages), returns: returns, configuration: c)
        XCTAssertEqual(plain.value.scalar, 0.38625, accuracy: 1e-5)
    }

    /// The clipped surrogate for a Gaussian policy, against the same terms worked out by
    /// hand: log π(a) = −(a − μ)²/(2σ²) − log σ − ½log 2π, ratios, the clipped samples, the
    /// entropy ½ + ½log 2π + log σ, and the policy loss's gradients with respect to μ and log σ.
    func testGaussianSurrogateMatchesTheTermsWorkedOutByHand() throws {
        let means: [Float] = [0.2, -0.5, 1.0], actions: [Float] = [0.0, -0.9, 1.4]
        let oldLogProbabilities: [Float] = [-0.8, -1.0, -0.2], advantages: [Float] = [1.0, -0.5, 2.0]
        let logSigma: Float = -0.3
        let mean = Tensor(shape: [3, 1], scalars: means, requiresGradient: true)
        let logStd = Tensor(shape: [1], scalars: [logSigma], requiresGradient: true)
        var c = PPO.Configuration()
        c.clipCoefficient = 0.2
        c.entropyCoefficient = 0.01
        c.valueCoefficient = 0.5
        let values = Tensor(shape: [3], scalars: [0, 0, 0])
        let loss = PPO.loss(
            distribution: .gaussian(DiagonalGaussian(mean: mean, logStandardDeviation: logStd)), values: values,
            actions: .continuous(Tensor(shape: [3, 1], scalars: actions)),
            oldLogProbabilities: Tensor(shape: [3], scalars: oldLogProbabilities), oldValues: values,
            advantages: Tensor(shape: [3], scalars: advantages), returns: values, configuration: c)

        let sigma = exp(Double(logSigma))
        var policyLoss = 0.0, clipped = 0.0
        var meanGradient = [Double](repeating: 0, count: 3), logStdGradient = 0.0
        for j in 0..<3 {
            let d = Double(actions[j] - means[j])
            let logp = -d * d / (2 * sigma * sigma) - Double(logSigma) - 0.5 * log(2 * Double.pi)
            let ratio = exp(logp - Double(oldLogProbabilities[j]))
            let a = Double(advantages[j])
            let plain = -a * ratio, bounded = -a * min(max(ratio, 0.8), 1.2)
            policyLoss += max(plain, bounded) / 3
            if abs(ratio - 1) > 0.2 { clipped += 1 }
            // The gradient flows only where the plain term is the larger (or the ratio is inside the clip).
            if plain >= bounded || abs(ratio - 1) <= 0.2 {
                meanGradient[j] = -a * ratio / 3 * d / (sigma * sigma)
                logStdGradient += -a * ratio / 3 * (d * d / (sigma * sigma) - 1)
            }
        }
        XCTAssertEqual(Double(loss.policy.scalar), policyLoss, accuracy: 1e-5)
        XCTAssertEqual(loss.clipFraction, clipped / 3)
        XCTAssertGreaterThan(clipped, 0, "the example exercises the clip")
        XCTAssertLessThan(clipped, 3, "and the unclipped gradient")
        XCTAssertEqual(Double(loss.entropy.scalar), 0.5 + 0.5 * log(2 * Double.pi) + Double(logSigma), accuracy: 1e-6)

        loss.policy.backward()
        let gotMean = try XCTUnwrap(mean.gradient), gotLogStd = try XCTUnwrap(logStd.gradient)
        for j in 0..<3 { XCTAssertEqual(Double(gotMean[j]), meanGradient[j], accuracy: 1e-5, "∂/∂μ \(j)") }
        XCTAssertEqual(Double(gotLogStd[0]), logStdGradient, accuracy: 1e-5, "∂/∂log σ")
    }

    /// A continuous PPO agent stores the actions as drawn and hands the environment the same
    /// draws clipped to the bounds.
    func testGaussianPolicyClipsOnlyWhatTheEnvironmentGets() throws {
        let agent = try PPO(configuration: smallConfiguration(), observationSpace: Box(low: -1, high: 1, shape: [2]),
                            actionSpace: .box(Box(low: -0.1, high: 0.1, shape: [1])), copies: 8, totalSteps: 100, seed: 2)
        let observations = [Float](repeating: 0.5, count: 16)
        let actions = UnsafeMutableBufferPointer<Float>.allocate(capacity: 8)
        defer { actions.deallocate() }
        observations.withUnsafeBufferPointer { agent.act(on: $0, count: 8, into: actions) }
        let stored = Array(agent.bufferForTesting.continuousActions[0..<8])
        XCTAssertTrue(stored.contains { abs($0) > 0.1 }, "σ = 1 draws beyond ±0.1: \(stored)")
        for i in 0..<8 { XCTAssertEqual(actions[i], min(max(stored[i], -0.1), 0.1)) }
    }
}
