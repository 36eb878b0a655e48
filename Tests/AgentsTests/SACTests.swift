import Autodiff
import Environments
import Foundation
import NeuralNet
import XCTest
@testable import Agents

/// SAC's update checked against the same update worked out by hand (in double precision)
/// for linear networks: actor μ = w_μ·s + b_μ, log σ = w_σ·s + b_σ; critics
/// Qᵢ = uᵢ·s + vᵢ·a + cᵢ.
final class SACTests: XCTestCase {
    struct Linear { var w: Double, b: Double }
    struct Critic { var u: Double, v: Double, c: Double
        func q(_ s: Double, _ a: Double) -> Double { u * s + v * a + c }
    }

    let actorMean = Linear(w: 0.4, b: 0.1), actorLogStd = Linear(w: -0.3, b: -0.5)
    let critics = [Critic(u: 0.7, v: -0.2, c: 0.05), Critic(u: -0.4, v: 0.9, c: 0.1)]
    let observations: [Double] = [0.5, -1.0], bufferActions: [Double] = [0.2, -0.6]
    let rewards: [Double] = [1.0, -0.5], nextObservations: [Double] = [0.3, 0.8], terminated: [Double] = [0, 1]
    let noise: [Double] = [0.3, -1.2], nextNoise: [Double] = [0.7, 0.1]
    let (alpha0, gamma, tau, rate, targetEntropy) = (0.5, 0.9, 0.1, 0.01, -1.0)

    func makeAgent() throws -> SAC {
        let configuration = SAC.Configuration().with {
            $0.learningRate = rate
            $0.initialEntropyCoefficient = alpha0
            $0.gamma = gamma
            $0.tau = tau
            $0.batchSize = 2
            $0.bufferSize = 8
            $0.network = NetworkConfiguration(hiddenSizes: [], activation: .relu)
        }
        let agent = try SAC(configuration: configuration, context: AgentContext(
            observationSpace: Box(low: -10, high: 10, shape: [1]), actionSpace: .box(Box(low: -2, high: 2, shape: [1])),
            copies: 1, totalSteps: 100, seed: 3))
        func set(_ parameters: [(name: String, tensor: Tensor)], _ values: [String: Double]) {
            for (name, tensor) in parameters { tensor.assign([Float(values[name]!)]) }
        }
        set(agent.actor.namedParameters, ["mean.weight": actorMean.w, "mean.bias": actorMean.b,
                                         "log_std.weight": actorLogStd.w, "log_std.bias": actorLogStd.b])
        for network in [agent.critic, agent.targetCritic] {
            for (name, tensor) in network.namedParameters {
                let critic = critics[name.hasPrefix("q1.") ? 0 : 1]
                tensor.assign(name.hasSuffix("bias") ? [Float(critic.c)] : [Float(critic.u), Float(critic.v)])
            }
        }
        return agent
    }

    /// The squashed sample a = tanh(μ + σε) and log π(a|s) at observation s.
    func sample(_ s: Double, _ e: Double) -> (a: Double, logp: Double, u: Double, sigma: Double) {
        let mu = actorMean.w * s + actorMean.b
        let logStd = actorLogStd.w * s + actorLogStd.b
        let sigma = exp(logStd), u = mu + sigma * e, a = tanh(u)
        let logp = -e * e / 2 - logStd - 0.5 * log(2 * Double.pi) - log(1 - a * a + 1e-6)
        return (a, logp, u, sigma)
    }

    func testOneGradientStepMatchesTheUpdateWorkedOutByHand() throws {
        let agent = try makeAgent()
        var batch = ReplayBatch(count: 2, observationSize: 1, actionWidth: 1)
        batch.observations = observations.map(Float.init)
        batch.continuousActions = bufferActions.map(Float.init)
        batch.rewards = rewards.map(Float.init)
        batch.nextObservations = nextObservations.map(Float.init)
        batch.terminated = terminated.map(Float.init)
        let metrics = try agent.gradientStep(on: batch, noise: SAC.Noise(current: noise.map(Float.init),
                                                                           next: nextNoise.map(Float.init)))

        // 2. Temperature: loss −log α·mean(log π + H̄); Adam's first step moves log α by
        // lr·g/(|g| + ε), g = −mean(log π + H̄).
        let current = (0..<2).map { sample(observations[$0], noise[$0]) }
        let excess = current.map { $0.logp + targetEntropy }.reduce(0, +) / 2
        XCTAssertEqual(metrics["losses/alpha_loss"]!, -log(alpha0) * excess, accuracy: 1e-5)
        XCTAssertEqual(metrics["losses/alpha"]!, alpha0, accuracy: 1e-6)
        let g = -excess
        XCTAssertEqual(Double(agent.logAlpha.storage[0]), log(alpha0) - rate * g / (abs(g) + 1e-8), accuracy: 1e-6)

        // 3. Critics: y = r + γ(1 − d)(min Q′ᵢ(s′, a′) − α log π(a′|s′)).
        let targets = (0..<2).map { k -> Double in
            let next = sample(nextObservations[k], nextNoise[k])
            let soft = min(critics[0].q(nextObservations[k], next.a), critics[1].q(nextObservations[k], next.a))
                - alpha0 * next.logp
            return rewards[k] + gamma * (1 - terminated[k]) * soft
        }
        var criticLoss = 0.0
        var gradients: [[Double]] = []  // per critic: d/du, d/dv, d/dc
        for critic in critics {
            let errors = (0..<2).map { critic.q(observations[$0], bufferActions[$0]) - targets[$0] }
            criticLoss += 0.5 * errors.map { $0 * $0 }.reduce(0, +) / 2
            gradients.append([
                (0..<2).map { errors[$0] * observations[$0] }.reduce(0, +) / 2,
                (0..<2).map { errors[$0] * bufferActions[$0] }.reduce(0, +) / 2,
                errors.reduce(0, +) / 2,
            ])
        }
        XCTAssertEqual(metrics["losses/qf_loss"]!, criticLoss, accuracy: 1e-5)
        let qValues = (0..<2).map { critics[0].q(observations[$0], bufferActions[$0]) }
        XCTAssertEqual(metrics["losses/qf_values"]!, qValues.reduce(0, +) / 2, accuracy: 1e-5)
        for (name, tensor) in agent.critic.namedParameters {
            let index = name.hasPrefix("q1.") ? 0 : 1
            let expected = name.hasSuffix("bias") ? [gradients[index][2]] : [gradients[index][0], gradients[index][1]]
            for (got, want) in zip(tensor.gradient!, expected) {
                XCTAssertEqual(Double(got), want, accuracy: 1e-5, "gradient of critic \(name)")
            }
        }
        // Adam's first step: θ − lr·g/(|g| + ε).
        let updated = zip(critics, gradients).map { critic, g in
            Critic(u: critic.u - rate * g[0] / (abs(g[0]) + 1e-8), v: critic.v - rate * g[1] / (abs(g[1]) + 1e-8),
                   c: critic.c - rate * g[2] / (abs(g[2]) + 1e-8))
        }

        // 4. Actor, against the updated critics: L = mean(α log π(a|s) − min Qᵢ(s, a)).
        var actorLoss = 0.0
        var actorGradient = (meanW: 0.0, meanB: 0.0, logStdW: 0.0, logStdB: 0.0)
        for k in 0..<2 {
            let s = observations[k], (a, logp, _, sigma) = current[k]
            let q = updated.map { $0.q(s, a) }
            let chosen = q[0] <= q[1] ? updated[0] : updated[1]
            actorLoss += (alpha0 * logp - min(q[0], q[1])) / 2
            // ∂/∂u through a = tanh u: the log-probability's correction and the critic.
            let squash = 1 - a * a
            let dU = alpha0 * 2 * a * squash / (squash + 1e-6) - chosen.v * squash
            // ∂/∂log σ: −α from log π's −log σ, and through u = μ + σε.
            let dLogStd = -alpha0 + dU * sigma * noise[k]
            actorGradient.meanW += dU * s / 2
            actorGradient.meanB += dU / 2
            actorGradient.logStdW += dLogStd * s / 2
            actorGradient.logStdB += dLogStd / 2
        }
        XCTAssertEqual(metrics["losses/actor_loss"]!, actorLoss, accuracy: 1e-5)
        let expectedActor = ["mean.weight": actorGradient.meanW, "mean.bias": actorGradient.meanB,
                             "log_std.weight": actorGradient.logStdW, "log_std.bias": actorGradient.logStdB]
        for (name, tensor) in agent.actor.namedParameters {
            XCTAssertEqual(Double(tensor.gradient![0]), expectedActor[name]!, accuracy: 1e-5, "gradient of actor \(name)")
        }

        // 5. Targets: τ·θ_updated + (1 − τ)·θ_initial.
        for (name, tensor) in agent.targetCritic.namedParameters {
            let index = name.hasPrefix("q1.") ? 0 : 1
            let (before, after) = (critics[index], updated[index])
            let expected = name.hasSuffix("bias")
                ? [tau * after.c + (1 - tau) * before.c]
                : [tau * after.u + (1 - tau) * before.u, tau * after.v + (1 - tau) * before.v]
            for (got, want) in zip(tensor.scalars, expected) {
                XCTAssertEqual(Double(got), want, accuracy: 1e-6, "target \(name)")
            }
        }
    }

    func testGreedyChoiceIsTheSquashedMeanScaledToTheBounds() throws {
        let agent = try makeAgent()
        let s: Float = 0.5
        let choice = [s].withUnsafeBufferPointer { agent.choose(for: $0) }
        let mu = actorMean.w * 0.5 + actorMean.b, sigma = exp(actorLogStd.w * 0.5 + actorLogStd.b)
        XCTAssertEqual(choice.kind, .gaussian)
        // Bounds [−2, 2]: a = 2·tanh(μ); spread 2·σ·(1 − tanh²μ).
        XCTAssertEqual(Double(choice.values[0]), 2 * tanh(mu), accuracy: 1e-6)
        XCTAssertEqual(Double(choice.spreads[0]), 2 * sigma * (1 - tanh(mu) * tanh(mu)), accuracy: 1e-6)
    }

    func testActionScalingMapsTheBoundsToMinusOneAndOne() throws {
        let scaling = try ActionScaling(Box(low: [-2, 0], high: [2, 10], shape: [2]), algorithm: "sac")
        XCTAssertEqual(scaling.unscaled(-1, dimension: 0), -2)
        XCTAssertEqual(scaling.unscaled(1, dimension: 1), 10)
        XCTAssertEqual(scaling.unscaled(0, dimension: 1), 5)
        XCTAssertEqual(scaling.scaled(7.5, dimension: 1), 0.5)
        XCTAssertEqual(scaling.scaled(99, dimension: 0), 1, "beyond the bounds: clipped first")
        XCTAssertThrowsError(try ActionScaling(Box(low: -.infinity, high: 1, shape: [1]), algorithm: "sac")) {
            XCTAssertTrue("\($0)".contains("bounded"), "\($0)")
        }
    }

    func testCheckpointRestoresEverythingAndTheSameChoices() throws {
        let spec = try AlgorithmRegistry.standard.spec(named: "sac")
        let prototype = try makeEnvironment(id: "Pendulum-v1")
        func make() throws -> any Agent {
            try spec.makeAgent(spec.smallConfiguration, context: AgentContext(
                observationSpace: prototype.observationSpace, actionSpace: prototype.actionSpace, copies: 2,
                totalSteps: 100, seed: 4, savesExperience: true))
        }
        let agent = try make()
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(prototype, count: 2), agent: agent, seed: 1)
        var updates = 0
        try loop.run(until: 40) { if !$0.metrics.isEmpty { updates += 1 } }
        XCTAssertGreaterThan(updates, 0)
        let restored = try make()
        try restored.restore(from: agent.checkpoint(), weightsOnly: false)
        XCTAssertEqual(restored.checkpoint(), agent.checkpoint())
        let observation: [Float] = [0.3, -0.2, 1.5]
        XCTAssertEqual(observation.withUnsafeBufferPointer { restored.choose(for: $0) },
                       observation.withUnsafeBufferPointer { agent.choose(for: $0) })
    }

    func testRegistryRefusesSACOnDiscreteActionsNamingTheAlternatives() throws {
        let spec = try AlgorithmRegistry.standard.spec(named: "sac")
        XCTAssertThrowsError(try spec.makeAgent(spec.smallConfiguration, context: AgentContext(
            observationSpace: Box(low: -1, high: 1, shape: [4]), actionCount: 2, copies: 1, totalSteps: 10, seed: 0))) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("continuous") && message.contains("ppo") && message.contains("dqn"), message)
        }
    }
}
