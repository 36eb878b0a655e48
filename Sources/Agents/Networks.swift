import Autodiff
import NeuralNet
import SeededRandom

/// The network architecture an agent builds for an observation space: an MLP for vector
/// observations, MinAtar's convolutional trunk for 10×10×C frames.
public struct NetworkConfiguration: Equatable, Sendable, Codable {
    /// Hidden layer widths of the MLP (vector observations).
    public var hiddenSizes: [Int]
    /// The MLP's activation.
    public var activation: Activation.Kind
    /// Filters of the 3×3 valid convolution (image observations).
    public var convolutionFilters: Int
    /// Width of the dense layer after the convolution (image observations).
    public var convolutionDenseSize: Int

    public init(hiddenSizes: [Int] = [64, 64], activation: Activation.Kind = .tanh,
                convolutionFilters: Int = 16, convolutionDenseSize: Int = 128) {
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.convolutionFilters = convolutionFilters
        self.convolutionDenseSize = convolutionDenseSize
    }

    /// Tiny networks (one hidden layer of 8, two filters) for smoke tests.
    public static let small = NetworkConfiguration(hiddenSizes: [8], activation: .tanh, convolutionFilters: 2,
                                                   convolutionDenseSize: 8)

    enum CodingKeys: String, CodingKey {
        case hiddenSizes = "hidden_sizes", activation
        case convolutionFilters = "convolution_filters", convolutionDenseSize = "convolution_dense_size"
    }

    /// Checks ranges; the message names the key.
    public func validate() throws(TrainingError) {
        try Require.that(hiddenSizes.count <= 64, "network.hidden_sizes may list at most 64 layers, got \(hiddenSizes.count)")
        for size in hiddenSizes { try Require.count("network.hidden_sizes", size, in: 1...1_000_000) }
        try Require.count("network.convolution_filters", convolutionFilters, in: 1...4_096)
        try Require.count("network.convolution_dense_size", convolutionDenseSize, in: 1...1_000_000)
    }

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
                parameters += width * size + size
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
        var layers: [any Layer] = []
        var width = shape.reduce(1, *)
        for size in hiddenSizes {
            let initializer: Initializer = orthogonal
                ? .orthogonal(gain: gain) : (activation == .relu ? .heUniform : .glorotUniform)
            layers.append(Dense(inputSize: width, outputSize: size, initializer: initializer, generator: &generator))
            layers.append(Activation(activation))
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
        return "mlp \(sizes.map(String.init).joined(separator: "-")) \(activation.rawValue)"
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
