import Autodiff
import SeededRandom

/// A fully connected layer: y = x · W + b for x [batch, inputSize], W [inputSize,
/// outputSize] and b [outputSize].
public final class Dense: Layer {
    public let weight: Tensor
    public let bias: Tensor

    /// A layer with weights drawn by `initializer` and zero biases.
    public init(
        inputSize: Int, outputSize: Int, initializer: Initializer = .glorotUniform,
        generator: inout SeededGenerator
    ) {
        precondition(inputSize > 0 && outputSize > 0, "Dense needs positive sizes, got \(inputSize)→\(outputSize)")
        weight = initializer.make(shape: [inputSize, outputSize], fanIn: inputSize, fanOut: outputSize,
                                  generator: &generator)
        bias = .zeros([outputSize], requiresGradient: true)
    }

    private init(weight: Tensor, bias: Tensor) {
        self.weight = weight
        self.bias = bias
    }

    public func replica() -> Dense { Dense(weight: weight.replica(), bias: bias.replica()) }
    public func constantReplica() -> Dense { Dense(weight: weight.constantView(), bias: bias.constantView()) }

    public var inputSize: Int { weight.shape[0] }
    public var outputSize: Int { weight.shape[1] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.linear(input, weight, bias)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight), ("bias", bias)]
    }
}

/// A 2-D convolution over channels-last batches [N, H, W, C], stride 1, with a filter
/// [kh, kw, C, O] and a bias [O].
public final class Conv2D: Layer {
    public let filter: Tensor
    public let bias: Tensor
    public let padding: Padding

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int = 3, padding: Padding = .valid,
        initializer: Initializer = .heUniform, generator: inout SeededGenerator
    ) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "Conv2D needs positive sizes")
        let fanIn = kernelSize * kernelSize * inputChannels, fanOut = kernelSize * kernelSize * outputChannels
        filter = initializer.make(shape: [kernelSize, kernelSize, inputChannels, outputChannels],
                                  fanIn: fanIn, fanOut: fanOut, generator: &generator)
        bias = .zeros([outputChannels], requiresGradient: true)
        self.padding = padding
    }

    private init(filter: Tensor, bias: Tensor, padding: Padding) {
        self.filter = filter
        self.bias = bias
        self.padding = padding
    }

    public func replica() -> Conv2D { Conv2D(filter: filter.replica(), bias: bias.replica(), padding: padding) }
    public func constantReplica() -> Conv2D {
        Conv2D(filter: filter.constantView(), bias: bias.constantView(), padding: padding)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv2D(input, filter: filter, bias: bias, padding: padding)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", filter), ("bias", bias)]
    }
}

/// An element-wise activation as a layer (no parameters).
public final class Activation: Layer {
    public enum Kind: String, Sendable, Codable, CaseIterable { case tanh, relu, sigmoid }
    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public func replica() -> Activation { self }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        switch kind {
        case .tanh: tanh(input)
        case .relu: relu(input)
        case .sigmoid: sigmoid(input)
        }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}

/// Flattens [N, ...] to [N, rest] (no parameters).
public final class Flatten: Layer {
    public init() {}
    public func replica() -> Flatten { self }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened() }
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}
