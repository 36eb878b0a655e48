import Autodiff

/// A differentiable function with parameters: `layer(x)` maps a batch to a batch.
///
/// Layers are classes: their parameters are tensors updated in place by optimisers, and a
/// layer is shared, not copied, when passed around. A second network (a target network)
/// is built separately and filled with `copyParameters(from:)`.
public protocol Layer: AnyObject {
    /// Applies the layer to a batch.
    func callAsFunction(_ input: Tensor) -> Tensor
    /// The parameters with stable names (`"weight"`, `"0.bias"`, ...), in a fixed order.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
    /// The same layer over the same parameter values (no copy) whose parameters keep
    /// gradients of their own (`Tensor.replica()`): one per shard of a data-parallel
    /// update, so shards run at once on different threads. A layer without parameters may
    /// return itself.
    func replica() -> Self
    /// The same layer over the same parameter values through which no gradient reaches the
    /// parameters (`Tensor.constantView()`): backward through it computes the input's
    /// gradient only. Layers without parameters return themselves (the default).
    func constantReplica() -> Self
    /// Switches between training (`true`) and evaluation (`false`) behaviour, as PyTorch's
    /// `train()` and `eval()`: `Dropout` drops units and `BatchNorm` normalises by batch
    /// statistics only in training. Layers that behave the same in both ignore it (the
    /// default); containers pass it to every layer they hold.
    func setTraining(_ isTraining: Bool)
    /// State that is not trained but belongs in a checkpoint beside the parameters
    /// (`BatchNorm`'s `"running_mean"` and `"running_var"`), with stable names in a fixed
    /// order; empty for most layers (the default).
    var namedBuffers: [(name: String, tensor: Tensor)] { get }
}

extension Layer {
    public func constantReplica() -> Self { self }

    /// Does nothing: the layer behaves the same in training and evaluation.
    public func setTraining(_ isTraining: Bool) {}

    /// No buffers.
    public var namedBuffers: [(name: String, tensor: Tensor)] { [] }

    /// The parameters, in `namedParameters` order.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Forgets the gradients of every parameter.
    public func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }

    /// Overwrites this layer's parameters with `source`'s (a hard target-network update).
    /// - Precondition: both have the same parameter names and shapes.
    public func copyParameters(from source: some Layer) {
        let mine = namedParameters, theirs = source.namedParameters
        precondition(mine.map(\.name) == theirs.map(\.name) && mine.map(\.tensor.shape) == theirs.map(\.tensor.shape),
                     "copyParameters: the two networks have different parameters")
        for (p, q) in zip(mine, theirs) { p.tensor.assign(q.tensor) }
    }

    /// Polyak averaging: θ ← τ·θ_source + (1 − τ)·θ (a soft target-network update).
    public func polyakUpdate(toward source: some Layer, tau: Float) {
        precondition((0...1).contains(tau), "polyakUpdate: tau must be in [0, 1], got \(tau)")
        let mine = namedParameters, theirs = source.namedParameters
        precondition(mine.map(\.tensor.shape) == theirs.map(\.tensor.shape),
                     "polyakUpdate: the two networks have different parameters")
        for (p, q) in zip(mine, theirs) {
            let target = p.tensor.storage, online = q.tensor.storage
            for i in 0..<p.tensor.count { target[i] = tau * online[i] + (1 - tau) * target[i] }
        }
    }
}

/// Layers applied one after another. Parameter names are prefixed with the layer's
/// position (`"0.weight"`), as PyTorch's `nn.Sequential` names them.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public func replica() -> Sequential { Sequential(layers.map { $0.replica() }) }
    public func constantReplica() -> Sequential { Sequential(layers.map { $0.constantReplica() }) }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { index, layer in
            layer.namedParameters.map { (name: "\(index).\($0.name)", tensor: $0.tensor) }
        }
    }

    /// Every layer's buffers, prefixed with its position as the parameters are.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { index, layer in
            layer.namedBuffers.map { (name: "\(index).\($0.name)", tensor: $0.tensor) }
        }
    }

    /// Sets the mode of every layer.
    public func setTraining(_ isTraining: Bool) {
        for layer in layers { layer.setTraining(isTraining) }
    }
}
