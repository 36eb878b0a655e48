import ArgumentParser
import Environments
import Foundation
import Training
import Viewer

/// `agentlab record`: plays episodes headless and writes them as an animated GIF or a
/// folder of PNG frames.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record episodes to an H.264 MP4 video, an animated GIF or a folder of PNG frames (no display needed).",
        discussion: """
            Plays --episodes episodes and draws every step the way the viewer shows it: the \
            environment's frame beside a panel with the episode, step, return, last action and \
            the player's probability for each action. An --out name ending in .gif writes an \
            animated GIF (looping; the last frame of each episode is held for a second); a name \
            ending in .mp4 writes H.264 video through FFmpeg's libraries, one frame per step at \
            --fps frames per second, encoded as it plays (memory does not grow with the episode); \
            any other name writes a folder of frame-000000.png, ... with an index.csv. Files appear \
            only when complete.

            TARGET is a run folder, whose trained agent plays greedily, or an environment id \
            played by --policy random.

            Examples:
              agentlab record runs/CartPole-v1-ppo-seed0 --out cartpole.gif --episodes 1
              agentlab record runs/breakout --out breakout.mp4 --episodes 3 --saliency
              agentlab record Breakout-MinAtar --out breakout.gif --episodes 2 --seed 1
              agentlab record CartPole-v1 --out cartpole-frames --max-steps 100
            """)

    @Argument(help: "A run folder written by `agentlab train` (its agent plays greedily), or an environment id (see `agentlab envs`) played by --policy.")
    var target: String

    @Option(help: ArgumentHelp("With a run folder: play on this environment instead of the one the run trained on (same observation and action spaces), e.g. gymnasium:CartPole-v1.", valueName: "id"))
    var env: String?

    @Option(help: "The file (.mp4 or .gif) or folder (anything else) to write.")
    var out: String

    @Option(help: "Number of episodes to record.")
    var episodes = 1

    @Option(help: "Seed of the first reset and of the random policy.")
    var seed: UInt64 = 0

    @Option(help: "Who plays when TARGET is an environment id.")
    var policy: PolicyChoice = .random

    @Option(help: "Playback speed (GIF and MP4) in steps per second (default: 50 for CartPole, 15 for the arcade games, 5 for the grid worlds and the T-maze).")
    var fps: Double?

    @Option(help: "Enlarge the environment's frame this many times (default: about 480 pixels on its longer side).")
    var scale: Int?

    @Option(help: "Cut each episode short after this many steps.")
    var maxSteps: Int?

    @Flag(help: "Tint each observation cell by how strongly it drives the chosen action's score (|gradient| of the logit or Q-value); vector observations get a bar per component in the panel. Needs a run folder.")
    var saliency = false

    func validate() throws {
        if episodes < 1 { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        if let fps, !(fps > 0 && fps <= 100) { throw ValidationError("--fps must be in (0, 100], got \(fps)") }
        if let scale, !(1...16).contains(scale) { throw ValidationError("--scale must be in 1...16, got \(scale)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
    }

    func run() throws {
        let resolved = try resolvePlaybackTarget(target, policy: policy, seed: seed, environment: env, saliency: saliency)
        try checkParentFolder(of: out)
        var options = RecordingOptions(
            title: resolved.title, scale: scale,
            stepsPerSecond: fps ?? defaultStepsPerSecond(for: resolved.environmentID),
            maxStepsPerEpisode: maxSteps, status: resolved.description)
        options.showsSaliency = saliency
        let summary = try reportingViewerErrors {
            try recordEpisodes(
                environment: resolved.environment, advisor: resolved.advisor, episodes: episodes,
                seed: seed, to: out, options: options)
        }
        for (i, episode) in summary.episodes.enumerated() {
            var line = "episode \(i + 1)  return \(PanelModel.format(episode.episodeReturn))  length \(episode.length)"
            switch episode.ending {
            case .cutShort: line += "  (cut short by --max-steps)"
            case .truncated: line += "  truncated"
            case .terminated: break
            }
            print(line)
        }
        let kind = switch summary.format {
        case .gif: "GIF"
        case .mp4: "H.264 MP4 at \(summary.framesPerSecond ?? 0) frames/s"
        case .pngFolder: "PNG frames"
        }
        print("wrote \(summary.frameCount) frames (\(summary.width)×\(summary.height)) as \(kind) to \(summary.path)")
    }
}
