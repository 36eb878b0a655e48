// Softmax and log-softmax along the last axis, stable for any finite logits: the row's
// maximum is subtracted before exponentiating, so logits of ±1000 give accurate results.

extension Tensor {
    /// log softmax(x) along the last axis: x - max - log Σ exp(x - max).
    public func logSoftmax() -> Tensor {
        guard rank >= 1, shape[rank - 1] > 0 else {
            shapeFailure(ShapeError("logSoftmax: needs a non-empty last axis, shape is \(shape)"))
        }
        let x = self
        let width = shape[rank - 1], rows = count / width
        let y = Tensor.result(shape: shape, of: x)
        for r in 0..<rows {
            let px = x.storage + r * width, py = y.storage + r * width
            var largest = px[0]
            for j in 1..<width { largest = Swift.max(largest, px[j]) }
            var total: Float = 0
            for j in 0..<width { total += FastMath.exp(px[j] - largest) }
            // (x − max) first: exact for nearby logits, where x − (max + log Σ) would lose
            // the low bits of log Σ against a large max.
            let logTotal = FastMath.log(total)
            for j in 0..<width { py[j] = (px[j] - largest) - logTotal }
        }
        // d/dx_j Σ_i g_i y_i = g_j - softmax_j Σ_i g_i.
        y.record([x]) { y, g in
            let gx = x.gradientBuffer()
            for r in 0..<rows {
                let py = y.storage + r * width, pg = g + r * width, out = gx + r * width
                var total: Float = 0
                for j in 0..<width { total += pg[j] }
                for j in 0..<width { out[j] += pg[j] - FastMath.exp(py[j]) * total }
            }
        }
        return y
    }

    /// softmax(x) along the last axis, as exp(logSoftmax(x)).
    public func softmax() -> Tensor {
        exp(logSoftmax())
    }
}
