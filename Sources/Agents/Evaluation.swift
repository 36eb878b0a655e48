import Environments
import Parallelism
import SeededRandom

/// Evaluation episodes stop after this many steps unless the caller says otherwise:
/// beyond every built-in time limit (the arcade games' 10,000), so only an environment
/// without one, played by an agent that never ends it, is cut short.
public let defaultEvaluationStepLimit = 100_000

/// An evaluation episode that could not be played to its end.
public struct EvaluationError: Error, Equatable, CustomStringConvertible {
    /// The episode's index.
    public var episode: Int
    /// The steps it had taken when the environment refused the next one.
    public var step: Int
    public var underlying: EnvironmentError

    public var description: String {
        "evaluation episode \(episode) failed at step \(step): \(underlying)"
    }
}

/// Plays `episodes` seeded episodes with an agent's greedy choices (or sampled ones when
/// `stochastic`), spread over the threads of `pool`, each to its end or to `maxSteps`
/// steps (then reported as `.cutShort`).
///
/// Episode `i` is played on its own environment from `makeEnvironment()`, reset with
/// `seedForCopy(i, of: seed)`, and stochastic choices draw from a generator seeded the same
/// way, so the results are the same whatever the number of threads. Agents only read their
/// networks while choosing, so one agent serves every thread.
///
/// - Throws: the failure of the lowest-numbered episode whose environment refused a step.
public func evaluate(
    _ agent: any Agent, makeEnvironment: @Sendable () -> any Environment, episodes: Int, seed: UInt64,
    stochastic: Bool = false, maxSteps: Int = defaultEvaluationStepLimit, pool: WorkerPool = .shared
) throws(EvaluationError) -> [EpisodeRecord] {
    precondition(maxSteps > 0, "an evaluation episode needs at least one step")
    var results = [Result<EpisodeRecord, EvaluationError>](
        repeating: .success(EpisodeRecord(episodeReturn: 0, length: 0)), count: episodes)
    let shared = UncheckedShared(agent)
    results.withUnsafeMutableBufferPointer { buffer in
        let output = UncheckedShared(buffer)
        pool.run(pieces: episodes) { i in
            do throws(EvaluationError) {
                output.value[i] = .success(try playEpisode(
                    shared.value, environment: makeEnvironment(), seed: seedForCopy(i, of: seed),
                    stochastic: stochastic, maxSteps: maxSteps, index: i))
            } catch {
                output.value[i] = .failure(error)
            }
        }
    }
    return try results.map { result throws(EvaluationError) in try result.get() }
}

/// One episode to its end (termination or the environment's time limit), or to
/// `maxSteps` steps, after which it is reported as `.cutShort`.
/// - Throws: `EvaluationError` (naming episode `index`) when the environment refuses a step.
public func playEpisode(
    _ agent: any Agent, environment: any Environment, seed: UInt64, stochastic: Bool,
    maxSteps: Int = defaultEvaluationStepLimit, index: Int = 0
) throws(EvaluationError) -> EpisodeRecord {
    var environment = environment
    var generator = SeededGenerator(seed: seed, stream: 3)
    var observation = environment.reset(seed: seed)
    var total = 0.0, length = 0
    var memory = agent.makeMemory()
    while length < maxSteps {
        let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0, memory: &memory) }
        let step: Step
        do {
            if choice.isContinuous {
                step = try environment.step(stochastic ? sampleContinuousAction(from: choice, using: &generator) : choice.values)
            } else {
                step = try environment.step(stochastic ? sampleAction(from: choice, using: &generator) : choice.action)
            }
        } catch {
            throw EvaluationError(episode: index, step: length, underlying: error)
        }
        total += Double(step.reward)
        length += 1
        observation = step.observation
        if step.isDone {
            return EpisodeRecord(episodeReturn: total, length: length, ending: step.isTerminated ? .terminated : .truncated)
        }
    }
    return EpisodeRecord(episodeReturn: total, length: length, ending: .cutShort)
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
    case .gaussian, .deterministic:
        preconditionFailure("a continuous choice has no action number")
    }
}

/// A stochastic continuous choice: for a Gaussian policy a draw from N(values, spreads²)
/// per dimension (the environment clips it to its bounds); a deterministic policy's action
/// as it is.
public func sampleContinuousAction(from choice: ActionChoice, using generator: inout SeededGenerator) -> [Float] {
    guard choice.kind == .gaussian else { return choice.values }
    return zip(choice.values, choice.spreads).map { mean, spread in mean + spread * Float(generator.normal()) }
}

/// Hands a non-Sendable value to concurrent workers that only read it (or write disjoint
/// elements of it): the caller vouches for the absence of races.
struct UncheckedShared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
