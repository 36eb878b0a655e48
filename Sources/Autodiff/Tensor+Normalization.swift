// Layer normalisation and embedding lookup as fused ops: each writes its result and,
// beside it, its exact backward, so a layer norm is one graph node instead of the seven
// of its composite (mean, subtract, square, mean, add, square root, divide).

extension Tensor {
    /// (x − mean) / √(var + ε) over the last axis, row by row, with the biased variance
    /// (the mean of squared deviations): torch's `layer_norm` without weight and bias.
    ///
    /// Backward, per row of width n, with x̂ the output and σ = √(var + ε):
    /// dx = (1/σ)·(g − mean(g) − x̂·mean(g ⊙ x̂)).
    public func layerNormalized(epsilon: Float = 1e-5) -> Tensor {
        guard rank >= 1, shape[rank - 1] > 0 else {
            shapeFailure(ShapeError("layerNormalized: needs a non-empty last axis, shape is \(shape)"))
        }
        precondition(epsilon >= 0, "layerNormalized: epsilon must not be negative, got \(epsilon)")
        let x = self
        let width = shape[rank - 1], rows = count / width
        let scale = 1 / Float(width)
        let y = Tensor.result(shape: shape, of: x)
        // 1/σ of each row, kept for the backward pass.
        var inverseDeviations = [Float](repeating: 0, count: rows)
        inverseDeviations.withUnsafeMutableBufferPointer { inverses in
            for r in 0..<rows {
                let px = x.storage + r * width, py = y.storage + r * width
                var total: Float = 0
                for j in 0..<width { total += px[j] }
                let mean = total * scale
                var squares: Float = 0
                for j in 0..<width {
                    let d = px[j] - mean
                    squares += d * d
                }
                let inverse = 1 / FastMath.squareRoot(squares * scale + epsilon)
                for j in 0..<width { py[j] = (px[j] - mean) * inverse }
                inverses[r] = inverse
            }
        }
        let inverses = inverseDeviations
        y.record([x]) { y, g in
            let (gx, isFresh) = x.gradientDestination()
            inverses.withUnsafeBufferPointer { inverses in
                for r in 0..<rows {
                    let py = y.storage + r * width, pg = g + r * width, out = gx + r * width
                    var gTotal: Float = 0, gyTotal: Float = 0
                    for j in 0..<width {
                        gTotal += pg[j]
                        gyTotal += pg[j] * py[j]
                    }
                    let gMean = gTotal * scale, gyMean = gyTotal * scale, inverse = inverses[r]
                    if isFresh {
                        for j in 0..<width { out[j] = inverse * (pg[j] - gMean - py[j] * gyMean) }
                    } else {
                        for j in 0..<width { out[j] += inverse * (pg[j] - gMean - py[j] * gyMean) }
                    }
                }
            }
        }
        return y
    }

    /// Rows `indices` of a table [n, d], as [indices.count, d]: an embedding lookup.
    /// Indices may repeat; backward adds each result row's gradient to the row it was
    /// read from (a scatter-add), so a row read k times receives the sum of k gradients
    /// and an unread row none.
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        guard rank == 2 else {
            shapeFailure(ShapeError("gatheringRows: needs a table [n, d], shape is \(shape)"))
        }
        let n = shape[0], width = shape[1]
        for (position, index) in indices.enumerated() where index < 0 || index >= n {
            shapeFailure(ShapeError(
                "gatheringRows: index \(index) at position \(position) is outside 0..<\(n) (table \(shape))"))
        }
        let x = self
        let y = Tensor.result(shape: [indices.count, width], of: x)
        for (r, index) in indices.enumerated() {
            (y.storage + r * width).update(from: x.storage + index * width, count: width)
        }
        y.record([x]) { _, g in
            let gx = x.gradientBuffer()
            for (r, index) in indices.enumerated() {
                let source = g + r * width, destination = gx + index * width
                for j in 0..<width { destination[j] += source[j] }
            }
        }
        return y
    }
}
