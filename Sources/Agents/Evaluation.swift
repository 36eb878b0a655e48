import Dispatch

/// The outcome of one evaluation episode.
public struct EvaluationEpisode: Equatable, Sendable, Codable {
    public var episodeReturn: Double
    public var length: Int
    /// Whether the episode hit its time limit rather than ending for the task.
    public var isTruncated: Bool
}

/// Plays `episodes` seeded episodes with an agent's greedy choices (or sampled ones when
/// `stochastic`), spread over `threads` threads.
///
/// Episode `i` is played on its own environment from `makeEnvironment()`, reset with
/// `seedForCopy(i, of: seed)`, and stochastic choices draw from a generator seeded the same
/// way, so the results are the same whatever the number of threads. Agents only read their
/// networks while choosing, so one agent serves every thread.
public func evaluate(
    _ agent: any Agent, makeEnvironment: @Sendable () -> any Environment, episodes: Int, seed: UInt64,
    stochastic: Bool = false, threads: Int = 2
) -> [EvaluationEpisode] {
    var results = [EvaluationEpisode](repeating: EvaluationEpisode(episodeReturn: 0, length: 0, isTruncated: false),
                                      count: episodes)
    let shared = UncheckedShared(agent)
    results.withUnsafeMutableBufferPointer { buffer in
        let output = UncheckedShared(buffer)
        let workers = max(1, min(threads, episodes))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var i = worker
            while i < episodes {
                output.value[i] = playEpisode(shared.value, environment: makeEnvironment(),
                                              seed: seedForCopy(i, of: seed), stochastic: stochastic)
                i += workers
            }
        }
    }
    return results
}

/// One episode to its end (termination or the environment's time limit).
public func playEpisode(
    _ agent: any Agent, environment: any Environment, seed: UInt64, stochastic: Bool
) -> EvaluationEpisode {
    var environment = environment
    var generator = SeededGenerator(seed: seed, stream: 3)
    var observation = environment.reset(seed: seed)
    var total = 0.0, length = 0
    while true {
        let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0) }
        let action = stochastic ? sampleAction(from: choice, using: &generator) : choice.action
        // The agent only chooses valid actions and the episode is running, so step cannot fail.
        guard let step = try? environment.step(action) else {
            return EvaluationEpisode(episodeReturn: total, length: length, isTruncated: false)
        }
        total += Double(step.reward)
        length += 1
        observation = step.observation
        if step.isDone { return EvaluationEpisode(episodeReturn: total, length: length, isTruncated: step.isTruncated && !step.isTerminated) }
    }
}

/// A stochastic choice: a draw from the probabilities of a policy agent; for a value agent,
/// ε-greedy with ε = 0.05 (the usual evaluation ε for DQN).
public func sampleAction(from choice: ActionChoice, using generator: inout SeededGenerator) -> Int {
    switch choice.kind {
    case .probabilities:
        let u = generator.uniformFloat()
        var cumulative: Float = 0
        for (a, p) in choice.scores.enumerated() {
            cumulative += p
            if u < cumulative { return a }
        }
        return choice.scores.count - 1
    case .values:
        return generator.uniform() < 0.05 ? generator.int(below: choice.scores.count) : choice.action
    }
}

/// Hands a non-Sendable value to concurrent workers that only read it (or write disjoint
/// elements of it): the caller vouches for the absence of races.
struct UncheckedShared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
