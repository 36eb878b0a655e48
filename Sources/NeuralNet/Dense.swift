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

/// A 2-D convolution over channels-last batches [N, H, W, C] with a filter [kh, kw, C, O]
/// and a bias [O], at any stride and dilation (see `Tensor.conv2D`).
public final class Conv2D: Layer {
    public let filter: Tensor
    public let bias: Tensor
    public let padding: Padding
    /// Input pixels between neighbouring windows (1 unless strided).
    public let stride: Int
    /// Input pixels between neighbouring kernel taps (1 unless dilated).
    public let dilation: Int

    /// A layer with a filter drawn by `initializer` and a zero bias. `.same` padding needs
    /// stride 1 (as PyTorch's).
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int = 3, padding: Padding = .valid,
        stride: Int = 1, dilation: Int = 1,
        initializer: Initializer = .heUniform, generator: inout SeededGenerator
    ) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "Conv2D needs positive sizes")
        precondition(stride > 0 && dilation > 0, "Conv2D needs a positive stride and dilation")
        precondition(padding == .valid || stride == 1, "Conv2D: 'same' padding needs stride 1, got stride \(stride)")
        let fanIn = kernelSize * kernelSize * inputChannels, fanOut = kernelSize * kernelSize * outputChannels
        filter = initializer.make(shape: [kernelSize, kernelSize, inputChannels, outputChannels],
                                  fanIn: fanIn, fanOut: fanOut, generator: &generator)
        bias = .zeros([outputChannels], requiresGradient: true)
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
    }

    private init(filter: Tensor, bias: Tensor, padding: Padding, stride: Int, dilation: Int) {
        self.filter = filter
        self.bias = bias
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
    }

    public func replica() -> Conv2D {
        Conv2D(filter: filter.replica(), bias: bias.replica(), padding: padding, stride: stride, dilation: dilation)
    }
    public func constantReplica() -> Conv2D {
        Conv2D(filter: filter.constantView(), bias: bias.constantView(), padding: padding, stride: stride,
               dilation: dilation)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv2D(input, filter: filter, bias: bias, padding: padding, stride: stride, dilation: dilation)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", filter), ("bias", bias)]
    }
}

/// An element-wise activation as a layer (no parameters). The parametrised kinds use
/// PyTorch's defaults: leaky ReLU slope 0.01, ELU alpha 1, softplus beta 1 (threshold 20),
/// GELU in its exact erf form.
public final class Activation: Layer {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case tanh, relu, sigmoid, leakyRelu = "leaky_relu", elu, gelu, silu, softplus
    }
    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public func replica() -> Activation { self }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        switch kind {
        case .tanh: tanh(input)
        case .relu: relu(input)
        case .sigmoid: sigmoid(input)
        case .leakyRelu: leakyRelu(input, negativeSlope: 0.01)
        case .elu: elu(input, alpha: 1)
        case .gelu: gelu(input)
        case .silu: silu(input)
        case .softplus: softplus(input, beta: 1, threshold: 20)
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
