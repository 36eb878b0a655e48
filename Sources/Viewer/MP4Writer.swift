import CFFmpeg
import Environments
import Foundation

/// Writes an H.264 video in an MP4 file with FFmpeg's libraries, frame by frame.
///
/// Each frame is converted to YUV 4:2:0 (BT.709, limited range, tagged so players read it
/// back the same way), encoded with libx264 and handed to the MP4 muxer as soon as it
/// arrives: memory stays the same however long the episode. The frame rate is constant; a
/// picture shown longer (the pause at the end of an episode) is the same frame written
/// several times, which H.264 stores in a few bytes each.
///
/// H.264 in 4:2:0 needs an even width and height. An odd size is padded by one column on
/// the right or one row at the bottom that repeats the edge pixels, so a 33×21 picture
/// becomes a 34×22 video (`encodedWidth`, `encodedHeight`).
///
/// Nothing appears under the final name until `finish()`, which renames the temporary
/// file; a writer dropped unfinished, or one that failed, removes it.
public final class MP4Writer {
    public let path: String
    /// The size of the frames `add` takes.
    public let width: Int, height: Int
    /// The size of the video in the file: `width` and `height` rounded up to even.
    public let encodedWidth: Int, encodedHeight: Int
    public let framesPerSecond: Int
    /// Frames written so far, each repeat counted (the video lasts `frameCount / framesPerSecond` s).
    public private(set) var frameCount = 0

    private let temporaryPath: String
    /// The MP4 muxer and its file; nil once finished or abandoned.
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    /// The YUV picture handed to the encoder, rewritten for each new frame.
    private var picture: UnsafeMutablePointer<AVFrame>?
    /// Receives each encoded packet on its way to the muxer.
    private var packet: UnsafeMutablePointer<AVPacket>?
    /// The swscale context converting RGB24 to YUV420P.
    private var converter: OpaquePointer?
    /// The frame with its odd edge repeated, `encodedWidth × encodedHeight × 3` bytes;
    /// empty when the size is already even.
    private var padded: [UInt8]

    /// Opens a temporary file beside `path` and writes the MP4 header.
    ///
    /// - Throws: `ViewerError.cannotWrite` when the folder is missing or not writable, when
    ///   `path` is a folder, or when FFmpeg's libavcodec has no libx264 encoder.
    public init(path: String, width: Int, height: Int, framesPerSecond: Int) throws(ViewerError) {
        precondition(width > 0 && height > 0, "a video needs a positive size, got \(width)×\(height)")
        precondition(framesPerSecond > 0, "a video needs a positive frame rate, got \(framesPerSecond)")
        try AtomicWrite.refuseFolder(at: path)
        self.path = path
        self.width = width
        self.height = height
        encodedWidth = width + width % 2
        encodedHeight = height + height % 2
        self.framesPerSecond = framesPerSecond
        temporaryPath = AtomicWrite.temporaryPath(for: path)
        padded = encodedWidth == width && encodedHeight == height
            ? [] : [UInt8](repeating: 0, count: encodedWidth * encodedHeight * 3)

        // FFmpeg's log level is one for the whole process: keep errors only, or x264's
        // statistics and the muxer's progress would print on every recording. The errors
        // that matter reach the caller in the ViewerError anyway.
        av_log_set_level(AV_LOG_ERROR)
        guard let codec = avcodec_find_encoder_by_name("libx264") else {
            throw .cannotWrite(
                path: path,
                reason: "FFmpeg's libavcodec has no libx264 H.264 encoder; install a libavcodec built with "
                    + "libx264 (Debian and Ubuntu: apt-get install libavcodec-dev, whose libavcodec has it)")
        }
        do throws(ViewerError) {
            try open(with: codec)
        } catch {
            abandon()
            throw error
        }
    }

    deinit { abandon() }

    /// Appends `frame` `count` times (one frame period each), encoding it at once.
    ///
    /// After an error the writer is closed and its temporary file removed.
    public func add(_ frame: Frame, repeating count: Int = 1) throws(ViewerError) {
        guard let encoder, let picture, let converter else {
            throw .cannotWrite(path: path, reason: "the video is already finished")
        }
        precondition(frame.width == width && frame.height == height,
                     "video frames must be \(width)×\(height), got \(frame.width)×\(frame.height)")
        precondition(count >= 0, "a frame cannot be repeated \(count) times")
        guard count > 0 else { return }
        do throws(ViewerError) {
            // The encoder may still hold the previous picture's buffers: copy them if so.
            try check(av_frame_make_writable(picture), "preparing a picture")
            if padded.isEmpty {
                frame.pixels.withUnsafeBufferPointer { convert($0, into: picture, with: converter) }
            } else {
                pad(frame)
                padded.withUnsafeBufferPointer { convert($0, into: picture, with: converter) }
            }
            // Repeats send the same picture again, one frame period later.
            for _ in 0..<count {
                picture.pointee.pts = Int64(frameCount)
                try check(avcodec_send_frame(encoder, picture), "encoding frame \(frameCount)")
                try writeReadyPackets()
                frameCount += 1
            }
        } catch {
            abandon()
            throw error
        }
    }

    /// Encodes the frames the encoder still holds, writes the MP4 index and renames the
    /// file to `path` (replacing a file there).
    public func finish() throws(ViewerError) {
        guard let output, let encoder else { throw .cannotWrite(path: path, reason: "the video is already finished") }
        do throws(ViewerError) {
            guard frameCount > 0 else {
                throw .cannotWrite(path: path, reason: "no frames were added; add at least one before finish()")
            }
            // No frame means "end of stream": the encoder returns what its look-ahead holds.
            try check(avcodec_send_frame(encoder, nil), "flushing the encoder")
            try writeReadyPackets()
            try check(av_write_trailer(output), "writing the MP4 index", advice: "check that the disk has space")
            try check(avio_closep(&output.pointee.pb), "closing the file", advice: "check that the disk has space")
        } catch {
            abandon()
            throw error
        }
        release()
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    /// Sets up the muxer, the stream, the encoder and the conversion, and writes the header.
    private func open(with codec: UnsafePointer<AVCodec>) throws(ViewerError) {
        // The format is named: the temporary file's name does not end in .mp4.
        var output: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&output, nil, "mp4", temporaryPath), "preparing the MP4 muxer")
        guard let output else { throw .cannotWrite(path: path, reason: "FFmpeg has no MP4 muxer") }
        self.output = output

        guard let encoder = avcodec_alloc_context3(codec) else { throw outOfMemory() }
        self.encoder = encoder
        encoder.pointee.width = Int32(encodedWidth)
        encoder.pointee.height = Int32(encodedHeight)
        encoder.pointee.time_base = AVRational(num: 1, den: Int32(framesPerSecond))
        encoder.pointee.framerate = AVRational(num: Int32(framesPerSecond), den: 1)
        encoder.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        encoder.pointee.color_range = AVCOL_RANGE_MPEG
        encoder.pointee.colorspace = AVCOL_SPC_BT709
        encoder.pointee.color_primaries = AVCOL_PRI_BT709
        encoder.pointee.color_trc = AVCOL_TRC_BT709
        // MP4 keeps the sequence headers once in the file, not in every key frame.
        if output.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        // crf 20: visually close to the pictures; veryfast keeps up with a training run.
        var encoderOptions: OpaquePointer?
        defer { av_dict_free(&encoderOptions) }
        av_dict_set(&encoderOptions, "preset", "veryfast", 0)
        av_dict_set(&encoderOptions, "crf", "20", 0)
        try check(avcodec_open2(encoder, codec, &encoderOptions), "opening the libx264 encoder")

        guard let stream = avformat_new_stream(output, nil) else { throw outOfMemory() }
        self.stream = stream
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder), "describing the video stream")
        // A request: the muxer may pick a finer time base in the header, so packets are rescaled.
        stream.pointee.time_base = encoder.pointee.time_base
        stream.pointee.avg_frame_rate = encoder.pointee.framerate

        try check(avio_open(&output.pointee.pb, temporaryPath, AVIO_FLAG_WRITE), "creating the file",
                  advice: "check that the folder exists and is writable")
        // faststart moves the index to the front at finish(), so players can start at once.
        var muxerOptions: OpaquePointer?
        defer { av_dict_free(&muxerOptions) }
        av_dict_set(&muxerOptions, "movflags", "+faststart", 0)
        try check(avformat_write_header(output, &muxerOptions), "writing the MP4 header",
                  advice: "check that the disk has space")

        guard let picture = av_frame_alloc(), let packet = av_packet_alloc() else { throw outOfMemory() }
        self.picture = picture
        self.packet = packet
        picture.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        picture.pointee.width = Int32(encodedWidth)
        picture.pointee.height = Int32(encodedHeight)
        try check(av_frame_get_buffer(picture, 0), "allocating a picture")

        guard let converter = sws_getContext(
            Int32(encodedWidth), Int32(encodedHeight), AV_PIX_FMT_RGB24,
            Int32(encodedWidth), Int32(encodedHeight), AV_PIX_FMT_YUV420P,
            SWS_BILINEAR, nil, nil, nil)
        else { throw .cannotWrite(path: path, reason: "swscale cannot convert RGB24 to YUV420P") }
        self.converter = converter
        // Full-range RGB in, BT.709 limited-range YUV out, as the stream is tagged.
        let bt709 = sws_getCoefficients(SWS_CS_ITU709)
        sws_setColorspaceDetails(converter, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16)
    }

    /// Converts `rgb` (`encodedWidth × encodedHeight`, RGB24) into the planes of `picture`.
    private func convert(
        _ rgb: UnsafeBufferPointer<UInt8>, into picture: UnsafeMutablePointer<AVFrame>, with converter: OpaquePointer
    ) {
        // swscale reads four entries of each array, whatever the format uses.
        let source: [UnsafePointer<UInt8>?] = [rgb.baseAddress, nil, nil, nil]
        let sourceStrides: [Int32] = [Int32(encodedWidth * 3), 0, 0, 0]
        let data = picture.pointee.data, linesize = picture.pointee.linesize
        let planes = [data.0, data.1, data.2, data.3]
        let strides = [linesize.0, linesize.1, linesize.2, linesize.3]
        sws_scale(converter, source, sourceStrides, 0, Int32(encodedHeight), planes, strides)
    }

    /// Copies `frame` into `padded`, repeating its last column and row where the size is odd.
    private func pad(_ frame: Frame) {
        let rowBytes = width * 3, paddedRowBytes = encodedWidth * 3
        frame.pixels.withUnsafeBufferPointer { source in
            padded.withUnsafeMutableBufferPointer { target in
                for y in 0..<encodedHeight {
                    let from = source.baseAddress! + min(y, height - 1) * rowBytes
                    let to = target.baseAddress! + y * paddedRowBytes
                    to.update(from: from, count: rowBytes)
                    if encodedWidth > width { (to + rowBytes).update(from: from + rowBytes - 3, count: 3) }
                }
            }
        }
    }

    /// Hands every packet the encoder has ready to the muxer, which writes it out.
    private func writeReadyPackets() throws(ViewerError) {
        guard let output, let stream, let encoder, let packet else { return }
        while true {
            let status = avcodec_receive_packet(encoder, packet)
            if status == cffmpeg_error_again() || status == cffmpeg_error_eof() { return }
            try check(status, "encoding")
            av_packet_rescale_ts(packet, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            // The muxer takes the packet's data, even on failure, and leaves `packet` empty.
            try check(av_interleaved_write_frame(output, packet), "writing to the file",
                      advice: "check that the disk has space")
        }
    }

    /// Frees everything FFmpeg holds; closes the file if it is open.
    private func release() {
        sws_freeContext(converter)
        converter = nil
        av_frame_free(&picture)
        av_packet_free(&packet)
        avcodec_free_context(&encoder)
        if let output {
            avio_closep(&output.pointee.pb)
            avformat_free_context(output)  // frees the stream too
        }
        output = nil
        stream = nil
    }

    /// Releases everything and deletes the temporary file, leaving nothing behind.
    private func abandon() {
        let hasFile = output != nil
        release()
        if hasFile { try? FileManager.default.removeItem(atPath: temporaryPath) }
    }

    /// Throws `cannotWrite` with FFmpeg's message when `code` is negative (an error).
    private func check(_ code: Int32, _ doing: String, advice: String? = nil) throws(ViewerError) {
        guard code < 0 else { return }
        let suffix = advice.map { "; \($0)" } ?? ""
        throw .cannotWrite(path: path, reason: "\(doing): \(Self.message(code))\(suffix)")
    }

    private func outOfMemory() -> ViewerError {
        .cannotWrite(path: path, reason: "FFmpeg is out of memory")
    }

    /// FFmpeg's text for an error code (av_strerror).
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
        av_strerror(code, &buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
