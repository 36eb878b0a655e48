import SeededRandom
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Float32 exp, log, tanh and sigmoid written so that loops over them vectorise (the C
/// library's versions are one opaque call per element). Accuracy: a few units in the
/// last place over the ranges networks use; exp saturates to 0 below -87.3 and to
/// +infinity above 88.7, log returns -infinity at 0 and NaN below.
public enum FastMath {
    /// e^x by range reduction x = k ln 2 + r, |r| <= ln2/2, and a degree-7 polynomial for
    /// e^r; 2^k is built in the exponent bits.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        // Branch-free and conversion-free so loops vectorise: clamp, round k by the
        // 1.5·2²³ trick (k lands in the low mantissa bits), compute, patch the ends.
        let xc = Swift.min(Swift.max(x, -87.33654), 88.72283)
        let shifted = xc * 1.442695041 + 12_582_912
        let k = shifted - 12_582_912
        let r = (xc - k * 0.693359375) + k * 2.12194440e-4  // two-part ln 2 for accuracy
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = (p * r * r) + r + 1
        // 2^k as two halves, so k = 128 (x near the top of the range) does not overflow.
        let ki = Int32(bitPattern: shifted.bitPattern &- 0x4B40_0000)
        let k1 = ki &>> 1, k2 = ki &- k1
        let value = er * Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
            * Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        return x > 88.72283 ? .infinity : (x < -87.33654 ? 0 : value)
    }

    /// Natural logarithm: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then a polynomial in
    /// (m - 1).
    @inline(__always)
    public static func log(_ x: Float) -> Float {
        if !(x > 0) { return x == 0 ? -.infinity : .nan }
        if x == .infinity { return x }
        var bits = x.bitPattern
        var e = Int32(bitPattern: (bits >> 23) & 0xFF) - 127
        if e == -127 {  // subnormal: normalise first
            let scaled = x * 8388608.0
            bits = scaled.bitPattern
            e = Int32(bitPattern: (bits >> 23) & 0xFF) - 127 - 23
        }
        var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000)  // [1, 2)
        if m > 1.41421356 { m *= 0.5; e += 1 }
        let f = m - 1
        let z = f * f
        var p: Float = 7.0376836292e-2
        p = p * f - 1.1514610310e-1
        p = p * f + 1.1676998740e-1
        p = p * f - 1.2420140846e-1
        p = p * f + 1.4249322787e-1
        p = p * f - 1.6668057665e-1
        p = p * f + 2.0000714765e-1
        p = p * f - 2.4999993993e-1
        p = p * f + 3.3333331174e-1
        var y = f * z * p
        let fe = Float(e)
        y += -2.12194440e-4 * fe
        y += -0.5 * z
        return f + y + 0.693359375 * fe
    }

    /// The correctly rounded square root, as `x.squareRoot()`, but in a form that loops
    /// vectorise: `Float.squareRoot()` goes through the C library's `sqrtf` (which may set
    /// errno), so LLVM keeps it one call per element; SSE's `sqrtss` is plain `llvm.sqrt`.
    @inlinable @inline(__always)
    public static func squareRoot(_ x: Float) -> Float {
        #if arch(x86_64)
        _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x)))
        #else
        x.squareRoot()
        #endif
    }

    /// Hyperbolic tangent, as n / (n + 2) with n = e^{2|x|} − 1 and the sign of x.
    ///
    /// n is computed without cancellation, so no separate series is needed near 0: with
    /// 2|x| = k ln 2 + r, e^{2|x|} − 1 = (e^r − 1) + e^r (2^k − 1), where e^r − 1 comes
    /// straight from the polynomial (exp's, in fused multiply-adds) and 2^k − 1 is exact.
    /// Past |x| = 9.5 the quotient rounds to 1, so x is clamped there.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let y = 2 * Swift.min(Swift.abs(x), 9.5)
        let shifted = (12_582_912 as Float).addingProduct(y, 1.442695041)  // k in the low mantissa bits
        let k = shifted - 12_582_912
        let r = y.addingProduct(-k, 0.693359375).addingProduct(k, 2.12194440e-4)  // two-part ln 2
        var p: Float = 1.9875691500e-4
        p = (1.3981999507e-3 as Float).addingProduct(p, r)
        p = (8.3334519073e-3 as Float).addingProduct(p, r)
        p = (4.1665795894e-2 as Float).addingProduct(p, r)
        p = (1.6666665459e-1 as Float).addingProduct(p, r)
        p = (5.0000001201e-1 as Float).addingProduct(p, r)
        let expm1R = r.addingProduct(p, r * r)  // e^r − 1
        let twoToK = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)  // 0 <= k <= 28
        let n = expm1R.addingProduct(expm1R + 1, twoToK - 1)
        let magnitude = n / (n + 2)
        return Float(bitPattern: magnitude.bitPattern | (x.bitPattern & 0x8000_0000))
    }

    /// The logistic function 1 / (1 + e^-x).
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }
}
