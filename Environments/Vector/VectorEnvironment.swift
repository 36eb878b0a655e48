import Foundation
import Parallelism
import SeededRandom

/// N copies of an environment `E` stepped together with one call: Gymnasium's
/// `SyncVectorEnv` with same-step autoreset, laid out for speed. The contract (buffers,
/// automatic reset, seeding) is `VectorStepping`'s.
///
/// **Speed.** The copies, their observations and every per-copy result live in buffers
/// allocated once at `init`; a step allocates nothing, makes no existential calls and runs
/// one tight loop per slice of copies. When `count >= parallelThreshold` (64 by default) and
/// the worker pool has several threads, each thread of the pool owns one contiguous slice
/// of the copies (thread `t` of `T` steps copies `t·count/T ..< (t+1)·count/T`, the same
/// slice every step, so its copies stay in that core's cache). Copies share no state, so
/// slice boundaries never change results.
///
/// **Specialisation.** The stepping loop is a closure made in `init`, so it is compiled for
/// the concrete `E` wherever `init` is: build the vector where the environment's type is
/// known (or through `makeVectorEnvironment(_:count:)`, which does that for the registry's
/// types) and even calls through `any VectorStepping` run specialised code.
public final class VectorEnvironment<E: Environment>: VectorStepping {
    public let count: Int
    public let observationSpace: Box
    public let actionSpace: ActionSpace
    public let observationSize: Int
    public var parallelThreshold: Int {
        get { control.pointee.parallelThreshold }
        set { control.pointee.parallelThreshold = newValue }
    }
    /// The threads that step the copies (the process's shared pool unless set).
    public var workerPool: WorkerPool = .shared

    @usableFromInline let kernel: VectorKernel<E>
    /// Steps copies `lower..<upper` with `actions`; returns the first copy that threw, or -1.
    @usableFromInline let stepSlice: (_ lower: Int, _ upper: Int, _ actions: UnsafePointer<Int>) -> Int
    /// The same for a continuous environment's actions (`width` floats per copy).
    @usableFromInline let stepContinuousSlice: (_ lower: Int, _ upper: Int, _ actions: UnsafePointer<Float>) -> Int
    /// Settings and flags, behind a pointer: every access to a stored `var` of a class
    /// is a runtime exclusivity check, which cost a sixth of a one-copy step.
    @usableFromInline let control: UnsafeMutablePointer<Control>

    @usableFromInline
    struct Control {
        @usableFromInline var parallelThreshold = 64
        /// Reset since creation or since a copy failed.
        @usableFromInline var canStep = false
        @usableFromInline var hasBeenSeeded = false

        @usableFromInline init() {}
    }

    /// `count` copies of `prototype`. Call `reset(seed:)` before the first step.
    @inlinable
    public init(_ prototype: E, count: Int) {
        precondition(count >= 1, "a vector environment needs at least one copy, got \(count)")
        self.count = count
        observationSpace = prototype.observationSpace
        actionSpace = prototype.actionSpace
        observationSize = observationSpace.count
        let kernel = VectorKernel(prototype, count: count, observationSize: observationSize)
        self.kernel = kernel
        stepSlice = { lower, upper, actions in kernel.step(from: lower, to: upper, actions: actions) }
        let width = actionSpace.width
        stepContinuousSlice = { lower, upper, actions in
            kernel.step(from: lower, to: upper, continuousActions: actions, width: width)
        }
        control = .allocate(capacity: 1)
        control.initialize(to: Control())
    }

    deinit {
        kernel.deallocate()
        control.deinitialize(count: 1)
        control.deallocate()
    }

    public var observations: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: kernel.observations, count: count * observationSize)
    }
    public var finalObservations: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: kernel.finalObservations, count: count * observationSize)
    }
    public var rewards: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: kernel.rewards, count: count) }
    public var isTerminated: UnsafeBufferPointer<Bool> { UnsafeBufferPointer(start: kernel.terminated, count: count) }
    public var isTruncated: UnsafeBufferPointer<Bool> { UnsafeBufferPointer(start: kernel.truncated, count: count) }
    public var finishedEpisodeReturns: UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(start: kernel.finishedReturns, count: count)
    }
    public var finishedEpisodeLengths: UnsafeBufferPointer<Int> {
        UnsafeBufferPointer(start: kernel.finishedLengths, count: count)
    }

    /// Copy `copy` as it is now (a value: changing it does not change the vector).
    public func environment(at copy: Int) -> E {
        precondition(copy >= 0 && copy < count, "copy \(copy) is outside 0..<\(count)")
        return kernel.environments[copy]
    }

    public func render(copy: Int) -> Frame { environment(at: copy).render() }

    public func reset(seed: UInt64?) {
        // A vector never seeded would otherwise reset N identical clones of the prototype.
        let base: UInt64? = seed ?? (control.pointee.hasBeenSeeded ? nil : 0)
        if base != nil { control.pointee.hasBeenSeeded = true }
        let n = observationSize
        for i in 0..<count {
            let observation = UnsafeMutableBufferPointer(start: kernel.observations + i * n, count: n)
            kernel.environments[i].reset(seed: base.map { seedForCopy(i, of: $0) }, into: observation)
        }
        kernel.clearResults()
        control.pointee.canStep = true
    }

    public func step(_ actions: UnsafeBufferPointer<Int>) throws(VectorEnvironmentError) {
        guard control.pointee.canStep else { throw .notReset }
        let count = self.count
        guard actions.count == count, let actionBase = actions.baseAddress else {
            throw .wrongActionCount(actions.count, expected: count)
        }
        guard case .discrete(let discrete) = actionSpace else { throw .invalidContinuousAction(copy: -1, expected: actionSpace) }
        // The bitwise OR of all actions bounds each of them (as unsigned numbers, so negative
        // actions count as huge): when it is below the action count every action is valid.
        // The OR vectorises to almost nothing; only when it is not conclusive (for example
        // actions 1 and 4 of 6 OR to 5, 3 and 4 to 7) does a second pass check each action.
        let actionCount = discrete.count
        var union: UInt = 0
        for i in 0..<count { union |= UInt(bitPattern: actionBase[i]) }
        if union >= UInt(actionCount) {
            var largest: UInt = 0
            for i in 0..<count { largest = max(largest, UInt(bitPattern: actionBase[i])) }
            if largest >= UInt(actionCount) {
                let copy = (0..<count).first { UInt(bitPattern: actionBase[$0]) >= UInt(actionCount) }!
                throw .invalidAction(copy: copy, action: actionBase[copy], count: actionCount)
            }
        }

        try finish(failed: stepInSlices(stepSlice, actions: actionBase))
    }

    public func step(_ actions: UnsafeBufferPointer<Float>) throws(VectorEnvironmentError) {
        guard control.pointee.canStep else { throw .notReset }
        let width = actionSpace.width
        guard actionSpace.isContinuous, actions.count == count * width, let actionBase = actions.baseAddress else {
            throw .invalidContinuousAction(copy: -1, expected: actionSpace)
        }
        // x − x is 0 for every finite x and NaN otherwise: one vectorised pass finds NaNs and infinities.
        var check: Float = 0
        for i in 0..<actions.count { check += actionBase[i] - actionBase[i] }
        if !(check == 0) {
            let bad = (0..<actions.count).first { !actionBase[$0].isFinite }!
            throw .invalidContinuousAction(copy: bad / width, expected: actionSpace)
        }
        try finish(failed: stepInSlices(stepContinuousSlice, actions: actionBase))
    }

    /// Steps every copy with `stepSlice`, on the worker pool in fixed slices when the vector
    /// is large; returns the first copy that threw, or -1.
    @inline(__always)
    private func stepInSlices<Action>(
        _ stepSlice: @escaping (Int, Int, UnsafePointer<Action>) -> Int, actions: UnsafePointer<Action>
    ) -> Int {
        let count = self.count
        if count < control.pointee.parallelThreshold || workerPool.threadCount == 1 {
            return stepSlice(0, count, actions)
        }
        // Each thread steps its own slice and reports its first failing copy.
        var failures = [Int](repeating: -1, count: workerPool.threadCount)
        failures.withUnsafeMutableBufferPointer { failures in
            let slices = SliceStep(stepSlice: stepSlice, actions: actions, failures: failures.baseAddress!, count: count)
            workerPool.runOnEachThread { thread, threads in slices.run(thread, of: threads) }
        }
        return failures.first { $0 >= 0 } ?? -1
    }

    /// Reports the copy that failed, if one did, and refuses further steps until a reset.
    @inline(__always)
    private func finish(failed: Int) throws(VectorEnvironmentError) {
        if failed >= 0 {
            control.pointee.canStep = false
            let error = kernel.failures[failed] ?? .notReset
            kernel.failures[failed] = nil
            throw .copyFailed(copy: failed, error)
        }
    }
}

/// One parallel step's shared, read-only inputs; thread `t` of `T` steps copies
/// `t·count/T ..< (t+1)·count/T` and writes only its own copies' results and its own
/// `failures[t]`, which is what makes sharing it across threads safe.
@usableFromInline
struct SliceStep<Action>: @unchecked Sendable {
    let stepSlice: (Int, Int, UnsafePointer<Action>) -> Int
    let actions: UnsafePointer<Action>
    let failures: UnsafeMutablePointer<Int>
    let count: Int

    func run(_ thread: Int, of threads: Int) {
        failures[thread] = stepSlice(thread * count / threads, (thread + 1) * count / threads, actions)
    }
}

/// The storage of a vector environment and the loop that steps a range of its copies.
/// Plain pointers, so one value can be shared by the chunks of a parallel step, each
/// touching only its own copies (hence `@unchecked Sendable`).
@usableFromInline
struct VectorKernel<E: Environment>: @unchecked Sendable {
    @usableFromInline let count: Int
    @usableFromInline let observationSize: Int
    @usableFromInline let environments: UnsafeMutablePointer<E>
    @usableFromInline let observations: UnsafeMutablePointer<Float>
    @usableFromInline let finalObservations: UnsafeMutablePointer<Float>
    @usableFromInline let rewards: UnsafeMutablePointer<Float>
    @usableFromInline let terminated: UnsafeMutablePointer<Bool>
    @usableFromInline let truncated: UnsafeMutablePointer<Bool>
    /// Return and length of each copy's episode in progress.
    @usableFromInline let runningReturns: UnsafeMutablePointer<Double>
    @usableFromInline let runningLengths: UnsafeMutablePointer<Int>
    /// Return and length of each copy's episode that ended on the last step.
    @usableFromInline let finishedReturns: UnsafeMutablePointer<Double>
    @usableFromInline let finishedLengths: UnsafeMutablePointer<Int>
    /// The error a copy threw, kept until reported.
    @usableFromInline let failures: UnsafeMutablePointer<EnvironmentError?>

    @inlinable
    init(_ prototype: E, count: Int, observationSize: Int) {
        self.count = count
        self.observationSize = observationSize
        environments = .allocate(capacity: count)
        environments.initialize(repeating: prototype, count: count)
        observations = .allocate(capacity: count * observationSize)
        observations.initialize(repeating: 0, count: count * observationSize)
        finalObservations = .allocate(capacity: count * observationSize)
        finalObservations.initialize(repeating: 0, count: count * observationSize)
        rewards = .allocate(capacity: count)
        terminated = .allocate(capacity: count)
        truncated = .allocate(capacity: count)
        runningReturns = .allocate(capacity: count)
        runningLengths = .allocate(capacity: count)
        finishedReturns = .allocate(capacity: count)
        finishedLengths = .allocate(capacity: count)
        failures = .allocate(capacity: count)
        failures.initialize(repeating: nil, count: count)
        clearResults()
    }

    /// Zeroes every per-copy result and statistic (after a reset).
    @inlinable
    func clearResults() {
        rewards.initialize(repeating: 0, count: count)
        terminated.initialize(repeating: false, count: count)
        truncated.initialize(repeating: false, count: count)
        runningReturns.initialize(repeating: 0, count: count)
        runningLengths.initialize(repeating: 0, count: count)
        finishedReturns.initialize(repeating: 0, count: count)
        finishedLengths.initialize(repeating: 0, count: count)
    }

    /// Steps copies `lower..<upper`, resetting those whose episodes end.
    /// - Returns: the first copy that threw (its error in `failures`), or -1.
    @inlinable
    func step(from lower: Int, to upper: Int, actions: UnsafePointer<Int>) -> Int {
        let n = observationSize
        for i in lower..<upper {
            let observation = UnsafeMutableBufferPointer(start: observations + i * n, count: n)
            let outcome: StepOutcome
            do {
                outcome = try environments[i].step(actions[i], into: observation)
            } catch {
                failures[i] = error
                return i
            }
            record(outcome, copy: i, observation: observation)
        }
        return -1
    }

    /// The same for continuous actions: copy `i` takes floats `i·width ..< (i+1)·width`.
    @inlinable
    func step(from lower: Int, to upper: Int, continuousActions actions: UnsafePointer<Float>, width: Int) -> Int {
        let n = observationSize
        for i in lower..<upper {
            let observation = UnsafeMutableBufferPointer(start: observations + i * n, count: n)
            let outcome: StepOutcome
            do {
                outcome = try environments[i].step(
                    UnsafeBufferPointer(start: actions + i * width, count: width), into: observation)
            } catch {
                failures[i] = error
                return i
            }
            record(outcome, copy: i, observation: observation)
        }
        return -1
    }

    /// Stores copy `i`'s outcome and, when its episode ended, keeps the last observation
    /// and starts the next episode.
    @inlinable @inline(__always)
    func record(_ outcome: StepOutcome, copy i: Int, observation: UnsafeMutableBufferPointer<Float>) {
        let n = observationSize
        rewards[i] = outcome.reward
        terminated[i] = outcome.isTerminated
        truncated[i] = outcome.isTruncated
        let episodeReturn = runningReturns[i] + Double(outcome.reward)
        let episodeLength = runningLengths[i] + 1
        if outcome.isTerminated || outcome.isTruncated {
            // Keep the last observation for bootstrapping, then start the next episode.
            (finalObservations + i * n).update(from: observations + i * n, count: n)
            finishedReturns[i] = episodeReturn
            finishedLengths[i] = episodeLength
            runningReturns[i] = 0
            runningLengths[i] = 0
            environments[i].reset(seed: nil, into: observation)
        } else {
            runningReturns[i] = episodeReturn
            runningLengths[i] = episodeLength
        }
    }

    @usableFromInline
    func deallocate() {
        environments.deinitialize(count: count)
        environments.deallocate()
        observations.deallocate()
        finalObservations.deallocate()
        rewards.deallocate()
        terminated.deallocate()
        truncated.deallocate()
        runningReturns.deallocate()
        runningLengths.deallocate()
        finishedReturns.deallocate()
        finishedLengths.deallocate()
        failures.deinitialize(count: count)
        failures.deallocate()
    }
}
