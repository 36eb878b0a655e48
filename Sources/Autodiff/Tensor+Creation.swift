import SeededRandom

// Tensors made from nothing: constants and seeded random values.

extension Tensor {
    /// All elements `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGradient: Bool = false) {
        self.init(uninitializedShape: shape, requiresGradient: requiresGradient)
        storage.update(repeating: value, count: count)
    }

    /// All zeros.
    public static func zeros(_ shape: [Int], requiresGradient: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGradient: requiresGradient)
    }

    /// All ones.
    public static func ones(_ shape: [Int], requiresGradient: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGradient: requiresGradient)
    }

    /// Uniform in `[low, high)` from `generator`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator,
        requiresGradient: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitializedShape: shape, requiresGradient: requiresGradient)
        for i in 0..<t.count { t.storage[i] = generator.uniformFloat(low, high) }
        return t
    }

    /// Normal with the given mean and standard deviation from `generator`.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, generator: inout SeededGenerator,
        requiresGradient: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitializedShape: shape, requiresGradient: requiresGradient)
        for i in 0..<t.count { t.storage[i] = mean + standardDeviation * Float(generator.normal()) }
        return t
    }
}
