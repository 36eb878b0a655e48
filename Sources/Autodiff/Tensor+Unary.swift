#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Element-wise unary ops. Each computes y = f(x) and records dy/dx as a function of x
// and y beside it.

extension Tensor {
    /// A result of `x`'s shape filled with `f(x)`.
    @inline(__always)
    fileprivate static func mapping(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let y = result(shape: x.shape, of: x)
        let px = x.storage, py = y.storage
        for i in 0..<x.count { py[i] = f(px[i]) }
        return y
    }
}

/// Adds `g * derivative(x, y)` to `x`'s gradient.
@inline(__always)
private func accumulate(_ x: Tensor, _ y: Tensor, _ g: UnsafePointer<Float>, _ derivative: (Float, Float) -> Float) {
    let px = x.storage, py = y.storage
    x.accumulateGradient { i in g[i] * derivative(px[i], py[i]) }
}

/// e^x.
public func exp(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { FastMath.exp($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { _, y in y } }
    return y
}

/// Natural logarithm.
public func log(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { FastMath.log($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { x, _ in 1 / x } }
    return y
}

/// Square root.
public func sqrt(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { FastMath.squareRoot($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { _, y in 0.5 / y } }
    return y
}

/// x².
public func square(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { $0 * $0 }
    y.record([x]) { y, g in accumulate(x, y, g) { x, _ in 2 * x } }
    return y
}

/// Hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { FastMath.tanh($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { _, y in 1 - y * y } }
    return y
}

/// The logistic function 1 / (1 + e^-x).
public func sigmoid(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { FastMath.sigmoid($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { _, y in y * (1 - y) } }
    return y
}

/// max(x, 0); the derivative at 0 is taken as 0 (PyTorch's choice).
public func relu(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { $0 > 0 ? $0 : 0 }
    y.record([x]) { y, g in accumulate(x, y, g) { x, _ in x > 0 ? 1 : 0 } }
    return y
}

/// |x|; the derivative at 0 is taken as 0.
public func abs(_ x: Tensor) -> Tensor {
    let y = Tensor.mapping(x) { Swift.abs($0) }
    y.record([x]) { y, g in accumulate(x, y, g) { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    return y
}

/// x limited to `[low, high]`; the gradient passes where `low <= x <= high` (PyTorch's
/// `clamp`), which is what PPO's clipped objective relies on.
public func clamp(_ x: Tensor, min low: Float, max high: Float) -> Tensor {
    precondition(low <= high, "clamp needs min <= max, got \(low) > \(high)")
    let y = Tensor.mapping(x) { Swift.min(Swift.max($0, low), high) }
    y.record([x]) { y, g in accumulate(x, y, g) { x, _ in x >= low && x <= high ? 1 : 0 } }
    return y
}
