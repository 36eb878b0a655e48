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

    /// Checks a continuous action for a `step`: `count` floats, none NaN or infinite (values
    /// beyond the bounds are allowed: the environment clips them).
    /// - Throws: `EnvironmentError.wrongActionKind` naming this space.
    @inlinable
    public func check(action: UnsafeBufferPointer<Float>) throws(EnvironmentError) {
        guard action.count == low.count else { throw .wrongActionKind(expected: .box(self)) }
        for value in action where !value.isFinite { throw .wrongActionKind(expected: .box(self)) }
    }
}

/// The actions an environment takes (Gymnasium's `action_space`, limited to the two kinds
/// learners here handle): a finite set of numbered actions, or a box of floats.
public enum ActionSpace: Equatable, Sendable, CustomStringConvertible {
    /// Actions `0..<count`, stepped with `step(_: Int, into:)`.
    case discrete(Discrete)
    /// Vectors of `count` floats within the bounds, stepped with
    /// `step(_: UnsafeBufferPointer<Float>, into:)`.
    case box(Box)

    /// The discrete space, or nil for a box.
    public var discrete: Discrete? {
        if case .discrete(let space) = self { return space }
        return nil
    }

    /// The box, or nil for a discrete space.
    public var box: Box? {
        if case .box(let space) = self { return space }
        return nil
    }

    /// Whether actions are vectors of floats.
    public var isContinuous: Bool { box != nil }

    /// The number of discrete actions, or the number of floats in a continuous action:
    /// the width of a policy's output.
    public var width: Int {
        switch self {
        case .discrete(let space): space.count
        case .box(let space): space.count
        }
    }

    public var description: String {
        switch self {
        case .discrete(let space): space.description
        case .box(let space): space.description
        }
    }
}
