import Autodiff
import NeuralNet
import SeededRandom

/// On-policy storage for PPO and A2C, as Stable-Baselines3's rollout buffer: `steps`
/// vector steps of `copies` environments, preallocated, step-major (`[t * copies + i]`),
/// thrown away after each update. Plain storage: the algorithm fills row `position` in two
/// halves, what it chose when acting (`storeChoices`) and what the environments answered
/// (`storeOutcomes`, which moves on to the next row).
public final class RolloutBuffer {
    public let steps: Int
    public let copies: Int
    public let observationSize: Int
    /// Observations sₜ, `steps × copies × observationSize`.
    public var observations: [Float]
    /// Actions aₜ (discrete spaces; empty otherwise).
    public var actions: [Int]
    /// Floats per continuous action; 0 for discrete spaces.
    public let actionWidth: Int
    /// Continuous actions aₜ as drawn, `actionWidth` floats each (empty for discrete spaces).
    public var continuousActions: [Float]
    /// log π(aₜ|sₜ) when the action was chosen.
    public var logProbabilities: [Float]
    /// V(sₜ) when the action was chosen.
    public var values: [Float]
    /// Rewards rₜ (PPO and A2C add γ·V(final observation) where an episode was truncated).
    public var rewards: [Float]
    /// Whether the episode ended (terminated or truncated) at this step.
    public var episodeEnded: [Bool]
    /// The row being filled: vector steps stored so far.
    public private(set) var position = 0

    public init(steps: Int, copies: Int, observationSize: Int, actionWidth: Int = 0) {
        precondition(steps > 0 && copies > 0, "a rollout needs at least one step and one copy")
        self.steps = steps
        self.copies = copies
        self.observationSize = observationSize
        self.actionWidth = actionWidth
        observations = Array(repeating: 0, count: steps * copies * observationSize)
        actions = Array(repeating: 0, count: actionWidth == 0 ? steps * copies : 0)
        continuousActions = Array(repeating: 0, count: steps * copies * actionWidth)
        logProbabilities = Array(repeating: 0, count: steps * copies)
        values = Array(repeating: 0, count: steps * copies)
        rewards = Array(repeating: 0, count: steps * copies)
        episodeEnded = Array(repeating: false, count: steps * copies)
    }

    public var isFull: Bool { position == steps }
    /// Transitions per full rollout.
    public var capacity: Int { steps * copies }
    /// The flat index of copy `i` in the row being filled.
    public func index(ofCopy i: Int) -> Int { position * copies + i }

    /// Row `position`, first half: the observations acted on and what the policy chose.
    public func storeChoices(observations source: UnsafeBufferPointer<Float>, _ sample: PolicySample) {
        precondition(position < steps, "rollout buffer is full: call reset() after the update")
        let base = position * copies
        observations.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + base * observationSize).update(from: source.baseAddress!, count: copies * observationSize)
        }
        if actionWidth > 0 {
            continuousActions.replaceSubrange((base * actionWidth)..<((base + copies) * actionWidth),
                                              with: sample.continuousActions)
        }
        for i in 0..<copies {
            if actionWidth == 0 { actions[base + i] = sample.actions[i] }
            logProbabilities[base + i] = sample.logProbabilities[i]
            values[base + i] = sample.values[i]
        }
    }

    /// Row `position`, second half: rewards and episode ends; then moves to the next row.
    public func storeOutcomes(_ transitions: Transitions) {
        precondition(position < steps, "rollout buffer is full: call reset() after the update")
        let base = position * copies
        for i in 0..<copies {
            rewards[base + i] = transitions.rewards[i]
            episodeEnded[base + i] = transitions.isTerminated[i] || transitions.isTruncated[i]
        }
        position += 1
    }

    /// Empties the buffer (storage is kept).
    public func reset() { position = 0 }

    /// The actions at the given flat indices, as the policy's loss takes them.
    public func policyActions(_ indices: some Collection<Int>) -> PolicyActions {
        guard actionWidth > 0 else { return .discrete(indices.map { actions[$0] }) }
        var rows = [Float]()
        rows.reserveCapacity(indices.count * actionWidth)
        for index in indices { rows += continuousActions[(index * actionWidth)..<((index + 1) * actionWidth)] }
        return .continuous(Tensor(shape: [indices.count, actionWidth], scalars: rows))
    }

    /// The observations at the given flat indices as a batch tensor [indices.count] + shape.
    public func observationBatch(_ indices: ArraySlice<Int>, shape: [Int]) -> Tensor {
        let batch = Tensor(repeating: 0, shape: [indices.count] + shape)
        observations.withUnsafeBufferPointer { source in
            for (row, index) in indices.enumerated() {
                (batch.storage + row * observationSize)
                    .update(from: source.baseAddress! + index * observationSize, count: observationSize)
            }
        }
        return batch
    }
}

// MARK: - Saving a partly filled rollout with a checkpoint

extension RolloutBuffer {
    /// The rows filled so far under `rollout.` (nothing when the rollout is empty), so a
    /// checkpoint taken between two updates resumes with the same rollout.
    public func save(into checkpoint: inout AgentCheckpoint) {
        guard position > 0 else { return }
        let n = position * copies
        func entry(_ values: [Float], _ shape: [Int]) -> SafeTensors.Entry { SafeTensors.Entry(shape: shape, scalars: values) }
        checkpoint.tensors["rollout.observations"] = entry(Array(observations[0..<(n * observationSize)]), [n, observationSize])
        checkpoint.tensors["rollout.actions"] = actionWidth == 0
            ? entry(actions[0..<n].map(Float.init), [n])
            : entry(Array(continuousActions[0..<(n * actionWidth)]), [n, actionWidth])
        checkpoint.tensors["rollout.log_probabilities"] = entry(Array(logProbabilities[0..<n]), [n])
        checkpoint.tensors["rollout.values"] = entry(Array(values[0..<n]), [n])
        checkpoint.tensors["rollout.rewards"] = entry(Array(rewards[0..<n]), [n])
        checkpoint.tensors["rollout.episode_ended"] = entry(episodeEnded[0..<n].map { $0 ? 1 : 0 }, [n])
        checkpoint.state["rollout.position"] = String(position)
    }

    /// Checks the rows saved by `save(into:)` (none saved: an empty rollout) and returns a
    /// closure that loads them, so a caller can check everything before changing anything.
    public func prepareRestore(from checkpoint: AgentCheckpoint, actionCount: Int) throws(CheckpointError) -> () -> Void {
        guard checkpoint.state["rollout.position"] != nil else { return { [self] in position = 0 } }
        let rows = try checkpoint.integer("rollout.position", in: 1...(steps - 1))
        let n = rows * copies
        let savedObservations = try checkpoint.scalars("rollout.observations", shape: [n, observationSize])
        let savedActions = actionWidth == 0 ? try checkpoint.actions("rollout.actions", count: n, actionCount: actionCount) : []
        let savedContinuous = actionWidth == 0 ? [] : try checkpoint.scalars("rollout.actions", shape: [n, actionWidth])
        let savedLogProbabilities = try checkpoint.scalars("rollout.log_probabilities", shape: [n])
        let savedValues = try checkpoint.scalars("rollout.values", shape: [n])
        let savedRewards = try checkpoint.scalars("rollout.rewards", shape: [n])
        let savedEnded = try checkpoint.scalars("rollout.episode_ended", shape: [n])
        return { [self] in
            observations.replaceSubrange(0..<(n * observationSize), with: savedObservations)
            if actionWidth == 0 {
                actions.replaceSubrange(0..<n, with: savedActions)
            } else {
                continuousActions.replaceSubrange(0..<(n * actionWidth), with: savedContinuous)
            }
            logProbabilities.replaceSubrange(0..<n, with: savedLogProbabilities)
            values.replaceSubrange(0..<n, with: savedValues)
            rewards.replaceSubrange(0..<n, with: savedRewards)
            episodeEnded.replaceSubrange(0..<n, with: savedEnded.map { $0 != 0 })
            position = rows
        }
    }
}

/// The bytes a rollout buffer of `steps × copies` transitions holds: the observation, the
/// log-probability, value and reward (Float), the action (an Int, or `actionWidth` floats)
/// and the episode flag.
public func rolloutBufferBytes(steps: Int, copies: Int, observationSize: Int, actionWidth: Int = 0) -> Double {
    Double(steps) * Double(copies) * (Double(observationSize + 3) * 4 + (actionWidth == 0 ? 8 : 4 * Double(actionWidth)) + 1)
}

/// `values[indices]` as a 1-D tensor.
func gathered(_ values: [Float], _ indices: ArraySlice<Int>) -> Tensor {
    Tensor(shape: [indices.count], scalars: indices.map { values[$0] })
}

/// A uniformly random permutation of `0..<count` (Fisher–Yates) from `generator`.
public func shuffledIndices(_ count: Int, using generator: inout SeededGenerator) -> [Int] {
    var indices = Array(0..<count)
    if count > 1 {
        for i in stride(from: count - 1, to: 0, by: -1) {
            indices.swapAt(i, generator.int(below: i + 1))
        }
    }
    return indices
}
