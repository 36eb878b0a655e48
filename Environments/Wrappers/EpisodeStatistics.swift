/// One finished episode: its return, its length and how it ended. The one record of an
/// episode that the environment loop, evaluation and recording all report.
public struct EpisodeRecord: Equatable, Hashable, Sendable, Codable {
    /// The sum of the episode's rewards, accumulated in double precision.
    public var episodeReturn: Double
    /// The number of steps the episode took, its final step included.
    public var length: Int
    /// Why it ended.
    public var ending: EpisodeEnding

    public init(episodeReturn: Double, length: Int, ending: EpisodeEnding = .terminated) {
        self.episodeReturn = episodeReturn
        self.length = length
        self.ending = ending
    }

    /// Whether the episode hit its time limit rather than ending for the task.
    public var isTruncated: Bool { ending == .truncated }
}

/// How an episode ended.
public enum EpisodeEnding: String, Hashable, Sendable, Codable {
    /// The task ended it (`StepOutcome.isTerminated`).
    case terminated
    /// Its time limit ended it (`isTruncated` without `isTerminated`): it had a future.
    case truncated
    /// The caller stopped it before either, at a step cap of its own (evaluation's
    /// `maxSteps`, a recording's limit).
    case cutShort = "cut_short"

    /// The ending a step outcome reports; termination wins when both flags are set.
    public init(_ outcome: StepOutcome) {
        self = outcome.isTerminated ? .terminated : .truncated
    }
}

/// Records the return and length of every episode of `Base` (Gymnasium's
/// `RecordEpisodeStatistics`).
///
/// Observations, rewards and end flags pass through unchanged. Each successful `step` adds
/// its reward to `currentReturn` and one to `currentLength`; the step that terminates or
/// truncates the episode files an `EpisodeRecord` as `lastEpisode` and appends it to
/// `completedEpisodes`, which grows until the caller takes the records with
/// `drainCompletedEpisodes()`. A `reset` in the middle of an episode drops that unfinished
/// episode without recording it; a step that throws changes nothing.
///
/// The wrapper is generic, so `EpisodeStatistics<CartPole>` specialises; a step costs one
/// addition and one increment, and allocates only when a finished episode's record is
/// appended (amortised, and never when `completedEpisodes` has spare capacity).
public struct EpisodeStatistics<Base: Environment>: Environment {
    /// The wrapped environment.
    public var base: Base
    /// The sum of the rewards of the episode in progress.
    public var currentReturn: Double { runningReturn }
    /// The steps taken in the episode in progress.
    public var currentLength: Int { runningLength }
    /// The most recently finished episode, or `nil` before the first one ends.
    public var lastEpisode: EpisodeRecord? { lastRecord }
    /// Finished episodes, oldest first, since the last `drainCompletedEpisodes()`.
    public var completedEpisodes: [EpisodeRecord] { records }
    /// The number of episodes finished since this wrapper was made (draining does not
    /// change it).
    public var finishedEpisodeCount: Int { finishedCount }

    // Stored state, internal so the inlinable step can update it.
    @usableFromInline var runningReturn: Double = 0
    @usableFromInline var runningLength = 0
    @usableFromInline var lastRecord: EpisodeRecord?
    @usableFromInline var records: [EpisodeRecord] = []
    @usableFromInline var finishedCount = 0

    public init(_ base: Base) {
        self.base = base
        records.reserveCapacity(64)
    }

    public var observationSpace: Box { base.observationSpace }
    public var actionSpace: ActionSpace { base.actionSpace }
    public var actionNames: [String] { base.actionNames }
    public var observationGrid: ObservationGrid? { base.observationGrid }
    public var observationNames: [String] { base.observationNames }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        runningReturn = 0
        runningLength = 0
        base.reset(seed: seed, into: observation)
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try recording(try base.step(action, into: observation))
    }

    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try recording(try base.step(action, into: observation))
    }

    /// Adds a step's outcome to the episode in progress.
    @usableFromInline mutating func recording(_ outcome: StepOutcome) -> StepOutcome {
        runningReturn += Double(outcome.reward)
        runningLength += 1
        if outcome.isDone {
            let record = EpisodeRecord(episodeReturn: runningReturn, length: runningLength, ending: EpisodeEnding(outcome))
            lastRecord = record
            records.append(record)
            finishedCount += 1
            runningReturn = 0
            runningLength = 0
        }
        return outcome
    }

    /// Returns the finished episodes recorded since the previous drain, oldest first, and
    /// forgets them (keeping the storage for the next ones).
    public mutating func drainCompletedEpisodes() -> [EpisodeRecord] {
        let drained = records
        records.removeAll(keepingCapacity: true)
        return drained
    }

    public func render() -> Frame { base.render() }
}

extension EpisodeStatistics: Sendable where Base: Sendable {}
