/// One copy of a Gymnasium environment in a Python worker, as an `Environment`: what
/// `eval`, `watch`, `record` and `rollout` play with `--env gymnasium:ID`.
///
/// Made with `render_mode="rgb_array"`, so `render()` returns Gymnasium's own picture.
/// Gymnasium's time limit applies in Python (a step reports `isTruncated`). The first
/// reset without a seed counts as `reset(seed: 0)`; an unseeded reset after an episode ended
/// continues the environment's generator exactly as a vector's autoreset does.
///
/// Failures cannot surface from `reset` (the protocol's reset does not throw): one there
/// is kept and thrown by the next `step` as `EnvironmentError.external`, with the message
/// naming the environment and the step. Copies of this value share one worker; make a new
/// environment for independent play. When the last copy is released, the worker waits,
/// idle, for the next environment of the same id (evaluations make one per episode).
public struct GymnasiumEnvironment: Environment {
    /// The worker, or why it could not start (thrown by the first step).
    private let connection: Result<GymnasiumVectorEnvironment, GymnasiumError>
    public let observationSpace: Box
    public let actionSpace: ActionSpace
    private var isReset = false
    private var hasEnded = false

    /// Starts a worker for Gymnasium's `id` (without the `gymnasium:` prefix).
    public init(id: String) throws(GymnasiumError) {
        let vector = try GymnasiumVectorEnvironment(id: id, count: 1, workers: 1, render: true)
        connection = .success(vector)
        observationSpace = vector.observationSpace
        actionSpace = vector.actionSpace
    }

    /// A worker for an environment already described (by the registry's probe); a failure
    /// to start it is thrown by the first step.
    init(id: String, description: GymnasiumDescription) {
        connection = Result { () throws(GymnasiumError) in
            try GymnasiumVectorEnvironment(id: id, count: 1, workers: 1, render: true)
        }
        observationSpace = description.observationSpace
        actionSpace = description.actionSpace
    }

    private var vector: GymnasiumVectorEnvironment {
        get throws(EnvironmentError) {
            switch connection {
            case .success(let vector): return vector
            case .failure(let error): throw .external(error.description)
            }
        }
    }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        guard case .success(let vector) = connection else { isReset = true; return }
        // After an episode's end the worker has already begun the next one, unseeded: an
        // unseeded reset takes it, so the copy's generator advances as a vector's would.
        if seed != nil || !hasEnded {
            let seed = seed ?? (isReset ? nil : 0)
            vector.reset { _ in seed }
        }
        _ = observation.update(fromContentsOf: vector.observation(ofCopy: 0))
        isReset = true
        hasEnded = false
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try checkCanStep()
        guard case .discrete(let space) = actionSpace else { throw .wrongActionKind(expected: actionSpace) }
        guard space.contains(action) else { throw .invalidAction(action, count: space.count) }
        let vector = try vector
        return try finish(vector, into: observation) { () throws(VectorEnvironmentError) in try vector.step([action]) }
    }

    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try checkCanStep()
        guard actionSpace.isContinuous else { throw .wrongActionKind(expected: actionSpace) }
        let vector = try vector
        return try finish(vector, into: observation) { () throws(VectorEnvironmentError) in try vector.step(action) }
    }

    public func render() -> Frame { (try? vector)?.render(copy: 0) ?? Frame(width: 64, height: 64) }

    private func checkCanStep() throws(EnvironmentError) {
        guard isReset else { throw .notReset }
        guard !hasEnded else { throw .episodeEnded }
    }

    /// Steps the worker and writes the observation: the final one when the episode ended
    /// (the worker has already begun the next, which the next `reset` replaces).
    private mutating func finish(
        _ vector: GymnasiumVectorEnvironment, into observation: UnsafeMutableBufferPointer<Float>, _ step: () throws(VectorEnvironmentError) -> Void
    ) throws(EnvironmentError) -> StepOutcome {
        do {
            try step()
        } catch {
            switch error {
            case .copyFailed(_, let underlying): throw underlying
            case .invalidContinuousAction, .wrongActionCount: throw .wrongActionKind(expected: actionSpace)
            case .invalidAction(_, let action, let count): throw .invalidAction(action, count: count)
            case .notReset: throw .notReset
            }
        }
        let outcome = StepOutcome(reward: vector.rewards[0], isTerminated: vector.isTerminated[0],
                                  isTruncated: vector.isTruncated[0])
        hasEnded = outcome.isDone
        _ = observation.update(fromContentsOf: hasEnded ? vector.finalObservation(ofCopy: 0) : vector.observation(ofCopy: 0))
        return outcome
    }
}
