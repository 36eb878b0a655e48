import Autodiff
import Environments
import NeuralNet
import SeededRandom
import XCTest
@testable import Agents

final class PolicyNetworkTests: XCTestCase {
    /// Two inputs, two hidden units, two outputs, no biases:
    ///
    ///     W1 = [[0.5, -1], [2, 0.25]]   (input i → hidden j)
    ///     W2 = [[1, -2], [3, 1]]        (hidden j → output a)
    private func makeNetwork(_ activation: Activation.Kind, output: PolicyNetwork.Output = .logits) -> PolicyNetwork {
        var generator = SeededGenerator(seed: 0)
        let first = Dense(inputSize: 2, outputSize: 2, generator: &generator)
        let second = Dense(inputSize: 2, outputSize: 2, generator: &generator)
        first.weight.assign([0.5, -1, 2, 0.25])
        second.weight.assign([1, -2, 3, 1])
        first.bias.assign([0, 0])
        second.bias.assign([0, 0])
        return PolicyNetwork(layers: Sequential(first, Activation(activation), second), observationShape: [2],
                             outputWidth: 2, output: output)
    }

    /// At x = (1, 2) the hidden pre-activations are x·W1 = (0.5 + 4, −1 + 0.5) = (4.5, −0.5):
    /// ReLU keeps only unit 0, so ∂ score_a / ∂ x_i = W1[i, 0] · W2[0, a]:
    /// action 0 → (0.5·1, 2·1) = (0.5, 2); action 1 → |(0.5·−2, 2·−2)| = (1, 4).
    func testSaliencyThroughReLUMatchesTheHandWorkedGradient() {
        let network = makeNetwork(.relu)
        XCTAssertEqual(network.outputs(for: [1, 2], count: 1), [4.5, -9])  // (4.5·1, 4.5·−2)
        XCTAssertEqual(network.saliency(for: [1, 2], action: 0), [0.5, 2])
        XCTAssertEqual(network.saliency(for: [1, 2], action: 1), [1, 4])
        XCTAssertEqual(network.saliency(for: [1, 2]), [0.5, 2], "by default, the action scored highest: 0")
        // At (−1, −2) the hidden pre-activations are (−4.5, 0.5): ReLU keeps unit 1, the
        // scores are (0.5·3, 0.5·1) = (1.5, 0.5), so action 0, and ∂/∂x = (−1, 0.25)·3.
        XCTAssertEqual(network.saliency(for: [-1, -2]), [3, 0.75])
    }

    /// At x = 0, tanh′(0) = 1, so ∂ score_a / ∂ x_i = Σⱼ W1[i, j] · W2[j, a]:
    /// action 0 → (0.5·1 − 1·3, 2·1 + 0.25·3) = (−2.5, 2.75); action 1 → (0.5·−2 − 1·1,
    /// 2·−2 + 0.25·1) = (−2, −3.75); saliency is their magnitude.
    func testSaliencyThroughTanhMatchesTheHandWorkedGradient() {
        let network = makeNetwork(.tanh)
        XCTAssertEqual(network.saliency(for: [0, 0], action: 0), [2.5, 2.75])
        XCTAssertEqual(network.saliency(for: [0, 0], action: 1), [2, 3.75])
    }

    /// A continuous policy's score is the sum of its outputs: at x = 0 through tanh,
    /// Σₐ Σⱼ W1[i, j] · W2[j, a] = (−2.5 − 2, 2.75 − 3.75) → (4.5, 1).
    func testContinuousSaliencySumsTheOutputs() {
        let network = makeNetwork(.tanh, output: .gaussianMean)
        XCTAssertEqual(network.saliency(for: [0, 0], action: 0), [4.5, 1])
    }

    /// Saliency leaves the weights' gradients alone (an agent may be training).
    func testSaliencyGivesTheWeightsNoGradient() {
        let network = makeNetwork(.tanh)
        _ = network.saliency(for: [0.3, -0.2], action: 1)
        for (name, parameter) in network.layers.namedParameters {
            XCTAssertTrue(parameter.gradient?.allSatisfy { $0 == 0 } ?? true, name)
        }
    }

    /// Dropout is off while saliency records gradients, and back in training mode after.
    func testSaliencyEvaluatesDropoutAsTheIdentity() {
        let plain = makeNetwork(.tanh)
        let dropout = Dropout(probability: 0.5, seed: 1)
        let withDropout = PolicyNetwork(
            layers: Sequential(plain.layers.layers + [dropout]), observationShape: [2], outputWidth: 2, output: .logits)
        XCTAssertEqual(withDropout.saliency(for: [0, 0], action: 0), [2.5, 2.75])
        XCTAssertTrue(dropout.isTraining)
    }

    /// The network an agent exports is the one it chooses with: DQN's outputs are its
    /// Q-values, PPO's softmax is its probabilities; an agent with memory has none.
    func testAgentsExposeTheNetworkTheyChooseWith() throws {
        var dqnConfiguration = DQN.Configuration()
        dqnConfiguration.network = NetworkConfiguration(hiddenSizes: [8], activation: .relu)
        let dqn = try DQN(configuration: dqnConfiguration, observationSpace: Box(low: -1, high: 1, shape: [3]),
                          actionCount: 4, totalSteps: 100, seed: 2)
        let observation: [Float] = [0.2, -0.7, 0.4]
        let dqnChoice = observation.withUnsafeBufferPointer { dqn.choose(for: $0) }
        let dqnNetwork = try XCTUnwrap(dqn.policyNetwork)
        XCTAssertEqual(dqnNetwork.output, .qValues)
        XCTAssertEqual(dqnNetwork.outputs(for: observation, count: 1), dqnChoice.scores)

        var ppoConfiguration = PPO.Configuration()
        ppoConfiguration.network = NetworkConfiguration(hiddenSizes: [8], activation: .tanh)
        let ppo = try PPO(configuration: ppoConfiguration, observationSpace: Box(low: -1, high: 1, shape: [3]),
                          actionCount: 4, copies: 1, totalSteps: 100, seed: 2)
        let ppoNetwork = try XCTUnwrap(ppo.policyNetwork)
        XCTAssertEqual(ppoNetwork.output, .logits)
        let logits = ppoNetwork.outputs(for: observation, count: 1).map(Double.init)
        let total = logits.map { Foundation.exp($0) }.reduce(0, +)
        let probabilities = observation.withUnsafeBufferPointer { ppo.choose(for: $0) }.scores
        for (p, logit) in zip(probabilities, logits) {
            XCTAssertEqual(Double(p), Foundation.exp(logit) / total, accuracy: 1e-6)
        }

        let environment = CartPole()
        let recurrent = try RecurrentPPO(configuration: RecurrentPPO.Configuration(), context: AgentContext(
            observationSpace: environment.observationSpace, actionSpace: environment.actionSpace, copies: 4,
            totalSteps: 100, seed: 0))
        XCTAssertNil(recurrent.policyNetwork)
    }
}
