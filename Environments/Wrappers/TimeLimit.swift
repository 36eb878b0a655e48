/// Cuts episodes of `Base` short after `maxEpisodeSteps` steps (Gymnasium's `TimeLimit`).
///
/// The step that reaches the limit reports `isTruncated == true`; `isTerminated` is passed
/// through from the base, so when the task ends on that same step both are true and a
/// learner correctly does not bootstrap. After truncation, `step` throws `.episodeEnded`
/// until the next `reset`, like any ended episode. A step that throws (before reset, after
/// the end, an invalid action) does not count towards the limit.
///
/// The wrapper is generic, so `TimeLimit<CartPole>` specialises and adds one counter and
/// one comparison per step.
public struct TimeLimit<Base: Environment>: Environment {
    /// The wrapped environment.
    public var base: Base
    /// The number of steps after which an episode is truncated; at least 1.
    public let maxEpisodeSteps: Int
    /// Steps taken in the current episode.
    public var elapsedSteps: Int { stepCount }
    /// Whether the current episode was truncated by this wrapper.
    public var isTruncated: Bool { hasTruncated }

    @usableFromInline var stepCount = 0
    @usableFromInline var hasTruncated = false

    public init(_ base: Base, maxEpisodeSteps: Int) {
        precondition(maxEpisodeSteps > 0, "a time limit needs at least one step, got \(maxEpisodeSteps)")
        self.base = base
        self.maxEpisodeSteps = maxEpisodeSteps
    }

    public var observationSpace: Box { base.observationSpace }
    public var actionSpace: ActionSpace { base.actionSpace }
    public var actionNames: [String] { base.actionNames }
    public var observationGrid: ObservationGrid? { base.observationGrid }
    public var observationNames: [String] { base.observationNames }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        stepCount = 0
        hasTruncated = false
        base.reset(seed: seed, into: observation)
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try counting { (base) throws(EnvironmentError) in try base.step(action, into: observation) }
    }

    @inlinable
    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try counting { (base) throws(EnvironmentError) in try base.step(action, into: observation) }
    }

    /// One step of the base, counted against the limit.
    @inlinable @inline(__always)
    mutating func counting(
        _ stepBase: (inout Base) throws(EnvironmentError) -> StepOutcome
    ) throws(EnvironmentError) -> StepOutcome {
        if hasTruncated { throw .episodeEnded }
        var outcome = try stepBase(&base)
        stepCount += 1
        if stepCount >= maxEpisodeSteps {
            outcome.isTruncated = true
            hasTruncated = true
        }
        return outcome
    }

    public func render() -> Frame { base.render() }
}

extension TimeLimit: Sendable where Base: Sendable {}

// Saving and restoring the whole state (a resumed run continues exactly).
extension TimeLimit: Codable where Base: Codable {}
