/// How the elements of two broadcast operands line up with the elements of the result.
///
/// NumPy's rule: shapes are aligned at their last axes; each pair of extents must be
/// equal or one of them 1, and the result takes the larger. The common layouts get
/// loops of their own; anything else goes through precomputed index maps.
struct BroadcastPlan {
    enum Layout {
        /// Both operands have the result's shape.
        case same
        /// The left operand is one element.
        case leftScalar
        /// The right operand is one element.
        case rightScalar
        /// The right operand's elements repeat with this period (a row added to each row).
        case rightRepeats(period: Int)
        /// The left operand's elements repeat with this period.
        case leftRepeats(period: Int)
        /// Anything else: for each result element, the index in each operand.
        case general(left: [Int], right: [Int])
    }

    let shape: [Int]
    let count: Int
    let layout: Layout

    init(_ a: [Int], _ b: [Int], op: String) {
        let shape: [Int]
        do { shape = try Tensor.broadcastShape(a, b, op: op) } catch { shapeFailure(error) }
        self.shape = shape
        count = shape.reduce(1, *)
        let aCount = a.reduce(1, *), bCount = b.reduce(1, *)
        if a == b {
            layout = .same
        } else if aCount == 1 {
            layout = .leftScalar
        } else if bCount == 1 {
            layout = .rightScalar
        } else if aCount == count, Self.isSuffix(b, of: shape) {
            layout = .rightRepeats(period: bCount)
        } else if bCount == count, Self.isSuffix(a, of: shape) {
            layout = .leftRepeats(period: aCount)
        } else {
            layout = .general(left: Self.indexMap(a, into: shape), right: Self.indexMap(b, into: shape))
        }
    }

    /// Whether `operand`, without leading ones, is the trailing part of `shape`.
    private static func isSuffix(_ operand: [Int], of shape: [Int]) -> Bool {
        let trimmed = operand.drop { $0 == 1 }
        return trimmed.count <= shape.count && Array(shape.suffix(trimmed.count)) == Array(trimmed)
    }

    /// For each element of `shape`, the index of the operand element it reads.
    private static func indexMap(_ operand: [Int], into shape: [Int]) -> [Int] {
        let rank = shape.count
        let padded = Array(repeating: 1, count: rank - operand.count) + operand
        var strides = Array(repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() {
            strides[axis] = padded[axis] == 1 ? 0 : stride
            stride *= padded[axis]
        }
        let count = shape.reduce(1, *)
        var map = Array(repeating: 0, count: count)
        var index = Array(repeating: 0, count: rank)
        var offset = 0
        for i in 0..<count {
            map[i] = offset
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return map
    }

    /// Calls `body(resultIndex, leftIndex, rightIndex)` for every result element.
    @inline(__always)
    func forEach(_ body: (Int, Int, Int) -> Void) {
        switch layout {
        case .same:
            for i in 0..<count { body(i, i, i) }
        case .leftScalar:
            for i in 0..<count { body(i, 0, i) }
        case .rightScalar:
            for i in 0..<count { body(i, i, 0) }
        case .rightRepeats(let period):
            var i = 0
            while i < count {
                for j in 0..<period { body(i + j, i + j, j) }
                i += period
            }
        case .leftRepeats(let period):
            var i = 0
            while i < count {
                for j in 0..<period { body(i + j, j, i + j) }
                i += period
            }
        case .general(let left, let right):
            for i in 0..<count { body(i, left[i], right[i]) }
        }
    }
}

extension Tensor {
    /// The shape that `a` and `b` broadcast to, or an error naming both.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") throws(ShapeError) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var result = Array(repeating: 0, count: rank)
        for k in 0..<rank {
            let x = k < rank - a.count ? 1 : a[k - (rank - a.count)]
            let y = k < rank - b.count ? 1 : b[k - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { throw .notBroadcastable(a, b, op: op) }
            result[k] = x == 1 ? y : x
        }
        return result
    }
}

extension BroadcastPlan {
    /// Writes `f(a, b)` element by element into `y`.
    @inline(__always)
    func map(_ a: Tensor, _ b: Tensor, into y: Tensor, _ f: (Float, Float) -> Float) {
        let pa = a.storage, pb = b.storage, py = y.storage
        forEach { o, i, j in py[o] = f(pa[i], pb[j]) }
    }

    /// Adds the output gradient `g` times the local derivatives to the gradients of the
    /// operands that require them, summing over broadcast axes. The local derivatives
    /// take (a, b, y) at each element.
    @inline(__always)
    func accumulate(
        _ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: UnsafePointer<Float>,
        da: (Float, Float, Float) -> Float, db: (Float, Float, Float) -> Float
    ) {
        let pa = a.storage, pb = b.storage, py = y.storage
        if a.requiresGradient {
            let ga = a.gradientBuffer()
            forEach { o, i, j in ga[i] += g[o] * da(pa[i], pb[j], py[o]) }
        }
        if b.requiresGradient {
            let gb = b.gradientBuffer()
            forEach { o, i, j in gb[j] += g[o] * db(pa[i], pb[j], py[o]) }
        }
    }
}
