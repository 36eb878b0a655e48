/// The running per-element mean and variance of a stream of observations, updated one
/// observation at a time (Welford) or one batch at a time (Chan et al.'s parallel merge),
/// in double precision.
///
/// The variance is the population variance (divide by the count, NumPy's default `ddof=0`),
/// so after any sequence of updates `mean` and `variance` equal what a two-pass computation
/// over all the observations seen gives, up to rounding. Unlike Gymnasium's
/// `RunningMeanStd`, which starts from a pseudo-count of 1e-4 at mean 0 and variance 1, the
/// count starts at zero: before any data `mean` is 0 and `variance` is 1 (the identity
/// normalisation), and the first observation replaces them.
///
/// The value is plain data (`Codable`), so a checkpoint can store it and an evaluation can
/// restore it exactly with `init(count:mean:variance:)`.
public struct RunningMeanVariance: Equatable, Sendable, Codable {
    /// How many observations have been folded in.
    public private(set) var count: Int
    /// The per-element mean; `elementCount` values.
    public private(set) var mean: [Double]
    /// The per-element sum of squared deviations from the mean (Welford's M2).
    var squaredDeviationSum: [Double]

    /// Statistics for observations of `elementCount` floats, with no data yet.
    public init(elementCount: Int) {
        precondition(elementCount > 0, "statistics need at least one element, got \(elementCount)")
        count = 0
        mean = [Double](repeating: 0, count: elementCount)
        squaredDeviationSum = [Double](repeating: 0, count: elementCount)
    }

    /// Statistics restored from a saved count, mean and (population) variance.
    public init(count: Int, mean: [Double], variance: [Double]) {
        precondition(count >= 0, "count must not be negative, got \(count)")
        precondition(!mean.isEmpty && mean.count == variance.count,
                     "mean (\(mean.count)) and variance (\(variance.count)) need the same, positive size")
        precondition(variance.allSatisfy { $0 >= 0 }, "variances must not be negative")
        self.count = count
        self.mean = mean
        squaredDeviationSum = variance.map { $0 * Double(count) }
    }

    /// The number of floats in one observation.
    public var elementCount: Int { mean.count }

    /// The per-element population variance; all ones before any data.
    public var variance: [Double] {
        count == 0
            ? [Double](repeating: 1, count: elementCount)
            : squaredDeviationSum.map { $0 / Double(count) }
    }

    /// Folds in one observation of `elementCount` floats (Welford's update).
    public mutating func update(with observation: UnsafeBufferPointer<Float>) {
        precondition(observation.count == elementCount,
                     "observation has \(observation.count) floats, statistics expect \(elementCount)")
        count += 1
        let n = Double(count)
        let elements = observation.count
        mean.withUnsafeMutableBufferPointer { mean in
            squaredDeviationSum.withUnsafeMutableBufferPointer { m2 in
                for j in 0..<elements {
                    let x = Double(observation[j])
                    let delta = x - mean[j]
                    mean[j] += delta / n
                    m2[j] += delta * (x - mean[j])
                }
            }
        }
    }

    /// Folds in `rows` observations stored one after another in `batch` (`rows ×
    /// elementCount` floats): the batch's own mean and squared deviations are computed in two
    /// passes, then merged (Chan, Golub and LeVeque's parallel update, as in SB3's
    /// `VecNormalize`).
    public mutating func update(withBatch batch: UnsafeBufferPointer<Float>, rows: Int) {
        precondition(rows >= 0 && batch.count == rows * elementCount,
                     "a batch of \(rows) rows needs \(rows * elementCount) floats, got \(batch.count)")
        guard rows > 0, let base = batch.baseAddress else { return }
        var other = RunningMeanVariance(elementCount: elementCount)
        other.count = rows
        let elements = elementCount
        other.mean.withUnsafeMutableBufferPointer { batchMean in
            other.squaredDeviationSum.withUnsafeMutableBufferPointer { batchM2 in
                for row in 0..<rows {
                    let x = base + row * elements
                    for j in 0..<elements { batchMean[j] += Double(x[j]) }
                }
                for j in 0..<elements { batchMean[j] /= Double(rows) }
                for row in 0..<rows {
                    let x = base + row * elements
                    for j in 0..<elements {
                        let d = Double(x[j]) - batchMean[j]
                        batchM2[j] += d * d
                    }
                }
            }
        }
        merge(other)
    }

    /// Combines these statistics with `other`'s as if every observation behind both had
    /// been folded in here.
    public mutating func merge(_ other: RunningMeanVariance) {
        precondition(other.elementCount == elementCount,
                     "cannot merge statistics of \(other.elementCount) elements into \(elementCount)")
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let a = Double(count), b = Double(other.count), total = a + b
        for j in 0..<elementCount {
            let delta = other.mean[j] - mean[j]
            mean[j] += delta * b / total
            squaredDeviationSum[j] += other.squaredDeviationSum[j] + delta * delta * a * b / total
        }
        count += other.count
    }

    /// Normalises `values` in place: `(x - mean) / sqrt(variance + epsilon)` per element,
    /// then clipped to `-clip...clip` when `clip` is given. `values` holds one observation or
    /// several one after another (its size a multiple of `elementCount`).
    public func normalize(_ values: UnsafeMutableBufferPointer<Float>, epsilon: Double = 1e-8, clip: Float?) {
        let elements = elementCount
        precondition(values.count % elements == 0,
                     "\(values.count) floats are not whole observations of \(elements)")
        let n = Double(count)
        let isEmpty = count == 0
        mean.withUnsafeBufferPointer { mean in
            squaredDeviationSum.withUnsafeBufferPointer { m2 in
                var start = 0
                while start < values.count {
                    for j in 0..<elements {
                        let variance = isEmpty ? 1 : m2[j] / n
                        var z = Float((Double(values[start + j]) - mean[j]) / (variance + epsilon).squareRoot())
                        if let clip { z = min(max(z, -clip), clip) }
                        values[start + j] = z
                    }
                    start += elements
                }
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case count, mean, variance
        case squaredDeviationSum = "squared_deviation_sum"
    }

    /// Decodes the `count`, `mean` and `variance` that `encode(to:)` writes, and the sums of
    /// squared deviations when present (they restore the statistics bit for bit, which
    /// variance × count need not).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let count = try c.decode(Int.self, forKey: .count)
        let mean = try c.decode([Double].self, forKey: .mean)
        let variance = try c.decode([Double].self, forKey: .variance)
        let sums = try c.decodeIfPresent([Double].self, forKey: .squaredDeviationSum)
        guard count >= 0, !mean.isEmpty, mean.count == variance.count, variance.allSatisfy({ $0 >= 0 }),
              sums.map({ $0.count == mean.count && $0.allSatisfy { $0 >= 0 && $0.isFinite } }) ?? true
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .variance, in: c,
                debugDescription: "expected a non-negative count and equal-sized mean and non-negative variance")
        }
        self.init(count: count, mean: mean, variance: variance)
        if let sums { squaredDeviationSum = sums }
    }

    /// Writes `count`, `mean` and `variance`, so a saved file reads as the statistics
    /// themselves, and the sums of squared deviations behind the variance, so a resumed
    /// run continues exactly.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(mean, forKey: .mean)
        try c.encode(variance, forKey: .variance)
        try c.encode(squaredDeviationSum, forKey: .squaredDeviationSum)
    }
}
