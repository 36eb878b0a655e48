import Autodiff
import SeededRandom
import XCTest
@testable import NeuralNet

final class InferenceGraphTests: XCTestCase {
    /// An MLP block becomes Gemm (weight [in, out] as stored, no transposition), the
    /// activation, LayerNormalization with the layer's own parameters; dropout vanishes;
    /// a residual block adds its input back.
    func testLayersWriteTheirInferenceOperators() throws {
        var generator = SeededGenerator(seed: 1)
        let dense = Dense(inputSize: 3, outputSize: 3, generator: &generator)
        let norm = LayerNorm(size: 3, epsilon: 1e-4)
        let network = Sequential(
            Residual(Sequential(dense, norm, Activation(.relu), Dropout(probability: 0.5, seed: 2))), Activation(.tanh))
        var graph = InferenceGraph()
        let input = graph.declare("x")
        let output = try network.export(to: &graph, input: input)
        XCTAssertEqual(graph.nodes.map(\.op), ["Gemm", "LayerNormalization", "Relu", "Add", "Tanh"])
        XCTAssertEqual(graph.nodes[0].inputs.first, "x")
        XCTAssertEqual(graph.nodes[3].inputs, ["x", graph.nodes[2].outputs[0]], "x + f(x), f ending at the ReLU")
        XCTAssertEqual(output, graph.nodes[4].outputs[0])
        let weight = try XCTUnwrap(graph.constants.first { $0.name == graph.nodes[0].inputs[1] })
        XCTAssertEqual(weight.shape, [3, 3])
        XCTAssertEqual(weight.values, dense.weight.scalars)
        XCTAssertEqual(graph.nodes[1].attributes.map(\.name), ["axis", "epsilon"])
        XCTAssertEqual(graph.nodes[1].attributes[1].value, .float(1e-4))
        // Every value has its own name.
        let names = graph.nodes.flatMap(\.outputs) + graph.constants.map(\.name) + ["x"]
        XCTAssertEqual(Set(names).count, names.count)
    }

    /// ONNX convolves channels first: the filter [kh, kw, C, O] is stored as [O, C, kh, kw]
    /// (element (y, x, i, j) moves to (j, i, y, x)), between transposes of the batch; `same`
    /// padding of a dilated 3×3 kernel (span 4) pads 2 on each side.
    func testConvolutionIsWrittenChannelsFirst() throws {
        var generator = SeededGenerator(seed: 4)
        let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: .same, dilation: 2,
                          generator: &generator)
        var graph = InferenceGraph()
        _ = try conv.export(to: &graph, input: graph.declare("x"))
        XCTAssertEqual(graph.nodes.map(\.op), ["Transpose", "Conv", "Transpose"])
        XCTAssertEqual(graph.nodes[0].attributes[0].value, .ints([0, 3, 1, 2]))
        XCTAssertEqual(graph.nodes[2].attributes[0].value, .ints([0, 2, 3, 1]))
        let attributes = Dictionary(uniqueKeysWithValues: graph.nodes[1].attributes.map { ($0.name, $0.value) })
        XCTAssertEqual(attributes["pads"], .ints([2, 2, 2, 2]))
        XCTAssertEqual(attributes["dilations"], .ints([2, 2]))
        XCTAssertEqual(attributes["kernel_shape"], .ints([3, 3]))
        let filter = try XCTUnwrap(graph.constants.first { $0.shape == [3, 2, 3, 3] })
        let hwio = conv.filter.scalars
        for (y, x, i, j) in [(0, 0, 0, 0), (2, 1, 1, 0), (1, 2, 0, 2), (2, 2, 1, 2)] {
            XCTAssertEqual(filter.values[((j * 2 + i) * 3 + y) * 3 + x], hwio[((y * 3 + x) * 2 + i) * 3 + j])
        }
    }

    /// GELU in its exact form, composed from opset 17's operators: x · ½(1 + erf(x/√2)).
    func testGELUIsComposedFromErf() throws {
        var graph = InferenceGraph()
        _ = try Activation(.gelu).export(to: &graph, input: graph.declare("x"))
        XCTAssertEqual(graph.nodes.map(\.op), ["Div", "Erf", "Add", "Mul", "Mul"])
        XCTAssertEqual(graph.constants.map(\.values), [[Float(2).squareRoot()], [0.5], [1]])
    }

    /// A layer without an inference form is named in the error.
    func testALayerWithoutAnInferenceFormIsNamed() {
        var graph = InferenceGraph()
        XCTAssertThrowsError(try Sequential(BatchNorm(features: 2)).export(to: &graph, input: "x")) { error in
            XCTAssertEqual(error as? InferenceExportError, .unsupportedLayer("BatchNorm"))
        }
    }

    /// Renaming a value renames it wherever later nodes read it.
    func testRenamingAnOutput() {
        var graph = InferenceGraph()
        let x = graph.declare("x")
        let a = graph.apply("Relu", [x])
        graph.apply("Tanh", [a])
        graph.rename(output: a, to: "features")
        XCTAssertEqual(graph.nodes[0].outputs, ["features"])
        XCTAssertEqual(graph.nodes[1].inputs, ["features"])
    }
}

final class RecurrentInferenceGraphTests: XCTestCase {
    /// One LSTM step reads h and c from the state's halves and the gates in PyTorch's order
    /// i, f, g, o from quarters of x·W_ih + b + h·W_hh; the next state is [h′, c′].
    func testAnLSTMStepSlicesItsGatesInPyTorchsOrder() {
        var generator = SeededGenerator(seed: 2)
        let lstm = LSTM(inputSize: 3, hiddenSize: 5, generator: &generator)
        var graph = InferenceGraph()
        let step = lstm.exportStep(to: &graph, input: graph.declare("x"), state: graph.declare("s"))
        let slices = graph.nodes.filter { $0.op == "Slice" }
        let starts = slices.map { slice in graph.integerConstants.first { $0.name == slice.inputs[1] }!.values[0] }
        let ends = slices.map { slice in graph.integerConstants.first { $0.name == slice.inputs[2] }!.values[0] }
        XCTAssertEqual(starts, [0, 5, 0, 5, 10, 15], "h, c, then i, f, g, o")
        XCTAssertEqual(ends, [5, 10, 5, 10, 15, 20])
        let activations = graph.nodes.filter { ["Sigmoid", "Tanh"].contains($0.op) }.map(\.op)
        XCTAssertEqual(activations, ["Sigmoid", "Sigmoid", "Tanh", "Sigmoid", "Tanh"], "σ(i), σ(f), tanh(g), σ(o), tanh(c′)")
        XCTAssertEqual(graph.nodes.last?.op, "Concat")
        XCTAssertEqual(graph.nodes.last?.inputs, [step.output, graph.nodes.last!.inputs[1]])
        XCTAssertEqual(graph.constants.first { $0.shape == [3, 20] }?.values, lstm.inputWeight.scalars)
        XCTAssertEqual(graph.constants.first { $0.shape == [5, 20] }?.values, lstm.hiddenWeight.scalars)
    }

    /// A GRU step's state is its output: h′ = n + z·(h − n), with the recurrent bias inside
    /// the reset gate's product.
    func testAGRUStepsStateIsItsOutput() {
        var generator = SeededGenerator(seed: 2)
        let gru = GRU(inputSize: 3, hiddenSize: 4, generator: &generator)
        var graph = InferenceGraph()
        let step = gru.exportStep(to: &graph, input: graph.declare("x"), state: graph.declare("h"))
        XCTAssertEqual(step.output, step.state)
        XCTAssertEqual(graph.nodes.filter { $0.op == "Gemm" }.count, 2, "x·W_ih + b_ih and h·W_hh + b_hh")
        XCTAssertEqual(graph.nodes.filter { $0.op == "Slice" }.count, 6, "r, z and n from each side")
        XCTAssertEqual(graph.nodes.last?.op, "Add")
    }
}
