import Agents
import ArgumentParser
import Environments
import Foundation
import Training
import Viewer

/// `agentlab watch`: a trained agent plays in a window, with its view of each choice.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a trained agent play in a window.",
        discussion: """
            Loads RUN's checkpoint and plays its environment greedily, episode after episode. \
            Beside the game, a panel shows the episode, the step, the return so far, the last \
            action, and a bar per action with the agent's probability (policy agents) or \
            Q-value (DQN) at this step, the chosen one highlighted.

            Keys: space pauses and resumes, → steps once while paused, + and − change the \
            speed, r restarts the episode, s saves a screenshot PNG, q or Escape quits; \
            closing the window also quits. Needs a display; without one, use `agentlab record`.

            Example:
              agentlab watch runs/CartPole-v1-ppo-seed0 --episodes 3
            """)

    @Argument(help: ArgumentHelp("A run folder written by `agentlab train`.", valueName: "run"))
    var runFolder: String

    @Option(help: ArgumentHelp("Play on this environment instead of the one the run trained on (same observation and action spaces), e.g. gymnasium:CartPole-v1.", valueName: "id"))
    var env: String?

    @Option(help: "Close after this many episodes (default: play until the window is closed).")
    var episodes: Int?

    @Flag(help: "Tint each observation cell by how strongly it drives the chosen action's score (|gradient| of the logit or Q-value); vector observations get a bar per component in the panel.")
    var saliency = false

    @OptionGroup var window: WindowOptions

    func validate() throws {
        if let episodes, episodes <= 0 { throw ValidationError("--episodes must be positive, got \(episodes)") }
    }

    func run() throws {
        // Everything is checked before a window opens.
        let trained: TrainedRun
        do { trained = try TrainedRun(runFolder, environment: env) } catch { throw UsageError(error.description) }
        try checkSaliency(saliency, of: trained)
        let id = trained.spec.id
        var options = WatchOptions(
            title: "\(id) · \(trained.configuration.algorithm)", scale: window.scale,
            stepsPerSecond: window.fps ?? defaultStepsPerSecond(for: id), seed: window.seed, restartsAutomatically: true,
            screenshotDirectory: window.screenshots, command: "agentlab watch", maxEpisodes: episodes)
        options.showsSaliency = saliency
        let summary = try reportingViewerErrors {
            try watchEpisodes(environment: trained.makeEnvironment(), advisor: AgentAdvisor(agent: trained.agent),
                              options: options)
        }
        for (i, episode) in summary.episodes.enumerated() {
            print("episode \(i + 1)  return \(PanelModel.format(episode.episodeReturn))  length \(episode.length)")
        }
    }
}

/// A trained agent as the viewer's advisor: its greedy action with the probabilities or
/// Q-values behind it.
