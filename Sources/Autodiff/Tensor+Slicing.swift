// Ops that cut tensors along an axis or stack them along a new one: elements move, no
// arithmetic, and the gradient moves back to where each element came from.

extension Tensor {
    /// The elements whose index along `axis` lies in `range` (a copy), as `x[:, a:b]` in
    /// PyTorch: the result has this tensor's shape with that axis's extent `range.count`.
    /// A negative `axis` counts from the end. The gradient is scattered back into the
    /// sliced positions (the rest receive none).
    /// - Precondition: `range` lies within `0..<shape[axis]`.
    public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let (outer, length, inner, a) = axisLayout(axis, op: "sliced(alongAxis:)")
        guard range.lowerBound >= 0, range.upperBound <= length else {
            shapeFailure(ShapeError("sliced(alongAxis:): range \(range) is outside 0..<\(length), "
                + "axis \(axis) of shape \(shape)"))
        }
        var resultShape = shape
        resultShape[a] = range.count
        let x = self
        let y = Tensor.result(shape: resultShape, of: x)
        // Each of the `outer` blocks is one contiguous run of `width` elements in the result,
        // starting `start` elements into a block of `blockWidth` in x.
        let width = range.count * inner, blockWidth = length * inner, start = range.lowerBound * inner
        for o in 0..<outer {
            (y.storage + o * width).update(from: x.storage + o * blockWidth + start, count: width)
        }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for o in 0..<outer {
                let source = g + o * width, target = gx + o * blockWidth + start
                for i in 0..<width { target[i] += source[i] }
            }
        }
        return y
    }

    /// Stacks tensors of one shape along a new axis inserted at `axis` (0...rank; negative
    /// counts from the end of the result's axes, so -1 appends one), as `torch.stack`: for
    /// `axis` 0 the result is [tensors.count, shape...] and `result[k]` is `tensors[k]`.
    /// Each tensor's gradient is its slice of the result's.
    /// - Precondition: `tensors` is not empty.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "stack needs at least one tensor")
        let first = tensors[0]
        let a = axis < 0 ? axis + first.rank + 1 : axis
        guard a >= 0, a <= first.rank else {
            shapeFailure(ShapeError("stack: axis \(axis) is out of range for stacking tensors of shape \(first.shape)"))
        }
        for t in tensors where t.shape != first.shape {
            shapeFailure(ShapeError("stack: shapes \(first.shape) and \(t.shape) differ"))
        }
        var shape = first.shape
        shape.insert(tensors.count, at: a)
        // Element (o, k, i) of the result is element (o, i) of tensors[k].
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[a...].reduce(1, *)
        let n = tensors.count
        let y = Tensor(uninitializedShape: shape,
                       requiresGradient: GradientMode.isEnabled && tensors.contains { $0.requiresGradient })
        for (k, t) in tensors.enumerated() {
            for o in 0..<outer {
                (y.storage + (o * n + k) * inner).update(from: t.storage + o * inner, count: inner)
            }
        }
        y.record(tensors) { _, g in
            for (k, t) in tensors.enumerated() where t.requiresGradient {
                let gt = t.gradientBuffer()
                for o in 0..<outer {
                    let source = g + (o * n + k) * inner, target = gt + o * inner
                    for i in 0..<inner { target[i] += source[i] }
                }
            }
        }
        return y
    }
}
