import Autodiff
import Environments
import Foundation
import NeuralNet
import SeededRandom
import XCTest
@testable import Agents

/// TD3's update checked against the same update worked out by hand (in double precision)
/// for linear networks: actor μ(s) = tanh(w·s + b); critics Qᵢ = uᵢ·s + vᵢ·a + cᵢ.
final class TD3Tests: XCTestCase {
    struct Critic { var u: Double, v: Double, c: Double
        func q(_ s: Double, _ a: Double) -> Double { u * s + v * a + c }
    }

    let actor = (w: 0.8, b: -0.2)
    let critics = [Critic(u: 0.7, v: -0.2, c: 0.05), Critic(u: -0.4, v: 0.9, c: 0.1)]
    let observations: [Double] = [0.5, -1.0], bufferActions: [Double] = [0.2, -0.6]
    let rewards: [Double] = [1.0, -0.5], nextObservations: [Double] = [0.3, 0.8], terminated: [Double] = [0, 1]
    /// Standard normal draws of the smoothing noise; the second is clipped (0.2·3 > 0.5).
    let smoothing: [Double] = [0.4, 3.0]
    let (gamma, tau, rate) = (0.9, 0.1, 0.01)

    func makeAgent(policyDelay: Int) throws -> TD3 {
        let configuration = TD3.Configuration().with {
            $0.learningRate = rate
            $0.gamma = gamma
            $0.tau = tau
            $0.batchSize = 2
            $0.bufferSize = 8
            $0.policyDelay = policyDelay
            $0.targetPolicyNoise = 0.2
            $0.targetNoiseClip = 0.5
            $0.network = NetworkConfiguration(hiddenSizes: [], activation: .relu)
        }
        let agent = try TD3(configuration: configuration, context: AgentContext(
            observationSpace: Box(low: -10, high: 10, shape: [1]), actionSpace: .box(Box(low: -2, high: 2, shape: [1])),
            copies: 1, totalSteps: 100, seed: 3))
        for network in [agent.actor, agent.targetActor] {
            for (name, tensor) in network.namedParameters {
                tensor.assign([Float(name.hasSuffix("bias") ? actor.b : actor.w)])
            }
        }
        for network in [agent.critic, agent.targetCritic] {
            for (name, tensor) in network.namedParameters {
                let critic = critics[name.hasPrefix("q1.") ? 0 : 1]
                tensor.assign(name.hasSuffix("bias") ? [Float(critic.c)] : [Float(critic.u), Float(critic.v)])
            }
        }
        return agent
    }

    var batch: ReplayBatch {
        var batch = ReplayBatch(count: 2, observationSize: 1, actionWidth: 1)
        batch.observations = observations.map(Float.init)
        batch.continuousActions = bufferActions.map(Float.init)
        batch.rewards = rewards.map(Float.init)
        batch.nextObservations = nextObservations.map(Float.init)
        batch.terminated = terminated.map(Float.init)
        return batch
    }

    func adamFirstStep(_ value: Double, _ gradient: Double) -> Double {
        value - rate * gradient / (abs(gradient) + 1e-8)
    }

    func testOneUpdateMatchesTheUpdateWorkedOutByHand() throws {
        let agent = try makeAgent(policyDelay: 1)
        let metrics = try agent.gradientStep(on: batch, smoothingNoise: smoothing.map(Float.init))

        // Targets with the smoothed target action.
        let targets = (0..<2).map { k -> Double in
            let noise = min(max(0.2 * smoothing[k], -0.5), 0.5)
            let a = min(max(tanh(actor.w * nextObservations[k] + actor.b) + noise, -1), 1)
            let q = min(critics[0].q(nextObservations[k], a), critics[1].q(nextObservations[k], a))
            return rewards[k] + gamma * (1 - terminated[k]) * q
        }
        var criticLoss = 0.0
        var gradients: [[Double]] = []
        for critic in critics {
            let errors = (0..<2).map { critic.q(observations[$0], bufferActions[$0]) - targets[$0] }
            criticLoss += errors.map { $0 * $0 }.reduce(0, +) / 2
            gradients.append([
                (0..<2).map { 2 * errors[$0] * observations[$0] }.reduce(0, +) / 2,
                (0..<2).map { 2 * errors[$0] * bufferActions[$0] }.reduce(0, +) / 2,
                errors.map { 2 * $0 }.reduce(0, +) / 2,
            ])
        }
        XCTAssertEqual(metrics["losses/qf_loss"]!, criticLoss, accuracy: 1e-5)
        for (name, tensor) in agent.critic.namedParameters {
            let g = gradients[name.hasPrefix("q1.") ? 0 : 1]
            let expected = name.hasSuffix("bias") ? [g[2]] : [g[0], g[1]]
            for (got, want) in zip(tensor.gradient!, expected) {
                XCTAssertEqual(Double(got), want, accuracy: 1e-5, "gradient of critic \(name)")
            }
        }
        let updated = zip(critics, gradients).map { critic, g in
            Critic(u: adamFirstStep(critic.u, g[0]), v: adamFirstStep(critic.v, g[1]), c: adamFirstStep(critic.c, g[2]))
        }

        // The actor against the updated Q₁: L = −mean Q₁(s, tanh(w·s + b)).
        var actorLoss = 0.0, dW = 0.0, dB = 0.0
        for k in 0..<2 {
            let s = observations[k], mu = tanh(actor.w * s + actor.b)
            actorLoss -= updated[0].q(s, mu) / 2
            dW -= updated[0].v * (1 - mu * mu) * s / 2
            dB -= updated[0].v * (1 - mu * mu) / 2
        }
        XCTAssertEqual(metrics["losses/actor_loss"]!, actorLoss, accuracy: 1e-5)
        for (name, tensor) in agent.actor.namedParameters {
            XCTAssertEqual(Double(tensor.gradient![0]), name.hasSuffix("bias") ? dB : dW, accuracy: 1e-5, name)
        }

        // Both targets move τ of the way to the updated networks.
        let newActor = (w: adamFirstStep(actor.w, dW), b: adamFirstStep(actor.b, dB))
        for (name, tensor) in agent.targetActor.namedParameters {
            let (before, after) = name.hasSuffix("bias") ? (actor.b, newActor.b) : (actor.w, newActor.w)
            XCTAssertEqual(Double(tensor.scalars[0]), tau * after + (1 - tau) * before, accuracy: 1e-6, name)
        }
        for (name, tensor) in agent.targetCritic.namedParameters {
            let index = name.hasPrefix("q1.") ? 0 : 1
            let (before, after) = (critics[index], updated[index])
            let expected = name.hasSuffix("bias")
                ? [tau * after.c + (1 - tau) * before.c]
                : [tau * after.u + (1 - tau) * before.u, tau * after.v + (1 - tau) * before.v]
            for (got, want) in zip(tensor.scalars, expected) { XCTAssertEqual(Double(got), want, accuracy: 1e-6, name) }
        }
    }

    /// With a policy delay of 2 the actor and the targets stay put on the first critic
    /// update and move on the second.
    func testTheActorAndTargetsWaitForThePolicyDelay() throws {
        let agent = try makeAgent(policyDelay: 2)
        let before = (agent.actor.parameters + agent.targetCritic.parameters).map(\.scalars)
        let first = try agent.gradientStep(on: batch, smoothingNoise: smoothing.map(Float.init))
        XCTAssertNil(first["losses/actor_loss"])
        XCTAssertEqual((agent.actor.parameters + agent.targetCritic.parameters).map(\.scalars), before)
        XCTAssertNotEqual(agent.critic.parameters.map(\.scalars), agent.targetCritic.parameters.map(\.scalars))
        let second = try agent.gradientStep(on: batch, smoothingNoise: smoothing.map(Float.init))
        XCTAssertNotNil(second["losses/actor_loss"])
        XCTAssertNotEqual(agent.actor.parameters.map(\.scalars), before.prefix(2).map { $0 })
    }

    func testGreedyChoiceIsTheDeterministicActionScaled() throws {
        let agent = try makeAgent(policyDelay: 1)
        let choice = [Float(0.5)].withUnsafeBufferPointer { agent.choose(for: $0) }
        XCTAssertEqual(choice.kind, .deterministic)
        XCTAssertEqual(Double(choice.values[0]), 2 * tanh(actor.w * 0.5 + actor.b), accuracy: 1e-6)
        XCTAssertTrue(choice.spreads.isEmpty)
    }

    /// Exploration: μ(s) plus N(0, σ²) noise, clipped to the bounds; none during warm-up
    /// (uniform there instead).
    func testExplorationStaysWithinTheBounds() throws {
        let agent = try makeAgent(policyDelay: 1)
        let actions = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)
        defer { actions.deallocate() }
        let observations = [Float](repeating: 3, count: 64)
        observations.withUnsafeBufferPointer { agent.act(on: $0, count: 64, into: actions) }
        XCTAssertTrue(actions.allSatisfy { (-2...2).contains($0) })
        XCTAssertGreaterThan(Set(actions).count, 32, "warm-up actions are uniformly random")
    }

    func testCheckpointRestoresEverything() throws {
        let spec = try AlgorithmRegistry.standard.spec(named: "td3")
        let prototype = try makeEnvironment(id: "Pendulum-v1")
        func make() throws -> any Agent {
            try spec.makeAgent(spec.smallConfiguration, context: AgentContext(
                observationSpace: prototype.observationSpace, actionSpace: prototype.actionSpace, copies: 2,
                totalSteps: 100, seed: 4, savesExperience: true))
        }
        let agent = try make()
        let loop = EnvironmentLoop(environments: makeVectorEnvironment(prototype, count: 2), agent: agent, seed: 1)
        var actorUpdates = 0
        try loop.run(until: 40) { if $0.metrics["losses/actor_loss"] != nil { actorUpdates += 1 } }
        XCTAssertGreaterThan(actorUpdates, 0)
        let restored = try make()
        try restored.restore(from: agent.checkpoint(), weightsOnly: false)
        XCTAssertEqual(restored.checkpoint(), agent.checkpoint())
    }

    /// Ornstein–Uhlenbeck exploration follows xₜ₊₁ = xₜ − 0.15·xₜ·0.01 + σ·√0.01·εₜ per copy, the
    /// draws εₜ taken from the agent's generator in copy order, and restarts at 0 for a copy
    /// whose episode ended.
    func testOrnsteinUhlenbeckNoiseFollowsItsRecurrenceAndRestartsWithTheEpisode() throws {
        let configuration = TD3.Configuration().with {
            $0.learningStarts = 0
            $0.explorationNoise = 0.5
            $0.ornsteinUhlenbeckNoise = true
            $0.batchSize = 2
            $0.bufferSize = 8
            $0.trainFrequency = 1_000
            $0.network = NetworkConfiguration(hiddenSizes: [], activation: .relu)
        }
        let agent = try TD3(configuration: configuration, context: AgentContext(
            observationSpace: Box(low: -10, high: 10, shape: [1]), actionSpace: .box(Box(low: -2, high: 2, shape: [1])),
            copies: 2, totalSteps: 100, seed: 9))
        for (name, tensor) in agent.actor.namedParameters { tensor.assign([name.hasSuffix("bias") ? 0.1 : 0]) }
        var generator = SeededGenerator(seed: 9, stream: 31)
        var noise: [Double] = [0, 0]
        let fixture = TransitionFixture(count: 2, observationSize: 1, actionWidth: 1)
        let actions = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        defer { actions.deallocate() }
        for step in 0..<4 {
            fixture.observations = [0, 0]
            fixture.observations.withUnsafeBufferPointer { agent.act(on: $0, count: 2, into: actions) }
            for i in 0..<2 {
                noise[i] += -0.15 * noise[i] * 0.01 + 0.5 * 0.1 * Double(Float(generator.normal()))
                let expected = 2 * min(max(tanh(0.1) + noise[i], -1), 1)
                XCTAssertEqual(Double(actions[i]), expected, accuracy: 1e-5, "step \(step), copy \(i)")
            }
            // Copy 1's episode ends after the second step.
            fixture.continuousActions = Array(actions)
            fixture.isTerminated = [false, step == 1]
            _ = try fixture.withTransitions(globalStep: 2 * (step + 1)) { try agent.observe($0) }
            if step == 1 { noise[1] = 0 }
        }
    }
}
