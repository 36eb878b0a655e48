#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff
import SeededRandom

/// Multi-head scaled dot-product attention (Vaswani et al. 2017), as torch's
/// `nn.MultiheadAttention(batch_first: true)` without dropout.
///
/// For query [B, Tq, E] and key and value [B, Tk, E]: Q, K and V are the `query`, `key`
/// and `value` projections of the three inputs; for each head h (columns
/// h·d ..< (h+1)·d, d = E / heads) the head's output is softmax(Q_h K_hᵀ / √d + mask) V_h;
/// the heads are concatenated back to E columns and projected by `output`.
///
/// The causal mask adds −infinity above the diagonal, as torch's float `attn_mask` of
/// `-inf` does, so position t attends to positions 0...t only and masked weights are
/// exactly 0 (no row is wholly masked: the diagonal is always kept).
///
/// Parameters are named as four `Dense` layers, `"query.weight"`, `"query.bias"`, ...,
/// `"output.bias"`, with weights [in, out]: torch's `in_proj_weight` [3E, E] holds the
/// transposes of the query, key and value weights as row blocks, and `out_proj` is
/// `output`.
public final class MultiHeadAttention: Layer {
    /// Projects the query input: Q = query(x_q).
    public let query: Dense
    /// Projects the key input.
    public let key: Dense
    /// Projects the value input.
    public let value: Dense
    /// Projects the concatenated heads.
    public let output: Dense
    /// The number of heads; each sees `dimension / heads` columns.
    public let heads: Int

    /// Attention over `dimension` features split into `heads` heads. The query, key and
    /// value weights are Glorot uniform (torch draws them as one [3E, E] matrix, whose
    /// bound is √2 smaller), the output weight U(±1/√E) as torch's `out_proj`, and every
    /// bias zero, as torch's.
    /// - Precondition: `dimension` is a positive multiple of `heads`.
    public init(dimension: Int, heads: Int, generator: inout SeededGenerator) {
        precondition(dimension > 0 && heads > 0 && dimension % heads == 0,
                     "MultiHeadAttention: dimension \(dimension) must be a positive multiple of heads \(heads)")
        query = Dense(inputSize: dimension, outputSize: dimension, generator: &generator)
        key = Dense(inputSize: dimension, outputSize: dimension, generator: &generator)
        value = Dense(inputSize: dimension, outputSize: dimension, generator: &generator)
        output = Dense(inputSize: dimension, outputSize: dimension, initializer: .fanInUniform, generator: &generator)
        self.heads = heads
    }

    private init(query: Dense, key: Dense, value: Dense, output: Dense, heads: Int) {
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.heads = heads
    }

    /// The same attention over the projections' replicas.
    public func replica() -> MultiHeadAttention {
        MultiHeadAttention(query: query.replica(), key: key.replica(), value: value.replica(),
                           output: output.replica(), heads: heads)
    }

    /// The same attention over the projections' constant replicas.
    public func constantReplica() -> MultiHeadAttention {
        MultiHeadAttention(query: query.constantReplica(), key: key.constantReplica(), value: value.constantReplica(),
                           output: output.constantReplica(), heads: heads)
    }

    /// The model dimension E (features of every input and of the output).
    public var dimension: Int { query.inputSize }
    /// The columns each head attends with, E / heads.
    public var headDimension: Int { dimension / heads }

    /// Attention of `queryInput` [B, Tq, E] over `keyInput` and `valueInput` [B, Tk, E],
    /// as [B, Tq, E]. With `causal`, query position t sees key positions 0...t only; it
    /// needs Tq = Tk.
    public func callAsFunction(query queryInput: Tensor, key keyInput: Tensor, value valueInput: Tensor,
                               causal: Bool = false) -> Tensor {
        let e = dimension
        guard queryInput.rank == 3, keyInput.rank == 3, valueInput.rank == 3,
              queryInput.shape[2] == e, keyInput.shape[2] == e, valueInput.shape[2] == e,
              keyInput.shape == valueInput.shape, queryInput.shape[0] == keyInput.shape[0] else {
            shapeFailure(ShapeError("MultiHeadAttention: query \(queryInput.shape), key \(keyInput.shape) and "
                + "value \(valueInput.shape) must be [B, Tq, \(e)], [B, Tk, \(e)] and [B, Tk, \(e)]"))
        }
        let batch = queryInput.shape[0], queryLength = queryInput.shape[1], keyLength = keyInput.shape[1]
        guard !causal || queryLength == keyLength else {
            shapeFailure(ShapeError("MultiHeadAttention: a causal mask needs equal query and key lengths, "
                + "got \(queryLength) and \(keyLength)"))
        }
        // The Dense projections take [rows, E]: fold batch and time together and back.
        func project(_ x: Tensor, _ layer: Dense, length: Int) -> Tensor {
            layer(x.reshaped(to: [batch * length, e])).reshaped(to: [batch, length, e])
        }
        let q = project(queryInput, query, length: queryLength)
        let k = project(keyInput, key, length: keyLength)
        let v = project(valueInput, value, length: keyLength)
        let d = headDimension
        let scale = 1 / Float(d).squareRoot()
        let mask = causal ? causalMask(length: queryLength) : nil
        var headOutputs: [Tensor] = []
        headOutputs.reserveCapacity(heads)
        for h in 0..<heads {
            let columns = (h * d)..<((h + 1) * d)
            let qh = q.sliced(alongAxis: 2, columns), kh = k.sliced(alongAxis: 2, columns)
            let vh = v.sliced(alongAxis: 2, columns)
            var scores = Tensor.batchedMatmul(qh, kh, transposingB: true) * scale  // [B, Tq, Tk]
            if let mask { scores = scores + mask }
            headOutputs.append(Tensor.batchedMatmul(scores.softmax(), vh))  // [B, Tq, d]
        }
        let joined = heads == 1 ? headOutputs[0] : Tensor.concatenate(headOutputs, alongAxis: 2)
        return project(joined, output, length: queryLength)
    }

    /// Self-attention without a mask: `self(query: x, key: x, value: x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        callAsFunction(query: input, key: input, value: input, causal: false)
    }

    /// The four projections' parameters, prefixed `"query."`, `"key."`, `"value."`, `"output."`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("query", query), ("key", key), ("value", value), ("output", output)].flatMap { prefix, layer in
            layer.namedParameters.map { (name: "\(prefix).\($0.name)", tensor: $0.tensor) }
        }
    }
}

/// [length, length] with 0 on and below the diagonal and −infinity above it, added to
/// attention scores so position t attends to 0...t only.
private func causalMask(length: Int) -> Tensor {
    var scalars = [Float](repeating: 0, count: length * length)
    for row in 0..<length {
        for column in (row + 1)..<length { scalars[row * length + column] = -.infinity }
    }
    return Tensor(shape: [length, length], scalars: scalars)
}

/// The sinusoidal position encoding of Vaswani et al. (2017), [length, dimension]:
/// encoding[pos, 2i] = sin(pos / 10000^(2i/dimension)) and
/// encoding[pos, 2i + 1] = cos(pos / 10000^(2i/dimension)). Computed in Double and
/// rounded to Float; add it to [B, length, dimension] inputs (it broadcasts).
/// - Precondition: `length >= 0` and `dimension` is positive and even.
public func positionalEncoding(length: Int, dimension: Int) -> Tensor {
    precondition(length >= 0, "positionalEncoding: length must not be negative, got \(length)")
    precondition(dimension > 0 && dimension % 2 == 0,
                 "positionalEncoding: dimension must be positive and even, got \(dimension)")
    var scalars = [Float](repeating: 0, count: length * dimension)
    for i in 0..<(dimension / 2) {
        let frequency = 1 / pow(10_000.0, Double(2 * i) / Double(dimension))
        for position in 0..<length {
            let angle = Double(position) * frequency
            scalars[position * dimension + 2 * i] = Float(sin(angle))
            scalars[position * dimension + 2 * i + 1] = Float(cos(angle))
        }
    }
    return Tensor(shape: [length, dimension], scalars: scalars)
}
