import Environments
import Foundation

/// Where a recording goes, chosen by the output name: a name ending in `.gif` is an
/// animated GIF, `.mp4` an H.264 video, anything else a folder of PNG frames.
public enum RecordingFormat: String, Equatable, Sendable {
    case gif
    case mp4
    case pngFolder

    public init(path: String) {
        let name = path.lowercased()
        self = name.hasSuffix(".gif") ? .gif : name.hasSuffix(".mp4") ? .mp4 : .pngFolder
    }
}

/// How to record.
public struct RecordingOptions: Sendable {
    /// The panel's title (the environment id, or the run's name).
    public var title: String
    /// The frame's scale; `nil` for `ViewerLayout.defaultScale`.
    public var scale: Int?
    /// Playback speed of the GIF: each step is shown for `100 / stepsPerSecond`
    /// hundredths of a second (at least 2, the least browsers honour).
    public var stepsPerSecond: Double
    /// The last frame of every episode is held this long (seconds) in the GIF.
    public var endPause: Double
    /// Episodes are cut short after this many steps (`nil`: play them out).
    public var maxStepsPerEpisode: Int?
    /// The panel's status line ("random policy, seed 0").
    public var status: String
    /// The font file for the panel.
    public var fontPath: String
    /// Overlay the advisor's saliency (see `ActionAdvisor.saliency(of:)`).
    public var showsSaliency = false

    public init(
        title: String, scale: Int? = nil, stepsPerSecond: Double = 15, endPause: Double = 1,
        maxStepsPerEpisode: Int? = nil, status: String = "",
        fontPath: String = TextRenderer.defaultFontPath
    ) {
        self.title = title
        self.scale = scale
        self.stepsPerSecond = stepsPerSecond
        self.endPause = endPause
        self.maxStepsPerEpisode = maxStepsPerEpisode
        self.status = status
        self.fontPath = fontPath
    }

    /// Hundredths of a second per step in a GIF.
    public var frameDelay: Int { max(2, Int((100 / stepsPerSecond).rounded())) }

    /// The video's frame rate: one frame per step, at least 1.
    public var videoFramesPerSecond: Int { max(1, Int(stepsPerSecond.rounded())) }
}

/// What was written.
public struct RecordingSummary: Equatable, Sendable {
    public var path: String
    public var format: RecordingFormat
    /// Frames written: for each episode the frame after reset and one per step; in a
    /// video also the repeats that hold each episode's last frame (`endPause`).
    public var frameCount: Int
    /// The picture's size; a video's is rounded up to even numbers (H.264's 4:2:0 needs them).
    public var width: Int, height: Int
    /// A video's frames per second (nil for GIF and PNG frames).
    public var framesPerSecond: Int? = nil
    public var episodes: [EpisodeRecord]
}

/// The PNG folder's index: one line per frame.
public let recordingIndexHeader = "frame,episode,step,action,reward,return"

/// Plays `episodes` episodes of `environment` with `advisor` and records every frame,
/// drawn by the viewer's `SceneRenderer` (frame and panel), to `path`: an animated GIF
/// when the name ends in `.gif`, otherwise a folder of `frame-000000.png`, ... with an
/// `index.csv`. Needs no display. The first reset uses `seed`, later ones continue the
/// environment's generator.
///
/// Writes are atomic: the GIF is written under a temporary name and renamed; the folder is
/// filled under a temporary name and renamed. An existing recording folder at `path` is
/// replaced; any other existing folder is refused.
///
/// - Throws: `ViewerError` (cannot write, font missing, bad advice) or `EnvironmentError`.
public func recordEpisodes(
    environment: any Environment, advisor: any ActionAdvisor, episodes: Int, seed: UInt64?,
    to path: String, options: RecordingOptions
) throws -> RecordingSummary {
    precondition(episodes >= 1, "record at least one episode")
    let session = EpisodeSession(environment: environment, advisor: advisor, seed: seed)
    session.showsSaliency = options.showsSaliency
    let first = session.render()
    let renderer = try SceneRenderer(
        frameWidth: first.width, frameHeight: first.height, scale: options.scale,
        actionCount: environment.actionSpace.width,
        saliencyRows: saliencyRows(for: environment, shown: options.showsSaliency), fontPath: options.fontPath)
    let layout = renderer.layout
    let format = RecordingFormat(path: path)
    let sink: any FrameSink = switch format {
    case .gif: try GIFWriter(path: path, width: layout.canvasWidth, height: layout.canvasHeight)
    case .mp4:
        try MP4Writer(path: path, width: layout.canvasWidth, height: layout.canvasHeight,
                      framesPerSecond: options.videoFramesPerSecond)
    case .pngFolder: try PNGFolderWriter(path: path)
    }
    var recorded: [EpisodeRecord] = []
    var frameCount = 0
    let endDelay = max(options.frameDelay, Int((options.endPause * 100).rounded()))

    func canvas(_ status: String) -> Frame {
        let panel = PanelModel(session: session, title: options.title, status: status, help: [])
        return renderer.render(frame: session.render(), panel: panel)
    }

    for index in 0..<episodes {
        if index > 0 { session.startNextEpisode() }
        var pending = canvas(options.status)  // held back one frame, to know its delay
        var pendingInfo = FrameInfo(episode: session.episode, step: 0, action: nil, reward: 0, episodeReturn: 0)
        while !session.isEpisodeOver {
            if let limit = options.maxStepsPerEpisode, session.step >= limit { break }
            try sink.add(pending, delay: options.frameDelay, info: pendingInfo)
            frameCount += 1
            let outcome = try session.advance()
            pending = canvas(session.isEpisodeOver ? "episode over" : options.status)
            pendingInfo = FrameInfo(
                episode: session.episode, step: session.step, action: session.lastAdvice?.action,
                reward: Double(outcome.reward), episodeReturn: session.episodeReturn)
        }
        try sink.add(pending, delay: endDelay, info: pendingInfo)
        frameCount += 1
        recorded.append(session.record)  // still running when cut short: `.cutShort`
    }
    try sink.finish()
    var summary = RecordingSummary(
        path: path, format: format, frameCount: frameCount, width: layout.canvasWidth,
        height: layout.canvasHeight, episodes: recorded)
    if let video = sink as? MP4Writer {
        summary.frameCount = video.frameCount
        (summary.width, summary.height) = (video.encodedWidth, video.encodedHeight)
        summary.framesPerSecond = video.framesPerSecond
    }
    return summary
}

/// Panel rows for saliency bars: one per observation float when saliency is shown and
/// the observation is not a grid over the frame (a grid is tinted on the frame instead).
func saliencyRows(for environment: any Environment, shown: Bool) -> Int {
    shown && environment.observationGrid == nil ? environment.observationSpace.count : 0
}

/// What the recorder knows about each frame (the PNG folder's index).
struct FrameInfo {
    var episode: Int, step: Int, action: Int?, reward: Double, episodeReturn: Double
}

/// A destination for recorded frames.
protocol FrameSink {
    func add(_ frame: Frame, delay: Int, info: FrameInfo) throws
    func finish() throws
}

extension GIFWriter: FrameSink {
    func add(_ frame: Frame, delay: Int, info: FrameInfo) throws { try add(frame, delay: delay) }
}

extension MP4Writer: FrameSink {
    /// A frame held longer than a step (the end of an episode) is repeated: the video keeps
    /// a constant frame rate.
    func add(_ frame: Frame, delay: Int, info: FrameInfo) throws {
        let frames = max(1, Int((Double(delay) / 100 * Double(framesPerSecond)).rounded()))
        try add(frame, repeating: frames)
    }
}

/// A folder of numbered PNG frames plus `index.csv`, filled under a temporary name and
/// renamed at the end.
final class PNGFolderWriter: FrameSink {
    let path: String
    private let temporaryPath: String
    private var index = [recordingIndexHeader]
    private var count = 0
    private var isFinished = false

    init(path: String) throws(ViewerError) {
        self.path = path
        try Self.checkReplaceable(path)
        temporaryPath = AtomicWrite.temporaryPath(for: path, suffix: "partial")
        do {
            try FileManager.default.createDirectory(atPath: temporaryPath, withIntermediateDirectories: false)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    deinit {
        if !isFinished { try? FileManager.default.removeItem(atPath: temporaryPath) }
    }

    /// The name of frame `n`.
    static func frameName(_ n: Int) -> String {
        "frame-" + String(repeating: "0", count: max(0, 6 - String(n).count)) + String(n) + ".png"
    }

    /// Refuses to replace anything but a folder this writer made (one with our index).
    static func checkReplaceable(_ path: String) throws(ViewerError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw .cannotWrite(path: path, reason: "a file with that name exists; a PNG recording is a folder (end the name in .gif for a GIF)")
        }
        let indexPath = (path as NSString).appendingPathComponent("index.csv")
        let firstLine = (try? String(contentsOfFile: indexPath, encoding: .utf8))?.split(separator: "\n").first
        guard firstLine.map(String.init) == recordingIndexHeader else {
            throw .cannotWrite(path: path, reason: "the folder exists and is not an AgentLab recording; choose another name")
        }
    }

    func add(_ frame: Frame, delay: Int, info: FrameInfo) throws {
        let name = Self.frameName(count)
        try PNGFile.writeDirectly(frame, to: (temporaryPath as NSString).appendingPathComponent(name))
        index.append("\(count),\(info.episode),\(info.step),\(info.action.map(String.init) ?? ""),"
            + "\(info.reward),\(info.episodeReturn)")
        count += 1
    }

    func finish() throws {
        let indexPath = (temporaryPath as NSString).appendingPathComponent("index.csv")
        do {
            try (index.joined(separator: "\n") + "\n").write(toFile: indexPath, atomically: false, encoding: .utf8)
        } catch {
            throw ViewerError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        try Self.checkReplaceable(path)
        var old: String?
        if FileManager.default.fileExists(atPath: path) {
            let aside = AtomicWrite.temporaryPath(for: path, suffix: "old")
            guard rename(path, aside) == 0 else {
                throw ViewerError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            old = aside
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            if let old { rename(old, path) }
            throw ViewerError.cannotWrite(path: path, reason: reason)
        }
        isFinished = true
        if let old { try? FileManager.default.removeItem(atPath: old) }
    }
}
