import NeuralNet
import SeededRandom
import XCTest
@testable import Agents

/// Buffers for hand-made `Transitions` of one vector step (the loop's views are only valid
/// inside `observe`; these live as long as the fixture).
final class TransitionFixture {
    let count: Int
    let observationSize: Int
    var observations: [Float]
    var actions: [Int]
    /// Continuous actions, `actionWidth` per copy (empty for numbered actions).
    var continuousActions: [Float]
    let actionWidth: Int
    var rewards: [Float]
    var nextObservations: [Float]
    var finalObservations: [Float]
    var isTerminated: [Bool]
    var isTruncated: [Bool]

    init(count: Int, observationSize: Int, actionWidth: Int = 0) {
        self.count = count
        self.observationSize = observationSize
        self.actionWidth = actionWidth
        observations = Array(repeating: 0, count: count * observationSize)
        actions = Array(repeating: 0, count: count)
        continuousActions = Array(repeating: 0, count: count * actionWidth)
        rewards = Array(repeating: 0, count: count)
        nextObservations = Array(repeating: 0, count: count * observationSize)
        finalObservations = Array(repeating: -99, count: count * observationSize)
        isTerminated = Array(repeating: false, count: count)
        isTruncated = Array(repeating: false, count: count)
    }

    /// Calls `body` with `Transitions` viewing the fixture's arrays.
    func withTransitions<R>(globalStep: Int, _ body: (Transitions) throws -> R) rethrows -> R {
        try observations.withUnsafeBufferPointer { o in
            try actions.withUnsafeBufferPointer { a in
                try continuousActions.withUnsafeBufferPointer { c in
                    try rewards.withUnsafeBufferPointer { r in
                        try nextObservations.withUnsafeBufferPointer { n in
                            try finalObservations.withUnsafeBufferPointer { f in
                                try isTerminated.withUnsafeBufferPointer { te in
                                    try isTruncated.withUnsafeBufferPointer { tr in
                                        try body(Transitions(
                                            count: count, observationSize: observationSize, observations: o, actions: a,
                                            continuousActions: c, actionWidth: actionWidth, rewards: r,
                                            nextObservations: n, finalObservations: f, isTerminated: te,
                                            isTruncated: tr, globalStep: globalStep))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

final class ReplayBufferTests: XCTestCase {
    /// Adds a transition whose every field is derived from `k`: s = [k, k + 0.5],
    /// a = k, r = 10k, s′ = [−k, −k − 0.5], terminated when k is odd.
    private func addNumbered(_ buffer: ReplayBuffer, _ k: Int) {
        let s: [Float] = [Float(k), Float(k) + 0.5], next: [Float] = [-Float(k), -Float(k) - 0.5]
        s.withUnsafeBufferPointer { sp in
            next.withUnsafeBufferPointer { np in
                buffer.add(observation: sp, action: k, reward: Float(10 * k), nextObservation: np, isTerminated: k % 2 == 1)
            }
        }
    }

    func testRingWrapsAroundAndOverwritesTheOldest() {
        let buffer = ReplayBuffer(capacity: 3, observationSize: 2)
        addNumbered(buffer, 0)
        addNumbered(buffer, 1)
        XCTAssertEqual(buffer.count, 2)
        XCTAssertEqual(buffer.position, 2)
        XCTAssertFalse(buffer.isFull)
        for k in 2...4 { addNumbered(buffer, k) }
        // Five transitions into three slots: slot 0 ← 3, slot 1 ← 4, slot 2 keeps 2.
        XCTAssertEqual(buffer.count, 3)
        XCTAssertEqual(buffer.position, 2)
        XCTAssertTrue(buffer.isFull)
        XCTAssertEqual(buffer.actions, [3, 4, 2])
        XCTAssertEqual(buffer.rewards, [30, 40, 20])
        XCTAssertEqual(buffer.observations, [3, 3.5, 4, 4.5, 2, 2.5])
        XCTAssertEqual(buffer.nextObservations, [-3, -3.5, -4, -4.5, -2, -2.5])
        XCTAssertEqual(buffer.isTerminated, [true, false, false])

        let batch = buffer.batch(at: [2, 0, 0])
        XCTAssertEqual(batch.count, 3)
        XCTAssertEqual(batch.actions, [2, 3, 3])
        XCTAssertEqual(batch.rewards, [20, 30, 30])
        XCTAssertEqual(batch.observations, [2, 2.5, 3, 3.5, 3, 3.5])
        XCTAssertEqual(batch.nextObservations, [-2, -2.5, -3, -3.5, -3, -3.5])
        XCTAssertEqual(batch.terminated, [0, 1, 1])
    }

    /// One vector step of four copies after autoreset: an ordinary step, a terminated
    /// episode, a truncated one, and one that hit the time limit on its terminal step.
    func testVectorStepStoresTheSuccessorWithinEachEpisode() {
        let fixture = TransitionFixture(count: 4, observationSize: 2)
        fixture.observations = [0, 0.1, 1, 1.1, 2, 2.1, 3, 3.1]
        fixture.actions = [1, 0, 1, 0]
        fixture.rewards = [0.5, -1, 1, 2]
        // After autoreset, copies 1–3 already show their next episode's first observation…
        fixture.nextObservations = [10, 10.1, 100, 100.1, 200, 200.1, 300, 300.1]
        // …and their last observation of the ended episode is here (copy 0's is stale).
        fixture.finalObservations = [-99, -99, 11, 11.1, 21, 21.1, 31, 31.1]
        fixture.isTerminated = [false, true, false, true]
        fixture.isTruncated = [false, false, true, true]

        let buffer = ReplayBuffer(capacity: 8, observationSize: 2)
        fixture.withTransitions(globalStep: 4) { buffer.add($0) }

        XCTAssertEqual(buffer.count, 4)
        XCTAssertEqual(Array(buffer.observations[0..<8]), [0, 0.1, 1, 1.1, 2, 2.1, 3, 3.1])
        XCTAssertEqual(Array(buffer.actions[0..<4]), [1, 0, 1, 0])
        XCTAssertEqual(Array(buffer.rewards[0..<4]), [0.5, -1, 1, 2])
        // Ordinary: the next observation; ended: the final one, never the reset one.
        XCTAssertEqual(Array(buffer.nextObservations[0..<8]), [10, 10.1, 11, 11.1, 21, 21.1, 31, 31.1])
        // Only termination stops the bootstrap; truncation alone does not.
        XCTAssertEqual(Array(buffer.isTerminated[0..<4]), [false, true, false, true])
        XCTAssertEqual(buffer.batch(at: [0, 1, 2, 3]).terminated, [0, 1, 0, 1])
    }

    func testSamplingIsUniformWithReplacementAndReproducibleFromTheSeed() {
        let buffer = ReplayBuffer(capacity: 10, observationSize: 2)
        for k in 0..<7 { addNumbered(buffer, k) }

        var generator = SeededGenerator(seed: 42)
        let batch = buffer.sample(batchSize: 16, using: &generator)
        // The same seed draws the same slots: one `int(below: count)` per row.
        var replay = SeededGenerator(seed: 42)
        let expected = (0..<16).map { _ in replay.int(below: 7) }
        XCTAssertEqual(batch.actions, expected)
        XCTAssertEqual(batch.rewards, expected.map { Float(10 * $0) })
        XCTAssertEqual(batch.terminated, expected.map { $0 % 2 == 1 ? 1 : 0 })
        XCTAssertEqual(generator, replay)

        var again = SeededGenerator(seed: 42)
        XCTAssertEqual(buffer.sample(batchSize: 16, using: &again), batch)
        var other = SeededGenerator(seed: 43)
        XCTAssertNotEqual(buffer.sample(batchSize: 16, using: &other).actions, batch.actions)
    }

    func testSavedBufferRestoresExactlyAndAWrongCapacityIsRefused() throws {
        let buffer = ReplayBuffer(capacity: 3, observationSize: 2)
        for k in 0..<4 { addNumbered(buffer, k) }
        var checkpoint = AgentCheckpoint()
        buffer.save(into: &checkpoint)
        XCTAssertEqual(checkpoint.state["replay.count"], "3")
        XCTAssertEqual(checkpoint.state["replay.position"], "1")
        XCTAssertEqual(checkpoint.tensors["replay.actions"], SafeTensors.Entry(shape: [3], scalars: [3, 1, 2]))
        XCTAssertEqual(checkpoint.tensors["replay.terminated"], SafeTensors.Entry(shape: [3], scalars: [1, 1, 0]))

        let copy = ReplayBuffer(capacity: 3, observationSize: 2)
        try copy.prepareRestore(from: checkpoint, actionCount: 4)()
        XCTAssertEqual(copy.observations, buffer.observations)
        XCTAssertEqual(copy.nextObservations, buffer.nextObservations)
        XCTAssertEqual(copy.actions, buffer.actions)
        XCTAssertEqual(copy.rewards, buffer.rewards)
        XCTAssertEqual(copy.isTerminated, buffer.isTerminated)
        XCTAssertEqual(copy.position, 1)
        XCTAssertEqual(copy.count, 3)

        let larger = ReplayBuffer(capacity: 4, observationSize: 2)
        addNumbered(larger, 9)
        XCTAssertThrowsError(try larger.prepareRestore(from: checkpoint, actionCount: 4))
        var damaged = checkpoint
        damaged.tensors["replay.rewards"] = SafeTensors.Entry(shape: [2], scalars: [0, 0])
        XCTAssertThrowsError(try copy.prepareRestore(from: damaged, actionCount: 4)) { error in
            XCTAssertEqual(error as? CheckpointError, .shapeMismatch(name: "replay.rewards", expected: [3], found: [2]))
        }
        XCTAssertEqual(larger.count, 1)
        XCTAssertEqual(larger.actions, [9, 0, 0, 0])
    }

    /// Hostile saved values are refused by name before anything changes: actions that are
    /// no action (huge, infinite, beyond the action space), NaN observations, counts past
    /// any run.
    func testHostileSavedValuesAreRefused() throws {
        let buffer = ReplayBuffer(capacity: 3, observationSize: 2)
        for k in 0..<2 { addNumbered(buffer, k) }
        var checkpoint = AgentCheckpoint()
        buffer.save(into: &checkpoint)
        let fresh = ReplayBuffer(capacity: 3, observationSize: 2)
        for bad: Float in [1e30, .infinity, -1, 4, 0.5, .nan] {
            var damaged = checkpoint
            damaged.tensors["replay.actions"] = SafeTensors.Entry(shape: [2], scalars: [0, bad])
            XCTAssertThrowsError(try fresh.prepareRestore(from: damaged, actionCount: 4), "action \(bad)") { error in
                switch error as? CheckpointError {
                case .valueOutOfRange(let name, _, _)? where bad.isFinite: XCTAssertEqual(name, "replay.actions")
                case .nonFiniteValue(let name)? where !bad.isFinite: XCTAssertEqual(name, "replay.actions")
                default: XCTFail("action \(bad): \(error)")
                }
            }
        }
        var damaged = checkpoint
        damaged.tensors["replay.observations"] = SafeTensors.Entry(shape: [2, 2], scalars: [0, .nan, 1, 1])
        XCTAssertThrowsError(try fresh.prepareRestore(from: damaged, actionCount: 4)) { error in
            XCTAssertEqual(error as? CheckpointError, .nonFiniteValue(name: "replay.observations"))
        }
        damaged = checkpoint
        damaged.state["replay.count"] = String(Int.max)
        XCTAssertThrowsError(try fresh.prepareRestore(from: damaged, actionCount: 4))
        XCTAssertEqual(fresh.count, 0)
    }

    /// Binary observations stored as bits come back as the same 0s and 1s as a float
    /// buffer's, through batches and through a checkpoint, in a 30th of the memory; a saved
    /// buffer with other values is refused for a binary one.
    func testBinaryObservationsAreStoredAsBits() throws {
        let size = 13  // not a multiple of 8
        let bits = ReplayBuffer(capacity: 5, observationSize: size, binary: true)
        let floats = ReplayBuffer(capacity: 5, observationSize: size)
        var generator = SeededGenerator(seed: 3)
        for k in 0..<7 {
            let observation = (0..<size).map { _ in Float(generator.int(below: 2)) }
            let next = (0..<size).map { _ in Float(generator.int(below: 2)) }
            for buffer in [bits, floats] {
                observation.withUnsafeBufferPointer { o in
                    next.withUnsafeBufferPointer { n in
                        buffer.add(observation: o, action: k % 3, reward: Float(k), nextObservation: n, isTerminated: k == 4)
                    }
                }
            }
        }
        XCTAssertEqual(bits.observations, floats.observations)
        XCTAssertEqual(bits.nextObservations, floats.nextObservations)
        XCTAssertEqual(bits.batch(at: [4, 0, 2, 2]), floats.batch(at: [4, 0, 2, 2]))

        var checkpoint = AgentCheckpoint()
        bits.save(into: &checkpoint)
        let restored = ReplayBuffer(capacity: 5, observationSize: size, binary: true)
        try restored.prepareRestore(from: checkpoint, actionCount: 3)()
        XCTAssertEqual(restored.batch(at: [0, 1, 2, 3, 4]), floats.batch(at: [0, 1, 2, 3, 4]))
        XCTAssertEqual(restored.position, floats.position)

        var damaged = checkpoint
        var entry = try XCTUnwrap(damaged.tensors["replay.observations"])
        entry.scalars[5] = 0.5
        damaged.tensors["replay.observations"] = entry
        XCTAssertThrowsError(try restored.prepareRestore(from: damaged, actionCount: 3)) { error in
            guard case .valueOutOfRange(let name, _, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "replay.observations")
        }

        // A 100,000-transition buffer of MinAtar's 10×10×4 frames: bits against floats.
        let minAtar = 400
        let packed = ReplayBuffer.bytesPerTransition(observationSize: minAtar, binary: true)
        let unpacked = ReplayBuffer.bytesPerTransition(observationSize: minAtar, binary: false)
        XCTAssertEqual(packed, 2 * 50 + 13)
        XCTAssertEqual(unpacked, 2 * 1_600 + 13)
        XCTAssertLessThan(Double(packed), Double(unpacked) / 4)
        XCTAssertEqual(bits.storageBytes, 5 * (2 * 2 + 13))
    }
}
