import SeededRandom
import Parallelism
import XCTest
@testable import Environments

/// A small deterministic environment for the vector tests.
///
/// Reset draws the episode's length (2 + `int(below: 4)`, so 2...5 steps, or the fixed
/// `fixedLength`) and a mark (`uniformFloat()`), in that order, and observes
/// `[0, mark]`. Step `t` of the episode draws one `uniformFloat()` noise and observes
/// `[t, mark + noise]`; the reward is `action + 1`. The step that reaches the length
/// terminates (or truncates, when `truncates`).
private struct Counter: Environment {
    var fixedLength: Int?
    var truncates = false
    var generator = SeededGenerator(seed: 99)
    var length = 0
    var t = 0
    var mark: Float = 0
    var isRunning = false
    var hasStarted = false

    var observationSpace: Box { Box(low: -.infinity, high: .infinity, shape: [2]) }
    var actionSpace: ActionSpace { .discrete(Discrete(3)) }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        length = fixedLength ?? 2 + generator.int(below: 4)
        mark = generator.uniformFloat()
        t = 0
        isRunning = true
        hasStarted = true
        observation[0] = 0
        observation[1] = mark
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard isRunning else { throw hasStarted ? .episodeEnded : .notReset }
        guard (0..<actionSpace.width).contains(action) else { throw .invalidAction(action, count: 3) }
        t += 1
        observation[0] = Float(t)
        observation[1] = mark + generator.uniformFloat()
        let isOver = t == length
        if isOver { isRunning = false }
        return StepOutcome(reward: Float(action + 1), isTerminated: isOver && !truncates, isTruncated: isOver && truncates)
    }

    func render() -> Frame { Frame(width: 1, height: 1) }
}

final class VectorEnvironmentTests: XCTestCase {
    func testResetSeedsEachCopyWithItsDerivedSeed() {
        let vector = VectorEnvironment(Counter(), count: 5)
        vector.reset(seed: 42)
        for i in 0..<5 {
            // The documented derivation: the first word of stream i of the seed.
            var stream = SeededGenerator(seed: 42, stream: UInt64(i))
            XCTAssertEqual(seedForCopy(i, of: 42), stream.next())
            var single = Counter()
            XCTAssertEqual(Array(vector.observation(ofCopy: i)), single.reset(seed: seedForCopy(i, of: 42)))
        }
        // Different copies get different streams.
        XCTAssertNotEqual(vector.observation(ofCopy: 0)[1], vector.observation(ofCopy: 1)[1])
    }

    func testFirstUnseededResetCountsAsSeedZero() {
        let unseeded = VectorEnvironment(Counter(), count: 3)
        unseeded.reset(seed: nil)
        let seeded = VectorEnvironment(Counter(), count: 3)
        seeded.reset(seed: 0)
        XCTAssertEqual(Array(unseeded.observations), Array(seeded.observations))
        XCTAssertNotEqual(unseeded.observation(ofCopy: 0)[1], unseeded.observation(ofCopy: 2)[1])
        // A later unseeded reset continues each copy's generator instead of reseeding.
        unseeded.reset(seed: nil)
        XCTAssertNotEqual(Array(unseeded.observations), Array(seeded.observations))
    }

    func testAutoresetKeepsFinalObservationAndNewFirstObservationInTheSameStep() throws {
        let vector = VectorEnvironment(Counter(fixedLength: 3), count: 2)
        vector.reset(seed: 7)
        // Replay copy 1's generator by hand: reset draws the mark, each step one noise,
        // and the autoreset the next episode's mark.
        var g = SeededGenerator(seed: seedForCopy(1, of: 7))
        let mark = g.uniformFloat()
        let noises = [g.uniformFloat(), g.uniformFloat(), g.uniformFloat()]
        let nextMark = g.uniformFloat()
        XCTAssertEqual(Array(vector.observation(ofCopy: 1)), [0, mark])

        try vector.step([0, 1])
        try vector.step([2, 2])
        XCTAssertEqual(Array(vector.observation(ofCopy: 1)), [2, mark + noises[1]])
        XCTAssertEqual(vector.finishedCopies, [])
        try vector.step([1, 0])

        XCTAssertEqual(vector.finishedCopies, [0, 1])
        XCTAssertEqual(Array(vector.isTerminated), [true, true])
        XCTAssertEqual(Array(vector.isTruncated), [false, false])
        XCTAssertEqual(Array(vector.finalObservation(ofCopy: 1)), [3, mark + noises[2]])
        XCTAssertEqual(Array(vector.observation(ofCopy: 1)), [0, nextMark])
        XCTAssertEqual(Array(vector.rewards), [2, 1])

        // The next step continues the new episode with no end flags.
        try vector.step([0, 0])
        XCTAssertEqual(vector.observation(ofCopy: 1)[0], 1)
        XCTAssertEqual(Array(vector.isTerminated), [false, false])
    }

    func testTruncationIsReportedAndKeepsFinalObservation() throws {
        let vector = VectorEnvironment(Counter(fixedLength: 2, truncates: true), count: 3)
        vector.reset(seed: 1)
        try vector.step([0, 0, 0])
        try vector.step([0, 0, 0])
        XCTAssertEqual(Array(vector.isTruncated), [true, true, true])
        XCTAssertEqual(Array(vector.isTerminated), [false, false, false])
        for i in 0..<3 {
            XCTAssertEqual(vector.finalObservation(ofCopy: i)[0], 2)
            XCTAssertEqual(vector.observation(ofCopy: i)[0], 0)
        }
    }

    func testEpisodeStatisticsMatchHandComputedReturns() throws {
        let vector = VectorEnvironment(Counter(fixedLength: 3), count: 2)
        vector.reset(seed: 5)
        // Rewards are action + 1. Copy 0: 1 + 3 + 2 = 6; copy 1: 3 + 3 + 1 = 7.
        try vector.step([0, 2])
        try vector.step([2, 2])
        XCTAssertEqual(vector.finishedEpisodes.count, 0)
        try vector.step([1, 0])
        let finished = vector.finishedEpisodes
        XCTAssertEqual(finished.map(\.copy), [0, 1])
        XCTAssertEqual(finished.map(\.record), [
            EpisodeRecord(episodeReturn: 6, length: 3), EpisodeRecord(episodeReturn: 7, length: 3),
        ])
        // The next episode starts counting from zero: 2 + 2 + 2 = 6 and 1 + 1 + 1 = 3.
        for _ in 0..<3 { try vector.step([1, 0]) }
        XCTAssertEqual(Array(vector.finishedEpisodeReturns), [6, 3])
        XCTAssertEqual(Array(vector.finishedEpisodeLengths), [3, 3])
    }

    func testEpisodesOfDifferentLengthsMatchSingleEnvironments() throws {
        // Each copy stepped alone, with autoreset by hand, must give the vector's numbers.
        let count = 6
        let vector = VectorEnvironment(Counter(), count: count)
        vector.reset(seed: 2024)
        var singles = (0..<count).map { _ in Counter() }
        var expectedObservations = (0..<count).map { singles[$0].reset(seed: seedForCopy($0, of: 2024)) }
        var returns = [Double](repeating: 0, count: count), lengths = [Int](repeating: 0, count: count)
        var actionSource = SeededGenerator(seed: 3)
        var finishedEpisodeCount = 0
        for _ in 0..<40 {
            let actions = (0..<count).map { _ in actionSource.int(below: 3) }
            try vector.step(actions)
            for i in 0..<count {
                let step = try singles[i].step(actions[i])
                returns[i] += Double(step.reward)
                lengths[i] += 1
                XCTAssertEqual(vector.rewards[i], step.reward)
                XCTAssertEqual(vector.isTerminated[i], step.isTerminated)
                if step.isDone {
                    finishedEpisodeCount += 1
                    XCTAssertEqual(Array(vector.finalObservation(ofCopy: i)), step.observation)
                    XCTAssertEqual(vector.finishedEpisodeReturns[i], returns[i])
                    XCTAssertEqual(vector.finishedEpisodeLengths[i], lengths[i])
                    returns[i] = 0
                    lengths[i] = 0
                    expectedObservations[i] = singles[i].reset(seed: nil)
                } else {
                    expectedObservations[i] = step.observation
                }
                XCTAssertEqual(Array(vector.observation(ofCopy: i)), expectedObservations[i])
            }
        }
        // Episodes last 2...5 steps, so 40 steps end at least 8 per copy.
        XCTAssertGreaterThanOrEqual(finishedEpisodeCount, 8 * count)
    }

    func testSlicedParallelSteppingMatchesSerialBitForBit() throws {
        let count = 37  // uneven slices
        let serial = VectorEnvironment(Counter(), count: count)
        serial.parallelThreshold = .max
        serial.workerPool = WorkerPool(threadCount: 1)  // not the shared pool, which other tests resize
        let chunkedIn16 = VectorEnvironment(Counter(), count: count)
        chunkedIn16.parallelThreshold = 1
        chunkedIn16.workerPool = WorkerPool(threadCount: 16)
        let chunkedIn2 = VectorEnvironment(Counter(), count: count)
        chunkedIn2.parallelThreshold = 1
        chunkedIn2.workerPool = WorkerPool(threadCount: 2)
        let chunkedIn7 = VectorEnvironment(Counter(), count: count)
        chunkedIn7.parallelThreshold = 1
        chunkedIn7.workerPool = WorkerPool(threadCount: 7)
        XCTAssertEqual([serial, chunkedIn16, chunkedIn2, chunkedIn7].map(\.workerPool.threadCount), [1, 16, 2, 7])
        let vectors = [serial, chunkedIn16, chunkedIn2, chunkedIn7]
        for vector in vectors { vector.reset(seed: 11) }
        var actionSource = SeededGenerator(seed: 12)
        var endedEpisodes = 0
        for _ in 0..<60 {
            let actions = (0..<count).map { _ in actionSource.int(below: 3) }
            for vector in vectors { try vector.step(actions) }
            endedEpisodes += serial.finishedCopies.count
            for other in vectors.dropFirst() {
                XCTAssertEqual(bits(other.observations), bits(serial.observations))
                XCTAssertEqual(bits(other.rewards), bits(serial.rewards))
                XCTAssertEqual(Array(other.isTerminated), Array(serial.isTerminated))
                XCTAssertEqual(Array(other.isTruncated), Array(serial.isTruncated))
                XCTAssertEqual(other.finishedCopies, serial.finishedCopies)
                for i in serial.finishedCopies {
                    XCTAssertEqual(bits(other.finalObservation(ofCopy: i)), bits(serial.finalObservation(ofCopy: i)))
                    XCTAssertEqual(other.finishedEpisodeReturns[i], serial.finishedEpisodeReturns[i])
                    XCTAssertEqual(other.finishedEpisodeLengths[i], serial.finishedEpisodeLengths[i])
                }
            }
        }
        XCTAssertGreaterThan(endedEpisodes, 300)  // autoreset was exercised in every chunk
    }

    func testInvalidActionNamesTheCopyAndStepsNothing() throws {
        let vector = VectorEnvironment(Counter(), count: 4)
        vector.reset(seed: 3)
        let before = Array(vector.observations)
        XCTAssertThrowsError(try vector.step([0, 2, 3, -1])) { error in
            XCTAssertEqual(error as? VectorEnvironmentError, .invalidAction(copy: 2, action: 3, count: 3))
            XCTAssertEqual("\(error)", "copy 2: action 3 is outside the action space: valid actions are 0...2")
        }
        XCTAssertEqual(Array(vector.observations), before)
        XCTAssertThrowsError(try vector.step([0, 0, 0])) { error in
            XCTAssertEqual(error as? VectorEnvironmentError, .wrongActionCount(3, expected: 4))
        }
        // Valid actions whose bitwise OR (3) is not below the action count still pass.
        try vector.step([1, 2, 0, 2])
        XCTAssertEqual(vector.observation(ofCopy: 3)[0], 1)
        XCTAssertEqual(Array(vector.rewards), [2, 3, 1, 3])
    }

    func testStepBeforeResetThrows() {
        let vector = VectorEnvironment(Counter(), count: 2)
        XCTAssertThrowsError(try vector.step([0, 0])) { error in
            XCTAssertEqual(error as? VectorEnvironmentError, .notReset)
        }
    }

    func testTypeErasedFactoryOpensAnyEnvironment() throws {
        let prototype: any Environment = Counter()
        let erased = makeVectorEnvironment(prototype, count: 3)
        XCTAssertEqual(erased.count, 3)
        XCTAssertEqual(erased.observationSize, 2)
        XCTAssertEqual(erased.actionSpace, .discrete(Discrete(3)))
        let typed = VectorEnvironment(Counter(), count: 3)
        erased.reset(seed: 8)
        typed.reset(seed: 8)
        for _ in 0..<10 {
            try erased.step([1, 2, 0])
            try typed.step([1, 2, 0])
        }
        XCTAssertEqual(Array(erased.observations), Array(typed.observations))
        XCTAssertEqual(Array(erased.finishedEpisodeReturns), Array(typed.finishedEpisodeReturns))
    }

    func testSpecializedAndGenericPathsGiveTheSameCartPoleTrajectories() throws {
        // CartPole-v1 takes the factory's specialised path; wrapped in EpisodeStatistics it
        // is not listed, so it takes the generic one. The numbers must not differ.
        let listed: any Environment = TimeLimit(CartPole(), maxEpisodeSteps: 500)
        let unlisted: any Environment = EpisodeStatistics(TimeLimit(CartPole(), maxEpisodeSteps: 500))
        let fast = makeVectorEnvironment(listed, count: 70)
        let generic = makeVectorEnvironment(unlisted, count: 70)
        XCTAssertEqual(fast.observationSize, 4)
        fast.reset(seed: 9)
        generic.reset(seed: 9)
        var actionSource = SeededGenerator(seed: 10)
        var ended = 0
        for _ in 0..<100 {
            let actions = (0..<70).map { _ in actionSource.int(below: 2) }
            try fast.step(actions)
            try generic.step(actions)
            XCTAssertEqual(bits(fast.observations), bits(generic.observations))
            XCTAssertEqual(bits(fast.finalObservations), bits(generic.finalObservations))
            XCTAssertEqual(Array(fast.finishedEpisodeLengths), Array(generic.finishedEpisodeLengths))
            ended += fast.finishedCopies.count
        }
        XCTAssertGreaterThan(ended, 70)  // random play ends CartPole episodes in tens of steps
    }

    private func bits(_ values: UnsafeBufferPointer<Float>) -> [UInt32] { values.map(\.bitPattern) }
}
