import Autodiff
import Foundation
import SeededRandom
import XCTest
@testable import NeuralNet

final class NetworkTests: XCTestCase {
    /// A 2-8-1 tanh network learns XOR with Adam to a mean squared error below 1e-3 in
    /// 2,000 full-batch steps (it reaches about 1e-5 with this seed).
    func testSmallNetworkLearnsXOR() {
        var generator = SeededGenerator(seed: 0)
        let network = Sequential(Dense(inputSize: 2, outputSize: 8, generator: &generator), Activation(.tanh),
                                 Dense(inputSize: 8, outputSize: 1, generator: &generator))
        let inputs = Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1])
        let targets = Tensor(shape: [4, 1], scalars: [0, 1, 1, 0])
        let optimizer = Adam(parameters: network.parameters, learningRate: 0.02)
        var loss: Float = .infinity
        for _ in 0..<2000 {
            optimizer.zeroGradients()
            let l = meanSquaredError(network(inputs), targets)
            loss = l.scalar
            l.backward()
            optimizer.step()
        }
        XCTAssertLessThan(loss, 1e-3)
        let predictions = withoutGradients { network(inputs) }.scalars
        XCTAssertEqual(predictions.map { $0 > 0.5 }, [false, true, true, false])
    }

    func testConvolutionalNetworkShapesAndNames() {
        var generator = SeededGenerator(seed: 1)
        let network = Sequential(
            Conv2D(inputChannels: 4, outputChannels: 16, kernelSize: 3, padding: .valid, generator: &generator),
            Activation(.relu), Flatten(),
            Dense(inputSize: 1024, outputSize: 128, generator: &generator), Activation(.relu),
            Dense(inputSize: 128, outputSize: 6, generator: &generator))
        let output = network(Tensor.zeros([2, 10, 10, 4]))
        XCTAssertEqual(output.shape, [2, 6])
        XCTAssertEqual(network.namedParameters.map(\.name),
                       ["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"])
        XCTAssertEqual(network.parameterCount, 3 * 3 * 4 * 16 + 16 + 1024 * 128 + 128 + 128 * 6 + 6)
    }

    func testOrthogonalInitialiserGivesOrthonormalColumnsTimesGain() {
        var generator = SeededGenerator(seed: 2)
        for (rows, columns) in [(64, 16), (8, 32), (5, 5)] {
            let w = Initializer.orthogonal(gain: 1.5).make(shape: [rows, columns], fanIn: rows, fanOut: columns, generator: &generator)
            // WᵀW = gain²·I when tall, WWᵀ = gain²·I when wide.
            let gram = rows >= columns ? Tensor.matmul(w, w, transposingA: true) : Tensor.matmul(w, w, transposingB: true)
            let n = Swift.min(rows, columns)
            for i in 0..<n {
                for j in 0..<n {
                    XCTAssertEqual(gram.storage[i * n + j], i == j ? 2.25 : 0, accuracy: 1e-5, "\(rows)×\(columns) [\(i), \(j)]")
                }
            }
        }
    }

    func testUniformInitialisersRespectTheirBounds() {
        var generator = SeededGenerator(seed: 3)
        let glorot = Initializer.glorotUniform.make(shape: [100, 50], fanIn: 100, fanOut: 50, generator: &generator)
        let limit = Float((6.0 / 150.0).squareRoot())
        XCTAssertTrue(glorot.scalars.allSatisfy { Swift.abs($0) <= limit })
        XCTAssertGreaterThan(glorot.scalars.map { Swift.abs($0) }.max()!, 0.95 * limit)
        // Variance of U(−a, a) is a²/3 = 2/fanIn for He.
        let he = Initializer.heNormal.make(shape: [200, 100], fanIn: 200, fanOut: 100, generator: &generator)
        let variance = square(he).mean().scalar
        XCTAssertEqual(variance, 2.0 / 200, accuracy: 0.0005)
    }

    func testTargetNetworkCopyAndPolyakAveraging() {
        var g1 = SeededGenerator(seed: 4), g2 = SeededGenerator(seed: 5)
        let online = Dense(inputSize: 2, outputSize: 2, generator: &g1)
        let target = Dense(inputSize: 2, outputSize: 2, generator: &g2)
        let before = target.weight.scalars
        target.polyakUpdate(toward: online, tau: 0.25)
        for (i, value) in target.weight.scalars.enumerated() {
            XCTAssertEqual(value, 0.25 * online.weight.scalars[i] + 0.75 * before[i], accuracy: 1e-7)
        }
        target.copyParameters(from: online)
        XCTAssertEqual(target.weight.scalars, online.weight.scalars)
        online.weight.storage[0] += 1
        XCTAssertNotEqual(target.weight.scalars, online.weight.scalars, "a copy, not a shared tensor")
    }

    func testCategoricalSamplingFollowsTheProbabilities() {
        let probabilities: [Float] = [0.1, 0.6, 0.3]
        let logits = Tensor(shape: [1, 3], scalars: probabilities.map { Foundation.log($0) + 2 })
        let distribution = Categorical(logits: logits)
        var generator = SeededGenerator(seed: 6)
        var counts = [0, 0, 0]
        for _ in 0..<30000 { counts[distribution.sample(using: &generator)[0]] += 1 }
        for a in 0..<3 {
            // Binomial standard deviation at n = 30,000 is at most 0.003: allow four of them.
            XCTAssertEqual(Float(counts[a]) / 30000, probabilities[a], accuracy: 0.012)
        }
        XCTAssertEqual(distribution.mode(), [1])
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7)
        XCTAssertEqual(distribution.sample(using: &g1), distribution.sample(using: &g2))
    }
}
