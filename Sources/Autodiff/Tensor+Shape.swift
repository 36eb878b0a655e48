// Ops that move elements without arithmetic: reshape, transpose, concatenate, gather.

extension Tensor {
    /// The same elements in another shape with the same count; one extent may be -1 and
    /// is then inferred.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                shapeFailure(ShapeError("reshape: cannot reshape \(shape) into \(newShape)"))
            }
            target[inferred] = count / known
        }
        guard target.reduce(1, *) == count, target.allSatisfy({ $0 >= 0 }) else {
            shapeFailure(ShapeError("reshape: cannot reshape \(shape) (\(count) elements) into \(newShape)"))
        }
        let x = self
        let y = Tensor.result(shape: target, of: x)
        y.storage.update(from: x.storage, count: count)
        y.record([x]) { _, g in
            x.accumulateGradient { i in g[i] }
        }
        return y
    }

    /// Keeps the first axis (the batch) and flattens the rest: [N, ...] → [N, rest].
    public func flattened() -> Tensor {
        precondition(rank >= 1, "flattened() needs at least one axis")
        return reshaped(to: [shape[0], count / Swift.max(shape[0], 1)])
    }

    /// The transpose of a matrix: [m, n] → [n, m].
    public func transposed() -> Tensor {
        guard rank == 2 else { shapeFailure(ShapeError("transposed: needs a matrix, shape is \(shape)")) }
        let x = self
        let m = shape[0], n = shape[1]
        let y = Tensor.result(shape: [n, m], of: x)
        let px = x.storage, py = y.storage
        for i in 0..<m { for j in 0..<n { py[j * m + i] = px[i * n + j] } }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for i in 0..<m { for j in 0..<n { gx[i * n + j] += g[j * m + i] } }
        }
        return y
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let a = axis < 0 ? axis + first.rank : axis
        for t in tensors {
            var p = t.shape, q = first.shape
            guard t.rank == first.rank, a >= 0, a < t.rank else {
                shapeFailure(ShapeError("concatenate: shapes \(first.shape) and \(t.shape) along axis \(axis)"))
            }
            p[a] = 0; q[a] = 0
            guard p == q else {
                shapeFailure(ShapeError("concatenate: shapes \(first.shape) and \(t.shape) differ off axis \(axis)"))
            }
        }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        let rowWidth = shape[a] * inner
        let y = Tensor(uninitializedShape: shape,
                       requiresGradient: GradientMode.isEnabled && tensors.contains { $0.requiresGradient })
        var offset = 0
        for t in tensors {
            let width = t.shape[a] * inner
            for o in 0..<outer {
                (y.storage + o * rowWidth + offset).update(from: t.storage + o * width, count: width)
            }
            offset += width
        }
        y.record(tensors) { _, g in
            var offset = 0
            for t in tensors {
                let width = t.shape[a] * inner
                if t.requiresGradient {
                    let gt = t.gradientBuffer()
                    for o in 0..<outer {
                        let src = g + o * rowWidth + offset, dst = gt + o * width
                        for i in 0..<width { dst[i] += src[i] }
                    }
                }
                offset += width
            }
        }
        return y
    }

    /// Picks one element per row along the last axis: for x of shape [..., n] and one
    /// index per row, the result has shape [...] with `y[r] = x[r, indices[r]]`. This is
    /// Q(s, a) and log π(a|s) of taken actions.
    public func gathering(atLastAxis indices: [Int]) -> Tensor {
        guard rank >= 1 else { shapeFailure(ShapeError("gathering: needs at least one axis")) }
        let width = shape[rank - 1], rows = count / Swift.max(width, 1)
        guard indices.count == rows else {
            shapeFailure(ShapeError("gathering: \(indices.count) indices for \(rows) rows of shape \(shape)"))
        }
        for (row, index) in indices.enumerated() where index < 0 || index >= width {
            shapeFailure(ShapeError("gathering: index \(index) in row \(row) is outside 0..<\(width)"))
        }
        let x = self
        let y = Tensor.result(shape: Array(shape.dropLast()), of: x)
        let px = x.storage, py = y.storage
        for r in 0..<rows { py[r] = px[r * width + indices[r]] }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for r in 0..<rows { gx[r * width + indices[r]] += g[r] }
        }
        return y
    }
}
