import NeuralNet
import SeededRandom

/// Off-policy storage for DQN, SAC and TD3: a preallocated ring of `capacity` transitions
/// kept across updates, sampled uniformly (SB3's `ReplayBuffer`). Actions are numbers
/// (`actionWidth == 0`, discrete spaces) or `actionWidth` floats each (continuous spaces;
/// the learner decides their units, SAC and TD3 store them scaled to [−1, 1]).
///
/// Each slot holds (s, a, r, s′, terminated). s′ is the observation that followed the
/// action *within its episode*: for a copy whose episode ended it is the episode's final
/// observation, never the first observation of the next episode that the vector
/// environment has already reset to. A truncated transition (time limit) is stored with
/// `terminated = false`, so the TD target still bootstraps from its s′; only a terminated
/// one cuts the bootstrap.
///
/// Observations of a binary space (`Box.isBinary`: MinAtar's channels, one-hot grids) are
/// stored as one bit per element instead of 32, which every batch turns back into the same
/// 0s and 1s: a 100,000-transition buffer of MinAtar frames takes 11 MB instead of 321 MB.
/// When the ring is full the oldest transition is overwritten.
public final class ReplayBuffer {
    /// The most transitions kept.
    public let capacity: Int
    /// Floats per observation.
    public let observationSize: Int
    /// Whether observations are kept as bits (every element 0 or 1).
    public let storesBits: Bool
    /// Bytes per observation when stored as bits.
    private let packedSize: Int
    /// Observations sₜ and their successors sₜ₊₁, slot after slot: `observationSize` floats
    /// each, or `packedSize` bytes of bits (element j in bit j % 8 of byte j / 8) when
    /// `storesBits`.
    private var floatRows: (observations: [Float], next: [Float])
    private var byteRows: (observations: [UInt8], next: [UInt8])
    public private(set) var actions: [Int]
    /// Floats per continuous action; 0 when actions are numbers.
    public let actionWidth: Int
    /// Continuous actions, `actionWidth` floats per slot (empty when actions are numbers).
    public private(set) var continuousActions: [Float]
    public private(set) var rewards: [Float]
    /// Whether the episode ended for the task at this transition (no bootstrapping).
    public private(set) var isTerminated: [Bool]
    /// The slot the next transition goes into.
    public private(set) var position = 0
    /// Transitions stored so far (at most `capacity`).
    public private(set) var count = 0

    /// - Parameters:
    ///   - binary: store observations as bits; every element added must be 0 or 1.
    ///   - actionWidth: floats per continuous action, or 0 for numbered actions.
    public init(capacity: Int, observationSize: Int, binary: Bool = false, actionWidth: Int = 0) {
        precondition(actionWidth >= 0, "an action width cannot be negative, got \(actionWidth)")
        precondition(capacity > 0, "a replay buffer needs a positive capacity, got \(capacity)")
        precondition(observationSize > 0, "observations need at least one float, got \(observationSize)")
        self.capacity = capacity
        self.observationSize = observationSize
        storesBits = binary
        packedSize = (observationSize + 7) / 8
        let floats = binary ? 0 : capacity * observationSize, bytes = binary ? capacity * packedSize : 0
        floatRows = (Array(repeating: 0, count: floats), Array(repeating: 0, count: floats))
        byteRows = (Array(repeating: 0, count: bytes), Array(repeating: 0, count: bytes))
        self.actionWidth = actionWidth
        actions = Array(repeating: 0, count: actionWidth == 0 ? capacity : 0)
        continuousActions = Array(repeating: 0, count: capacity * actionWidth)
        rewards = Array(repeating: 0, count: capacity)
        isTerminated = Array(repeating: false, count: capacity)
    }

    /// The bytes one transition takes: two observations, a reward, an action (a number, or
    /// `actionWidth` floats) and a flag.
    public static func bytesPerTransition(observationSize: Int, binary: Bool, actionWidth: Int = 0) -> Int {
        2 * (binary ? (observationSize + 7) / 8 : 4 * observationSize) + 4 + (actionWidth == 0 ? 8 : 4 * actionWidth) + 1
    }

    /// The bytes the buffer's storage takes.
    public var storageBytes: Int {
        capacity * Self.bytesPerTransition(observationSize: observationSize, binary: storesBits, actionWidth: actionWidth)
    }

    public var isFull: Bool { count == capacity }

    /// Observations sₜ of every slot, as floats (a copy).
    public var observations: [Float] { floats(isNext: false, slots: capacity) }
    /// Successor observations sₜ₊₁ (within the episode), same layout.
    public var nextObservations: [Float] { floats(isNext: true, slots: capacity) }

    /// The observations (or successors) of the first `slots` slots, as floats.
    private func floats(isNext: Bool, slots: Int) -> [Float] {
        guard storesBits else { return Array((isNext ? floatRows.next : floatRows.observations)[0..<(slots * observationSize)]) }
        var all = [Float](repeating: 0, count: slots * observationSize)
        gather(Array(0..<slots), isNext: isNext, into: &all)
        return all
    }

    /// Writes one observation into slot `slot` of the observations or their successors.
    private func store(_ observation: UnsafeBufferPointer<Float>, slot: Int, isNext: Bool) {
        if storesBits {
            let offset = slot * packedSize
            func write(_ rows: inout [UInt8]) {
                for byte in 0..<packedSize { rows[offset + byte] = 0 }
                for j in 0..<observationSize {
                    let value = observation[j]
                    precondition(value == 0 || value == 1, "a binary observation space gave the value \(value)")
                    if value == 1 { rows[offset + j >> 3] |= 1 << UInt8(j & 7) }
                }
            }
            if isNext { write(&byteRows.next) } else { write(&byteRows.observations) }
        } else {
            let offset = slot * observationSize
            func write(_ rows: inout [Float]) {
                rows.withUnsafeMutableBufferPointer { buffer in
                    (buffer.baseAddress! + offset).update(from: observation.baseAddress!, count: observationSize)
                }
            }
            if isNext { write(&floatRows.next) } else { write(&floatRows.observations) }
        }
    }

    /// Copies the observations (or successors) of `slots` into `target`, row after row.
    private func gather(_ slots: [Int], isNext: Bool, into target: inout [Float]) {
        let size = observationSize
        target.withUnsafeMutableBufferPointer { target in
            if storesBits {
                let packed = packedSize
                (isNext ? byteRows.next : byteRows.observations).withUnsafeBufferPointer { source in
                    for (row, slot) in slots.enumerated() {
                        for j in 0..<size {
                            target[row * size + j] = Float((source[slot * packed + j >> 3] >> UInt8(j & 7)) & 1)
                        }
                    }
                }
            } else {
                (isNext ? floatRows.next : floatRows.observations).withUnsafeBufferPointer { source in
                    for (row, slot) in slots.enumerated() {
                        (target.baseAddress! + row * size).update(from: source.baseAddress! + slot * size, count: size)
                    }
                }
            }
        }
    }

    /// Stores one transition, overwriting the oldest when full.
    public func add(
        observation: UnsafeBufferPointer<Float>, action: Int, reward: Float,
        nextObservation: UnsafeBufferPointer<Float>, isTerminated terminated: Bool
    ) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize,
                     "replay buffer: observations must have \(observationSize) floats")
        precondition(actionWidth == 0, "this replay buffer stores continuous actions")
        store(observation, slot: position, isNext: false)
        store(nextObservation, slot: position, isNext: true)
        actions[position] = action
        rewards[position] = reward
        isTerminated[position] = terminated
        position = (position + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Stores one transition with a continuous action of `actionWidth` floats, overwriting
    /// the oldest when full.
    public func add(
        observation: UnsafeBufferPointer<Float>, continuousAction action: UnsafeBufferPointer<Float>, reward: Float,
        nextObservation: UnsafeBufferPointer<Float>, isTerminated terminated: Bool
    ) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize,
                     "replay buffer: observations must have \(observationSize) floats")
        precondition(actionWidth > 0 && action.count == actionWidth,
                     "replay buffer: continuous actions must have \(actionWidth) floats, got \(action.count)")
        store(observation, slot: position, isNext: false)
        store(nextObservation, slot: position, isNext: true)
        for j in 0..<actionWidth { continuousActions[position * actionWidth + j] = action[j] }
        rewards[position] = reward
        isTerminated[position] = terminated
        position = (position + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Stores every copy's transition of one vector step, copy 0 first (numbered actions;
    /// a continuous learner stores its own units with `add(observation:continuousAction:…)`).
    public func add(_ transitions: Transitions) {
        precondition(transitions.observationSize == observationSize,
                     "replay buffer: observations must have \(observationSize) floats, got \(transitions.observationSize)")
        let size = observationSize
        for i in 0..<transitions.count {
            let observation = UnsafeBufferPointer(rebasing: transitions.observations[(i * size)..<((i + 1) * size)])
            // Easy to miss: when the episode ended, `nextObservations` already holds the
            // next episode's first observation; the successor is the final observation.
            add(observation: observation, action: transitions.actions[i], reward: transitions.rewards[i],
                nextObservation: transitions.successor(ofCopy: i),
                // Truncation is not termination: bootstrap through time limits.
                isTerminated: transitions.isTerminated[i])
        }
    }

    /// `batchSize` transitions drawn uniformly with replacement from those stored.
    /// - Precondition: the buffer is not empty.
    public func sample(batchSize: Int, using generator: inout SeededGenerator) -> ReplayBatch {
        precondition(count > 0, "cannot sample from an empty replay buffer")
        let indices = (0..<batchSize).map { _ in generator.int(below: count) }
        return batch(at: indices)
    }

    /// The transitions in the given slots, in that order.
    public func batch(at indices: [Int]) -> ReplayBatch {
        var batch = ReplayBatch(count: indices.count, observationSize: observationSize, actionWidth: actionWidth)
        gather(indices, isNext: false, into: &batch.observations)
        gather(indices, isNext: true, into: &batch.nextObservations)
        let width = actionWidth
        for (row, index) in indices.enumerated() {
            if width == 0 {
                batch.actions[row] = actions[index]
            } else {
                for j in 0..<width { batch.continuousActions[row * width + j] = continuousActions[index * width + j] }
            }
            batch.rewards[row] = rewards[index]
            batch.terminated[row] = isTerminated[index] ? 1 : 0
        }
        return batch
    }

    /// Forgets every transition (storage is kept).
    public func removeAll() {
        position = 0
        count = 0
    }

    /// Replaces the first `n` slots (the restore of a saved buffer).
    fileprivate func replace(
        count n: Int, position: Int, observations: [Float], next: [Float], actions savedActions: [Int],
        continuousActions savedContinuous: [Float], rewards savedRewards: [Float], terminated: [Float]
    ) {
        if storesBits {
            for slot in 0..<n {
                let rows = slot * observationSize..<(slot + 1) * observationSize
                observations[rows].withContiguousStorageIfAvailable { store($0, slot: slot, isNext: false) }
                next[rows].withContiguousStorageIfAvailable { store($0, slot: slot, isNext: true) }
            }
        } else {
            let elements = n * observationSize
            floatRows.observations.replaceSubrange(0..<elements, with: observations)
            floatRows.next.replaceSubrange(0..<elements, with: next)
        }
        if actionWidth == 0 {
            actions.replaceSubrange(0..<n, with: savedActions)
        } else {
            continuousActions.replaceSubrange(0..<(n * actionWidth), with: savedContinuous)
        }
        rewards.replaceSubrange(0..<n, with: savedRewards)
        isTerminated.replaceSubrange(0..<n, with: terminated.map { $0 != 0 })
        self.position = position
        count = n
    }
}

/// A minibatch of transitions, ready to become tensors.
public struct ReplayBatch: Equatable, Sendable {
    /// Transitions in the batch, B.
    public var count: Int
    /// Observations sₜ, `B × observationSize`, row after row.
    public var observations: [Float]
    /// Numbered actions, B (empty for continuous actions).
    public var actions: [Int]
    /// Continuous actions, `B × actionWidth` (empty for numbered actions).
    public var continuousActions: [Float]
    public var rewards: [Float]
    /// Successor observations sₜ₊₁, same layout as `observations`.
    public var nextObservations: [Float]
    /// 1 where the episode terminated, 0 elsewhere (truncated included), so that the TD
    /// target is r + γ·(1 − terminated)·max Q′(s′, ·).
    public var terminated: [Float]

    public init(count: Int, observationSize: Int, actionWidth: Int = 0) {
        self.count = count
        observations = Array(repeating: 0, count: count * observationSize)
        actions = Array(repeating: 0, count: actionWidth == 0 ? count : 0)
        continuousActions = Array(repeating: 0, count: count * actionWidth)
        rewards = Array(repeating: 0, count: count)
        nextObservations = Array(repeating: 0, count: count * observationSize)
        terminated = Array(repeating: 0, count: count)
    }

    /// The transitions `rows` of this batch (a shard of it).
    public func rows(_ rows: Range<Int>) -> ReplayBatch {
        let size = observations.count / max(count, 1)
        let width = continuousActions.count / max(count, 1)
        var part = ReplayBatch(count: 0, observationSize: size)
        part.count = rows.count
        part.observations = Array(observations[(rows.lowerBound * size)..<(rows.upperBound * size)])
        part.actions = actions.isEmpty ? [] : Array(actions[rows])
        part.continuousActions = Array(continuousActions[(rows.lowerBound * width)..<(rows.upperBound * width)])
        part.rewards = Array(rewards[rows])
        part.nextObservations = Array(nextObservations[(rows.lowerBound * size)..<(rows.upperBound * size)])
        part.terminated = Array(terminated[rows])
        return part
    }
}

// MARK: - Saving the buffer with a checkpoint

extension ReplayBuffer {
    /// The stored transitions as named tensors (the first `count` slots, in slot order;
    /// actions and flags as floats) under `prefix`, with `capacity`, `position` and `count`
    /// as state. Large: capacity × 2 × observationSize floats at most.
    public func save(into checkpoint: inout AgentCheckpoint, prefix: String = "replay.") {
        let n = count, size = observationSize
        checkpoint.tensors[prefix + "observations"] = SafeTensors.Entry(
            shape: [n, size], scalars: floats(isNext: false, slots: n))
        checkpoint.tensors[prefix + "next_observations"] = SafeTensors.Entry(
            shape: [n, size], scalars: floats(isNext: true, slots: n))
        if actionWidth == 0 {
            checkpoint.tensors[prefix + "actions"] = SafeTensors.Entry(shape: [n], scalars: actions[0..<n].map { Float($0) })
        } else {
            checkpoint.tensors[prefix + "actions"] = SafeTensors.Entry(
                shape: [n, actionWidth], scalars: Array(continuousActions[0..<(n * actionWidth)]))
        }
        checkpoint.tensors[prefix + "rewards"] = SafeTensors.Entry(shape: [n], scalars: Array(rewards[0..<n]))
        checkpoint.tensors[prefix + "terminated"] = SafeTensors.Entry(
            shape: [n], scalars: isTerminated[0..<n].map { $0 ? 1 : 0 })
        checkpoint.state[prefix + "capacity"] = String(capacity)
        checkpoint.state[prefix + "position"] = String(position)
        checkpoint.state[prefix + "count"] = String(count)
    }

    /// Whether `checkpoint` holds a saved buffer under `prefix`.
    public static func isSaved(in checkpoint: AgentCheckpoint, prefix: String = "replay.") -> Bool {
        checkpoint.state[prefix + "count"] != nil
    }

    /// Checks a buffer saved by `save(into:)` and returns a closure that loads it: nothing
    /// changes unless every tensor and value is present and consistent, so a caller can
    /// check all its parts before applying any.
    public func prepareRestore(
        from checkpoint: AgentCheckpoint, actionCount: Int, prefix: String = "replay."
    ) throws(CheckpointError) -> () -> Void {
        let savedCapacity = try checkpoint.integer(prefix + "capacity")
        guard savedCapacity == capacity else {
            throw .valueOutOfRange(name: prefix + "capacity", value: String(savedCapacity), expected: "\(capacity), this "
                + "buffer's size: set buffer_size to \(savedCapacity), or resume from a checkpoint without the buffer")
        }
        let n = try checkpoint.integer(prefix + "count", in: 0...capacity)
        let savedPosition = try checkpoint.integer(prefix + "position", in: 0...(capacity - 1))
        guard n == capacity || savedPosition == n else {
            throw .valueOutOfRange(name: prefix + "position", value: String(savedPosition),
                                   expected: "\(n), the count, while the buffer is not full")
        }
        let savedObservations = try checkpoint.scalars(prefix + "observations", shape: [n, observationSize])
        let savedNext = try checkpoint.scalars(prefix + "next_observations", shape: [n, observationSize])
        let savedActions = actionWidth == 0
            ? try checkpoint.actions(prefix + "actions", count: n, actionCount: actionCount) : []
        let savedContinuous = actionWidth == 0
            ? [] : try checkpoint.scalars(prefix + "actions", shape: [n, actionWidth])
        let savedRewards = try checkpoint.scalars(prefix + "rewards", shape: [n])
        let savedTerminated = try checkpoint.scalars(prefix + "terminated", shape: [n])
        if storesBits {
            for (name, values) in [("observations", savedObservations), ("next_observations", savedNext)]
            where !values.allSatisfy({ $0 == 0 || $0 == 1 }) {
                throw .valueOutOfRange(name: prefix + name, value: "a value other than 0 and 1",
                                       expected: "0 or 1 (the observation space is binary)")
            }
        }
        return { [self] in
            replace(count: n, position: savedPosition, observations: savedObservations, next: savedNext,
                    actions: savedActions, continuousActions: savedContinuous, rewards: savedRewards,
                    terminated: savedTerminated)
        }
    }
}
