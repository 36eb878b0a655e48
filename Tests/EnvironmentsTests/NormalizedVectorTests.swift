import Foundation
import XCTest
@testable import Environments

/// VecNormalize's two halves over a vector of CartPoles, against statistics worked out by
/// hand (two-pass, double precision) from the raw observations and rewards.
final class NormalizedVectorTests: XCTestCase {
    private func pair() -> (raw: any VectorStepping, normalized: NormalizedVectorEnvironment) {
        let make = { makeVectorEnvironment(TimeLimit(CartPole(), maxEpisodeSteps: 500), count: 3) }
        return (make(), NormalizedVectorEnvironment(make(), normalizeObservations: true, normalizeRewards: true,
                                                    observationClip: 10, rewardClip: 10, gamma: 0.9))
    }

    func testObservationsAndRewardsAreNormalizedByEverythingSeenSoFar() throws {
        let (raw, normalized) = pair()
        raw.reset(seed: 5)
        normalized.reset(seed: 5)
        var seen: [[Float]] = (0..<3).map { Array(raw.observation(ofCopy: $0)) }
        var returns = [Double](repeating: 0, count: 3), seenReturns: [Double] = []
        let actions = [[0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1]]
        for step in actions {
            try raw.step(step)
            try normalized.step(step)
            seen += (0..<3).map { Array(raw.observation(ofCopy: $0)) }
            for i in 0..<3 {
                returns[i] = 0.9 * returns[i] + Double(raw.rewards[i])
                seenReturns.append(returns[i])
            }
            // Observations: per element, (x − mean) / √(var + 1e-8) over every observation seen.
            for j in 0..<4 {
                let column = seen.map { Double($0[j]) }
                let mean = column.reduce(0, +) / Double(column.count)
                let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(column.count)
                for i in 0..<3 {
                    let expected = (Double(raw.observation(ofCopy: i)[j]) - mean) / (variance + 1e-8).squareRoot()
                    XCTAssertEqual(Double(normalized.observation(ofCopy: i)[j]), expected, accuracy: 1e-4, "copy \(i), element \(j)")
                }
            }
            // Rewards: r / √(Var[R] + 1e-8), the mean not subtracted.
            let mean = seenReturns.reduce(0, +) / Double(seenReturns.count)
            let variance = seenReturns.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(seenReturns.count)
            for i in 0..<3 {
                let expected = min(Double(raw.rewards[i]) / (variance + 1e-8).squareRoot(), 10)
                XCTAssertEqual(Double(normalized.rewards[i]), expected, accuracy: 1e-3 * max(1, expected), "reward \(i)")
            }
        }
        XCTAssertEqual(normalized.statistics.observations?.count, 15)
        XCTAssertEqual(normalized.statistics.returns?.count, 12)
    }

    func testEpisodeReturnsStayRawAndReturnsRestartWhenAnEpisodeEnds() throws {
        let (_, normalized) = pair()
        normalized.reset(seed: 1)
        var finished = 0
        for _ in 0..<200 {
            try normalized.step([0, 0, 0])  // always left: the pole falls within a few dozen steps
            for (copy, record) in normalized.finishedEpisodes {
                finished += 1
                XCTAssertEqual(record.episodeReturn, Double(record.length), "CartPole pays 1 per step")
                XCTAssertEqual(normalized.statistics.runningReturns[copy], 0)
            }
        }
        XCTAssertGreaterThan(finished, 3)
    }

    func testFrozenStatisticsDoNotMove() throws {
        let (_, normalized) = pair()
        normalized.reset(seed: 2)
        try normalized.step([1, 0, 1])
        normalized.isFrozen = true
        let before = normalized.statistics
        try normalized.step([0, 1, 0])
        XCTAssertEqual(normalized.statistics.observations, before.observations)
        XCTAssertEqual(normalized.statistics.returns, before.returns)
    }

    func testSavedStateContinuesExactly() throws {
        let (_, first) = pair()
        first.reset(seed: 3)
        for _ in 0..<7 { try first.step([1, 0, 1]) }
        let state = try XCTUnwrap(first.savedState())
        let (_, second) = pair()
        try second.restoreState(from: state)
        XCTAssertEqual(second.statistics, first.statistics)
        for _ in 0..<5 {
            try first.step([0, 1, 1])
            try second.step([0, 1, 1])
            XCTAssertEqual(Array(second.observations), Array(first.observations))
            XCTAssertEqual(Array(second.rewards), Array(first.rewards))
        }
        let (_, observationsOnly) = (0, NormalizedVectorEnvironment(
            makeVectorEnvironment(CartPole(), count: 3), normalizeObservations: true, normalizeRewards: false))
        XCTAssertThrowsError(try observationsOnly.restoreState(from: state), "another configuration is refused")
    }

    /// Saved statistics come back bit for bit (the sums behind the variance are saved too),
    /// and files that hold only count, mean and variance still read.
    func testStatisticsRoundTripExactly() throws {
        var statistics = RunningMeanVariance(elementCount: 2)
        let batch: [Float] = [0.1, -3, 0.7, 2.2, 1e-3, 5.5, -0.3, 0.25, 9, -1]
        batch.withUnsafeBufferPointer { statistics.update(withBatch: $0, rows: 5) }
        let data = try JSONEncoder().encode(statistics)
        XCTAssertEqual(try JSONDecoder().decode(RunningMeanVariance.self, from: data), statistics)
        let older = #"{"count":5,"mean":[0.5,0.5],"variance":[1,2]}"#
        let decoded = try JSONDecoder().decode(RunningMeanVariance.self, from: Data(older.utf8))
        XCTAssertEqual(decoded.variance, [1, 2])
    }

    func testRescaleActionMapsMinusOneToOneOntoTheBounds() throws {
        var rescaled = RescaleAction(Pendulum())
        var plain = Pendulum()
        XCTAssertEqual(rescaled.actionSpace, .box(Box(low: -1, high: 1, shape: [1])))
        _ = rescaled.reset(seed: 4)
        _ = plain.reset(seed: 4)
        for (scaled, torque) in [(0.5, 1.0), (-1.0, -2.0), (3.0, 2.0)] as [(Float, Float)] {
            let a = try rescaled.step([scaled]), b = try plain.step([torque])
            XCTAssertEqual(a, b, "\(scaled) is \(torque) N·m")
        }
    }

    func testClipActionChargesTheClippedAction() throws {
        var clipped = ClipAction(MountainCarContinuous())
        var plain = MountainCarContinuous()
        _ = clipped.reset(seed: 6)
        _ = plain.reset(seed: 6)
        let a = try clipped.step([3]), b = try plain.step([3])
        XCTAssertEqual(a.observation, b.observation, "the car moves with the clipped force either way")
        XCTAssertEqual(Double(a.reward), -0.1, accuracy: 1e-6)
        XCTAssertEqual(Double(b.reward), -0.9, accuracy: 1e-6, "MountainCarContinuous charges the action as given")
    }
}
