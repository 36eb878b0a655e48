import Autodiff
import Foundation
import SeededRandom
import XCTest
@testable import NeuralNet

/// The activations, pow, strided and dilated convolution, pooling and batched matrix
/// products against PyTorch (Reference/ops.json, made by make_ops_reference.py), ops and
/// the layers over them.
///
/// Tolerances, |ours − reference| ≤ absolute + relative·|reference|: the references are
/// float64 results rounded to float32 (within half an ulp), so what remains is our float32
/// arithmetic.
/// - Element-wise ops: relative 1e-5 (about 80 ulp) leaves room for the few-ulp errors of
///   FastMath's exp and log, `erff` and `powf` and the two or three roundings of each
///   derivative; absolute 1e-6 covers values near 0, where relative error means nothing
///   (1 + erf(x/√2) cancels for x ≪ 0, so GELU there is off by about ε·|x|).
/// - Convolution: sums of up to 27 products per output and of up to 98 per weight
///   gradient accumulate about n·ε of the sum of magnitudes; 1e-5 + 1e-5 covers that
///   (as for the stride-1 convolution in LayerReferenceTests).
/// - Batched matmul: sums of 5 products, error about 5·ε·Σ|aᵢbᵢ| ≲ 1e-6; absolute 2e-6.
/// - Pooling: max copies values (exact); gradients and means add up to 9 float32 values.
final class OpReferenceTests: XCTestCase {
    var reference: [String: Any]!

    override func setUpWithError() throws {
        reference = try loadReference("ops.json")
    }

    private func section(_ key: String) -> [String: Any] { reference[key] as! [String: Any] }
    private func number(_ object: Any?) -> Float { Float((object as! NSNumber).doubleValue) }
    private func integer(_ object: Any?) -> Int { (object as! NSNumber).intValue }
    private func flag(_ object: Any?) -> Bool {
        if let value = object as? Bool { return value }
        return (object as! NSNumber).boolValue
    }

    /// The op a case of "activations" names, with its parameters.
    private func activation(_ name: String, _ parameters: [String: Any], _ x: Tensor) -> Tensor {
        func parameter(_ key: String) -> Float { number(parameters[key]) }
        switch name {
        case "leaky_relu": return leakyRelu(x, negativeSlope: parameter("negative_slope"))
        case "elu": return elu(x, alpha: parameter("alpha"))
        case "gelu": return gelu(x)
        case "silu": return silu(x)
        case "softplus": return softplus(x, beta: parameter("beta"), threshold: parameter("threshold"))
        case "pow": return pow(x, parameter("exponent"))
        default:
            XCTFail("ops.json names an unknown activation \(name)")
            return x
        }
    }

    func testActivationsAndPow() {
        let cases = section("activations")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 10)
        for entry in cases {
            let name = entry["name"] as! String, parameters = entry["parameters"] as! [String: Any]
            let label = "\(name) \(parameters)"
            let x = referenceTensor(entry["input"], requiresGradient: true)
            let y = activation(name, parameters, x)
            let expected = referenceTensor(entry["output"])
            XCTAssertEqual(y.shape, expected.shape, label)
            XCTAssertClose(y.scalars, expected.scalars, absolute: 1e-6, relative: 1e-5, "\(label) output")
            (y * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(x.gradient!, referenceTensor(entry["grad_input"]).scalars, absolute: 1e-6, relative: 1e-5,
                           "\(label) gradient")
            // The Activation layer with PyTorch's defaults is the same op.
            if flag(entry["uses_layer_defaults"]) {
                let kind = Activation.Kind(rawValue: name)
                XCTAssertNotNil(kind, "no Activation.Kind with raw value \(name)")
                if let kind {
                    let layer = Activation(kind)
                    let layered = withoutGradients { layer(referenceTensor(entry["input"])) }
                    XCTAssertEqual(layered.scalars, y.scalars, "Activation(.\(kind)) differs from \(name)")
                }
            }
        }
    }

    func testConvolutionWithStrideAndDilation() {
        let s = section("conv2d")
        var generator = SeededGenerator(seed: 5)
        for entry in s["cases"] as! [[String: Any]] {
            let padding = Padding(rawValue: entry["padding"] as! String)!
            let stride = integer(entry["stride"]), dilation = integer(entry["dilation"])
            let label = "\(padding) stride \(stride) dilation \(dilation)"
            let input = referenceTensor(s["input"], requiresGradient: true)
            let weight = referenceTensor(s["weight"], requiresGradient: true)
            let bias = referenceTensor(s["bias"], requiresGradient: true)
            let output = Tensor.conv2D(input, filter: weight, bias: bias, padding: padding, stride: stride,
                                       dilation: dilation)
            let expected = referenceTensor(entry["output"])
            XCTAssertEqual(output.shape, expected.shape, label)
            XCTAssertClose(output.scalars, expected.scalars, absolute: 1e-5, relative: 1e-5, "\(label) output")
            (output * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(input.gradient!, referenceTensor(entry["grad_input"]).scalars, absolute: 1e-5,
                           relative: 1e-5, "\(label) input gradient")
            XCTAssertClose(weight.gradient!, referenceTensor(entry["grad_weight"]).scalars, absolute: 1e-5,
                           relative: 1e-5, "\(label) weight gradient")
            XCTAssertClose(bias.gradient!, referenceTensor(entry["grad_bias"]).scalars, absolute: 1e-5,
                           relative: 1e-5, "\(label) bias gradient")

            // The Conv2D layer, given the same weights, computes the same op.
            let layer = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: padding, stride: stride,
                               dilation: dilation, generator: &generator)
            layer.filter.assign(weight)
            layer.bias.assign(bias)
            let layered = withoutGradients { layer(referenceTensor(s["input"])) }
            XCTAssertEqual(layered.scalars, output.scalars, "\(label) Conv2D layer")
            XCTAssertEqual(layer.replica().stride, stride)
            XCTAssertEqual(layer.constantReplica().dilation, dilation)
        }
    }

    func testMaxAndAveragePooling() {
        let s = section("pooling")
        let cases = s["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        for entry in cases {
            let kind = entry["kind"] as! String, size = integer(entry["size"]), stride = integer(entry["stride"])
            let label = "\(kind) pool size \(size) stride \(stride)"
            let input = referenceTensor(s["input"], requiresGradient: true)
            let output: Tensor
            let layer: any Layer
            switch kind {
            case "max":
                output = Tensor.maxPool2D(input, size: size, stride: stride)
                layer = MaxPool2D(size: size, stride: stride)
            case "avg":
                output = Tensor.averagePool2D(input, size: size, stride: stride)
                layer = AveragePool2D(size: size, stride: stride)
            default:
                XCTFail("ops.json names an unknown pooling kind \(kind)")
                continue
            }
            let expected = referenceTensor(entry["output"])
            XCTAssertEqual(output.shape, expected.shape, label)
            // The maximum is one of the inputs, copied: exact.
            XCTAssertClose(output.scalars, expected.scalars, absolute: kind == "max" ? 0 : 1e-6, relative: 1e-6,
                           "\(label) output")
            (output * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(input.gradient!, referenceTensor(entry["grad_input"]).scalars, absolute: 1e-6,
                           relative: 1e-6, "\(label) gradient")
            let layered = withoutGradients { layer(referenceTensor(s["input"])) }
            XCTAssertEqual(layered.scalars, output.scalars, "\(label) layer")
            XCTAssertTrue(layer.namedParameters.isEmpty)
        }
    }

    func testBatchedMatmul() {
        let cases = section("bmm")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        for entry in cases {
            let ta = flag(entry["transposing_a"]), tb = flag(entry["transposing_b"])
            let label = "transposing a \(ta), b \(tb)"
            let a = referenceTensor(entry["a"], requiresGradient: true)
            let b = referenceTensor(entry["b"], requiresGradient: true)
            let output = Tensor.batchedMatmul(a, b, transposingA: ta, transposingB: tb)
            let expected = referenceTensor(entry["output"])
            XCTAssertEqual(output.shape, expected.shape, label)
            XCTAssertClose(output.scalars, expected.scalars, absolute: 2e-6, relative: 1e-6, "\(label) output")
            (output * referenceTensor(entry["upstream"])).sum().backward()
            XCTAssertClose(a.gradient!, referenceTensor(entry["grad_a"]).scalars, absolute: 2e-6, relative: 1e-6,
                           "\(label) gradient of a")
            XCTAssertClose(b.gradient!, referenceTensor(entry["grad_b"]).scalars, absolute: 2e-6, relative: 1e-6,
                           "\(label) gradient of b")
        }
    }
}
