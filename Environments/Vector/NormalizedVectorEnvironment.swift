import Foundation
import Parallelism

/// A vector environment whose observations and rewards are normalised by running
/// statistics shared by every copy: the observation half and the reward half of SB3's
/// `VecNormalize` (what CleanRL's continuous PPO does with Gymnasium's wrappers).
///
/// - Observations: each element becomes (x − mean) / √(variance + 1e-8), clipped to
///   ±`observationClip`, with the statistics of every observation seen so far (the batch of
///   a step is folded in before it is normalised). The final observations of ended episodes
///   are normalised with the same statistics.
/// - Rewards: each copy keeps a discounted return Rₜ = γ·Rₜ₋₁ + rₜ (reset where an episode
///   ends); a reward becomes r / √(Var[R] + 1e-8), clipped to ±`rewardClip`, with the
///   variance of every Rₜ seen so far. The mean is not subtracted, so the sign of a reward
///   is kept.
/// - Episode returns and lengths (`finishedEpisodeReturns`) stay those of the raw rewards:
///   what is logged and evaluated is the task's own return.
///
/// `isFrozen` stops the statistics from changing (evaluation). Unlike SB3, whose
/// statistics start from a pseudo-count of 1e-4, these count from zero
/// (`RunningMeanVariance`). The statistics travel with checkpoints as `statistics`, and
/// within `savedState()` together with the wrapped vector's state.
public final class NormalizedVectorEnvironment: VectorStepping {
    /// The statistics of a normalised vector: what a checkpoint stores.
    public struct Statistics: Codable, Equatable, Sendable {
        /// Of the raw observations; nil when observations are not normalised.
        public var observations: RunningMeanVariance?
        /// Of the discounted returns; nil when rewards are not normalised.
        public var returns: RunningMeanVariance?
        /// Each copy's running discounted return (empty when rewards are not normalised).
        public var runningReturns: [Double]

        enum CodingKeys: String, CodingKey {
            case observations, returns, runningReturns = "running_returns"
        }

        public init(observations: RunningMeanVariance?, returns: RunningMeanVariance?, runningReturns: [Double]) {
            self.observations = observations
            self.returns = returns
            self.runningReturns = runningReturns
        }

        /// Why these statistics cannot normalise observations of `observationSize` floats
        /// (read from a file, they may not fit), or nil when they can: the observation
        /// statistics must have one element per float and the return statistics one, all
        /// finite.
        public func misfit(observationSize: Int) -> String? {
            if let observations, observations.elementCount != observationSize {
                return "observation statistics of \(observations.elementCount) elements for observations of \(observationSize)"
            }
            if let returns, returns.elementCount != 1 {
                return "return statistics of \(returns.elementCount) elements instead of 1"
            }
            let values = [observations, returns].compactMap { $0 }.flatMap { $0.mean + $0.variance } + runningReturns
            return values.allSatisfy(\.isFinite) ? nil : "statistics holding NaN or infinite values"
        }
    }

    public let base: any VectorStepping
    public var statistics: Statistics
    public var isFrozen = false
    public let observationClip: Float
    public let rewardClip: Float
    public let gamma: Double
    public static let epsilon = 1e-8

    private let normalizedObservations: UnsafeMutableBufferPointer<Float>
    private let normalizedFinalObservations: UnsafeMutableBufferPointer<Float>
    private let normalizedRewards: UnsafeMutableBufferPointer<Float>
    /// The copies' discounted returns of the last step, folded into the return statistics.
    private let returnBatch: UnsafeMutableBufferPointer<Float>

    /// - Parameters:
    ///   - normalizeObservations, normalizeRewards: which halves to apply.
    ///   - gamma: the discount of the returns whose spread scales the rewards (the
    ///     learner's γ).
    public init(
        _ base: any VectorStepping, normalizeObservations: Bool, normalizeRewards: Bool, observationClip: Float = 10,
        rewardClip: Float = 10, gamma: Double = 0.99
    ) {
        precondition(observationClip > 0 && rewardClip > 0, "clips must be positive")
        precondition((0...1).contains(gamma), "gamma must be in [0, 1], got \(gamma)")
        self.base = base
        self.observationClip = observationClip
        self.rewardClip = rewardClip
        self.gamma = gamma
        statistics = Statistics(
            observations: normalizeObservations ? RunningMeanVariance(elementCount: base.observationSize) : nil,
            returns: normalizeRewards ? RunningMeanVariance(elementCount: 1) : nil,
            runningReturns: normalizeRewards ? [Double](repeating: 0, count: base.count) : [])
        let floats = base.count * base.observationSize
        normalizedObservations = .allocate(capacity: floats)
        normalizedObservations.initialize(repeating: 0)
        normalizedFinalObservations = .allocate(capacity: floats)
        normalizedFinalObservations.initialize(repeating: 0)
        normalizedRewards = .allocate(capacity: base.count)
        normalizedRewards.initialize(repeating: 0)
        returnBatch = .allocate(capacity: base.count)
        returnBatch.initialize(repeating: 0)
    }

    deinit {
        normalizedObservations.deallocate()
        normalizedFinalObservations.deallocate()
        normalizedRewards.deallocate()
        returnBatch.deallocate()
    }

    public var count: Int { base.count }
    /// The base's shape, bounded by the clip when observations are normalised.
    public var observationSpace: Box {
        guard statistics.observations != nil else { return base.observationSpace }
        return Box(low: -observationClip, high: observationClip, shape: base.observationSpace.shape)
    }
    public var actionSpace: ActionSpace { base.actionSpace }
    public var observationSize: Int { base.observationSize }
    public var parallelThreshold: Int {
        get { base.parallelThreshold }
        set { base.parallelThreshold = newValue }
    }
    public var workerPool: WorkerPool {
        get { base.workerPool }
        set { base.workerPool = newValue }
    }

    public var observations: UnsafeBufferPointer<Float> {
        statistics.observations == nil ? base.observations : UnsafeBufferPointer(normalizedObservations)
    }
    public var finalObservations: UnsafeBufferPointer<Float> {
        statistics.observations == nil ? base.finalObservations : UnsafeBufferPointer(normalizedFinalObservations)
    }
    public var rewards: UnsafeBufferPointer<Float> {
        statistics.returns == nil ? base.rewards : UnsafeBufferPointer(normalizedRewards)
    }
    public var isTerminated: UnsafeBufferPointer<Bool> { base.isTerminated }
    public var isTruncated: UnsafeBufferPointer<Bool> { base.isTruncated }
    public var finishedEpisodeReturns: UnsafeBufferPointer<Double> { base.finishedEpisodeReturns }
    public var finishedEpisodeLengths: UnsafeBufferPointer<Int> { base.finishedEpisodeLengths }

    public func reset(seed: UInt64?) {
        base.reset(seed: seed)
        if !statistics.runningReturns.isEmpty {
            for i in statistics.runningReturns.indices { statistics.runningReturns[i] = 0 }
        }
        normalizeObservations(updating: !isFrozen)
    }

    public func step(_ actions: UnsafeBufferPointer<Int>) throws(VectorEnvironmentError) {
        try base.step(actions)
        afterStep()
    }

    public func step(_ actions: UnsafeBufferPointer<Float>) throws(VectorEnvironmentError) {
        try base.step(actions)
        afterStep()
    }

    private func afterStep() {
        normalizeObservations(updating: !isFrozen)
        guard statistics.returns != nil else { return }
        let rewards = base.rewards
        for i in 0..<count {
            statistics.runningReturns[i] = statistics.runningReturns[i] * gamma + Double(rewards[i])
            returnBatch[i] = Float(statistics.runningReturns[i])
        }
        if !isFrozen { statistics.returns!.update(withBatch: UnsafeBufferPointer(returnBatch), rows: count) }
        let scale = 1 / (statistics.returns!.variance[0] + Self.epsilon).squareRoot()
        for i in 0..<count {
            normalizedRewards[i] = Swift.min(Swift.max(Float(Double(rewards[i]) * scale), -rewardClip), rewardClip)
            if base.isTerminated[i] || base.isTruncated[i] { statistics.runningReturns[i] = 0 }
        }
    }

    /// Folds the base's observations into the statistics (when `updating`), then writes
    /// them normalised, and the final observations of the copies whose episodes ended (the
    /// others' are stale, as in any vector environment).
    private func normalizeObservations(updating: Bool) {
        guard statistics.observations != nil else { return }
        if updating { statistics.observations!.update(withBatch: base.observations, rows: count) }
        let observationStatistics = statistics.observations!
        _ = normalizedObservations.update(fromContentsOf: base.observations)
        observationStatistics.normalize(normalizedObservations, epsilon: Self.epsilon, clip: observationClip)
        let size = observationSize
        for i in 0..<count where base.isTerminated[i] || base.isTruncated[i] {
            let final = UnsafeMutableBufferPointer(rebasing: normalizedFinalObservations[(i * size)..<((i + 1) * size)])
            _ = final.update(fromContentsOf: base.finalObservation(ofCopy: i))
            observationStatistics.normalize(final, epsilon: Self.epsilon, clip: observationClip)
        }
    }

    public func render(copy: Int) -> Frame { base.render(copy: copy) }

    private struct Snapshot: Codable {
        var base: String
        var statistics: Statistics
        var observations: [Float]
    }

    /// The base's state with the statistics and the normalised observations the learner
    /// acts on next; nil when the base's state cannot be saved.
    public func savedState() -> Data? {
        guard let state = base.savedState() else { return nil }
        let snapshot = Snapshot(base: String(decoding: state, as: UTF8.self), statistics: statistics,
                                observations: Array(observations))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try? encoder.encode(snapshot)
    }

    public func restoreState(from data: Data) throws(EnvironmentError) {
        let snapshot: Snapshot
        do { snapshot = try JSONDecoder().decode(Snapshot.self, from: data) } catch {
            throw .invalidConfiguration("the saved state is not a normalised vector environment's: \(error)")
        }
        guard snapshot.observations.count == count * observationSize, snapshot.observations.allSatisfy(\.isFinite),
              (snapshot.statistics.observations == nil) == (statistics.observations == nil),
              (snapshot.statistics.returns == nil) == (statistics.returns == nil),
              snapshot.statistics.misfit(observationSize: observationSize) == nil,
              snapshot.statistics.runningReturns.count == statistics.runningReturns.count
        else {
            throw .invalidConfiguration("the saved normalisation does not fit \(count) copies with these settings")
        }
        try base.restoreState(from: Data(snapshot.base.utf8))
        statistics = snapshot.statistics
        if statistics.observations != nil {
            _ = normalizedObservations.update(fromContentsOf: snapshot.observations)
        }
    }
}
