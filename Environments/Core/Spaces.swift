import Foundation
import SeededRandom

/// A finite set of actions `0..<count` (Gymnasium's `Discrete(n)`).
public struct Discrete: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let count: Int

    public init(_ count: Int) {
        precondition(count > 0, "Discrete needs at least one action, got \(count)")
        self.count = count
    }

    public func contains(_ action: Int) -> Bool { action >= 0 && action < count }

    /// A uniformly random action.
    public func sample(using generator: inout SeededGenerator) -> Int {
        generator.int(below: count)
    }

    public var description: String { "Discrete(\(count))" }
}

/// A box of Float32 values with per-element bounds (Gymnasium's `Box`). Bounds may be
/// infinite; `shape` is row-major, last axis fastest (channels last for images).
public struct Box: Equatable, Sendable, CustomStringConvertible {
    public let low: [Float]
    public let high: [Float]
    public let shape: [Int]
    /// Every observation element is exactly 0 or 1 (one-hot cells, MinAtar's channels):
    /// learners may store such observations as bytes.
    public let isBinary: Bool

    /// The number of elements: the product of `shape`.
    public var count: Int { low.count }

    public init(low: [Float], high: [Float], shape: [Int]) {
        self.init(low: low, high: high, shape: shape, isBinary: false)
    }

    /// Observations whose every element is 0 or 1.
    public static func binary(shape: [Int]) -> Box {
        let count = shape.reduce(1, *)
        return Box(low: Array(repeating: 0, count: count), high: Array(repeating: 1, count: count), shape: shape,
                   isBinary: true)
    }

    private init(low: [Float], high: [Float], shape: [Int], isBinary: Bool) {
        let count = shape.reduce(1, *)
        precondition(low.count == count && high.count == count,
                     "Box bounds need \(count) elements for shape \(shape)")
        precondition(zip(low, high).allSatisfy { $0 <= $1 }, "Box needs low <= high")
        self.low = low
        self.high = high
        self.shape = shape
        self.isBinary = isBinary
    }

    /// A box with the same bounds for every element.
    public init(low: Float, high: Float, shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(low: Array(repeating: low, count: count),
                  high: Array(repeating: high, count: count), shape: shape)
    }

    /// Whether `values` has this box's size, and every value is finite-or-bounded and
    /// within its bounds.
    public func contains(_ values: some Collection<Float>) -> Bool {
        guard values.count == count else { return false }
        for (i, v) in values.enumerated() where !(v >= low[i] && v <= high[i]) { return false }
        return true
    }

    /// A random element: uniform where both bounds are finite, normal where both are
    /// infinite, and shifted exponential where one is (Gymnasium's rule).
    public func sample(using generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { i in
            let lo = low[i], hi = high[i]
            switch (lo.isFinite, hi.isFinite) {
            case (true, true): return generator.uniformFloat(lo, hi)
            case (false, false): return Float(generator.normal())
            case (true, false): return lo + Float(-log(1 - generator.uniform()))
            case (false, true): return hi - Float(-log(1 - generator.uniform()))
            }
        }
    }

    public var description: String {
        let l = low.min() ?? 0, h = high.max() ?? 0
        return "Box(\(l), \(h), shape: \(shape))"
    }
}
