/// Normalises each observation element of `Base` by a running mean and variance
/// (Gymnasium's `NormalizeObservation`, the observation half of SB3's `VecNormalize`).
///
/// Every observation the base writes, from `reset` and from `step`, is first folded into
/// `statistics` (unless `isFrozen`), then replaced in place by
/// `(x - mean) / sqrt(variance + epsilon)` with `epsilon = 1e-8`, and clipped to
/// `-clip...clip` when `clip` is set (SB3 clips at 10; Gymnasium does not clip). Rewards and
/// end flags pass through unchanged.
///
/// For evaluation, freeze the statistics (`isFrozen = true`) so the agent sees observations
/// scaled exactly as during training; to save or restore them (a checkpoint), read or
/// assign `statistics`. The statistics count from zero, see `RunningMeanVariance`.
///
/// Each copy of a vector environment built from this wrapper keeps its own statistics; to
/// share one set across copies, as `VecNormalize` does, use a `RunningMeanVariance` on the
/// vector environment's observation buffer instead (`update(withBatch:rows:)` then
/// `normalize(_:clip:)`).
public struct NormalizeObservation<Base: Environment>: Environment {
    /// The wrapped environment.
    public var base: Base
    /// The running statistics of the raw observations; assign to restore saved ones (their
    /// `elementCount` must be the observation size, which the next step checks). No
    /// property observer here: one would copy the arrays on every update.
    public var statistics: RunningMeanVariance
    /// When true, observations are normalised with the current statistics but do not
    /// change them.
    public var isFrozen: Bool
    /// Normalised values are clipped to `-clip...clip`; `nil` leaves them unclipped.
    public let clip: Float?
    /// Added to the variance before the square root, so constant elements stay finite.
    public static var epsilon: Double { 1e-8 }
    /// The base's observation shape, with bounds `-clip...clip` (or unbounded).
    public let observationSpace: Box

    /// Wraps `base` with fresh statistics; `clip` bounds the normalised values (10 as in
    /// SB3, or `nil` for none, as in Gymnasium).
    public init(_ base: Base, clip: Float? = 10, isFrozen: Bool = false) {
        precondition(clip.map { $0 > 0 } ?? true, "clip must be positive, got \(clip!)")
        self.base = base
        let space = base.observationSpace
        statistics = RunningMeanVariance(elementCount: space.count)
        self.isFrozen = isFrozen
        self.clip = clip
        let bound = clip ?? .infinity
        observationSpace = Box(low: -bound, high: bound, shape: space.shape)
    }

    public var actionSpace: ActionSpace { base.actionSpace }
    public var actionNames: [String] { base.actionNames }
    public var observationGrid: ObservationGrid? { base.observationGrid }
    public var observationNames: [String] { base.observationNames }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        base.reset(seed: seed, into: observation)
        normalizeInPlace(observation)
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        let outcome = try base.step(action, into: observation)
        normalizeInPlace(observation)
        return outcome
    }

    @inlinable
    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        let outcome = try base.step(action, into: observation)
        normalizeInPlace(observation)
        return outcome
    }

    /// Folds the raw observation into the statistics (unless frozen), then normalises it.
    @usableFromInline
    mutating func normalizeInPlace(_ observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == statistics.elementCount,
                     "statistics hold \(statistics.elementCount) elements, the observation \(observation.count)")
        if !isFrozen { statistics.update(with: UnsafeBufferPointer(observation)) }
        statistics.normalize(observation, epsilon: Self.epsilon, clip: clip)
    }

    public func render() -> Frame { base.render() }
}

extension NormalizeObservation: Sendable where Base: Sendable {}
