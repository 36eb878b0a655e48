import CBLAS

/// C ← α·op(A)·op(B) + β·C for row-major matrices, through OpenBLAS' `cblas_sgemm`.
/// `op(A)` is [m, k] and `op(B)` is [k, n]; `A` is stored [m, k] or, transposed, [k, m].
@inline(__always)
func gemm(
    _ a: UnsafePointer<Float>, transposed ta: Bool, _ b: UnsafePointer<Float>, transposed tb: Bool,
    into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float
) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 {
            for i in 0..<(m * n) { c[i] *= beta }
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(ta ? m : k), b, Int32(tb ? k : n), beta, c, Int32(n))
}

extension Tensor {
    /// The matrix product op(a) · op(b) of 2-D tensors, where op transposes when asked:
    /// op(a) is [m, k], op(b) is [k, n], the result [m, n].
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposingA ta: Bool = false, transposingB tb: Bool = false
    ) -> Tensor {
        guard a.rank == 2, b.rank == 2 else {
            shapeFailure(ShapeError("matmul: needs two matrices, got shapes \(a.shape) and \(b.shape)"))
        }
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1]
        guard k == kb else {
            shapeFailure(ShapeError("matmul: inner extents differ: shapes \(a.shape)\(ta ? "ᵀ" : "") and "
                + "\(b.shape)\(tb ? "ᵀ" : "") give \(k) and \(kb)"))
        }
        let y = result(shape: [m, n], of: a, b)
        gemm(a.storage, transposed: ta, b.storage, transposed: tb, into: y.storage, m: m, n: n, k: k, beta: 0)
        y.record([a, b]) { _, g in
            accumulateMatmulGradients(a, ta, b, tb, g, m: m, n: n, k: k)
        }
        return y
    }

    /// x · W + b for x [batch, in], W [in, out] and b [out]: a dense layer's forward pass as
    /// one op (the bias is written first and sgemm adds the product to it).
    public static func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        guard x.rank == 2, weight.rank == 2, bias.shape == [weight.shape.last ?? -1], x.shape[1] == weight.shape[0] else {
            shapeFailure(ShapeError("linear: input \(x.shape), weight \(weight.shape) and bias \(bias.shape) "
                + "do not fit: expected [batch, in], [in, out], [out]"))
        }
        let m = x.shape[0], k = x.shape[1], n = weight.shape[1]
        let y = result(shape: [m, n], of: x, weight, bias)
        for r in 0..<m { (y.storage + r * n).update(from: bias.storage, count: n) }
        gemm(x.storage, transposed: false, weight.storage, transposed: false, into: y.storage, m: m, n: n, k: k, beta: 1)
        y.record([x, weight, bias]) { _, g in
            accumulateMatmulGradients(x, false, weight, false, g, m: m, n: n, k: k)
            if bias.requiresGradient {
                let gb = bias.gradientBuffer()
                for r in 0..<m {
                    let row = g + r * n
                    for j in 0..<n { gb[j] += row[j] }
                }
            }
        }
        return y
    }
}

/// Adds the gradients of C = op(A)·op(B) to A's and B's gradients, given dC [m, n]:
/// d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, each written in the stored layout.
private func accumulateMatmulGradients(
    _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool, _ g: UnsafePointer<Float>, m: Int, n: Int, k: Int
) {
    if a.requiresGradient {
        let ga = a.gradientBuffer()
        if !ta {
            // dA [m, k] = dC [m, n] · op(B)ᵀ [n, k]
            gemm(g, transposed: false, b.storage, transposed: !tb, into: ga, m: m, n: k, k: n, beta: 1)
        } else {
            // dA [k, m] = op(B) [k, n] · dCᵀ [n, m]
            gemm(b.storage, transposed: tb, g, transposed: true, into: ga, m: k, n: m, k: n, beta: 1)
        }
    }
    if b.requiresGradient {
        let gb = b.gradientBuffer()
        if !tb {
            // dB [k, n] = op(A)ᵀ [k, m] · dC [m, n]
            gemm(a.storage, transposed: !ta, g, transposed: false, into: gb, m: k, n: n, k: m, beta: 1)
        } else {
            // dB [n, k] = dCᵀ [n, m] · op(A) [m, k]
            gemm(g, transposed: true, a.storage, transposed: ta, into: gb, m: n, n: k, k: m, beta: 1)
        }
    }
}
