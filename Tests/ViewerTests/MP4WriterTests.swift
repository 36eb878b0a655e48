import CFFmpeg
import Environments
import Foundation
import Viewer
import XCTest

private let background = Color(30, 90, 160)
private let squareColor = Color(200, 60, 40)
/// A flat area's mean colour comes back within this much per channel. The RGB → YUV 4:2:0
/// → RGB round trip rounds each channel to limited-range 8-bit steps and shares chroma
/// between 2×2 pixels, and H.264 at crf 20 quantises a little more: a few units in all.
/// ±12 leaves room for that and still tells the square from the background by far.
private let colorTolerance = 12.0

final class MP4WriterTests: XCTestCase {
    func testEvenSizeDecodesToEveryFrameWrittenAtTheFrameRate() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("video.mp4")
        let squares = movingSquare(width: 48, height: 30, size: 10, start: (x: 2, y: 10), count: 25)
        let writer = try MP4Writer(path: path, width: 48, height: 30, framesPerSecond: 25)
        for frame in squares { try writer.add(frame) }
        // The end-of-episode pause: the last picture held for 5 more frame periods.
        try writer.add(squares[24], repeating: 5)
        XCTAssertEqual(writer.frameCount, 30)
        try writer.finish()
        // Only the video is left: the temporary file was renamed.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["video.mp4"])

        let video = try DecodedMP4(path: path)
        XCTAssertEqual(video.codecName, "h264")
        XCTAssertEqual(video.pixelFormat, AV_PIX_FMT_YUV420P)
        XCTAssertEqual(video.width, 48)
        XCTAssertEqual(video.height, 30)
        XCTAssertEqual(video.frameRate.num, 25)
        XCTAssertEqual(video.frameRate.den, 1)
        XCTAssertEqual(video.frames.count, 30)
        // Constant frame rate: frame i is shown at i frame periods, the repeats included.
        XCTAssertEqual(video.times, (0..<30).map(Double.init))
        for (i, decoded) in video.frames.enumerated() {
            let x = 2 + min(i, 24)  // the square's left edge; it stops for the held frames
            assertMeanColor(decoded, x: x + 2, y: 12, width: 6, height: 6, near: squareColor, "frame \(i), square")
            assertMeanColor(decoded, x: 0, y: 0, width: 48, height: 6, near: background, "frame \(i), background")
        }
    }

    func testOddSizeIsPaddedByRepeatingTheEdge() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("odd.mp4")
        // The square ends in the bottom-right corner, touching both padded edges.
        let squares = movingSquare(width: 33, height: 21, size: 8, start: (x: 1, y: 13), count: 25)
        let writer = try MP4Writer(path: path, width: 33, height: 21, framesPerSecond: 10)
        XCTAssertEqual(writer.encodedWidth, 34)
        XCTAssertEqual(writer.encodedHeight, 22)
        for frame in squares { try writer.add(frame) }
        try writer.add(squares[24], repeating: 5)
        try writer.finish()

        let video = try DecodedMP4(path: path)
        XCTAssertEqual(video.codecName, "h264")
        XCTAssertEqual(video.width, 34)
        XCTAssertEqual(video.height, 22)
        XCTAssertEqual(video.frameRate.num, 10)
        XCTAssertEqual(video.frameRate.den, 1)
        XCTAssertEqual(video.frames.count, 30)
        XCTAssertEqual(video.times, (0..<30).map(Double.init))
        for (i, decoded) in video.frames.enumerated() {
            let x = 1 + min(i, 24)
            assertMeanColor(decoded, x: x + 2, y: 15, width: 4, height: 4, near: squareColor, "frame \(i), square")
            assertMeanColor(decoded, x: 0, y: 0, width: 33, height: 6, near: background, "frame \(i), background")
        }
        // The padding repeats the edge: the extra column and row carry the square, not black.
        let last = video.frames[29]
        assertMeanColor(last, x: 33, y: 15, width: 1, height: 4, near: squareColor, "padded column by the square")
        assertMeanColor(last, x: 33, y: 0, width: 1, height: 6, near: background, "padded column above it")
        assertMeanColor(last, x: 28, y: 21, width: 4, height: 1, near: squareColor, "padded row under the square")
    }

    func testPathInMissingFolderThrowsCannotWrite() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("missing/video.mp4")
        XCTAssertThrowsError(try MP4Writer(path: path, width: 48, height: 30, framesPerSecond: 25)) { error in
            guard case .cannotWrite(let errorPath, let reason)? = error as? ViewerError else {
                return XCTFail("expected ViewerError.cannotWrite, got \(error)")
            }
            XCTAssertEqual(errorPath, path)
            // FFmpeg's own text (ENOENT) comes first; the advice is the writer's.
            XCTAssertTrue(reason.contains("check that the folder exists"), reason)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    func testUnfinishedVideoLeavesNothingBehind() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("video.mp4")
        do {
            let writer = try MP4Writer(path: path, width: 48, height: 30, framesPerSecond: 25)
            for frame in movingSquare(width: 48, height: 30, size: 10, start: (x: 2, y: 10), count: 5) {
                try writer.add(frame)
            }
            // The temporary file exists while writing, under another name.
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).count, 1)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        }
        // The writer is gone without finish(): neither the video nor its temporary file remains.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    func testFinishWithoutFramesThrowsAndLeavesNothing() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("video.mp4")
        let writer = try MP4Writer(path: path, width: 48, height: 30, framesPerSecond: 25)
        XCTAssertThrowsError(try writer.finish())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    /// `count` frames of a `size`-pixel square on the background, starting at `start` and
    /// moving one pixel right per frame.
    /// `record` to a name ending in .mp4: one video frame per step at the steps-per-second
    /// rate, each episode's last frame held for `endPause` (here 1 s = 10 frames), every
    /// frame the canvas the viewer draws.
    func testRecordingToMP4WritesOneFramePerStepAndHoldsTheLastOne() throws {
        useHeadlessVideo()
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("grid.mp4")
        let environment = try makeEnvironment(id: "GridWorld-v0")
        let summary = try recordEpisodes(
            environment: environment, advisor: RandomAdvisor(actionCount: 4, seed: 3), episodes: 2, seed: 3,
            to: path, options: RecordingOptions(title: "GridWorld-v0", stepsPerSecond: 10, maxStepsPerEpisode: 5))
        XCTAssertEqual(summary.format, .mp4)
        XCTAssertEqual(summary.framesPerSecond, 10)
        let steps = summary.episodes.map(\.length).reduce(0, +)
        // Per episode: the frame after reset and one per step, the last held 10 frames.
        XCTAssertEqual(summary.frameCount, steps + 2 * 10)
        let video = try DecodedMP4(path: path)
        XCTAssertEqual(video.codecName, "h264")
        XCTAssertEqual(video.frames.count, summary.frameCount)
        XCTAssertEqual(video.frameRate.num, 10)
        XCTAssertEqual(video.frameRate.den, 1)
        let layout = ViewerLayout(frameWidth: 120, frameHeight: 120, scale: 4, actionCount: 4)
        XCTAssertEqual([video.width, video.height], [summary.width, summary.height])
        XCTAssertEqual(video.width, layout.canvasWidth + layout.canvasWidth % 2)
        XCTAssertEqual(video.height, layout.canvasHeight + layout.canvasHeight % 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["grid.mp4"])
    }

    private func movingSquare(width: Int, height: Int, size: Int, start: (x: Int, y: Int), count: Int) -> [Frame] {
        (0..<count).map { i in
            var frame = Frame(width: width, height: height, fill: background)
            frame.fillRectangle(x: start.x + i, y: start.y, width: size, height: size, color: squareColor)
            return frame
        }
    }

    /// Asserts that the mean colour of a rectangle of `frame` is within `colorTolerance`
    /// of `expected` in each channel.
    private func assertMeanColor(
        _ frame: Frame, x: Int, y: Int, width: Int, height: Int, near expected: Color, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var sums = [0.0, 0.0, 0.0]
        for row in y..<(y + height) {
            for column in x..<(x + width) {
                let color = frame[column, row]
                sums[0] += Double(color.red); sums[1] += Double(color.green); sums[2] += Double(color.blue)
            }
        }
        let means = sums.map { $0 / Double(width * height) }
        let wanted = [Double(expected.red), Double(expected.green), Double(expected.blue)]
        for channel in 0..<3 where abs(means[channel] - wanted[channel]) > colorTolerance {
            XCTFail("\(message): mean colour \(means.map { Int($0.rounded()) }), expected \(wanted.map(Int.init))",
                    file: file, line: line)
            return
        }
    }
}

/// An FFmpeg call that failed while reading a video back, with av_strerror's text.
private struct FFmpegFailure: Error, CustomStringConvertible {
    var description: String

    init(_ call: String, _ code: Int32) {
        var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
        av_strerror(code, &buffer, buffer.count)
        description = "\(call): " + buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// Throws when an FFmpeg call returned a negative (error) code.
private func check(_ code: Int32, _ call: String) throws {
    if code < 0 { throw FFmpegFailure(call, code) }
}

/// An MP4 file's best video stream decoded with libavformat and libavcodec, every frame
/// converted back to RGB by `rgb(fromYUV420:)` (not swscale, so the writer's own conversion
/// is checked against an independent one).
private struct DecodedMP4 {
    var codecName: String
    var pixelFormat: AVPixelFormat
    var width: Int, height: Int
    /// The stream's average frame rate.
    var frameRate: AVRational
    var frames: [Frame]
    /// Each frame's presentation time, in frame periods.
    var times: [Double]

    init(path: String) throws {
        var format: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&format, path, nil, nil), "avformat_open_input")
        defer { avformat_close_input(&format) }
        try check(avformat_find_stream_info(format, nil), "avformat_find_stream_info")
        var codec: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        try check(index, "av_find_best_stream")
        let stream = format!.pointee.streams[Int(index)]!
        let parameters = stream.pointee.codecpar!
        codecName = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        width = Int(parameters.pointee.width)
        height = Int(parameters.pointee.height)
        frameRate = stream.pointee.avg_frame_rate
        let timeBase = stream.pointee.time_base, rate = stream.pointee.avg_frame_rate

        var decoder = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&decoder) }
        try check(avcodec_parameters_to_context(decoder, parameters), "avcodec_parameters_to_context")
        try check(avcodec_open2(decoder, codec, nil), "avcodec_open2")
        pixelFormat = decoder!.pointee.pix_fmt
        var packet = av_packet_alloc()
        defer { av_packet_free(&packet) }
        var picture = av_frame_alloc()
        defer { av_frame_free(&picture) }
        var frames: [Frame] = [], times: [Double] = []
        let frameWidth = width, frameHeight = height
        /// Takes every frame the decoder has ready.
        func receiveFrames() throws {
            while true {
                let status = avcodec_receive_frame(decoder, picture)
                if status == cffmpeg_error_again() || status == cffmpeg_error_eof() { return }
                try check(status, "avcodec_receive_frame")
                frames.append(rgb(fromYUV420: picture!.pointee, width: frameWidth, height: frameHeight))
                // Stream ticks to frame periods in integers, so whole periods come out exact.
                let ticks = picture!.pointee.best_effort_timestamp
                times.append(Double(ticks * Int64(timeBase.num) * Int64(rate.num))
                                 / Double(Int64(timeBase.den) * Int64(rate.den)))
            }
        }
        while true {
            let status = av_read_frame(format, packet)
            if status == cffmpeg_error_eof() { break }
            try check(status, "av_read_frame")
            defer { av_packet_unref(packet) }
            guard packet!.pointee.stream_index == index else { continue }
            try check(avcodec_send_packet(decoder, packet), "avcodec_send_packet")
            try receiveFrames()
        }
        // No packet means "end of stream": the decoder returns the frames it still holds.
        try check(avcodec_send_packet(decoder, nil), "avcodec_send_packet")
        try receiveFrames()
        self.frames = frames
        self.times = times
    }
}

/// The RGB picture of a decoded YUV 4:2:0 frame, with the BT.709 limited-range matrix the
/// writer tags: luma spans 16...235, chroma 16...240 around 128, one chroma sample per 2×2.
private func rgb(fromYUV420 picture: AVFrame, width: Int, height: Int) -> Frame {
    var frame = Frame(width: width, height: height)
    let (luma, blue, red) = (picture.data.0!, picture.data.1!, picture.data.2!)
    let (lumaStride, blueStride, redStride) =
        (Int(picture.linesize.0), Int(picture.linesize.1), Int(picture.linesize.2))
    func byte(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
    for y in 0..<height {
        for x in 0..<width {
            let l = (Double(luma[y * lumaStride + x]) - 16) * 255 / 219
            let cb = (Double(blue[y / 2 * blueStride + x / 2]) - 128) * 255 / 224
            let cr = (Double(red[y / 2 * redStride + x / 2]) - 128) * 255 / 224
            frame[x, y] = Color(byte(l + 1.5748 * cr), byte(l - 0.1873 * cb - 0.4681 * cr), byte(l + 1.8556 * cb))
        }
    }
    return frame
}
