/// A Float32 array with a shape that can record how it was computed, so that
/// `backward()` can push gradients back to the tensors it came from.
///
/// A tensor is a reference type: parameters are updated in place by optimisers, and a
/// recorded graph points from each result to its inputs (never back), so a graph is freed
/// as soon as its last result is dropped, and `backward()` frees it at once.
///
/// Elements are stored row-major (last axis fastest) in memory the tensor owns.
public final class Tensor {
    /// The extent of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The number of elements: the product of `shape`.
    public let count: Int
    /// The elements, row-major. Owned by this tensor, or by `storageOwner` for a replica.
    public let storage: UnsafeMutablePointer<Float>
    /// The tensor whose elements a replica reads (kept alive by it); nil when this tensor
    /// owns its storage.
    private let storageOwner: Tensor?
    /// The gradient of the last `backward()` with respect to this tensor, accumulated
    /// (`+=`) over calls until `zeroGradient()`; `nil` until a gradient reaches it.
    /// Only tensors that require gradients and were not computed (leaves such as
    /// parameters) keep theirs after `backward()`.
    public internal(set) var gradientStorage: UnsafeMutablePointer<Float>?
    /// Whether gradients flow into this tensor: set on parameters; results of recorded
    /// ops inherit it from their inputs.
    public let requiresGradient: Bool
    /// How this tensor was computed, when it was recorded; `nil` for leaves.
    var origin: Origin?
    /// Scratch mark for the topological sort of `backward()`.
    var isVisited = false

    /// A tensor of the given shape with uninitialised storage (internal: ops fill it).
    init(uninitializedShape shape: [Int], requiresGradient: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "a shape has no negative extents: \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = StoragePool.allocate(count)
        self.storageOwner = nil
        self.requiresGradient = requiresGradient
    }

    /// A leaf over `owner`'s elements (see `replica()` and `constantView()`).
    private init(sharingStorageOf owner: Tensor, requiresGradient: Bool) {
        shape = owner.shape
        count = owner.count
        storage = owner.storage
        storageOwner = owner
        self.requiresGradient = requiresGradient
    }

    /// A leaf tensor that reads (and writes) this tensor's elements, with no copy, but keeps
    /// a gradient of its own: a data-parallel shard computes its share of a parameter's
    /// gradient on a replica, so shards running at once never write the same buffer.
    public func replica() -> Tensor {
        let owner = storageOwner ?? self
        return Tensor(sharingStorageOf: owner, requiresGradient: owner.requiresGradient)
    }

    /// A leaf that reads this tensor's elements, with no copy, and takes no gradient: a
    /// network evaluated over constant views is differentiated with respect to its input
    /// only (SAC's and TD3's actor losses go through the critics this way), which skips
    /// the weight-gradient products.
    public func constantView() -> Tensor {
        Tensor(sharingStorageOf: storageOwner ?? self, requiresGradient: false)
    }

    /// A tensor holding `scalars` in the given shape.
    /// - Precondition: `scalars.count` is the product of `shape`.
    public convenience init(shape: [Int], scalars: [Float], requiresGradient: Bool = false) {
        let expected = shape.reduce(1, *)
        precondition(
            scalars.count == expected,
            "shape \(shape) holds \(expected) elements but \(scalars.count) scalars were given")
        self.init(uninitializedShape: shape, requiresGradient: requiresGradient)
        scalars.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// A scalar tensor.
    public convenience init(_ value: Float, requiresGradient: Bool = false) {
        self.init(shape: [], scalars: [value], requiresGradient: requiresGradient)
    }

    deinit {
        if storageOwner == nil { StoragePool.deallocate(storage, count: count) }
        if let gradientStorage { StoragePool.deallocate(gradientStorage, count: count) }
    }

    /// The elements as an array (a copy).
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage, count: count))
    }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar needs a one-element tensor, shape is \(shape)")
        return storage[0]
    }

    /// The accumulated gradient as an array, or `nil` when none reached this tensor.
    public var gradient: [Float]? {
        gradientStorage.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// The number of axes.
    public var rank: Int { shape.count }

    /// Forgets the accumulated gradient (the next `backward()` starts from zero).
    public func zeroGradient() {
        gradientStorage?.update(repeating: 0, count: count)
    }

    /// The gradient buffer, created zeroed on first use.
    @inline(__always)
    func gradientBuffer() -> UnsafeMutablePointer<Float> {
        if let gradientStorage { return gradientStorage }
        let buffer = StoragePool.allocate(count)
        buffer.initialize(repeating: 0, count: Swift.max(count, 1))
        gradientStorage = buffer
        return buffer
    }

    /// Where a backward rule puts its share of this tensor's gradient: the existing buffer,
    /// to add to, or (`isFresh`) a new uninitialised one that the caller must fill
    /// completely. Writing the first share instead of adding it to zeros saves clearing
    /// the buffer and reading it back.
    @inline(__always)
    func gradientDestination() -> (buffer: UnsafeMutablePointer<Float>, isFresh: Bool) {
        if let gradientStorage { return (gradientStorage, false) }
        let buffer = StoragePool.allocate(count)
        gradientStorage = buffer
        return (buffer, true)
    }

    /// Adds `share(i)` to element `i` of the gradient for every element (the first share
    /// is written, not added to zeros).
    @inline(__always)
    func accumulateGradient(_ share: (Int) -> Float) {
        let (gx, isFresh) = gradientDestination()
        if isFresh {
            for i in 0..<count { gx[i] = share(i) }
        } else {
            for i in 0..<count { gx[i] += share(i) }
        }
    }

    /// Creates this tensor's gradient, zeroed, unless it has one: call it before
    /// `addGradients(of:in:)` runs on several ranges at once.
    public func prepareGradient() {
        _ = gradientBuffer()
    }

    /// Adds elements `range` of the gradients of `parts`, part by part in the order given
    /// (so the sum has the same bits however the parts were computed), to this tensor's
    /// gradient (which `prepareGradient()` created); parts without a gradient count as
    /// zero. Disjoint ranges may run at once on different threads.
    public func addGradients(of parts: [Tensor], in range: Range<Int>) {
        guard let destination = gradientStorage else {
            preconditionFailure("addGradients(of:in:) needs prepareGradient() first")
        }
        for part in parts {
            precondition(part.shape == shape, "gradient of shape \(part.shape) added to a tensor of shape \(shape)")
            guard let source = part.gradientStorage else { continue }
            for i in range { destination[i] += source[i] }
        }
    }

    /// Forgets the gradient and frees its buffer (the next backward writes a fresh one).
    public func releaseGradient() {
        guard let gradientStorage else { return }
        StoragePool.deallocate(gradientStorage, count: count)
        self.gradientStorage = nil
    }

    /// Copies the elements to `destination` (room for `count` floats). Prefer it to
    /// `storage` on a temporary result, which may be freed before the pointer is used.
    public func copyElements(to destination: UnsafeMutablePointer<Float>) {
        destination.update(from: storage, count: count)
    }

    /// Overwrites the elements with `scalars` (same count), for example to load weights.
    public func assign(_ scalars: [Float]) {
        precondition(scalars.count == count, "assign needs \(count) scalars, got \(scalars.count)")
        scalars.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// Overwrites the elements with another tensor's (same shape).
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign needs shape \(shape), got \(other.shape)")
        storage.update(from: other.storage, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
