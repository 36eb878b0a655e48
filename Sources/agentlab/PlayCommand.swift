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
            key is held. The grid worlds are turn-based: one step \
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

    @Option(help: "Seed of the first episode.")
    var seed: UInt64 = 0

    @Option(help: "Steps per second (default: 20 for CartPole, 10 for the arcade games; the grid worlds wait for keys).")
    var fps: Double?

    @Option(help: "Enlarge the environment's frame this many times (default: about 480 pixels on its longer side).")
    var scale: Int?

    @Option(help: "Folder for screenshots taken with s.")
    var screenshots = "."

    func validate() throws {
        if let fps, !(fps > 0 && fps <= 960) { throw ValidationError("--fps must be in (0, 960], got \(fps)") }
        if let scale, !(1...16).contains(scale) { throw ValidationError("--scale must be in 1...16, got \(scale)") }
    }

    func run() throws {
        let environment = try makeEnvironment(id: id)
        let idle: KeyboardAdvisor.Idle? = id.hasPrefix("GridWorld") ? .wait : nil
        let keyboard = KeyboardAdvisor(actionNames: environment.actionNames, idle: idle)
        if keyboard.bindings.isEmpty {
            throw UsageError("\(id) has no action named left, right, up, down or fire "
                + "(its actions: \(environment.actionNames.joined(separator: ", "))), so it cannot be played with the keyboard")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: screenshots, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("--screenshots: the folder \(screenshots) does not exist")
        }
        let speed = fps ?? (id.hasPrefix("CartPole") ? 20 : 10)
        let options = WatchOptions(
            title: id, scale: scale, stepsPerSecond: speed, seed: seed, restartsAutomatically: false,
            screenshotDirectory: screenshots, command: "agentlab play")
        let summary = try reportingViewerErrors {
            try watchEpisodes(environment: environment, advisor: keyboard, options: options)
        }
        for (i, episode) in summary.episodes.enumerated() {
            print("episode \(i + 1)  return \(PanelModel.format(episode.episodeReturn))  length \(episode.length)")
        }
    }
}
