import Autodiff

/// A residual block (He et al. 2016): y = x + body(x). The body must map its input to
/// the same shape. Parameters and buffers are the body's, named with the prefix `"body."`
/// (`"body.0.weight"` for a `Sequential` body), as a torch module holding the body in an
/// attribute `body` names them.
public final class Residual: Layer {
    /// The layer whose output is added to the input.
    public let body: any Layer

    /// A block computing `x + body(x)`.
    public init(_ body: any Layer) { self.body = body }

    /// A block over the body's replica.
    public func replica() -> Residual { Residual(body.replica()) }
    /// A block over the body's constant replica.
    public func constantReplica() -> Residual { Residual(body.constantReplica()) }

    /// `input + body(input)`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let output = body(input)
        guard output.shape == input.shape else {
            shapeFailure(ShapeError("Residual: the body maps \(input.shape) to \(output.shape); "
                + "x + body(x) needs the body to keep the shape"))
        }
        return input + output
    }

    /// The body's parameters, prefixed `"body."`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        body.namedParameters.map { (name: "body.\($0.name)", tensor: $0.tensor) }
    }

    /// The body's buffers, prefixed `"body."`.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        body.namedBuffers.map { (name: "body.\($0.name)", tensor: $0.tensor) }
    }

    /// Sets the body's mode.
    public func setTraining(_ isTraining: Bool) { body.setTraining(isTraining) }
}
