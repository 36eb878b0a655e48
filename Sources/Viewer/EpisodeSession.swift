import Environments

/// One environment played by one advisor, episode after episode, with the counts the
/// panel shows. The window, the recorder and the tests all drive play through this type,
/// so what is shown is what was played.
///
/// Episodes are numbered from 1. The first reset uses `seed`; later resets continue the
/// environment's generator (`reset(seed: nil)`), so the whole sequence is reproducible.
public final class EpisodeSession {
    public private(set) var environment: any Environment
    public private(set) var advisor: any ActionAdvisor
    /// The observation the environment wrote last (the advisor's next input).
    public private(set) var observation: [Float]
    /// The current episode, from 1.
    public private(set) var episode = 1
    /// Steps taken in the current episode.
    public private(set) var step = 0
    /// The sum of the current episode's rewards.
    public private(set) var episodeReturn = 0.0
    /// The advice behind the last step of this episode (`nil` right after a reset). The
    /// panel shows it beside the frame it led to: the last action and the scores it was
    /// chosen from.
    public private(set) var lastAdvice: Advice?
    /// The last step's reward and end flags.
    public private(set) var lastOutcome: StepOutcome?
    /// Whether the current episode has ended (terminated or truncated).
    public var isEpisodeOver: Bool { lastOutcome?.isDone ?? false }

    /// Starts the first episode.
    public init(environment: any Environment, advisor: any ActionAdvisor, seed: UInt64?) {
        self.environment = environment
        self.advisor = advisor
        observation = self.environment.reset(seed: seed)
        self.advisor.episodeDidStart()
    }

    public var actionNames: [String] { environment.actionNames }

    /// Asks the advisor for an action and plays it.
    /// - Throws: `ViewerError.invalidAdvice` when the advisor's action or scores do not fit
    ///   the action space; `EnvironmentError.episodeEnded` after the episode is over.
    @discardableResult
    public func advance() throws -> StepOutcome {
        if isEpisodeOver { throw EnvironmentError.episodeEnded }
        let advice = advisor.advise(observation)
        let result: Step
        switch environment.actionSpace {
        case .discrete(let space):
            let count = space.count
            guard !advice.isContinuous, space.contains(advice.action) else {
                throw ViewerError.invalidAdvice(
                    "the advisor chose action \(advice.isContinuous ? "\(advice.values)" : "\(advice.action)"), but the "
                        + "environment's actions are 0...\(count - 1)")
            }
            guard advice.kind == .choice ? advice.scores.isEmpty : advice.scores.count == count else {
                throw ViewerError.invalidAdvice(
                    "the advisor gave \(advice.scores.count) \(advice.kind.rawValue) for \(count) actions")
            }
            result = try environment.step(advice.action)
        case .box(let box):
            guard advice.isContinuous, advice.values.count == box.count,
                  advice.kind == .continuous ? advice.spreads.isEmpty : advice.spreads.count == box.count
            else {
                throw ViewerError.invalidAdvice(
                    "the advisor gave \(advice.values.count) values and \(advice.spreads.count) spreads "
                        + "(\(advice.kind.rawValue)), but the environment's actions are \(box.count) floats (\(box))")
            }
            result = try environment.step(advice.values)
        }
        observation = result.observation
        step += 1
        episodeReturn += Double(result.reward)
        lastAdvice = advice
        let outcome = StepOutcome(
            reward: result.reward, isTerminated: result.isTerminated, isTruncated: result.isTruncated)
        lastOutcome = outcome
        return outcome
    }

    /// Starts the next episode (after one ended, or to abandon the current one).
    public func startNextEpisode() {
        observation = environment.reset(seed: nil)
        advisor.episodeDidStart()
        episode += 1
        step = 0
        episodeReturn = 0
        lastAdvice = nil
        lastOutcome = nil
    }

    /// The current episode as a record: ended by the task or its time limit, or cut short
    /// when it is still running.
    public var record: EpisodeRecord {
        let ending: EpisodeEnding = lastOutcome.map { $0.isDone ? EpisodeEnding($0) : .cutShort } ?? .cutShort
        return EpisodeRecord(episodeReturn: episodeReturn, length: step, ending: ending)
    }

    /// Whether `saliency` is computed (the viewer's and the recorder's `--saliency`).
    public var showsSaliency = false

    /// The advisor's saliency for the current observation, the one whose frame is shown
    /// and whose action comes next (nil unless `showsSaliency` and the advisor has one).
    public var saliency: [Float]? {
        guard showsSaliency, let values = advisor.saliency(of: observation), values.count == observation.count else {
            return nil
        }
        return values
    }

    /// The environment's picture of the current state.
    public func render() -> Frame { environment.render() }
}
