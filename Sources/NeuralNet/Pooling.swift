import Autodiff

/// Max pooling over channels-last batches [N, H, W, C] as a layer (no parameters): the
/// largest value of each `size`×`size` window, windows `stride` apart, no padding (see
/// `Tensor.maxPool2D`), as PyTorch's `nn.MaxPool2d(size, stride)`.
public final class MaxPool2D: Layer {
    /// The window's height and width, in pixels.
    public let size: Int
    /// The step between neighbouring windows, in pixels.
    public let stride: Int

    /// A pooling layer; `stride` defaults to `size` (windows side by side, PyTorch's default).
    public init(size: Int, stride: Int? = nil) {
        precondition(size > 0 && (stride ?? size) > 0, "MaxPool2D needs a positive size and stride")
        self.size = size
        self.stride = stride ?? size
    }

    public func replica() -> MaxPool2D { self }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.maxPool2D(input, size: size, stride: stride)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}

/// Average pooling over channels-last batches [N, H, W, C] as a layer (no parameters): the
/// mean of each `size`×`size` window, windows `stride` apart, no padding (see
/// `Tensor.averagePool2D`), as PyTorch's `nn.AvgPool2d(size, stride)`.
public final class AveragePool2D: Layer {
    /// The window's height and width, in pixels.
    public let size: Int
    /// The step between neighbouring windows, in pixels.
    public let stride: Int

    /// A pooling layer; `stride` defaults to `size` (windows side by side, PyTorch's default).
    public init(size: Int, stride: Int? = nil) {
        precondition(size > 0 && (stride ?? size) > 0, "AveragePool2D needs a positive size and stride")
        self.size = size
        self.stride = stride ?? size
    }

    public func replica() -> AveragePool2D { self }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.averagePool2D(input, size: size, stride: stride)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}
