import Autodiff

/// A network written out for inference as a graph of ONNX operators (onnx.ai/onnx/operators,
/// opset 17): named values flowing through nodes, with the weights as named constants.
/// Layers append themselves with `InferenceExportable.export(to:input:)`; the ONNX file
/// itself is written by the Training module, which knows the format. The graph holds no
/// training behaviour: dropout is the identity, normalisation uses its learned parameters.
public struct InferenceGraph {
    /// An operator attribute.
    public enum Attribute: Equatable, Sendable {
        case int(Int)
        case ints([Int])
        case float(Float)
    }

    /// One operator application.
    public struct Node: Equatable, Sendable {
        /// The ONNX operator (`"Gemm"`, `"Relu"`, ...).
        public var op: String
        public var inputs: [String]
        public var outputs: [String]
        /// In a fixed order, so the same network gives the same file.
        public var attributes: [(name: String, value: Attribute)]

        public static func == (a: Node, b: Node) -> Bool {
            a.op == b.op && a.inputs == b.inputs && a.outputs == b.outputs
                && a.attributes.map(\.name) == b.attributes.map(\.name) && a.attributes.map(\.value) == b.attributes.map(\.value)
        }
    }

    /// A float tensor stored in the graph (a weight, a bias, a normalisation constant).
    public struct Constant: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
    }

    /// A 64-bit integer tensor stored in the graph (the positions `Slice` reads).
    public struct IntegerConstant: Equatable, Sendable {
        public var name: String
        public var values: [Int]
    }

    public private(set) var nodes: [Node] = []
    public private(set) var constants: [Constant] = []
    public private(set) var integerConstants: [IntegerConstant] = []
    private var usedNames: Set<String> = []

    public init() {}

    /// `hint`, or `hint_2`, `hint_3`, ... when taken: every value has its own name.
    private mutating func uniqueName(_ hint: String) -> String {
        var name = hint, suffix = 1
        while usedNames.contains(name) {
            suffix += 1
            name = "\(hint)_\(suffix)"
        }
        usedNames.insert(name)
        return name
    }

    /// Reserves a name for a value that comes from outside (the graph's input).
    public mutating func declare(_ name: String) -> String { uniqueName(name) }

    /// Stores `values` of `shape` and returns its name.
    public mutating func constant(_ values: [Float], shape: [Int], name: String) -> String {
        precondition(shape.reduce(1, *) == values.count, "InferenceGraph: \(values.count) values for shape \(shape)")
        let unique = uniqueName(name)
        constants.append(Constant(name: unique, shape: shape, values: values))
        return unique
    }

    /// Stores a copy of a tensor's current values and returns its name.
    public mutating func constant(_ tensor: Tensor, name: String) -> String {
        constant(tensor.scalars, shape: tensor.shape, name: name)
    }

    /// Stores 64-bit integers as a 1-D tensor and returns its name.
    public mutating func integers(_ values: [Int], name: String) -> String {
        let unique = uniqueName(name)
        integerConstants.append(IntegerConstant(name: unique, values: values))
        return unique
    }

    /// Columns `range` of a [batch, width] value (`Slice` along axis 1).
    public mutating func columns(_ range: Range<Int>, of value: String) -> String {
        let starts = integers([range.lowerBound], name: "starts"), ends = integers([range.upperBound], name: "ends")
        return apply("Slice", [value, starts, ends, integers([1], name: "axes")], name: "slice")
    }

    /// Appends `op` applied to `inputs` and returns the name of its one output.
    @discardableResult
    public mutating func apply(
        _ op: String, _ inputs: [String], attributes: [(name: String, value: Attribute)] = [], name: String? = nil
    ) -> String {
        let output = uniqueName(name ?? op.lowercased())
        nodes.append(Node(op: op, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Renames the value `old` produced by the last node that wrote it (to give the graph's
    /// output a stable name).
    public mutating func rename(output old: String, to new: String) {
        guard let index = nodes.lastIndex(where: { $0.outputs.contains(old) }) else {
            preconditionFailure("InferenceGraph: no node writes \(old)")
        }
        usedNames.insert(new)
        nodes[index].outputs = nodes[index].outputs.map { $0 == old ? new : $0 }
        for i in nodes.indices where i > index {
            nodes[i].inputs = nodes[i].inputs.map { $0 == old ? new : $0 }
        }
    }
}

/// Why a network cannot be written as an inference graph.
public enum InferenceExportError: Error, Equatable, CustomStringConvertible {
    /// A layer with no inference form (a custom layer, a recurrent cell).
    case unsupportedLayer(String)

    public var description: String {
        switch self {
        case .unsupportedLayer(let name):
            return "the network holds a \(name) layer, which cannot be exported for inference yet"
        }
    }
}

/// A layer that can write its inference-mode computation into an `InferenceGraph`.
public protocol InferenceExportable: Layer {
    /// Appends this layer to `graph`, reading the value named `input` (a batch shaped as
    /// the layer's input, channels last for images), and returns its output's name.
    func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String
}

extension Layer {
    /// Appends this layer to `graph` (see `InferenceExportable`), or throws naming it when
    /// it has no inference form.
    public func exportForInference(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        guard let exportable = self as? any InferenceExportable else {
            throw .unsupportedLayer(String(describing: type(of: self)))
        }
        return try exportable.export(to: &graph, input: input)
    }
}

extension Sequential: InferenceExportable {
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        var value = input
        for layer in layers { value = try layer.exportForInference(to: &graph, input: value) }
        return value
    }
}

extension Dense: InferenceExportable {
    /// `Gemm`: x · W + b (W is stored [in, out], so no transposition).
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        let w = graph.constant(weight, name: "dense.weight"), b = graph.constant(bias, name: "dense.bias")
        return graph.apply("Gemm", [input, w, b], name: "dense")
    }
}

extension Conv2D: InferenceExportable {
    /// ONNX convolves channels-first: the batch is transposed to [N, C, H, W], convolved
    /// with the filter as [O, C, kh, kw], and transposed back, so the next layer (and a
    /// `Flatten`) sees the channels-last layout AgentLab uses.
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        let (kh, kw, c, o) = (filter.shape[0], filter.shape[1], filter.shape[2], filter.shape[3])
        var oihw = [Float](repeating: 0, count: filter.count)
        let hwio = filter.scalars
        for y in 0..<kh { for x in 0..<kw { for i in 0..<c { for j in 0..<o {
            oihw[((j * c + i) * kh + y) * kw + x] = hwio[((y * kw + x) * c + i) * o + j]
        } } } }
        var pads = [0, 0, 0, 0]
        if padding == .same {
            let spanH = dilation * (kh - 1), spanW = dilation * (kw - 1)
            pads = [spanH / 2, spanW / 2, spanH - spanH / 2, spanW - spanW / 2]
        }
        let w = graph.constant(oihw, shape: [o, c, kh, kw], name: "conv.weight")
        let b = graph.constant(bias, name: "conv.bias")
        let channelsFirst = graph.apply("Transpose", [input], attributes: [("perm", .ints([0, 3, 1, 2]))])
        let convolved = graph.apply("Conv", [channelsFirst, w, b], attributes: [
            ("dilations", .ints([dilation, dilation])), ("kernel_shape", .ints([kh, kw])),
            ("pads", .ints(pads)), ("strides", .ints([stride, stride])),
        ], name: "conv")
        return graph.apply("Transpose", [convolved], attributes: [("perm", .ints([0, 2, 3, 1]))])
    }
}

extension Activation: InferenceExportable {
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        switch kind {
        case .tanh: return graph.apply("Tanh", [input])
        case .relu: return graph.apply("Relu", [input])
        case .sigmoid: return graph.apply("Sigmoid", [input])
        case .leakyRelu: return graph.apply("LeakyRelu", [input], attributes: [("alpha", .float(0.01))])
        case .elu: return graph.apply("Elu", [input], attributes: [("alpha", .float(1))])
        case .softplus:
            // ONNX's Softplus has no threshold; above 20, log(1 + eˣ) and x agree in Float.
            return graph.apply("Softplus", [input])
        case .silu:
            return graph.apply("Mul", [input, graph.apply("Sigmoid", [input])], name: "silu")
        case .gelu:
            // x · ½(1 + erf(x/√2)): opset 17 has no Gelu.
            let root2 = graph.constant([Float(2).squareRoot()], shape: [], name: "sqrt2")
            let half = graph.constant([0.5], shape: [], name: "half"), one = graph.constant([1], shape: [], name: "one")
            let erf = graph.apply("Erf", [graph.apply("Div", [input, root2])])
            let phi = graph.apply("Mul", [graph.apply("Add", [erf, one]), half])
            return graph.apply("Mul", [input, phi], name: "gelu")
        }
    }
}

extension Flatten: InferenceExportable {
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        graph.apply("Flatten", [input], attributes: [("axis", .int(1))])
    }
}

extension LayerNorm: InferenceExportable {
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        let scale = graph.constant(weight, name: "layernorm.weight"), shift = graph.constant(bias, name: "layernorm.bias")
        return graph.apply("LayerNormalization", [input, scale, shift],
                           attributes: [("axis", .int(-1)), ("epsilon", .float(epsilon))], name: "layernorm")
    }
}

extension Residual: InferenceExportable {
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String {
        let inner = try body.exportForInference(to: &graph, input: input)
        return graph.apply("Add", [input, inner], name: "residual")
    }
}

extension Dropout: InferenceExportable {
    /// Inference never drops: the identity.
    public func export(to graph: inout InferenceGraph, input: String) throws(InferenceExportError) -> String { input }
}

/// A recurrent cell that can write one step of its inference-mode computation into an
/// `InferenceGraph`: a batch of inputs [B, inputSize] and states [B, stateWidth] in, the
/// step's outputs [B, hiddenSize] and the next states out, in the same layout as
/// `RecurrentLayer.sequence` (the LSTM's h then c). A caller runs it once per step and
/// zeroes the state where an episode begins.
public protocol RecurrentInferenceExportable: RecurrentLayer {
    func exportStep(to graph: inout InferenceGraph, input: String, state: String) -> (output: String, state: String)
}

extension LSTM: RecurrentInferenceExportable {
    /// Gates x·W_ih + h·W_hh + b in PyTorch's order i, f, g, o; c′ = σ(f)·c + σ(i)·tanh(g),
    /// h′ = σ(o)·tanh(c′); the state [h′, c′].
    public func exportStep(to graph: inout InferenceGraph, input: String, state: String) -> (output: String, state: String) {
        let h = hiddenSize
        let hidden = graph.columns(0..<h, of: state), cell = graph.columns(h..<(2 * h), of: state)
        let projected = graph.apply("Gemm", [input, graph.constant(inputWeight, name: "lstm.input_weight"),
                                             graph.constant(bias, name: "lstm.bias")], name: "lstm_input")
        let recurrent = graph.apply("MatMul", [hidden, graph.constant(hiddenWeight, name: "lstm.hidden_weight")],
                                    name: "lstm_recurrent")
        let gates = graph.apply("Add", [projected, recurrent], name: "lstm_gates")
        let i = graph.apply("Sigmoid", [graph.columns(0..<h, of: gates)], name: "lstm_i")
        let f = graph.apply("Sigmoid", [graph.columns(h..<(2 * h), of: gates)], name: "lstm_f")
        let g = graph.apply("Tanh", [graph.columns((2 * h)..<(3 * h), of: gates)], name: "lstm_g")
        let o = graph.apply("Sigmoid", [graph.columns((3 * h)..<(4 * h), of: gates)], name: "lstm_o")
        let nextCell = graph.apply("Add", [graph.apply("Mul", [f, cell]), graph.apply("Mul", [i, g])], name: "lstm_c")
        let nextHidden = graph.apply("Mul", [o, graph.apply("Tanh", [nextCell])], name: "lstm_h")
        let nextState = graph.apply("Concat", [nextHidden, nextCell], attributes: [("axis", .int(1))], name: "lstm_state")
        return (nextHidden, nextState)
    }
}

extension GRU: RecurrentInferenceExportable {
    /// Gates in PyTorch's order r, z, n: r = σ(x·W_ir + b_ir + h·W_hr + b_hr), z likewise,
    /// n = tanh(x·W_in + b_in + r·(h·W_hn + b_hn)), h′ = n + z·(h − n).
    public func exportStep(to graph: inout InferenceGraph, input: String, state: String) -> (output: String, state: String) {
        let h = hiddenSize
        let fromInput = graph.apply("Gemm", [input, graph.constant(inputWeight, name: "gru.input_weight"),
                                             graph.constant(inputBias, name: "gru.input_bias")], name: "gru_input")
        let fromHidden = graph.apply("Gemm", [state, graph.constant(hiddenWeight, name: "gru.hidden_weight"),
                                              graph.constant(hiddenBias, name: "gru.hidden_bias")], name: "gru_recurrent")
        func gate(_ k: Int, of value: String) -> String { graph.columns((k * h)..<((k + 1) * h), of: value) }
        let r = graph.apply("Sigmoid", [graph.apply("Add", [gate(0, of: fromInput), gate(0, of: fromHidden)])], name: "gru_r")
        let z = graph.apply("Sigmoid", [graph.apply("Add", [gate(1, of: fromInput), gate(1, of: fromHidden)])], name: "gru_z")
        let n = graph.apply("Tanh", [graph.apply("Add", [gate(2, of: fromInput), graph.apply("Mul", [r, gate(2, of: fromHidden)])])],
                            name: "gru_n")
        let next = graph.apply("Add", [n, graph.apply("Mul", [z, graph.apply("Sub", [state, n])])], name: "gru_h")
        return (next, next)
    }
}
