import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS runs on one thread unless `OPENBLAS_NUM_THREADS` (or `OMP_NUM_THREADS`) says
/// otherwise: the matrices of these networks are small, and a second thread made the MLP
/// step at batch 256 and the MinAtar convolution step slower on this machine (116 µs
/// against 142, 565 against 880), besides competing with vectorised environments.
private let blasThreadsConfigured: Bool = {
    if getenv("OPENBLAS_NUM_THREADS") == nil, getenv("OMP_NUM_THREADS") == nil {
        openblas_set_num_threads(1)
    }
    return true
}()

/// C ← α·op(A)·op(B) + β·C for row-major matrices, through OpenBLAS' `cblas_sgemm`.
/// `op(A)` is [m, k] and `op(B)` is [k, n]; `A` is stored [m, k] or, transposed, [k, m].
@inline(__always)
func gemm(
    _ a: UnsafePointer<Float>, transposed ta: Bool, _ b: UnsafePointer<Float>, transposed tb: Bool,
    into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float
) {
    guard m > 0, n > 0 else { return }
    _ = blasThreadsConfigured
    guard k > 0 else {
        if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 {
            for i in 0..<(m * n) { c[i] *= beta }
        }
        return
    }
    if n <= 2 {
        // One or two columns (a value head, two actions): a matrix-vector product per
        // column skips sgemm's packing, which costs more than the arithmetic here.
        // C is cleared here rather than with β = 0, which not every OpenBLAS version
        // honours for a y holding NaN (an uninitialised buffer may).
        for j in 0..<n {
            if beta == 0 { for i in 0..<m { c[i * n + j] = 0 } }
            let x = tb ? b + j * k : b + j, incx = tb ? 1 : n
            cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, Int32(ta ? k : m), Int32(ta ? m : k), alpha,
                        a, Int32(ta ? m : k), x, Int32(incx), beta == 0 ? 1 : beta, c + j, Int32(n))
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(ta ? m : k), b, Int32(tb ? k : n), beta, c, Int32(n))
}

/// Adds the column sums of the row-major [rows, columns] matrix `g` to `sums` (a bias's
/// gradient: dY summed over the batch), as one sgemv against a vector of ones; a loop
/// adding row after row into `sums` waits on each row's store before the next.
func accumulateColumnSums(of g: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    guard rows > 0, columns > 0 else { return }
    _ = blasThreadsConfigured
    let ones = StoragePool.allocate(rows)
    defer { StoragePool.deallocate(ones, count: rows) }
    ones.initialize(repeating: 1, count: rows)
    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, g, Int32(columns), ones, 1, 1, sums, 1)
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
        let pb = bias.storage
        for r in 0..<m {
            let row = y.storage + r * n
            for j in 0..<n { row[j] = pb[j] }
        }
        gemm(x.storage, transposed: false, weight.storage, transposed: false, into: y.storage, m: m, n: n, k: k, beta: 1)
        y.record([x, weight, bias]) { _, g in
            accumulateMatmulGradients(x, false, weight, false, g, m: m, n: n, k: k)
            if bias.requiresGradient {
                accumulateColumnSums(of: g, rows: m, columns: n, into: bias.gradientBuffer())
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
    // A fresh gradient buffer is written (β = 0), an existing one added to (β = 1).
    if a.requiresGradient {
        let (ga, isFresh) = a.gradientDestination()
        let beta: Float = isFresh ? 0 : 1
        if !ta {
            // dA [m, k] = dC [m, n] · op(B)ᵀ [n, k]
            gemm(g, transposed: false, b.storage, transposed: !tb, into: ga, m: m, n: k, k: n, beta: beta)
        } else {
            // dA [k, m] = op(B) [k, n] · dCᵀ [n, m]
            gemm(b.storage, transposed: tb, g, transposed: true, into: ga, m: k, n: m, k: n, beta: beta)
        }
    }
    if b.requiresGradient {
        let (gb, isFresh) = b.gradientDestination()
        let beta: Float = isFresh ? 0 : 1
        if !tb {
            // dB [k, n] = op(A)ᵀ [k, m] · dC [m, n]
            gemm(a.storage, transposed: !ta, g, transposed: false, into: gb, m: k, n: n, k: m, beta: beta)
        } else {
            // dB [n, k] = dCᵀ [n, m] · op(A) [m, k]
            gemm(g, transposed: true, a.storage, transposed: ta, into: gb, m: n, n: k, k: m, beta: beta)
        }
    }
}
