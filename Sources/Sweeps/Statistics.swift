import Foundation
import SeededRandom

/// Aggregates over seeds as Agarwal et al. (2021, "Deep RL at the edge of the statistical
/// precipice") recommend: the interquartile mean, and percentile confidence intervals from
/// a stratified bootstrap (runs resampled within each task, never across).
public enum SeedStatistics {
    /// The arithmetic mean (`nan` for no values).
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// The interquartile mean: the mean of the values left after dropping ⌊n/4⌋ from each
    /// end of the sorted list (so with fewer than four values it is the mean).
    public static func interquartileMean(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted(), cut = values.count / 4
        return mean(Array(sorted[cut..<(sorted.count - cut)]))
    }

    /// The `q` quantile of sorted values, interpolating linearly between neighbours (the
    /// definition NumPy's `quantile` uses by default).
    public static func quantile(sorted values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, values.count - 1)
        let fraction = position - Double(below)
        return values[below] + (values[above] - values[below]) * fraction
    }

    /// A percentile confidence interval for `statistic` of the pooled values, from
    /// `resamples` stratified bootstrap samples: each resample draws every stratum's values
    /// with replacement, as many as it has, and pools them. Seeded, so it is reproducible.
    public static func bootstrapInterval(
        _ strata: [[Double]], statistic: ([Double]) -> Double, confidence: Double = 0.95,
        resamples: Int = 2_000, seed: UInt64 = 0
    ) -> Interval {
        let nonEmpty = strata.filter { !$0.isEmpty }
        guard !nonEmpty.isEmpty else { return Interval(low: .nan, high: .nan) }
        var generator = SeededGenerator(seed: seed)
        var estimates: [Double] = []
        estimates.reserveCapacity(resamples)
        var sample: [Double] = []
        for _ in 0..<resamples {
            sample.removeAll(keepingCapacity: true)
            for stratum in nonEmpty {
                for _ in stratum.indices { sample.append(stratum[generator.int(below: stratum.count)]) }
            }
            estimates.append(statistic(sample))
        }
        estimates.sort()
        let tail = (1 - confidence) / 2
        return Interval(low: quantile(sorted: estimates, tail), high: quantile(sorted: estimates, 1 - tail))
    }
}

/// A confidence interval (its bounds are `nan` when there were no values).
public struct Interval: Equatable, Sendable {
    public let low: Double
    public let high: Double
    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
}

/// One configuration's results over its seeds.
public struct Aggregate: Equatable, Sendable {
    public let count: Int
    public let mean: Double
    public let interquartileMean: Double
    public let meanInterval: Interval
    public let interquartileMeanInterval: Interval

    /// Aggregates `values` (one per seed); the bootstrap is seeded with `seed`.
    public init(_ values: [Double], seed: UInt64 = 0) {
        count = values.count
        mean = SeedStatistics.mean(values)
        interquartileMean = SeedStatistics.interquartileMean(values)
        meanInterval = SeedStatistics.bootstrapInterval([values], statistic: SeedStatistics.mean, seed: seed)
        interquartileMeanInterval = SeedStatistics.bootstrapInterval(
            [values], statistic: SeedStatistics.interquartileMean, seed: seed)
    }
}
