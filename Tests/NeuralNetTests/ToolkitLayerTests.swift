import Autodiff
import Foundation
import SeededRandom
import XCTest
@testable import NeuralNet

/// LayerNorm, BatchNorm, Residual, Embedding and MultiHeadAttention against PyTorch
/// (Reference/toolkit_layers.json, made by make_toolkit_layer_reference.py); Dropout's
/// statistics and modes; the positional encoding.
final class ToolkitLayerTests: XCTestCase {
    var reference: [String: Any]!

    override func setUpWithError() throws {
        reference = try loadReference("toolkit_layers.json")
    }

    private func section(_ key: String) -> [String: Any] { reference[key] as! [String: Any] }

    /// Overwrites `layer`'s parameters with the reference's, by name.
    private func load(_ layer: some Layer, from parameters: Any?) {
        let values = parameters as! [String: Any]
        XCTAssertEqual(Set(layer.namedParameters.map(\.name)), Set(values.keys))
        for (name, tensor) in layer.namedParameters {
            let expected = referenceTensor(values[name])
            XCTAssertEqual(tensor.shape, expected.shape, name)
            tensor.assign(expected)
        }
    }

    /// Compares every parameter's gradient with the reference's, by name.
    private func assertParameterGradients(
        of layer: some Layer, match gradients: Any?, absolute: Float, relative: Float, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let values = gradients as! [String: Any]
        for (name, tensor) in layer.namedParameters {
            guard let gradient = tensor.gradient else {
                XCTFail("\(name) received no gradient \(message)", file: file, line: line)
                continue
            }
            XCTAssertClose(gradient, referenceTensor(values[name]).scalars, absolute: absolute, relative: relative,
                           "\(name) \(message)", file: file, line: line)
        }
    }

    // MARK: - LayerNorm

    func testLayerNormMatchesTorch() {
        let s = section("layer_norm")
        let input = referenceTensor(s["input"], requiresGradient: true)
        let norm = LayerNorm(size: 5)
        XCTAssertEqual(norm.weight.scalars, [1, 1, 1, 1, 1])
        XCTAssertEqual(norm.bias.scalars, [0, 0, 0, 0, 0])
        XCTAssertEqual(norm.namedParameters.map(\.name), ["weight", "bias"])
        norm.weight.assign(referenceTensor(s["weight"]))
        norm.bias.assign(referenceTensor(s["bias"]))
        let output = norm(input)
        XCTAssertEqual(output.shape, [2, 3, 5])
        XCTAssertClose(output.scalars, referenceTensor(s["output"]).scalars, absolute: 1e-5, relative: 1e-5)
        (output * referenceTensor(s["upstream"])).sum().backward()
        XCTAssertClose(input.gradient!, referenceTensor(s["grad_input"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.weight.gradient!, referenceTensor(s["grad_weight"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.bias.gradient!, referenceTensor(s["grad_bias"]).scalars, absolute: 1e-5, relative: 1e-5)
    }

    // MARK: - BatchNorm

    func testBatchNormTrainingAndEvaluationMatchTorch() {
        let s = section("batch_norm")
        let norm = BatchNorm(features: 4)
        XCTAssertTrue(norm.isTraining)
        XCTAssertEqual(norm.namedParameters.map(\.name), ["weight", "bias"])
        XCTAssertEqual(norm.namedBuffers.map(\.name), ["running_mean", "running_var"])
        XCTAssertEqual(norm.runningMean.scalars, [0, 0, 0, 0])
        XCTAssertEqual(norm.runningVariance.scalars, [1, 1, 1, 1])
        norm.weight.assign(referenceTensor(s["weight"]))
        norm.bias.assign(referenceTensor(s["bias"]))

        // Pass 1: batch statistics, gradients through them, one running update.
        let input = referenceTensor(s["input_1"], requiresGradient: true)
        let output = norm(input)
        XCTAssertClose(output.scalars, referenceTensor(s["output_1"]).scalars, absolute: 1e-5, relative: 1e-5)
        (output * referenceTensor(s["upstream_1"])).sum().backward()
        XCTAssertClose(input.gradient!, referenceTensor(s["grad_input_1"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.weight.gradient!, referenceTensor(s["grad_weight_1"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.bias.gradient!, referenceTensor(s["grad_bias_1"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.runningMean.scalars, referenceTensor(s["running_mean_1"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(norm.runningVariance.scalars, referenceTensor(s["running_var_1"]).scalars, absolute: 1e-6, relative: 1e-6)

        // Pass 2 (no gradient needed): the running statistics move again.
        let output2 = norm(referenceTensor(s["input_2"]))
        XCTAssertClose(output2.scalars, referenceTensor(s["output_2"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.runningMean.scalars, referenceTensor(s["running_mean_2"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(norm.runningVariance.scalars, referenceTensor(s["running_var_2"]).scalars, absolute: 1e-6, relative: 1e-6)

        // Evaluation: running statistics, which no longer change.
        norm.setTraining(false)
        XCTAssertFalse(norm.isTraining)
        let evaluated = norm(referenceTensor(s["eval_input"]))
        XCTAssertClose(evaluated.scalars, referenceTensor(s["eval_output"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.runningMean.scalars, referenceTensor(s["running_mean_2"]).scalars, absolute: 1e-6, relative: 1e-6)
    }

    func testChannelsLastBatchNormMatchesTorch() {
        let s = section("batch_norm_channels_last")
        let norm = BatchNorm(features: 3)
        norm.weight.assign(referenceTensor(s["weight"]))
        norm.bias.assign(referenceTensor(s["bias"]))
        let input = referenceTensor(s["input"], requiresGradient: true)
        let output = norm(input)
        XCTAssertEqual(output.shape, [2, 3, 4, 3])
        XCTAssertClose(output.scalars, referenceTensor(s["output"]).scalars, absolute: 1e-5, relative: 1e-5)
        (output * referenceTensor(s["upstream"])).sum().backward()
        XCTAssertClose(input.gradient!, referenceTensor(s["grad_input"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.weight.gradient!, referenceTensor(s["grad_weight"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.bias.gradient!, referenceTensor(s["grad_bias"]).scalars, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(norm.runningMean.scalars, referenceTensor(s["running_mean"]).scalars, absolute: 1e-6, relative: 1e-6)
        XCTAssertClose(norm.runningVariance.scalars, referenceTensor(s["running_var"]).scalars, absolute: 1e-6, relative: 1e-6)
        norm.setTraining(false)
        XCTAssertClose(norm(referenceTensor(s["eval_input"])).scalars, referenceTensor(s["eval_output"]).scalars,
                       absolute: 1e-5, relative: 1e-5)
    }

    /// Replicas share the parameters and the running statistics; modes and buffers pass
    /// through containers with prefixed names.
    func testBatchNormReplicasShareRunningStatisticsAndContainersForwardModes() {
        var generator = SeededGenerator(seed: 41)
        let norm = BatchNorm(features: 2)
        let replica = norm.replica()
        _ = replica(Tensor.normal([5, 2], mean: 3, generator: &generator))
        XCTAssertEqual(norm.runningMean.scalars, replica.runningMean.scalars)
        XCTAssertNotEqual(norm.runningMean.scalars, [0, 0])
        XCTAssertTrue(replica.weight.storage == norm.weight.storage)

        let network = Sequential(Dense(inputSize: 3, outputSize: 2, generator: &generator), norm,
                                 Residual(Sequential(BatchNorm(features: 2), Dropout(probability: 0.5, seed: 1))))
        XCTAssertEqual(network.namedBuffers.map(\.name),
                       ["1.running_mean", "1.running_var", "2.body.0.running_mean", "2.body.0.running_var"])
        XCTAssertEqual(network.namedParameters.map(\.name),
                       ["0.weight", "0.bias", "1.weight", "1.bias", "2.body.0.weight", "2.body.0.bias"])
        XCTAssertTrue(Dense(inputSize: 1, outputSize: 1, generator: &generator).namedBuffers.isEmpty)
        network.setTraining(false)
        XCTAssertFalse(norm.isTraining)
        let inner = (network.layers[2] as! Residual).body as! Sequential
        XCTAssertFalse((inner.layers[0] as! BatchNorm).isTraining)
        XCTAssertFalse((inner.layers[1] as! Dropout).isTraining)
        network.setTraining(true)
        XCTAssertTrue((inner.layers[1] as! Dropout).isTraining)
    }

    // MARK: - Dropout

    /// p = 0.25 over 20,000 elements: each output is 0 or x/(1 − p), and the gradient
    /// passes through the same mask.
    ///
    /// The dropped count is Binomial(n = 20,000, p = 0.25): its fraction has standard
    /// deviation √(p(1 − p)/n) ≈ 0.0031. The tolerance is 5σ = 0.0153: a correct
    /// generator fails it with probability below 1e-6 whatever the seed, while the likely
    /// bugs (keeping with probability p, dropping half as often) miss by 0.125 or more.
    func testDropoutZeroesAboutPAndScalesTheRest() {
        let p: Float = 0.25, n = 20_000
        var generator = SeededGenerator(seed: 51)
        let input = Tensor.uniform([200, 100], low: 1, high: 2, generator: &generator, requiresGradient: true)
        let dropout = Dropout(probability: p, seed: 7)
        let output = dropout(input)
        XCTAssertEqual(output.shape, input.shape)
        var dropped = 0
        for (x, y) in zip(input.scalars, output.scalars) {
            if y == 0 {
                dropped += 1
            } else {
                XCTAssertEqual(y, x / (1 - p), accuracy: 1e-6 * y, "a kept element is x / (1 - p)")
            }
        }
        let fraction = Double(dropped) / Double(n)
        let sigma = (0.25 * 0.75 / Double(n)).squareRoot()
        XCTAssertEqual(fraction, 0.25, accuracy: 5 * sigma, "dropped fraction")
        output.sum().backward()
        for (gradient, (x, y)) in zip(input.gradient!, zip(input.scalars, output.scalars)) {
            XCTAssertEqual(gradient, y / x, accuracy: 1e-6, "the gradient is the mask")
        }
    }

    func testDropoutIsIdentityInEvaluationWithoutGradientsAndAtZero() {
        var generator = SeededGenerator(seed: 52)
        let input = Tensor.uniform([10, 10], low: 1, high: 2, generator: &generator)
        let dropout = Dropout(probability: 0.5, seed: 3)
        XCTAssertTrue(dropout.isTraining)
        XCTAssertTrue(dropout(input).scalars.contains(0), "training mode drops")
        let acted = withoutGradients { dropout(input) }
        XCTAssertEqual(acted.scalars, input.scalars, "off inside withoutGradients")
        dropout.setTraining(false)
        XCTAssertEqual(dropout(input).scalars, input.scalars, "off in evaluation mode")
        XCTAssertEqual(Dropout(probability: 0, seed: 3)(input).scalars, input.scalars, "p = 0 keeps everything")
    }

    func testDropoutMasksFollowTheSeedAndReplicasDrawTheirOwn() {
        let input = Tensor.ones([50, 40])
        let a = Dropout(probability: 0.25, seed: 11), b = Dropout(probability: 0.25, seed: 11)
        let firstMask = a(input).scalars
        XCTAssertEqual(firstMask, b(input).scalars, "same seed, same mask")
        XCTAssertNotEqual(firstMask, Dropout(probability: 0.25, seed: 12)(input).scalars, "another seed")
        XCTAssertNotEqual(firstMask, a(input).scalars, "successive calls draw new masks")

        // Replicas: streams 1, 2, ... in the order made, the same for layers of one seed.
        let original = Dropout(probability: 0.25, seed: 13), twin = Dropout(probability: 0.25, seed: 13)
        let first = original.replica(), second = original.replica()
        let twinFirst = twin.replica(), twinSecond = twin.replica()
        let masks = [original(input).scalars, first(input).scalars, second(input).scalars]
        XCTAssertNotEqual(masks[0], masks[1])
        XCTAssertNotEqual(masks[0], masks[2])
        XCTAssertNotEqual(masks[1], masks[2])
        XCTAssertEqual(masks[1], twinFirst(input).scalars)
        XCTAssertEqual(masks[2], twinSecond(input).scalars)
        // A replica of a replica takes the next stream of the family, not one in use.
        let thirdMask = first.replica()(input).scalars
        XCTAssertNotEqual(thirdMask, masks[1])
        XCTAssertNotEqual(thirdMask, masks[2])
    }

    // MARK: - Residual

    func testResidualMatchesTorch() {
        let s = section("residual")
        var generator = SeededGenerator(seed: 61)
        let block = Residual(Sequential(Dense(inputSize: 4, outputSize: 4, generator: &generator), Activation(.tanh),
                                        Dense(inputSize: 4, outputSize: 4, generator: &generator)))
        XCTAssertEqual(block.namedParameters.map(\.name), ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"])
        load(block, from: s["parameters"])
        let input = referenceTensor(s["input"], requiresGradient: true)
        let output = block(input)
        XCTAssertClose(output.scalars, referenceTensor(s["output"]).scalars, absolute: 1e-6, relative: 1e-5)
        (output * referenceTensor(s["upstream"])).sum().backward()
        XCTAssertClose(input.gradient!, referenceTensor(s["grad_input"]).scalars, absolute: 1e-6, relative: 1e-5)
        assertParameterGradients(of: block, match: s["grad_parameters"], absolute: 1e-6, relative: 1e-5)

        // Replicas read the same parameters and keep gradients of their own.
        let replica = block.replica()
        XCTAssertEqual(replica(input).scalars, output.scalars)
        XCTAssertTrue(replica.parameters[0].storage == block.parameters[0].storage)
        XCTAssertFalse(replica.parameters[0] === block.parameters[0])
    }

    // MARK: - Embedding

    func testEmbeddingMatchesTorch() {
        let s = section("embedding")
        let indices = (s["indices"] as! [NSNumber]).map(\.intValue)
        var generator = SeededGenerator(seed: 71)
        let embedding = Embedding(count: 5, dimension: 3, generator: &generator)
        XCTAssertEqual(embedding.weight.shape, [5, 3])
        XCTAssertEqual(embedding.namedParameters.map(\.name), ["weight"])
        embedding.weight.assign(referenceTensor(s["weight"]))
        let output = embedding(indices)
        XCTAssertEqual(output.shape, [indices.count, 3])
        XCTAssertEqual(output.scalars, referenceTensor(s["output"]).scalars)
        (output * referenceTensor(s["upstream"])).sum().backward()
        XCTAssertClose(embedding.weight.gradient!, referenceTensor(s["grad_weight"]).scalars, absolute: 1e-6, relative: 1e-6)

        // The Layer form reads [N] or [N, 1] tensors of integral floats.
        let asFloats = indices.map { Float($0) }
        XCTAssertEqual(embedding(Tensor(shape: [indices.count], scalars: asFloats)).scalars, output.scalars)
        XCTAssertEqual(embedding(Tensor(shape: [indices.count, 1], scalars: asFloats)).scalars, output.scalars)
    }

    func testEmbeddingDrawsStandardNormalWeights() {
        var generator = SeededGenerator(seed: 72)
        let weights = Embedding(count: 100, dimension: 50, generator: &generator).weight.scalars
        let mean = weights.reduce(0, +) / Float(weights.count)
        let variance = weights.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(weights.count)
        // 5,000 draws: the mean's standard error is 0.014, the variance's about 0.02.
        XCTAssertEqual(mean, 0, accuracy: 0.07)
        XCTAssertEqual(variance, 1, accuracy: 0.1)
    }

    // MARK: - MultiHeadAttention

    func testMultiHeadAttentionMatchesTorch() {
        let s = section("multi_head_attention")
        let dimension = (s["dimension"] as! NSNumber).intValue, heads = (s["heads"] as! NSNumber).intValue
        for entry in s["cases"] as! [[String: Any]] {
            let causal = entry["causal"] as! Bool
            var generator = SeededGenerator(seed: 81)
            let attention = MultiHeadAttention(dimension: dimension, heads: heads, generator: &generator)
            XCTAssertEqual(attention.namedParameters.map(\.name),
                           ["query.weight", "query.bias", "key.weight", "key.bias",
                            "value.weight", "value.bias", "output.weight", "output.bias"])
            load(attention, from: s["parameters"])
            let query = referenceTensor(entry["query"], requiresGradient: true)
            let key = referenceTensor(entry["key"], requiresGradient: true)
            let value = referenceTensor(entry["value"], requiresGradient: true)
            let output = attention(query: query, key: key, value: value, causal: causal)
            let expected = referenceTensor(entry["output"])
            let label = "causal \(causal), query \(query.shape)"
            XCTAssertEqual(output.shape, expected.shape, label)
            XCTAssertClose(output.scalars, expected.scalars, absolute: 1e-5, relative: 1e-5, label)
            (output * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(query.gradient!, referenceTensor(entry["grad_query"]).scalars,
                           absolute: 1e-5, relative: 1e-4, "query gradient, \(label)")
            XCTAssertClose(key.gradient!, referenceTensor(entry["grad_key"]).scalars,
                           absolute: 1e-5, relative: 1e-4, "key gradient, \(label)")
            XCTAssertClose(value.gradient!, referenceTensor(entry["grad_value"]).scalars,
                           absolute: 1e-5, relative: 1e-4, "value gradient, \(label)")
            assertParameterGradients(of: attention, match: entry["grad_parameters"], absolute: 1e-5, relative: 1e-4, label)
        }
    }

    func testSelfAttentionLayerFormIsUnmasked() {
        let s = section("multi_head_attention")
        var generator = SeededGenerator(seed: 82)
        let attention = MultiHeadAttention(dimension: 8, heads: 2, generator: &generator)
        load(attention, from: s["parameters"])
        let x = Tensor.normal([2, 4, 8], generator: &generator)
        XCTAssertEqual(attention(x).scalars, attention(query: x, key: x, value: x).scalars)
        XCTAssertNotEqual(attention(x).scalars, attention(query: x, key: x, value: x, causal: true).scalars)
        // Causal: the first position sees itself only, so changing later positions leaves
        // its output alone.
        let changed = Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { i, v in i % 32 >= 8 ? v + 1 : v })
        let before = attention(query: x, key: x, value: x, causal: true).scalars
        let after = attention(query: changed, key: changed, value: changed, causal: true).scalars
        for b in 0..<2 {
            XCTAssertEqual(Array(before[(b * 32)..<(b * 32 + 8)]), Array(after[(b * 32)..<(b * 32 + 8)]))
        }
    }

    /// The gradient with respect to the input of self-attention, with and without the
    /// causal mask, against central differences. The rule is AutodiffTests'
    /// `assertGradientsMatchFiniteDifferences` (which this target cannot import): the
    /// scalar Σ attention(x) ⊙ R for a fixed random R, step h = 1e-2 in Float32, and
    /// |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric|, where truncation (O(h²)) and
    /// rounding (O(ε·|L|/h)) errors are both near 1e-4.
    func testAttentionInputGradientMatchesFiniteDifferences() {
        for causal in [false, true] {
            var generator = SeededGenerator(seed: 83)
            let attention = MultiHeadAttention(dimension: 8, heads: 2, generator: &generator)
            let x = Tensor.uniform([2, 4, 8], low: -1, high: 1, generator: &generator, requiresGradient: true)
            let weights = Tensor.uniform([2, 4, 8], low: -1, high: 1, generator: &generator)
            func objective() -> Float {
                withoutGradients { (attention(query: x, key: x, value: x, causal: causal) * weights).sum().scalar }
            }
            (attention(query: x, key: x, value: x, causal: causal) * weights).sum().backward()
            let analytic = x.gradient!
            let h: Float = 1e-2
            for i in 0..<x.count {
                let saved = x.storage[i]
                x.storage[i] = saved + h
                let up = objective()
                x.storage[i] = saved - h
                let down = objective()
                x.storage[i] = saved
                let numeric = (up - down) / (2 * h)
                XCTAssertLessThanOrEqual(Swift.abs(analytic[i] - numeric), 2e-3 + 1e-2 * Swift.abs(numeric),
                                         "causal \(causal) element \(i): analytic \(analytic[i]) vs numeric \(numeric)")
            }
        }
    }

    // MARK: - Positional encoding

    func testPositionalEncodingMatchesTheFormula() {
        let s = section("positional_encoding")
        let length = (s["length"] as! NSNumber).intValue, dimension = (s["dimension"] as! NSNumber).intValue
        let encoding = positionalEncoding(length: length, dimension: dimension)
        let expected = referenceTensor(s["encoding"])
        XCTAssertEqual(encoding.shape, expected.shape)
        XCTAssertClose(encoding.scalars, expected.scalars, absolute: 1e-7, relative: 1e-6)
        // Position 0 is sin 0 = 0 and cos 0 = 1, alternating.
        XCTAssertEqual(Array(encoding.scalars[0..<4]), [0, 1, 0, 1])
    }
}
