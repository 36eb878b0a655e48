#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff
import SeededRandom

/// How a layer's weights are drawn. `fanIn` and `fanOut` count the inputs and outputs of
/// one unit (for a convolution, kernel area × channels).
public enum Initializer: Sendable, Equatable {
    /// Glorot/Xavier uniform: U(−a, a), a = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// He/Kaiming uniform for ReLU: U(−a, a), a = √(6 / fanIn).
    case heUniform
    /// He/Kaiming normal for ReLU: N(0, 2 / fanIn).
    case heNormal
    /// A (semi-)orthogonal matrix times `gain`, over the weight viewed as
    /// [all axes but the last, last axis] (PPO's standard: gain √2 for hidden layers,
    /// 0.01 for the policy head, 1 for the value head).
    case orthogonal(gain: Float)
    /// U(−a, a), a = 1/√fanIn: PyTorch's default for `nn.Linear` weights (Kaiming uniform
    /// with a = √5), what SB3's SAC and TD3 networks start from.
    case fanInUniform
    /// All zeros.
    case zeros

    /// A parameter tensor (requiring gradients) of `shape` drawn from `generator`.
    public func make(shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededGenerator) -> Tensor {
        switch self {
        case .glorotUniform:
            let a = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return .uniform(shape, low: -a, high: a, generator: &generator, requiresGradient: true)
        case .heUniform:
            let a = Float((6.0 / Double(fanIn)).squareRoot())
            return .uniform(shape, low: -a, high: a, generator: &generator, requiresGradient: true)
        case .heNormal:
            let s = Float((2.0 / Double(fanIn)).squareRoot())
            return .normal(shape, standardDeviation: s, generator: &generator, requiresGradient: true)
        case .orthogonal(let gain):
            let columns = shape.last ?? 1, rows = shape.reduce(1, *) / Swift.max(columns, 1)
            let q = orthogonalMatrix(rows: rows, columns: columns, generator: &generator)
            return Tensor(shape: shape, scalars: q.map { Float($0) * gain }, requiresGradient: true)
        case .fanInUniform:
            let a = Float((1.0 / Double(fanIn)).squareRoot())
            return .uniform(shape, low: -a, high: a, generator: &generator, requiresGradient: true)
        case .zeros:
            return .zeros(shape, requiresGradient: true)
        }
    }
}

/// A rows × columns matrix (row-major) whose columns are orthonormal when rows ≥ columns,
/// or whose rows are when rows < columns: Gram-Schmidt on a Gaussian matrix, which is the
/// Q of its QR decomposition with a positive diagonal R (the same distribution as
/// PyTorch's `orthogonal_`).
func orthogonalMatrix(rows: Int, columns: Int, generator: inout SeededGenerator) -> [Double] {
    let tall = rows >= columns
    let n = tall ? rows : columns, k = tall ? columns : rows  // n × k with k ≤ n
    // Column-major k vectors of length n.
    var vectors = (0..<k).map { _ in (0..<n).map { _ in generator.normal() } }
    for j in 0..<k {
        // Twice for numerical orthogonality ("twice is enough").
        for _ in 0..<2 {
            for i in 0..<j {
                var dot = 0.0
                for t in 0..<n { dot += vectors[i][t] * vectors[j][t] }
                for t in 0..<n { vectors[j][t] -= dot * vectors[i][t] }
            }
        }
        var norm = 0.0
        for t in 0..<n { norm += vectors[j][t] * vectors[j][t] }
        norm = norm.squareRoot()
        for t in 0..<n { vectors[j][t] /= norm }
    }
    var matrix = [Double](repeating: 0, count: rows * columns)
    for r in 0..<rows {
        for c in 0..<columns {
            matrix[r * columns + c] = tall ? vectors[c][r] : vectors[r][c]
        }
    }
    return matrix
}
