import Foundation
import Parallelism
import SeededRandom

/// N copies of one environment stepped together: the interface a learner, the CLI and
/// benchmarks use without knowing the environment's type. `VectorEnvironment<E>` is the
/// implementation; `makeVectorEnvironment(_:count:)` builds one from any environment value.
///
/// **Buffers.** After `reset` and after every `step`, the read-only buffers below hold the
/// current results. They belong to the vector environment, stay valid as long as it lives,
/// and are overwritten by the next `reset` or `step` (copy what you need to keep):
///
/// - `observations`: `count × observationSize` floats, copy `i` at
///   `i * observationSize ..< (i + 1) * observationSize`.
/// - `rewards`, `isTerminated`, `isTruncated`: one value per copy, for the last step.
/// - `finalObservations`: same layout as `observations`; for a copy whose episode ended on
///   the last step (`isTerminated[i] || isTruncated[i]`), its last observation of that
///   episode. Elsewhere the contents are stale.
/// - `finishedEpisodeReturns`, `finishedEpisodeLengths`: for a copy whose episode ended on
///   the last step, that episode's undiscounted return and length. Elsewhere stale.
///
/// **Automatic reset.** A copy whose episode ends is reset within the same `step`:
/// `observations` already holds the first observation of its next episode, and its last
/// observation is in `finalObservations` (Gymnasium's same-step autoreset, SB3's
/// `terminal_observation`). A learner bootstraps a truncated episode from
/// `finalObservation(ofCopy:)`, never from `observation(ofCopy:)`.
///
/// **Seeding.** `reset(seed: s)` resets copy `i` with the seed `seedForCopy(i, of: s)`;
/// `reset(seed: nil)` continues every copy's own generator (the first reset of a vector
/// that was never seeded counts as `reset(seed: 0)`, so copies never start as clones).
/// Copies share nothing, so results are the same for any number of threads.
public protocol VectorStepping: AnyObject {
    /// The number of copies (N).
    var count: Int { get }
    /// One copy's observation space.
    var observationSpace: Box { get }
    /// One copy's action space: discrete (step with one `Int` per copy) or a box (step with
    /// `count × actionSpace.width` floats, copy after copy).
    var actionSpace: ActionSpace { get }
    /// Floats in one copy's observation (`observationSpace.count`).
    var observationSize: Int { get }

    /// Copies are stepped on several threads only when `count >= parallelThreshold`.
    var parallelThreshold: Int { get set }
    /// The threads a step spreads over (the process's shared pool unless set).
    var workerPool: WorkerPool { get set }

    var observations: UnsafeBufferPointer<Float> { get }
    var finalObservations: UnsafeBufferPointer<Float> { get }
    var rewards: UnsafeBufferPointer<Float> { get }
    var isTerminated: UnsafeBufferPointer<Bool> { get }
    var isTruncated: UnsafeBufferPointer<Bool> { get }
    var finishedEpisodeReturns: UnsafeBufferPointer<Double> { get }
    var finishedEpisodeLengths: UnsafeBufferPointer<Int> { get }

    /// Resets every copy (see Seeding) and clears the per-copy statistics and flags.
    func reset(seed: UInt64?)

    /// Steps every copy with its action, `actions[i]` for copy `i`, resetting copies whose
    /// episodes end. Actions are all checked before any copy steps.
    func step(_ actions: UnsafeBufferPointer<Int>) throws(VectorEnvironmentError)

    /// Steps every copy of a continuous environment with its action, floats
    /// `i·width ..< (i+1)·width` for copy `i` (`width = actionSpace.width`), resetting copies
    /// whose episodes end. Actions are all checked (finite) before any copy steps.
    func step(_ actions: UnsafeBufferPointer<Float>) throws(VectorEnvironmentError)

    /// Draws copy `copy`'s current state.
    func render(copy: Int) -> Frame

    /// The whole state of the copies (environments, current observations, episodes in
    /// progress) as data, so a resumed run continues exactly; nil when the environment's
    /// state cannot be saved.
    func savedState() -> Data?

    /// Restores what `savedState()` returned, all or nothing.
    func restoreState(from data: Data) throws(EnvironmentError)
}

extension VectorStepping {
    /// Steps every copy with `actions[i]` for copy `i` (see `step(_:)` on a buffer).
    public func step(_ actions: [Int]) throws(VectorEnvironmentError) {
        try actions.withUnsafeBufferPointer { (buffer) throws(VectorEnvironmentError) in try step(buffer) }
    }

    /// Steps every copy of a continuous environment (see `step(_:)` on a float buffer).
    public func step(_ actions: [Float]) throws(VectorEnvironmentError) {
        try actions.withUnsafeBufferPointer { (buffer) throws(VectorEnvironmentError) in try step(buffer) }
    }

    /// Copy `copy`'s current observation.
    public func observation(ofCopy copy: Int) -> UnsafeBufferPointer<Float> {
        precondition(copy >= 0 && copy < count, "copy \(copy) is outside 0..<\(count)")
        return UnsafeBufferPointer(rebasing: observations[(copy * observationSize)..<((copy + 1) * observationSize)])
    }

    /// Copy `copy`'s last observation of the episode that ended on the last step (valid
    /// only when `hasFinished(copy:)`).
    public func finalObservation(ofCopy copy: Int) -> UnsafeBufferPointer<Float> {
        precondition(copy >= 0 && copy < count, "copy \(copy) is outside 0..<\(count)")
        return UnsafeBufferPointer(
            rebasing: finalObservations[(copy * observationSize)..<((copy + 1) * observationSize)])
    }

    /// Whether copy `copy`'s episode ended on the last step (and it was reset).
    public func hasFinished(copy: Int) -> Bool { isTerminated[copy] || isTruncated[copy] }

    /// The copies whose episodes ended on the last step, in increasing order (allocates:
    /// call once per step, not per copy).
    public var finishedCopies: [Int] { (0..<count).filter { hasFinished(copy: $0) } }

    /// The episodes that ended on the last step, with the copy each ran in.
    public var finishedEpisodes: [(copy: Int, record: EpisodeRecord)] {
        finishedCopies.map {
            ($0, EpisodeRecord(episodeReturn: finishedEpisodeReturns[$0], length: finishedEpisodeLengths[$0],
                               ending: isTerminated[$0] ? .terminated : .truncated))
        }
    }
}

/// The seed that a vector environment's `reset(seed: seed)` gives copy `copy`: the first
/// word of `SeededGenerator(seed: seed, stream: UInt64(copy))`. Copy `i` of a vector reset
/// with `s` is in the same state as a single environment reset with `seedForCopy(i, of: s)`.
public func seedForCopy(_ copy: Int, of seed: UInt64) -> UInt64 {
    precondition(copy >= 0, "copy index must not be negative, got \(copy)")
    var generator = SeededGenerator(seed: seed, stream: UInt64(copy))
    return generator.next()
}
