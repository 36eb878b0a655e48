import Autodiff
import SeededRandom

/// A lookup table of `count` learned vectors of `dimension` entries: index i maps to row
/// i of `weight` (torch's `nn.Embedding`). The gradient of a lookup is added to the rows
/// that were read, once per time each was read.
public final class Embedding: Layer {
    /// The table, [count, dimension], drawn from N(0, 1) as torch draws it.
    public let weight: Tensor

    /// A table of `count` vectors of `dimension` entries drawn from N(0, 1) by `generator`.
    public init(count: Int, dimension: Int, generator: inout SeededGenerator) {
        precondition(count > 0 && dimension > 0, "Embedding needs positive sizes, got \(count)×\(dimension)")
        weight = .normal([count, dimension], generator: &generator, requiresGradient: true)
    }

    private init(weight: Tensor) { self.weight = weight }

    /// The same table, with a gradient of its own.
    public func replica() -> Embedding { Embedding(weight: weight.replica()) }
    /// The same table, passing no gradient to it.
    public func constantReplica() -> Embedding { Embedding(weight: weight.constantView()) }

    /// The number of vectors (valid indices are `0..<count`).
    public var count: Int { weight.shape[0] }
    /// The entries per vector.
    public var dimension: Int { weight.shape[1] }

    /// The vectors of `indices`, as [indices.count, dimension].
    /// - Precondition: every index is in `0..<count`.
    public func callAsFunction(_ indices: [Int]) -> Tensor {
        weight.gatheringRows(indices)
    }

    /// The vectors of the indices held, as floats with integral values, by a [N] or
    /// [N, 1] tensor, as [N, dimension]: the `Layer` form, for use in a `Sequential`.
    /// No gradient flows to the indices.
    /// - Precondition: every value is an integer in `0..<count`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard input.rank == 1 || (input.rank == 2 && input.shape[1] == 1) else {
            shapeFailure(ShapeError("Embedding: indices must be [N] or [N, 1], shape is \(input.shape)"))
        }
        let count = self.count
        let indices = input.scalars.enumerated().map { position, value in
            precondition(value.rounded() == value, "Embedding: index \(value) at position \(position) is not an integer")
            precondition(value >= 0 && value < Float(count),
                         "Embedding: index \(value) at position \(position) is outside 0..<\(count)")
            return Int(value)
        }
        return callAsFunction(indices)
    }

    /// `"weight"`, torch's name.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)]
    }
}
