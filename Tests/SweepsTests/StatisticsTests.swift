import XCTest
@testable import Sweeps

final class StatisticsTests: XCTestCase {
    func testInterquartileMeanDropsAQuarterFromEachEnd() {
        // n = 8: drop 2 from each end → mean of 3, 4, 5, 6.
        XCTAssertEqual(SeedStatistics.interquartileMean([8, 1, 7, 2, 6, 3, 5, 4]), 4.5)
        // n = 5: ⌊5/4⌋ = 1 from each end → mean of 5, 7, 10.
        XCTAssertEqual(SeedStatistics.interquartileMean([10, 1, 100, 5, 7]), 22.0 / 3, accuracy: 1e-12)
        // n = 3: nothing dropped.
        XCTAssertEqual(SeedStatistics.interquartileMean([1, 2, 30]), 11)
        // n = 10: drop 2 from each end → mean of the middle six.
        XCTAssertEqual(SeedStatistics.interquartileMean([0, 0, 1, 2, 3, 4, 5, 6, 100, 100]), 3.5)
        XCTAssertTrue(SeedStatistics.interquartileMean([]).isNaN)
    }

    func testQuantileInterpolatesLikeNumPy() {
        // numpy.quantile([1, 2, 4, 8], [0.025, 0.5, 0.975]) = [1.075, 3.0, 7.7]
        let sorted: [Double] = [1, 2, 4, 8]
        XCTAssertEqual(SeedStatistics.quantile(sorted: sorted, 0.025), 1.075, accuracy: 1e-12)
        XCTAssertEqual(SeedStatistics.quantile(sorted: sorted, 0.5), 3.0, accuracy: 1e-12)
        XCTAssertEqual(SeedStatistics.quantile(sorted: sorted, 0.975), 7.7, accuracy: 1e-12)
    }

    func testBootstrapOfTwoValuesSpansThem() {
        // Resamples of [0, 10] have means 0 (¼), 5 (½) and 10 (¼): the 95% interval is [0, 10].
        let interval = SeedStatistics.bootstrapInterval([[0, 10]], statistic: SeedStatistics.mean)
        XCTAssertEqual(interval, Interval(low: 0, high: 10))
        // One value: no spread at all.
        XCTAssertEqual(SeedStatistics.bootstrapInterval([[3]], statistic: SeedStatistics.mean), Interval(low: 3, high: 3))
    }

    func testStratifiedBootstrapResamplesWithinEachStratum() {
        // Each stratum is constant, so every stratified resample pools two 0s and two 10s.
        let stratified = SeedStatistics.bootstrapInterval([[0, 0], [10, 10]], statistic: SeedStatistics.mean)
        XCTAssertEqual(stratified, Interval(low: 5, high: 5))
        // Pooled into one stratum, the same values give a wide interval.
        let pooled = SeedStatistics.bootstrapInterval([[0, 0, 10, 10]], statistic: SeedStatistics.mean)
        XCTAssertLessThanOrEqual(pooled.low, 2.5)
        XCTAssertGreaterThanOrEqual(pooled.high, 7.5)
    }

    func testBootstrapIntervalMatchesTheExactBootstrapDistribution() {
        // All 5^5 = 3,125 equally likely resamples of five values, enumerated: the exact
        // 2.5% and 97.5% points of the resampled mean. The Monte Carlo interval with 20,000
        // resamples must land within one step of the grid the resampled means live on (0.2).
        let values: [Double] = [0, 1, 2, 3, 10]
        var means: [Double] = []
        for a in values { for b in values { for c in values { for d in values { for e in values {
            means.append((a + b + c + d + e) / 5)
        } } } } }
        means.sort()
        let exactLow = SeedStatistics.quantile(sorted: means, 0.025)
        let exactHigh = SeedStatistics.quantile(sorted: means, 0.975)
        let estimate = SeedStatistics.bootstrapInterval([values], statistic: SeedStatistics.mean, resamples: 20_000, seed: 5)
        XCTAssertEqual(estimate.low, exactLow, accuracy: 0.2 + 1e-9)
        XCTAssertEqual(estimate.high, exactHigh, accuracy: 0.2 + 1e-9)
        // numpy.quantile of the same enumeration gives 0.8 and 6.8.
        XCTAssertEqual(exactLow, 0.8, accuracy: 1e-12)
        XCTAssertEqual(exactHigh, 6.8, accuracy: 1e-12)
        // Reproducible from the seed.
        XCTAssertEqual(estimate, SeedStatistics.bootstrapInterval([values], statistic: SeedStatistics.mean, resamples: 20_000, seed: 5))
    }

    func testAggregateOfSeeds() {
        let a = Aggregate([500, 480, 20, 500])
        XCTAssertEqual(a.count, 4)
        XCTAssertEqual(a.mean, 375)
        XCTAssertEqual(a.interquartileMean, 490, "the middle two of 20, 480, 500, 500")
        XCTAssertLessThanOrEqual(a.meanInterval.low, a.mean)
        XCTAssertGreaterThanOrEqual(a.meanInterval.high, a.mean)
        XCTAssertEqual(a.meanInterval.high, 500)
    }
}
