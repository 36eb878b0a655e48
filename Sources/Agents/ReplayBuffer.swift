import NeuralNet
import SeededRandom

/// Off-policy storage for DQN: a preallocated ring of `capacity` transitions kept across
/// updates, sampled uniformly (SB3's `ReplayBuffer`, without its memory-saving tricks).
///
/// Each slot holds (s, a, r, s′, terminated). s′ is the observation that followed the
/// action *within its episode*: for a copy whose episode ended it is the episode's final
/// observation, never the first observation of the next episode that the vector
/// environment has already reset to. A truncated transition (time limit) is stored with
/// `terminated = false`, so the TD target still bootstraps from its s′; only a terminated
/// one cuts the bootstrap.
///
/// When the ring is full the oldest transition is overwritten.
public final class ReplayBuffer {
    /// The most transitions kept.
    public let capacity: Int
    /// Floats per observation.
    public let observationSize: Int
    /// Observations sₜ, `capacity × observationSize`, slot after slot.
    public private(set) var observations: [Float]
    /// Successor observations sₜ₊₁ (within the episode), same layout.
    public private(set) var nextObservations: [Float]
    public private(set) var actions: [Int]
    public private(set) var rewards: [Float]
    /// Whether the episode ended for the task at this transition (no bootstrapping).
    public private(set) var isTerminated: [Bool]
    /// The slot the next transition goes into.
    public private(set) var position = 0
    /// Transitions stored so far (at most `capacity`).
    public private(set) var count = 0

    public init(capacity: Int, observationSize: Int) {
        precondition(capacity > 0, "a replay buffer needs a positive capacity, got \(capacity)")
        precondition(observationSize > 0, "observations need at least one float, got \(observationSize)")
        self.capacity = capacity
        self.observationSize = observationSize
        observations = Array(repeating: 0, count: capacity * observationSize)
        nextObservations = Array(repeating: 0, count: capacity * observationSize)
        actions = Array(repeating: 0, count: capacity)
        rewards = Array(repeating: 0, count: capacity)
        isTerminated = Array(repeating: false, count: capacity)
    }

    public var isFull: Bool { count == capacity }

    /// Stores one transition, overwriting the oldest when full.
    public func add(
        observation: UnsafeBufferPointer<Float>, action: Int, reward: Float,
        nextObservation: UnsafeBufferPointer<Float>, isTerminated terminated: Bool
    ) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize,
                     "replay buffer: observations must have \(observationSize) floats")
        let offset = position * observationSize
        observations.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + offset).update(from: observation.baseAddress!, count: observationSize)
        }
        nextObservations.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + offset).update(from: nextObservation.baseAddress!, count: observationSize)
        }
        actions[position] = action
        rewards[position] = reward
        isTerminated[position] = terminated
        position = (position + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Stores every copy's transition of one vector step, copy 0 first.
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
        let size = observationSize
        var batch = ReplayBatch(count: indices.count, observationSize: size)
        observations.withUnsafeBufferPointer { source in
            batch.observations.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    (target.baseAddress! + row * size).update(from: source.baseAddress! + index * size, count: size)
                }
            }
        }
        nextObservations.withUnsafeBufferPointer { source in
            batch.nextObservations.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    (target.baseAddress! + row * size).update(from: source.baseAddress! + index * size, count: size)
                }
            }
        }
        for (row, index) in indices.enumerated() {
            batch.actions[row] = actions[index]
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
}

/// A minibatch of transitions, ready to become tensors.
public struct ReplayBatch: Equatable, Sendable {
    /// Transitions in the batch, B.
    public var count: Int
    /// Observations sₜ, `B × observationSize`, row after row.
    public var observations: [Float]
    public var actions: [Int]
    public var rewards: [Float]
    /// Successor observations sₜ₊₁, same layout as `observations`.
    public var nextObservations: [Float]
    /// 1 where the episode terminated, 0 elsewhere (truncated included), so that the TD
    /// target is r + γ·(1 − terminated)·max Q′(s′, ·).
    public var terminated: [Float]

    public init(count: Int, observationSize: Int) {
        self.count = count
        observations = Array(repeating: 0, count: count * observationSize)
        actions = Array(repeating: 0, count: count)
        rewards = Array(repeating: 0, count: count)
        nextObservations = Array(repeating: 0, count: count * observationSize)
        terminated = Array(repeating: 0, count: count)
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
            shape: [n, size], scalars: Array(observations[0..<(n * size)]))
        checkpoint.tensors[prefix + "next_observations"] = SafeTensors.Entry(
            shape: [n, size], scalars: Array(nextObservations[0..<(n * size)]))
        checkpoint.tensors[prefix + "actions"] = SafeTensors.Entry(shape: [n], scalars: actions[0..<n].map { Float($0) })
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
        func integer(_ key: String) throws(CheckpointError) -> Int {
            try checkpoint.integer(prefix + key)
        }
        let savedCapacity = try integer("capacity"), savedPosition = try integer("position"), n = try integer("count")
        guard savedCapacity == capacity else {
            throw .corruptHeader(path: "checkpoint",
                                 reason: "the saved replay buffer holds \(savedCapacity) transitions but this one \(capacity); set buffer_size to \(savedCapacity) or resume without the buffer")
        }
        guard (0...capacity).contains(n), (0..<capacity).contains(savedPosition), n == capacity || savedPosition == n else {
            throw .corruptHeader(path: "checkpoint", reason: "replay position \(savedPosition) and count \(n) are inconsistent")
        }
        func entry(_ name: String, _ shape: [Int]) throws(CheckpointError) -> [Float] {
            guard let entry = checkpoint.tensors[prefix + name] else { throw .missingTensor(name: prefix + name) }
            guard entry.shape == shape else { throw .shapeMismatch(name: prefix + name, expected: shape, found: entry.shape) }
            guard entry.scalars.allSatisfy(\.isFinite) else { throw .nonFiniteValue(name: prefix + name) }
            return entry.scalars
        }
        let savedObservations = try entry("observations", [n, observationSize])
        let savedNext = try entry("next_observations", [n, observationSize])
        let savedActions = try entry("actions", [n]), savedRewards = try entry("rewards", [n])
        let savedTerminated = try entry("terminated", [n])
        for a in savedActions where !(a >= 0 && a < Float(actionCount) && a == a.rounded()) {
            throw .valueOutOfRange(name: prefix + "actions", value: "\(a)", expected: "an action in 0..<\(actionCount)")
        }
        return { [self] in
            observations.replaceSubrange(0..<(n * observationSize), with: savedObservations)
            nextObservations.replaceSubrange(0..<(n * observationSize), with: savedNext)
            actions.replaceSubrange(0..<n, with: savedActions.map { Int($0) })
            rewards.replaceSubrange(0..<n, with: savedRewards)
            isTerminated.replaceSubrange(0..<n, with: savedTerminated.map { $0 != 0 })
            position = savedPosition
            count = n
        }
    }
}
