import Environments
import Foundation
import Viewer
import XCTest

final class RecordingTests: XCTestCase {
    override func setUp() { useHeadlessVideo() }

    /// Replays what the recorder played (same seeds, same advisor) and returns the
    /// environment's own frame after each step of the first `episodes` episodes.
    private func replayFrames(
        id: String, seed: UInt64, episodes: [EpisodeRecord]
    ) throws -> [Frame] {
        let environment = try makeEnvironment(id: id)
        let session = EpisodeSession(
            environment: environment, advisor: RandomAdvisor(actionSpace: environment.actionSpace, seed: seed),
            seed: seed)
        var frames: [Frame] = []
        for (i, episode) in episodes.enumerated() {
            if i > 0 { session.startNextEpisode() }
            frames.append(session.render())
            for _ in 0..<episode.length {
                try session.advance()
                frames.append(session.render())
            }
        }
        return frames
    }

    func testGIFDecodesToOneFramePerStepWithTheEnvironmentsPixels() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("grid.gif")
        let environment = try makeEnvironment(id: "GridWorld-v0")
        let summary = try recordEpisodes(
            environment: environment, advisor: RandomAdvisor(actionCount: 4, seed: 3), episodes: 2, seed: 3,
            to: path, options: RecordingOptions(title: "GridWorld-v0", stepsPerSecond: 10, maxStepsPerEpisode: 5))
        XCTAssertEqual(summary.format, .gif)
        XCTAssertEqual(summary.episodes.count, 2)
        let expectedFrames = summary.episodes.map { $0.length + 1 }.reduce(0, +)
        XCTAssertEqual(summary.frameCount, expectedFrames)
        for episode in summary.episodes { XCTAssertTrue(episode.ending == (episode.length == 5 ? .cutShort : .terminated)) }

        let gif = try DecodedGIF(path: path)
        XCTAssertEqual(gif.frames.count, expectedFrames)
        let layout = ViewerLayout(frameWidth: 120, frameHeight: 120, scale: 4, actionCount: 4)  // 5×5 cells of 24 px
        XCTAssertEqual(gif.width, layout.canvasWidth)
        XCTAssertEqual(gif.height, layout.canvasHeight)
        XCTAssertEqual(summary.width, layout.canvasWidth)
        XCTAssertTrue(gif.loops)
        // 10 steps per second → 10 hundredths; each episode's last frame held a second.
        let firstLength = summary.episodes[0].length
        XCTAssertEqual(gif.delays[0], 10)
        XCTAssertEqual(gif.delays[firstLength], 100)
        XCTAssertEqual(gif.delays.last, 100)

        let expected = try replayFrames(id: "GridWorld-v0", seed: 3, episodes: summary.episodes)
        XCTAssertEqual(expected.count, gif.frames.count)
        for (i, (decoded, own)) in zip(gif.frames, expected).enumerated() {
            let area = decoded.cropped(
                x: layout.frameRect.x, y: layout.frameRect.y, width: layout.frameRect.width, height: layout.frameRect.height)
            assertFramesEqual(area, own.scaled(by: 4), "GIF frame \(i)")
        }
        // Nothing but the GIF is left in the folder (no temporary files).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["grid.gif"])
    }

    func testPNGFolderHoldsEveryCanvasExactlyAndAnIndex() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("frames")
        let environment = try makeEnvironment(id: "CartPole-v1")
        let options = RecordingOptions(title: "CartPole-v1", maxStepsPerEpisode: 3, status: "random")
        let summary = try recordEpisodes(
            environment: environment, advisor: RandomAdvisor(actionCount: 2, seed: 5), episodes: 2, seed: 5,
            to: path, options: options)
        XCTAssertEqual(summary.format, .pngFolder)
        XCTAssertEqual(summary.frameCount, 8)  // CartPole lasts more than 3 steps: 2 × (3 + 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        XCTAssertEqual(names, (0..<8).map { String(format: "frame-%06d.png", $0) } + ["index.csv"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["frames"])

        let index = try String(contentsOfFile: (path as NSString).appendingPathComponent("index.csv"), encoding: .utf8)
        let lines = index.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 9)
        XCTAssertEqual(lines[0], recordingIndexHeader)
        XCTAssertTrue(lines[1].hasPrefix("0,1,0,,"))
        XCTAssertTrue(lines[4].hasPrefix("3,1,3,"))
        XCTAssertTrue(lines[4].hasSuffix(",1.0,3.0"))
        XCTAssertTrue(lines[5].hasPrefix("4,2,0,,"))

        // Every PNG is the canvas the viewer draws for that step, exactly.
        let replay = EpisodeSession(
            environment: try makeEnvironment(id: "CartPole-v1"), advisor: RandomAdvisor(actionCount: 2, seed: 5), seed: 5)
        let renderer = try SceneRenderer(frameWidth: 600, frameHeight: 400, actionCount: 2)
        for n in 0..<8 {
            if n == 4 { replay.startNextEpisode() } else if n > 0 { try replay.advance() }
            let panel = PanelModel(session: replay, title: "CartPole-v1", status: "random", help: [])
            let expected = renderer.render(frame: replay.render(), panel: panel)
            let stored = try PNGFile.read((path as NSString).appendingPathComponent(String(format: "frame-%06d.png", n)))
            XCTAssertEqual(stored.width, 900)
            assertFramesEqual(stored, expected, "frame \(n)")
        }
    }

    func testRecordingReplacesAnOldRecordingButNoOtherFolder() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("out")
        func record(_ steps: Int) throws -> RecordingSummary {
            try recordEpisodes(
                environment: try makeEnvironment(id: "Freeway-MinAtar"), advisor: RandomAdvisor(actionCount: 6, seed: 1),
                episodes: 1, seed: 1, to: path,
                options: RecordingOptions(title: "Freeway", maxStepsPerEpisode: steps))
        }
        _ = try record(4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).count, 6)
        _ = try record(2)  // replaces the earlier recording
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).count, 4)

        let other = (folder as NSString).appendingPathComponent("precious")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        try "keep".write(toFile: (other as NSString).appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try recordEpisodes(
            environment: try makeEnvironment(id: "Freeway-MinAtar"), advisor: RandomAdvisor(actionCount: 6, seed: 1),
            episodes: 1, seed: 1, to: other, options: RecordingOptions(title: "Freeway", maxStepsPerEpisode: 2))
        ) { error in
            XCTAssertTrue("\(error)".contains("not an AgentLab recording"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), ["notes.txt"])
        // No temporary folders left behind by the refused or the replacing recordings.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["out", "precious"])
    }

    func testFormatFollowsTheName() {
        XCTAssertEqual(RecordingFormat(path: "a/b.gif"), .gif)
        XCTAssertEqual(RecordingFormat(path: "B.GIF"), .gif)
        XCTAssertEqual(RecordingFormat(path: "frames"), .pngFolder)
        XCTAssertEqual(RecordingFormat(path: "x.png"), .pngFolder)
        XCTAssertEqual(RecordingFormat(path: "runs/episode.mp4"), .mp4)
        XCTAssertEqual(RecordingFormat(path: "EPISODE.MP4"), .mp4)
    }

    func testIndexedImageIsExactUpTo256ColoursAndUsesTheCubeBeyond() {
        var few = Frame(width: 16, height: 16)
        for y in 0..<16 { for x in 0..<16 { few[x, y] = Color(UInt8(x * 16), UInt8(y * 16), 7) } }  // 256 colours
        let exact = IndexedImage(few)
        XCTAssertEqual(exact.colors.count, 256)
        for y in 0..<16 { for x in 0..<16 { XCTAssertEqual(exact[x, y], few[x, y]) } }

        var many = Frame(width: 30, height: 20, fill: Color(10, 20, 30))  // 600 px
        for i in 0..<300 { many[i % 30, 10 + i / 30] = Color(UInt8(i % 256), UInt8(i / 2), 99) }  // 300 more colours
        let mapped = IndexedImage(many, rect: PixelRect(x: 0, y: 0, width: 30, height: 20))
        XCTAssertLessThanOrEqual(mapped.colors.count, 256)
        XCTAssertEqual(mapped[0, 0], Color(10, 20, 30))  // the commonest colour is kept exactly
        for y in 10..<20 {
            for x in 0..<30 {
                let original = many[x, y], shown = mapped[x, y]
                XCTAssertLessThanOrEqual(abs(Int(original.red) - Int(shown.red)), 25)
                XCTAssertLessThanOrEqual(abs(Int(original.green) - Int(shown.green)), 25)
                XCTAssertLessThanOrEqual(abs(Int(original.blue) - Int(shown.blue)), 25)
            }
        }
    }
}
