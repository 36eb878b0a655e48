// Matrix products over a batch of matrices: one sgemm per batch entry.

extension Tensor {
    /// The matrix products op(a[p]) · op(b[p]) for every p of a batch, where op transposes
    /// the last two axes when asked (as `torch.bmm` on `a.mT` or `b.mT`): for op(a[p])
    /// [m, k] and op(b[p]) [k, n], `a` is [batch, m, k] (or [batch, k, m] transposed), `b`
    /// is [batch, k, n] (or [batch, n, k]) and the result [batch, m, n].
    ///
    /// Each batch entry's gradients are `matmul`'s: d op(a) = dC · op(b)ᵀ and
    /// d op(b) = op(a)ᵀ · dC.
    public static func batchedMatmul(
        _ a: Tensor, _ b: Tensor, transposingA ta: Bool = false, transposingB tb: Bool = false
    ) -> Tensor {
        guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else {
            shapeFailure(ShapeError("batchedMatmul: needs two batches of matrices [batch, rows, columns] "
                + "with one batch size, got shapes \(a.shape) and \(b.shape)"))
        }
        let batch = a.shape[0]
        let m = ta ? a.shape[2] : a.shape[1], k = ta ? a.shape[1] : a.shape[2]
        let kb = tb ? b.shape[2] : b.shape[1], n = tb ? b.shape[1] : b.shape[2]
        guard k == kb else {
            shapeFailure(ShapeError("batchedMatmul: inner extents differ: shapes \(a.shape)\(ta ? "ᵀ" : "") and "
                + "\(b.shape)\(tb ? "ᵀ" : "") give \(k) and \(kb)"))
        }
        let y = result(shape: [batch, m, n], of: a, b)
        for p in 0..<batch {
            gemm(a.storage + p * m * k, transposed: ta, b.storage + p * k * n, transposed: tb,
                 into: y.storage + p * m * n, m: m, n: n, k: k, beta: 0)
        }
        y.record([a, b]) { _, g in
            accumulateBatchedMatmulGradients(a, ta, b, tb, g, batch: batch, m: m, n: n, k: k)
        }
        return y
    }
}

/// Adds the gradients of C[p] = op(A[p])·op(B[p]) to A's and B's gradients, given dC
/// [batch, m, n], batch entry by batch entry, each written in the stored layout (the
/// batched form of `matmul`'s rule).
private func accumulateBatchedMatmulGradients(
    _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool, _ g: UnsafePointer<Float>, batch: Int, m: Int, n: Int, k: Int
) {
    // A fresh gradient buffer is written (β = 0), an existing one added to (β = 1); every
    // batch entry covers its own part of the buffer, so one choice holds for all of them.
    if a.requiresGradient {
        let (ga, isFresh) = a.gradientDestination()
        let beta: Float = isFresh ? 0 : 1
        for p in 0..<batch {
            let dC = g + p * m * n, bp = b.storage + p * k * n, dA = ga + p * m * k
            if !ta {
                // dA [m, k] = dC [m, n] · op(B)ᵀ [n, k]
                gemm(dC, transposed: false, bp, transposed: !tb, into: dA, m: m, n: k, k: n, beta: beta)
            } else {
                // dA [k, m] = op(B) [k, n] · dCᵀ [n, m]
                gemm(bp, transposed: tb, dC, transposed: true, into: dA, m: k, n: m, k: n, beta: beta)
            }
        }
    }
    if b.requiresGradient {
        let (gb, isFresh) = b.gradientDestination()
        let beta: Float = isFresh ? 0 : 1
        for p in 0..<batch {
            let dC = g + p * m * n, ap = a.storage + p * m * k, dB = gb + p * k * n
            if !tb {
                // dB [k, n] = op(A)ᵀ [k, m] · dC [m, n]
                gemm(ap, transposed: !ta, dC, transposed: false, into: dB, m: k, n: n, k: m, beta: beta)
            } else {
                // dB [n, k] = dCᵀ [n, m] · op(A) [m, k]
                gemm(dC, transposed: true, ap, transposed: ta, into: dB, m: n, n: k, k: m, beta: beta)
            }
        }
    }
}
