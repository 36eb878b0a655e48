import Autodiff
import NeuralNet
import SeededRandom

/// The network architecture an agent builds for an observation space: an MLP for vector
/// observations, MinAtar's convolutional trunk for 10×10×C frames.
///
/// Each hidden layer of the MLP is Dense → LayerNorm (with `normalization: layer`) →
/// activation → Dropout (with `dropout` > 0), wrapped in a skip connection x + f(x) when
/// `residual` is set and the layer keeps its input's width. A recurrent agent
/// (`recurrent_ppo`) reads observations through the `recurrent` cell first; the MLP then
/// works on the cell's output.
public struct NetworkConfiguration: Equatable, Sendable, Codable {
    /// How hidden activations are normalised.
    public enum Normalization: String, Equatable, Sendable, Codable, CaseIterable {
        case none
        /// LayerNorm over each hidden layer's features (Ba et al., 2016).
        case layer
    }

    /// Hidden layer widths of the MLP (vector observations).
    public var hiddenSizes: [Int]
    /// The MLP's activation.
    public var activation: Activation.Kind
    /// Filters of the 3×3 valid convolution (image observations).
    public var convolutionFilters: Int
    /// Width of the dense layer after the convolution (image observations).
    public var convolutionDenseSize: Int
    /// Normalisation of the MLP's hidden layers.
    public var normalization: Normalization
    /// Skip connections around the MLP's hidden layers that keep their width.
    public var residual: Bool
    /// The probability of dropping a hidden unit while gradients are computed (0: none).
    public var dropout: Double
    /// The recurrent cell of an agent with memory; absent for feed-forward agents.
    public var recurrent: RecurrentConfiguration?

    public init(hiddenSizes: [Int] = [64, 64], activation: Activation.Kind = .tanh,
                convolutionFilters: Int = 16, convolutionDenseSize: Int = 128,
                normalization: Normalization = .none, residual: Bool = false, dropout: Double = 0,
                recurrent: RecurrentConfiguration? = nil) {
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.convolutionFilters = convolutionFilters
        self.convolutionDenseSize = convolutionDenseSize
        self.normalization = normalization
        self.residual = residual
        self.dropout = dropout
        self.recurrent = recurrent
    }

    /// Decodes a configuration; the keys added after the first release (`normalization`,
    /// `residual`, `dropout`) may be missing (a run folder written before them), and then
    /// take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSizes = try container.decode([Int].self, forKey: .hiddenSizes)
        activation = try container.decode(Activation.Kind.self, forKey: .activation)
        convolutionFilters = try container.decode(Int.self, forKey: .convolutionFilters)
        convolutionDenseSize = try container.decode(Int.self, forKey: .convolutionDenseSize)
        normalization = try container.decodeIfPresent(Normalization.self, forKey: .normalization) ?? .none
        residual = try container.decodeIfPresent(Bool.self, forKey: .residual) ?? false
        dropout = try container.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        recurrent = try container.decodeIfPresent(RecurrentConfiguration.self, forKey: .recurrent)
    }

    /// Tiny networks (one hidden layer of 8, two filters) for smoke tests.
    public static let small = NetworkConfiguration(hiddenSizes: [8], activation: .tanh, convolutionFilters: 2,
                                                   convolutionDenseSize: 8)

    enum CodingKeys: String, CodingKey {
        case hiddenSizes = "hidden_sizes", activation
        case convolutionFilters = "convolution_filters", convolutionDenseSize = "convolution_dense_size"
        case normalization, residual, dropout, recurrent
    }

    /// Checks ranges; the message names the key.
    public func validate() throws(TrainingError) {
        try Require.that(hiddenSizes.count <= 64, "network.hidden_sizes may list at most 64 layers, got \(hiddenSizes.count)")
        for size in hiddenSizes { try Require.count("network.hidden_sizes", size, in: 1...1_000_000) }
        try Require.count("network.convolution_filters", convolutionFilters, in: 1...4_096)
        try Require.count("network.convolution_dense_size", convolutionDenseSize, in: 1...1_000_000)
        try Require.value("network.dropout", dropout, in: 0...0.95)
        if let recurrent { try recurrent.validate() }
    }

    /// Whether the MLP uses any layer beyond Dense and an activation: the continuous-control
    /// networks (SAC, TD3) do not build them yet.
    public var hasHiddenLayerExtras: Bool { normalization != .none || residual || dropout > 0 }

    /// Bytes of one copy of the parameters of the trunk this configuration builds for
    /// `observationShape` followed by a dense head of `outputs` (in floating point: no
    /// overflow for any size).
    public func parameterBytes(observationShape shape: [Int], outputs: Int) -> Double {
        var parameters = 0.0
        var width = Double(shape.reduce(1, *))
        if Self.isImage(shape) {
            let (h, w, c) = (Double(shape[0]), Double(shape[1]), Double(shape[2]))
            let filters = Double(convolutionFilters), dense = Double(convolutionDenseSize)
            parameters += 9 * c * filters + filters + (h - 2) * (w - 2) * filters * dense + dense
            width = dense
        } else {
            for size in hiddenSizes.map(Double.init) {
                parameters += width * size + size + (normalization == .layer ? 2 * size : 0)
                width = size
            }
        }
        parameters += width * Double(outputs) + Double(outputs)
        return 4 * parameters
    }

    /// Whether observations of this shape go through the convolutional trunk.
    public static func isImage(_ shape: [Int]) -> Bool { shape.count == 3 }

    /// A trunk from observations to features and its output width. Layers are initialised
    /// with `initializer`, or orthogonally with gain √2 when `orthogonal` (PPO's standard).
    public func makeTrunk(
        observationShape shape: [Int], orthogonal: Bool, generator: inout SeededGenerator
    ) -> (layers: [any Layer], width: Int) {
        let gain = Float(2.0.squareRoot())
        if Self.isImage(shape) {
            let (h, w, c) = (shape[0], shape[1], shape[2])
            let flat = (h - 2) * (w - 2) * convolutionFilters
            return ([
                Conv2D(inputChannels: c, outputChannels: convolutionFilters, kernelSize: 3, padding: .valid,
                       initializer: orthogonal ? .orthogonal(gain: gain) : .heUniform, generator: &generator),
                Activation(.relu), Flatten(),
                Dense(inputSize: flat, outputSize: convolutionDenseSize,
                      initializer: orthogonal ? .orthogonal(gain: gain) : .heUniform, generator: &generator),
                Activation(.relu),
            ], convolutionDenseSize)
        }
        return makeHiddenLayers(inputWidth: shape.reduce(1, *), orthogonal: orthogonal, generator: &generator)
    }

    /// The MLP's hidden layers on inputs `inputWidth` wide, and the width they end with.
    public func makeHiddenLayers(
        inputWidth: Int, orthogonal: Bool, generator: inout SeededGenerator
    ) -> (layers: [any Layer], width: Int) {
        let gain = Float(2.0.squareRoot())
        var layers: [any Layer] = []
        var width = inputWidth
        for size in hiddenSizes {
            let initializer: Initializer = orthogonal
                ? .orthogonal(gain: gain) : (activation == .relu ? .heUniform : .glorotUniform)
            var block: [any Layer] = [Dense(inputSize: width, outputSize: size, initializer: initializer, generator: &generator)]
            if normalization == .layer { block.append(LayerNorm(size: size)) }
            block.append(Activation(activation))
            // Drawn only when used, so networks without dropout keep their weights.
            if dropout > 0 { block.append(Dropout(probability: Float(dropout), seed: generator.next())) }
            if residual, size == width {
                layers.append(Residual(Sequential(block)))
            } else {
                layers += block
            }
            width = size
        }
        return (layers, width)
    }

    /// A one-line description stored in checkpoints: a checkpoint only loads into a
    /// network with the same description.
    public func describe(observationShape shape: [Int], outputs: Int) -> String {
        if Self.isImage(shape) {
            return "conv \(shape.map(String.init).joined(separator: "x")) c\(convolutionFilters) d\(convolutionDenseSize) -> \(outputs)"
        }
        let sizes = [shape.reduce(1, *)] + hiddenSizes + [outputs]
        return "mlp \(sizes.map(String.init).joined(separator: "-")) \(activation.rawValue)" + extrasDescription
    }

    /// The hidden-layer extras and the recurrent cell in a checkpoint's description (empty
    /// without them, so older checkpoints keep loading).
    var extrasDescription: String {
        var parts: [String] = []
        if normalization == .layer { parts.append("layernorm") }
        if residual { parts.append("residual") }
        if dropout > 0 { parts.append("dropout \(dropout)") }
        if let recurrent { parts.append("\(recurrent.cell.rawValue) \(recurrent.size)\(recurrent.shared ? " shared" : "")") }
        return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
    }
}

/// The recurrent cell of an agent with memory: `network.recurrent` in a configuration.
public struct RecurrentConfiguration: Equatable, Sendable, Codable {
    /// LSTM or GRU.
    public var cell: RecurrentCellKind
    /// Floats of h (the cell's output width).
    public var size: Int
    /// One cell feeding both the policy and the value heads (CleanRL's `ppo_atari_lstm.py`)
    /// rather than one cell each (SB3-contrib's `RecurrentPPO` default).
    public var shared: Bool

    public init(cell: RecurrentCellKind = .lstm, size: Int = 64, shared: Bool = false) {
        self.cell = cell
        self.size = size
        self.shared = shared
    }

    enum CodingKeys: String, CodingKey { case cell, size, shared }

    /// Every key may be left out: `{cell: gru}` is a GRU of the default size.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cell = try container.decodeIfPresent(RecurrentCellKind.self, forKey: .cell) ?? .lstm
        size = try container.decodeIfPresent(Int.self, forKey: .size) ?? 64
        shared = try container.decodeIfPresent(Bool.self, forKey: .shared) ?? false
    }

    /// Checks ranges; the message names the key.
    public func validate() throws(TrainingError) {
        try Require.count("network.recurrent.size", size, in: 1...65_536)
    }
}

/// A batch of observations as a tensor of shape [count] + observation shape.
public func makeObservationBatch(_ observations: UnsafeBufferPointer<Float>, count: Int, shape: [Int]) -> Tensor {
    let t = Tensor(repeating: 0, shape: [count] + shape)
    let size = shape.reduce(1, *)
    precondition(observations.count >= count * size, "observation buffer too small")
    t.storage.update(from: observations.baseAddress!, count: count * size)
    return t
}

extension Tensor {
    /// A copy of rows `rows` of a batch [N, ...] (not recorded: for input batches).
    func rows(_ rows: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        return makeObservationBatch(
            UnsafeBufferPointer(start: storage + rows.lowerBound * rowSize, count: rows.count * rowSize),
            count: rows.count, shape: Array(shape.dropFirst()))
    }
}
