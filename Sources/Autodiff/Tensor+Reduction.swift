// Reductions over all elements or along one axis.

extension Tensor {
    /// Splits `shape` around `axis` into (outer, length, inner) so that element
    /// (o, k, i) sits at `(o * length + k) * inner + i`.
    func axisLayout(_ axis: Int, op: String) -> (outer: Int, length: Int, inner: Int, axis: Int) {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            shapeFailure(ShapeError("\(op): axis \(axis) is out of range for shape \(shape)"))
        }
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        return (outer, shape[a], inner, a)
    }

    /// The shape after reducing `axis`: removed, or kept as 1.
    private func reducedShape(_ axis: Int, keepingDimension: Bool) -> [Int] {
        var reduced = shape
        if keepingDimension { reduced[axis] = 1 } else { reduced.remove(at: axis) }
        return reduced
    }

    /// The sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let x = self
        let y = Tensor.result(shape: [], of: x)
        var total: Float = 0
        let px = x.storage
        for i in 0..<count { total += px[i] }
        y.storage[0] = total
        y.record([x]) { _, g in
            let g0 = g[0]
            x.accumulateGradient { _ in g0 }
        }
        return y
    }

    /// Sums along `axis` (negative counts from the end).
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let x = self
        let (outer, length, inner, a) = axisLayout(axis, op: "sum(alongAxis:)")
        let y = Tensor.result(shape: reducedShape(a, keepingDimension: keepingDimension), of: x)
        let px = x.storage, py = y.storage
        py.update(repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for k in 0..<length {
                let row = px + (o * length + k) * inner, out = py + o * inner
                for i in 0..<inner { out[i] += row[i] }
            }
        }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for o in 0..<outer {
                for k in 0..<length {
                    let row = gx + (o * length + k) * inner, up = g + o * inner
                    for i in 0..<inner { row[i] += up[i] }
                }
            }
        }
        return y
    }

    /// The mean of all elements, as a scalar tensor.
    public func mean() -> Tensor {
        sum() * (1 / Float(Swift.max(count, 1)))
    }

    /// The mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let length = axisLayout(axis, op: "mean(alongAxis:)").length
        return sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(Swift.max(length, 1)))
    }

    /// The largest element, as a scalar tensor; the gradient goes to the first maximum.
    public func max() -> Tensor {
        precondition(count > 0, "max() of an empty tensor")
        return reshaped(to: [count]).max(alongAxis: 0)
    }

    /// The largest element along `axis`; the gradient goes to the first maximum.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let x = self
        let (outer, length, inner, a) = axisLayout(axis, op: "max(alongAxis:)")
        precondition(length > 0, "max(alongAxis:) over an empty axis of shape \(shape)")
        let y = Tensor.result(shape: reducedShape(a, keepingDimension: keepingDimension), of: x)
        var winners = [Int](repeating: 0, count: outer * inner)
        let px = x.storage, py = y.storage
        for o in 0..<outer {
            for i in 0..<inner {
                var best = px[o * length * inner + i], bestIndex = o * length * inner + i
                for k in 1..<Swift.max(length, 1) {
                    let index = (o * length + k) * inner + i
                    if px[index] > best { best = px[index]; bestIndex = index }
                }
                py[o * inner + i] = best
                winners[o * inner + i] = bestIndex
            }
        }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for j in 0..<winners.count { gx[winners[j]] += g[j] }
        }
        return y
    }

    /// The index of the largest element along the last axis, for each row (ties: the
    /// first). Not differentiable; used for greedy actions.
    public func argmaxAlongLastAxis() -> [Int] {
        precondition(rank >= 1 && shape[rank - 1] > 0, "argmax needs a non-empty last axis, shape is \(shape)")
        let width = shape[rank - 1], rows = count / width
        var result = [Int](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = storage + r * width
            var best = row[0], bestIndex = 0
            for j in 1..<width where row[j] > best { best = row[j]; bestIndex = j }
            result[r] = bestIndex
        }
        return result
    }
}

extension Tensor {
    /// mean((a − b)²) over all elements, for `a` and `b` of one shape, as one op: the
    /// same value and gradient, element for element, as `square(a - b).mean()`, without
    /// three intermediate tensors. (The mean squared error of a regression head.)
    public static func meanSquaredDifference(_ a: Tensor, _ b: Tensor) -> Tensor {
        guard a.shape == b.shape else {
            shapeFailure(ShapeError("meanSquaredDifference: shapes \(a.shape) and \(b.shape) differ"))
        }
        let count = a.count, scale = 1 / Float(Swift.max(count, 1))
        let y = result(shape: [], of: a, b)
        let pa = a.storage, pb = b.storage
        var total: Float = 0
        for i in 0..<count {
            let d = pa[i] - pb[i]
            total += d * d
        }
        y.storage[0] = scale * total
        // d/da = 2(a − b)/n, d/db = −2(a − b)/n.
        y.record([a, b]) { _, g in
            let outer = scale * g[0]
            if a.requiresGradient {
                a.accumulateGradient { i in outer * (2 * (pa[i] - pb[i])) }
            }
            if b.requiresGradient {
                b.accumulateGradient { i in outer * (2 * (pa[i] - pb[i])) * -1 }
            }
        }
        return y
    }
}
