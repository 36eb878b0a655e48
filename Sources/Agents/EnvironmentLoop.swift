import Environments

/// What happened in one vector step, for the caller's logging and progress display.
public struct LoopEvent {
    /// Environment steps taken so far (N per vector step).
    public var globalStep: Int
    /// Episodes that ended in this step.
    public var finishedEpisodes: [EpisodeRecord]
    /// The agent's metrics when it learned in this step; empty otherwise.
    public var metrics: [String: Double]
}

/// Drives any `Agent` over a vector of environments: act, step, hand over the
/// transitions. The one loop every algorithm shares; it knows nothing of how they learn.
public final class EnvironmentLoop {
    public let environments: any VectorStepping
    public let agent: any Agent
    /// Environment steps taken so far.
    public private(set) var globalStep: Int
    /// The observation shape of one copy.
    public var observationShape: [Int] { environments.observationSpace.shape }

    private let observationBuffer: UnsafeMutableBufferPointer<Float>
    /// One action per copy (discrete spaces; empty otherwise).
    private let actionBuffer: UnsafeMutableBufferPointer<Int>
    /// `width` floats per copy (continuous spaces; empty otherwise).
    private let continuousActionBuffer: UnsafeMutableBufferPointer<Float>

    /// A loop that starts counting at `startStep` (non-zero when resuming) and resets the
    /// environments with `seed`.
    /// - Precondition: the agent learns in the environments' kind of action space
    ///   (`AlgorithmSpec.makeAgent` checks this with a message; agents built directly must match).
    public init(environments: any VectorStepping, agent: any Agent, seed: UInt64, startStep: Int = 0) {
        precondition(type(of: agent).actionKinds.admit(environments.actionSpace),
                     "\(type(of: agent).algorithm) does not act in \(environments.actionSpace)")
        self.environments = environments
        self.agent = agent
        self.globalStep = startStep
        observationBuffer = .allocate(capacity: environments.count * environments.observationSize)
        let space = environments.actionSpace
        actionBuffer = .allocate(capacity: space.isContinuous ? 0 : environments.count)
        actionBuffer.initialize(repeating: 0)
        continuousActionBuffer = .allocate(capacity: space.isContinuous ? environments.count * space.width : 0)
        continuousActionBuffer.initialize(repeating: 0)
        environments.reset(seed: seed)
    }

    deinit {
        observationBuffer.deallocate()
        actionBuffer.deallocate()
        continuousActionBuffer.deallocate()
    }

    /// Steps until `globalStep` reaches `totalSteps` or `shouldStop()` says so (checked
    /// every vector step), calling `handle` after every vector step.
    public func run(
        until totalSteps: Int, shouldStop: () -> Bool = { false },
        handle: (LoopEvent) throws -> Void
    ) throws {
        let n = environments.count, size = environments.observationSize
        let isContinuous = environments.actionSpace.isContinuous
        while globalStep < totalSteps, !shouldStop() {
            // The vector environment overwrites its buffer on step: keep s_t.
            _ = observationBuffer.update(fromContentsOf: environments.observations)
            do {
                if isContinuous {
                    agent.act(on: UnsafeBufferPointer(observationBuffer), count: n, into: continuousActionBuffer)
                    try environments.step(UnsafeBufferPointer(continuousActionBuffer))
                } else {
                    agent.act(on: UnsafeBufferPointer(observationBuffer), count: n, into: actionBuffer)
                    try environments.step(UnsafeBufferPointer(actionBuffer))
                }
            } catch {
                if case .copyFailed(let copy, .external(let message)) = error {
                    throw TrainingError.environmentFailed("\(message) (environment copy \(copy), step \(globalStep))")
                }
                throw TrainingError.invalidConfiguration("the agent chose an invalid action: \(error)")
            }
            globalStep += n
            let transitions = Transitions(
                count: n, observationSize: size,
                observations: UnsafeBufferPointer(observationBuffer),
                actions: UnsafeBufferPointer(actionBuffer),
                continuousActions: UnsafeBufferPointer(continuousActionBuffer),
                actionWidth: isContinuous ? environments.actionSpace.width : 0,
                rewards: environments.rewards,
                nextObservations: environments.observations,
                finalObservations: environments.finalObservations,
                isTerminated: environments.isTerminated,
                isTruncated: environments.isTruncated,
                globalStep: globalStep)
            let metrics = try agent.observe(transitions)
            try handle(LoopEvent(globalStep: globalStep, finishedEpisodes: environments.finishedEpisodes.map(\.record),
                                 metrics: metrics))
        }
    }
}
