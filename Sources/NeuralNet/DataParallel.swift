import Autodiff

/// How a batch is cut for data-parallel work: ⌈rows / shardSize⌉ contiguous shards of
/// near-equal size. The cut depends on the batch and the configured shard size only,
/// never on the thread count, which is why results are the same for any thread count.
public struct Shards: Equatable, Sendable {
    /// Rows in the whole batch.
    public let rows: Int
    /// The number of shards (at least 1).
    public let count: Int

    /// The shards of a batch of `rows` rows (at least one) with at most `shardSize` rows each.
    public init(rows: Int, shardSize: Int) {
        precondition(rows >= 1 && shardSize >= 1, "shards need rows and a shard size of at least 1")
        self.rows = rows
        count = (rows + shardSize - 1) / shardSize
    }

    /// The rows of shard `shard`: `shard·rows/count ..< (shard+1)·rows/count`.
    public func rows(of shard: Int) -> Range<Int> {
        (shard * rows / count)..<((shard + 1) * rows / count)
    }

    /// The shard's share of a mean over the batch: its rows over all rows.
    public func weight(of shard: Int) -> Float {
        Float(rows(of: shard).count) / Float(rows)
    }
}

/// A model and one replica of it per gradient shard, for data-parallel updates: each
/// shard runs forward and backward on its own replica and its own graph, on the worker
/// pool, and the shards' gradients are added into the model's parameters in shard order.
///
/// Replicas read the model's parameter values directly (`Layer.replica()`), so an
/// optimiser step on the model is seen by every replica with nothing to copy.
public final class DataParallel<Model> {
    /// The model whose parameters the optimiser updates.
    public let model: Model
    private let makeReplica: (Model) -> Model
    private let parametersOf: (Model) -> [Tensor]
    private let parameters: [Tensor]
    /// The parameters' elements in chunks, for the gradient sum on the pool.
    private let chunks: ElementChunks
    /// Replicas made so far (as many as the largest shard count seen) and their parameters.
    private var replicas: [(model: Model, parameters: [Tensor])] = []

    /// - Parameters:
    ///   - replica: makes a replica of the model (for a layer, `{ $0.replica() }`).
    ///   - parameters: the model's parameters, in the same order for the model and a replica.
    public init(_ model: Model, replica: @escaping (Model) -> Model, parameters: @escaping (Model) -> [Tensor]) {
        self.model = model
        makeReplica = replica
        parametersOf = parameters
        self.parameters = parameters(model)
        chunks = ElementChunks(self.parameters)
    }

    /// Runs `shard(replica, rows, weight)` for every shard of `shards` and returns the
    /// results in shard order. Each call computes its shard's loss (a mean over `rows`)
    /// and back-propagates it scaled by `weight` (the shard's share of the batch), so the
    /// gradients the model's parameters receive (added to what they hold) are those of
    /// the mean over the whole batch, summed shard by shard in order.
    ///
    /// With one shard, `shard` runs on the model itself, exactly as without this type.
    public func computeGradients<Result>(
        over shards: Shards, _ shard: (_ replica: Model, _ rows: Range<Int>, _ weight: Float) -> Result
    ) -> [Result] {
        if shards.count == 1 { return [shard(model, 0..<shards.rows, 1)] }
        while replicas.count < shards.count {
            let replica = makeReplica(model)
            replicas.append((replica, parametersOf(replica)))
        }
        let results = [Result](unsafeUninitializedCapacity: shards.count) { buffer, initialized in
            let output = buffer.baseAddress!
            let replicas = self.replicas
            parallelForEach(shards.count) { s in
                (output + s).initialize(to: shard(replicas[s].model, shards.rows(of: s), shards.weight(of: s)))
            }
            initialized = shards.count
        }
        // The sum, shard by shard in order, in chunks of elements spread over the pool.
        let parts = parameters.indices.map { p in replicas.prefix(shards.count).map { $0.parameters[p] } }
        for parameter in parameters { parameter.prepareGradient() }
        parallelForEach(chunks.count) { c in
            let (p, range) = chunks[c]
            parameters[p].addGradients(of: parts[p], in: range)
        }
        for part in parts.joined() { part.releaseGradient() }
        return results
    }
}

/// The elements of a list of tensors cut into chunks of at most `size` (tensor by tensor),
/// for element-wise work on the worker pool: the same bits for any thread count.
struct ElementChunks {
    private var chunks: [(tensor: Int, range: Range<Int>)] = []

    init(_ tensors: [Tensor], size: Int = 1 << 15) {
        for (index, tensor) in tensors.enumerated() {
            for start in stride(from: 0, to: tensor.count, by: size) {
                chunks.append((index, start..<min(start + size, tensor.count)))
            }
        }
    }

    var count: Int { chunks.count }
    subscript(_ chunk: Int) -> (tensor: Int, range: Range<Int>) { chunks[chunk] }
}
