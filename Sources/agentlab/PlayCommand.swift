import ArgumentParser
import Environments
import Foundation
import Viewer

/// `agentlab play`: a person plays an environment with the keyboard in an SDL window.
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play an environment yourself with the keyboard in a window.",
        discussion: """
            The arrow keys play the actions named left, right, up and down, and space plays \
            fire, where the environment has them (the panel lists each action's key). \
            Every episode starts with your first key press. The arcade games then step \
            continuously at --fps and play no-op when no key is held. \
            CartPole steps continuously and, having no no-op, repeats the last push while no \
            key is held. The grid worlds and the T-maze are turn-based: one step \
            per key press.

            Other keys: p pauses (space too, where it is not fire), n steps once while paused, \
            + and - change the speed, r starts a new episode (after an episode ends, the \
            window waits for it), s saves a screenshot PNG, q or Escape quits. Closing the \
            window also quits. Needs a display; without one, use `agentlab record`.

            Examples:
              agentlab play Breakout-MinAtar
              agentlab play CartPole-v1 --fps 10 --seed 3
            """)

    @Argument(help: "An environment id (see `agentlab envs`).")
    var id: String

    @OptionGroup var window: WindowOptions

    func run() throws {
        let environment = try makeEnvironment(id: id)
        if let box = environment.actionSpace.box {
            throw UsageError("\(id) takes continuous actions (\(box)), which the keyboard cannot give; watch a trained "
                + "agent with `agentlab watch RUN`, or a random one with `agentlab watch \(id)`")
        }
        let idle: KeyboardAdvisor.Idle? = id.hasPrefix("GridWorld") || id.hasPrefix("TMaze") ? .wait : nil
        let keyboard = KeyboardAdvisor(actionNames: environment.actionNames, idle: idle)
        if keyboard.bindings.isEmpty {
            throw UsageError("\(id) has no action named left, right, up, down or fire "
                + "(its actions: \(environment.actionNames.joined(separator: ", "))), so it cannot be played with the keyboard")
        }
        let speed = window.fps ?? (id.hasPrefix("CartPole") ? 20 : 10)
        let options = WatchOptions(
            title: id, scale: window.scale, stepsPerSecond: speed, seed: window.seed, restartsAutomatically: false,
            screenshotDirectory: window.screenshots, command: "agentlab play")
        let summary = try reportingViewerErrors {
            try watchEpisodes(environment: environment, advisor: keyboard, options: options)
        }
        for (i, episode) in summary.episodes.enumerated() {
            print("episode \(i + 1)  return \(PanelModel.format(episode.episodeReturn))  length \(episode.length)")
        }
    }
}
