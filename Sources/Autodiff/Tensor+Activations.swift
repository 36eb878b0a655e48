#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A power with a constant exponent and the activations of current networks, beside the
// basic unary ops of Tensor+Unary.swift and in the same form: each computes y = f(x) and
// records dy/dx as a function of x and y beside it. Where an activation has a kink, the
// derivative there is PyTorch's choice, stated in its doc comment. Parameters (slope,
// alpha, beta, threshold) are constants, not differentiated.

extension Tensor {
    /// A result of `x`'s shape filled with `f(x)`.
    @inline(__always)
    fileprivate static func elementwise(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let y = result(shape: x.shape, of: x)
        let px = x.storage, py = y.storage
        for i in 0..<x.count { py[i] = f(px[i]) }
        return y
    }
}

/// Adds `g * derivative(x, y)` to `x`'s gradient.
@inline(__always)
private func accumulateElementwise(
    _ x: Tensor, _ y: Tensor, _ g: UnsafePointer<Float>, _ derivative: (Float, Float) -> Float
) {
    let px = x.storage, py = y.storage
    x.accumulateGradient { i in g[i] * derivative(px[i], py[i]) }
}

/// 1/√2, for the Gaussian CDF Φ(x) = ½(1 + erf(x/√2)).
private let inverseSquareRootOfTwo: Float = 0.70710678118654752
/// 1/√(2π), for the Gaussian density φ(x) = e^(−x²/2)/√(2π).
private let inverseSquareRootOfTwoPi: Float = 0.39894228040143268

/// log(1 + u) for u in [0, 1], accurate where 1 + u rounds to 1: log(w) · u / (w − 1) with
/// w = 1 + u cancels the rounding of w (Goldberg's trick), and u itself is the answer
/// when w is exactly 1.
@inline(__always)
private func logOnePlus(_ u: Float) -> Float {
    let w = 1 + u
    let d = w - 1
    return d == 0 ? u : FastMath.log(w) * (u / d)
}

/// xᵖ element-wise for a constant exponent p, as the C library's `powf` computes it: NaN
/// for negative x and a non-integer p (as Foundation's `pow`); p = 2 gives exactly x · x.
///
/// Derivative p·xᵖ⁻¹; 0 everywhere for p = 0 (PyTorch's choice), and infinite at x = 0
/// for 0 < p < 1.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor {
    if exponent == 2 { return square(x) }
    let p = exponent
    let y = Tensor.elementwise(x) { powf($0, p) }
    y.record([x]) { y, g in
        accumulateElementwise(x, y, g) { x, _ in p == 0 ? 0 : p * powf(x, p - 1) }
    }
    return y
}

/// x for x > 0, else `negativeSlope` · x. Derivative 1 for x > 0, else `negativeSlope`;
/// at 0 it is `negativeSlope` (PyTorch's choice).
public func leakyRelu(_ x: Tensor, negativeSlope: Float = 0.01) -> Tensor {
    let slope = negativeSlope
    let y = Tensor.elementwise(x) { $0 > 0 ? $0 : slope * $0 }
    y.record([x]) { y, g in accumulateElementwise(x, y, g) { x, _ in x > 0 ? 1 : slope } }
    return y
}

/// The exponential linear unit: x for x > 0, else α(eˣ − 1). Derivative 1 for x > 0, else
/// α·eˣ; at 0 it is α (PyTorch's choice: its backward takes the eˣ branch for x ≤ 0).
public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    // e^min(x, 0), so the branch not taken never overflows.
    let y = Tensor.elementwise(x) { x in x > 0 ? x : alpha * (FastMath.exp(Swift.min(x, 0)) - 1) }
    y.record([x]) { y, g in
        accumulateElementwise(x, y, g) { x, _ in x > 0 ? 1 : alpha * FastMath.exp(Swift.min(x, 0)) }
    }
    return y
}

/// The Gaussian error linear unit in its exact form, x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's
/// default, `approximate='none'`), through the C library's `erff`. Smooth: derivative
/// Φ(x) + x·φ(x), with φ the standard normal density.
public func gelu(_ x: Tensor) -> Tensor {
    let y = Tensor.elementwise(x) { x in 0.5 * x * (1 + erff(x * inverseSquareRootOfTwo)) }
    y.record([x]) { y, g in
        accumulateElementwise(x, y, g) { x, _ in
            let cdf = 0.5 * (1 + erff(x * inverseSquareRootOfTwo))
            let density = inverseSquareRootOfTwoPi * FastMath.exp(-0.5 * x * x)
            return cdf + x * density
        }
    }
    return y
}

/// The sigmoid linear unit (swish), x·σ(x). Smooth: derivative σ(x)(1 + x(1 − σ(x))).
public func silu(_ x: Tensor) -> Tensor {
    let y = Tensor.elementwise(x) { x in x * FastMath.sigmoid(x) }
    y.record([x]) { y, g in
        accumulateElementwise(x, y, g) { x, _ in
            let s = FastMath.sigmoid(x)
            return s * (1 + x * (1 - s))
        }
    }
    return y
}

/// log(1 + e^(βx))/β, and x itself where βx > `threshold` (PyTorch's `softplus`, whose
/// defaults these are). Computed stably as (max(βx, 0) + log(1 + e^(−|βx|)))/β, so large
/// negative inputs give their tiny positive value rather than 0 and large positive ones do
/// not overflow. Derivative σ(βx), and 1 above the threshold (where the function jumps by
/// about e^(−threshold)/β, as PyTorch's does).
/// - Precondition: `beta` is not 0.
public func softplus(_ x: Tensor, beta: Float = 1, threshold: Float = 20) -> Tensor {
    precondition(beta != 0, "softplus needs a non-zero beta")
    let y = Tensor.elementwise(x) { x in
        let z = beta * x
        return z > threshold ? x : (Swift.max(z, 0) + logOnePlus(FastMath.exp(-Swift.abs(z)))) / beta
    }
    y.record([x]) { y, g in
        accumulateElementwise(x, y, g) { x, _ in
            let z = beta * x
            return z > threshold ? 1 : FastMath.sigmoid(z)
        }
    }
    return y
}
