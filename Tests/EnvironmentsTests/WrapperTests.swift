import XCTest
@testable import Environments

/// Plays back fixed observations: reset writes `frames[0]`, step `t` writes `frames[t]`
/// and the last frame terminates. The reward is `action + 1`. Bounds are `-100...100`
/// except where `low`/`high` say otherwise.
private struct Script: Environment {
    var frames: [[Float]]
    var shape: [Int]
    var low: [Float]?
    var high: [Float]?
    var t = 0
    var isRunning = false

    init(_ frames: [[Float]], shape: [Int]? = nil, low: [Float]? = nil, high: [Float]? = nil) {
        self.frames = frames
        self.shape = shape ?? [frames[0].count]
        self.low = low
        self.high = high
    }

    var observationSpace: Box {
        let count = shape.reduce(1, *)
        return Box(low: low ?? Array(repeating: -100, count: count),
                   high: high ?? Array(repeating: 100, count: count), shape: shape)
    }
    var actionSpace: ActionSpace { .discrete(Discrete(4)) }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        t = 0
        isRunning = true
        for (j, v) in frames[0].enumerated() { observation[j] = v }
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard isRunning else { throw .episodeEnded }
        guard (0..<actionSpace.width).contains(action) else { throw .invalidAction(action, count: 4) }
        t += 1
        for (j, v) in frames[t].enumerated() { observation[j] = v }
        if t == frames.count - 1 { isRunning = false }
        return StepOutcome(reward: Float(action + 1), isTerminated: !isRunning)
    }

    func render() -> Frame { Frame(width: 1, height: 1) }
}

final class WrapperTests: XCTestCase {
    // MARK: Episode statistics

    func testEpisodeStatisticsRecordsReturnsAndLengths() throws {
        var env = EpisodeStatistics(Script([[0], [1], [2], [3]]))
        _ = env.reset(seed: 1)
        _ = try env.step(2)  // reward 3
        _ = try env.step(0)  // reward 1
        XCTAssertEqual(env.currentReturn, 4)
        XCTAssertEqual(env.currentLength, 2)
        XCTAssertNil(env.lastEpisode)
        let last = try env.step(1)  // reward 2, terminates
        XCTAssertTrue(last.isTerminated)
        XCTAssertEqual(last.observation, [3])  // passed through unchanged
        XCTAssertEqual(env.lastEpisode, EpisodeRecord(episodeReturn: 6, length: 3))
        XCTAssertEqual(env.currentReturn, 0)

        // A failed step counts for nothing; a reset mid-episode drops that episode.
        XCTAssertThrowsError(try env.step(0))
        _ = env.reset(seed: nil)
        _ = try env.step(3)
        _ = env.reset(seed: nil)
        for action in [3, 3, 0] { _ = try env.step(action) }  // 4 + 4 + 1

        XCTAssertEqual(env.finishedEpisodeCount, 2)
        XCTAssertEqual(env.drainCompletedEpisodes(), [
            EpisodeRecord(episodeReturn: 6, length: 3), EpisodeRecord(episodeReturn: 9, length: 3),
        ])
        XCTAssertEqual(env.drainCompletedEpisodes(), [])
        XCTAssertEqual(env.lastEpisode, EpisodeRecord(episodeReturn: 9, length: 3))
        XCTAssertEqual(env.finishedEpisodeCount, 2)
    }

    // MARK: Observation normalisation

    /// Eight observations of three elements with different scales and offsets.
    private let data: [[Float]] = [
        [1.0, -200.0, 0.001], [2.5, -150.0, 0.003], [-0.5, -260.0, 0.002], [4.0, -210.0, 0.0],
        [3.0, -180.0, 0.004], [0.0, -240.0, 0.001], [1.5, -190.0, 0.005], [2.0, -230.0, 0.002],
    ]

    private func twoPass(_ rows: [[Float]]) -> (mean: [Double], variance: [Double]) {
        let n = Double(rows.count)
        let mean = (0..<rows[0].count).map { j in rows.reduce(0.0) { $0 + Double($1[j]) } / n }
        let variance = (0..<rows[0].count).map { j in
            rows.reduce(0.0) { $0 + (Double($1[j]) - mean[j]) * (Double($1[j]) - mean[j]) } / n
        }
        return (mean, variance)
    }

    func testNormalizeObservationStatisticsMatchTwoPass() throws {
        var env = NormalizeObservation(Script(data), clip: nil)
        var last = env.reset(seed: 0)
        for _ in 1..<data.count { last = try env.step(0).observation }
        let (mean, variance) = twoPass(data)
        XCTAssertEqual(env.statistics.count, 8)
        for j in 0..<3 {
            XCTAssertEqual(env.statistics.mean[j], mean[j], accuracy: 1e-5 * max(1, abs(mean[j])))
            XCTAssertEqual(env.statistics.variance[j], variance[j], accuracy: 1e-5 * max(1, variance[j]))
            // The last observation, normalised with the statistics that include it.
            let expected = (Double(data[7][j]) - mean[j]) / (variance[j] + 1e-8).squareRoot()
            XCTAssertEqual(Double(last[j]), expected, accuracy: 1e-5)
        }
        // Spot check against numbers worked out by hand for element 0:
        // mean = 13.5 / 8 = 1.6875, variance = (sum of squares 38.75) / 8 - 1.6875^2 = 1.99609375.
        XCTAssertEqual(env.statistics.mean[0], 1.6875, accuracy: 1e-12)
        XCTAssertEqual(env.statistics.variance[0], 1.99609375, accuracy: 1e-12)
    }

    func testNormalizeObservationClipsAndFreezes() throws {
        var env = NormalizeObservation(Script(data), clip: 1)
        XCTAssertEqual(env.observationSpace, Box(low: -1, high: 1, shape: [3]))
        // After the first observation the variance is 0, so every element normalises to 0.
        XCTAssertEqual(env.reset(seed: 0), [0, 0, 0])
        // Second: the mean is halfway and the variance (d/2)^2 for the difference d, so each
        // element is (d/2) / sqrt((d/2)^2 + 1e-8): just under one standard deviation.
        let second = try env.step(0).observation
        for j in 0..<3 {
            let half = (Double(data[1][j]) - Double(data[0][j])) / 2
            XCTAssertEqual(Double(second[j]), half / (half * half + 1e-8).squareRoot(), accuracy: 1e-6)
        }
        XCTAssertEqual(Double(second[2]), 0.995, accuracy: 1e-3)  // epsilon matters at this scale

        env.isFrozen = true
        let frozen = env.statistics
        let third = try env.step(0).observation
        XCTAssertEqual(env.statistics, frozen)
        // Element 1 of the third row is -260, far below the frozen mean -175 (sd 25): clipped.
        XCTAssertEqual(third[1], -1)
        let z0 = Float((-0.5 - 1.75) / (0.5625 + 1e-8).squareRoot())  // mean 1.75, variance 0.75^2
        XCTAssertEqual(third[0], max(-1, z0))
    }

    func testRunningMeanVarianceBatchMergeAndRestore() {
        let flat = data.flatMap { $0 }
        var sequential = RunningMeanVariance(elementCount: 3)
        for row in data { row.withUnsafeBufferPointer { sequential.update(with: $0) } }
        var batched = RunningMeanVariance(elementCount: 3)
        flat[0..<9].withUnsafeBufferPointer { batched.update(withBatch: $0, rows: 3) }
        flat[9...].withUnsafeBufferPointer { batched.update(withBatch: UnsafeBufferPointer(rebasing: $0[...]), rows: 5) }
        let (mean, variance) = twoPass(data)
        for j in 0..<3 {
            XCTAssertEqual(batched.mean[j], mean[j], accuracy: 1e-9 * max(1, abs(mean[j])))
            XCTAssertEqual(batched.variance[j], variance[j], accuracy: 1e-9 * max(1, variance[j]))
            XCTAssertEqual(batched.mean[j], sequential.mean[j], accuracy: 1e-9 * max(1, abs(mean[j])))
        }
        XCTAssertEqual(batched.count, 8)

        // Restoring from count, mean and variance, and a JSON round trip, keep the numbers.
        let restored = RunningMeanVariance(count: batched.count, mean: batched.mean, variance: batched.variance)
        let decoded = try! JSONDecoder().decode(
            RunningMeanVariance.self, from: try! JSONEncoder().encode(restored))
        XCTAssertEqual(decoded.count, 8)
        for j in 0..<3 {
            XCTAssertEqual(decoded.mean[j], mean[j], accuracy: 1e-9 * max(1, abs(mean[j])))
            XCTAssertEqual(decoded.variance[j], variance[j], accuracy: 1e-9 * max(1, variance[j]))
        }

        // Before any data the normalisation is the identity (mean 0, variance 1).
        var values: [Float] = [3, -2]
        values.withUnsafeMutableBufferPointer { RunningMeanVariance(elementCount: 2).normalize($0, epsilon: 0, clip: nil) }
        XCTAssertEqual(values, [3, -2])
    }

    func testNormalizeObservationUsesRestoredStatistics() throws {
        var env = NormalizeObservation(Script([[4, 9], [6, 1]]), clip: nil, isFrozen: true)
        env.statistics = RunningMeanVariance(count: 10, mean: [2, 5], variance: [4, 16])
        XCTAssertEqual(env.reset(seed: 0), [Float(2 / (4 + 1e-8).squareRoot()), Float(4 / (16 + 1e-8).squareRoot())])
        XCTAssertEqual(try env.step(0).observation, [Float(4 / (4 + 1e-8).squareRoot()), Float(-4 / (16 + 1e-8).squareRoot())])
        XCTAssertEqual(env.statistics.count, 10)
    }

    // MARK: Frame stacking

    func testFrameStackConcatenatesVectorsOldestFirst() throws {
        let frames: [[Float]] = [[1, 2], [3, 4], [5, 6], [7, 8]]
        var env = FrameStack(Script(frames, low: [-1, -2], high: [1, 2]), frameCount: 3)
        XCTAssertEqual(env.observationSpace.shape, [6])
        XCTAssertEqual(env.observationSpace.low, [-1, -2, -1, -2, -1, -2])
        XCTAssertEqual(env.observationSpace.high, [1, 2, 1, 2, 1, 2])
        XCTAssertEqual(env.reset(seed: 0), [1, 2, 1, 2, 1, 2])
        XCTAssertEqual(try env.step(0).observation, [1, 2, 1, 2, 3, 4])
        XCTAssertEqual(try env.step(0).observation, [1, 2, 3, 4, 5, 6])
        let last = try env.step(2)
        XCTAssertEqual(last.observation, [3, 4, 5, 6, 7, 8])
        XCTAssertEqual(last.reward, 3)
        XCTAssertTrue(last.isTerminated)
        // A new episode refills the stack with its first observation.
        XCTAssertEqual(env.reset(seed: nil), [1, 2, 1, 2, 1, 2])
    }

    func testFrameStackInterleavesChannelsOfImages() throws {
        // A 2×2 image with 2 channels; frame f's value at (row r, column c, channel ch) is
        // 100f + 10(2r + c) + ch, so every element says where it came from.
        func image(_ f: Int) -> [Float] {
            (0..<4).flatMap { p in (0..<2).map { ch in Float(100 * f + 10 * p + ch) } }
        }
        var env = FrameStack(Script([image(0), image(1), image(2)], shape: [2, 2, 2]), frameCount: 2)
        XCTAssertEqual(env.observationSpace.shape, [2, 2, 4])
        _ = env.reset(seed: 0)
        let stacked = try env.step(0).observation
        XCTAssertEqual(stacked.count, 16)
        for p in 0..<4 {
            for j in 0..<2 {
                for ch in 0..<2 {
                    // Frame j = 0 is the oldest (image 0), j = 1 the newest (image 1).
                    XCTAssertEqual(stacked[p * 4 + j * 2 + ch], Float(100 * j + 10 * p + ch), "p \(p) j \(j) ch \(ch)")
                }
            }
        }
        XCTAssertEqual(Array(stacked[0..<8]), [0, 1, 100, 101, 10, 11, 110, 111])
        XCTAssertEqual(Array(try env.step(0).observation[0..<4]), [100, 101, 200, 201])
    }

    func testWrappersComposeInAVectorEnvironment() throws {
        // Each copy's own frame stack, stepped through the vector with autoreset.
        let vector = VectorEnvironment(FrameStack(Script([[1], [2], [3]]), frameCount: 2), count: 2)
        vector.reset(seed: 0)
        XCTAssertEqual(Array(vector.observations), [1, 1, 1, 1])
        try vector.step([0, 1])
        XCTAssertEqual(Array(vector.observations), [1, 2, 1, 2])
        try vector.step([0, 1])
        XCTAssertEqual(Array(vector.finalObservations), [2, 3, 2, 3])
        XCTAssertEqual(Array(vector.observations), [1, 1, 1, 1])
        XCTAssertEqual(Array(vector.finishedEpisodeReturns), [2, 4])
    }
}
