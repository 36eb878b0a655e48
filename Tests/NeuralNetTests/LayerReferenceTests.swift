import Autodiff
import Foundation
import XCTest
@testable import NeuralNet

/// Losses, softmax, convolution, dense and categorical against PyTorch
/// (Reference/layers.json, made by make_layer_reference.py).
final class LayerReferenceTests: XCTestCase {
    var reference: [String: Any]!

    override func setUpWithError() throws {
        reference = try loadReference("layers.json")
    }

    private func section(_ key: String) -> [String: Any] { reference[key] as! [String: Any] }
    private func number(_ object: Any?) -> Float { Float((object as! NSNumber).doubleValue) }

    func testHuberLoss() {
        let s = section("huber")
        let prediction = referenceTensor(s["prediction"], requiresGradient: true)
        let loss = huberLoss(prediction, referenceTensor(s["target"]), delta: number(s["delta"]))
        XCTAssertEqual(loss.scalar, number(s["loss"]), accuracy: 1e-6)
        loss.backward()
        XCTAssertClose(prediction.gradient!, referenceTensor(s["grad_prediction"]).scalars, absolute: 1e-7, relative: 1e-6)
    }

    func testMeanSquaredError() {
        let s = section("mse")
        let prediction = referenceTensor(s["prediction"], requiresGradient: true)
        let loss = meanSquaredError(prediction, referenceTensor(s["target"]))
        XCTAssertEqual(loss.scalar, number(s["loss"]), accuracy: 1e-6)
        loss.backward()
        XCTAssertClose(prediction.gradient!, referenceTensor(s["grad_prediction"]).scalars, absolute: 1e-7, relative: 1e-6)
    }

    func testCrossEntropyFromLogits() {
        let s = section("cross_entropy")
        let logits = referenceTensor(s["logits"], requiresGradient: true)
        let labels = (s["targets"] as! [NSNumber]).map(\.intValue)
        let loss = crossEntropy(logits: logits, labels: labels)
        XCTAssertEqual(loss.scalar, number(s["loss"]), accuracy: 1e-6)
        loss.backward()
        XCTAssertClose(logits.gradient!, referenceTensor(s["grad_logits"]).scalars, absolute: 1e-7, relative: 1e-5)
    }

    func testSoftmaxWithHugeLogits() {
        let s = section("softmax")
        let logits = referenceTensor(s["logits"])
        let logP = logits.logSoftmax().scalars
        XCTAssertTrue(logP.allSatisfy(\.isFinite))
        XCTAssertClose(logP, referenceTensor(s["log_softmax"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(logits.softmax().scalars, referenceTensor(s["softmax"]).scalars, absolute: 1e-7, relative: 1e-6)
    }

    func testConvolutionValidAndSame() {
        let s = section("conv2d")
        for entry in s["cases"] as! [[String: Any]] {
            let input = referenceTensor(s["input"], requiresGradient: true)
            let weight = referenceTensor(s["weight"], requiresGradient: true)
            let bias = referenceTensor(s["bias"], requiresGradient: true)
            let padding = Padding(rawValue: entry["padding"] as! String)!
            let output = Tensor.conv2D(input, filter: weight, padding: padding) + bias
            let expected = referenceTensor(entry["output"])
            XCTAssertEqual(output.shape, expected.shape)
            XCTAssertClose(output.scalars, expected.scalars, absolute: 1e-5, relative: 1e-5, "\(padding) output")
            (output * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(input.gradient!, referenceTensor(entry["grad_input"]).scalars, absolute: 1e-5, relative: 1e-5)
            XCTAssertClose(weight.gradient!, referenceTensor(entry["grad_weight"]).scalars, absolute: 1e-5, relative: 1e-5)
            XCTAssertClose(bias.gradient!, referenceTensor(entry["grad_bias"]).scalars, absolute: 1e-5, relative: 1e-5)
        }
    }

    func testDenseLayerAlgebra() {
        let s = section("dense")
        let x = referenceTensor(s["input"], requiresGradient: true)
        let w = referenceTensor(s["weight"], requiresGradient: true)
        let b = referenceTensor(s["bias"], requiresGradient: true)
        let y = Tensor.linear(x, w, b)
        XCTAssertClose(y.scalars, referenceTensor(s["output"]).scalars, absolute: 1e-6, relative: 1e-6)
        (y * referenceTensor(s["upstream"])).sum().backward()
        XCTAssertClose(x.gradient!, referenceTensor(s["grad_input"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(w.gradient!, referenceTensor(s["grad_weight"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(b.gradient!, referenceTensor(s["grad_bias"]).scalars, absolute: 1e-6, relative: 1e-6)
    }

    func testCategoricalEntropyAndLogProbability() {
        let s = section("categorical")
        let actions = (s["actions"] as! [NSNumber]).map(\.intValue)
        let logits = referenceTensor(s["logits"], requiresGradient: true)
        let distribution = Categorical(logits: logits)
        let entropy = distribution.entropy()
        XCTAssertClose(entropy.scalars, referenceTensor(s["entropy"]).scalars, absolute: 1e-6, relative: 1e-5)
        entropy.sum().backward()
        XCTAssertClose(logits.gradient!, referenceTensor(s["grad_logits_of_entropy_sum"]).scalars, absolute: 1e-6, relative: 1e-5)

        let logits2 = referenceTensor(s["logits"], requiresGradient: true)
        let logProbability = Categorical(logits: logits2).logProbability(of: actions)
        XCTAssertClose(logProbability.scalars, referenceTensor(s["log_prob"]).scalars, absolute: 1e-5, relative: 1e-6)
        logProbability.sum().backward()
        XCTAssertClose(logits2.gradient!, referenceTensor(s["grad_logits_of_log_prob_sum"]).scalars, absolute: 1e-6, relative: 1e-5)
    }
}
