import CGIF
import Environments
import Foundation

/// Writes an animated GIF with giflib, frame by frame, looping forever.
///
/// Each frame after the first stores only the rectangle that changed since the previous
/// one (disposal "do not dispose"), with its own palette (`IndexedImage`), so a long
/// episode whose panel changes a few digits per step stays small. Nothing appears under
/// the final name until `finish()`, which renames the temporary file.
public final class GIFWriter {
    public let path: String
    public let width: Int, height: Int
    public private(set) var frameCount = 0
    private let temporaryPath: String
    private var file: UnsafeMutablePointer<GifFileType>?
    private var previous: Frame?

    public init(path: String, width: Int, height: Int) throws(ViewerError) {
        try AtomicWrite.refuseFolder(at: path)
        self.path = path
        self.width = width
        self.height = height
        temporaryPath = AtomicWrite.temporaryPath(for: path)
        var error: Int32 = 0
        guard let file = EGifOpenFileName(temporaryPath, false, &error) else {
            throw .cannotWrite(path: path, reason: Self.message(error))
        }
        self.file = file
        EGifSetGifVersion(file, true)
        guard EGifPutScreenDesc(file, Int32(width), Int32(height), 8, 0, nil) == GIF_OK else {
            abandon()
            throw .cannotWrite(path: path, reason: Self.message(file.pointee.Error))
        }
        // The NETSCAPE2.0 extension: loop forever.
        var status = EGifPutExtensionLeader(file, APPLICATION_EXT_FUNC_CODE)
        let name = Array("NETSCAPE2.0".utf8)
        status &= name.withUnsafeBufferPointer { EGifPutExtensionBlock(file, 11, $0.baseAddress) }
        let loop: [UInt8] = [1, 0, 0]
        status &= loop.withUnsafeBufferPointer { EGifPutExtensionBlock(file, 3, $0.baseAddress) }
        status &= EGifPutExtensionTrailer(file)
        guard status == GIF_OK else {
            abandon()
            throw .cannotWrite(path: path, reason: "cannot write the loop extension")
        }
    }

    deinit { abandon() }

    /// Appends `frame`, shown for `delay` hundredths of a second.
    public func add(_ frame: Frame, delay: Int) throws(ViewerError) {
        guard let file else { throw .cannotWrite(path: path, reason: "the GIF is already finished") }
        precondition(frame.width == width && frame.height == height,
                     "GIF frames must be \(width)×\(height), got \(frame.width)×\(frame.height)")
        // The changed rectangle (at least one pixel, so every frame carries its delay).
        let rect = previous.map { changedRect(from: $0, to: frame) } ?? PixelRect(x: 0, y: 0, width: width, height: height)
        previous = frame
        let image = IndexedImage(frame, rect: rect)

        var control = GraphicsControlBlock(
            DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
            DelayTime: Int32(max(0, min(delay, 65_535))), TransparentColor: NO_TRANSPARENT_COLOR)
        var extensionBytes = [UInt8](repeating: 0, count: 4)
        let length = EGifGCBToExtension(&control, &extensionBytes)
        var status = EGifPutExtension(file, GRAPHICS_EXT_FUNC_CODE, Int32(length), extensionBytes)

        var mapSize = 2
        while mapSize < image.colors.count { mapSize *= 2 }
        var colors = image.colors.map { GifColorType(Red: $0.red, Green: $0.green, Blue: $0.blue) }
        colors += Array(repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: mapSize - colors.count)
        guard let map = GifMakeMapObject(Int32(mapSize), colors) else {
            throw .cannotWrite(path: path, reason: "cannot make a colour map")
        }
        defer { GifFreeMapObject(map) }
        status &= EGifPutImageDesc(file, Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height), false, map)
        var indices = image.indices
        indices.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<rect.height where status == GIF_OK {
                status = EGifPutLine(file, buffer.baseAddress! + row * rect.width, Int32(rect.width))
            }
        }
        guard status == GIF_OK else { throw .cannotWrite(path: path, reason: Self.message(file.pointee.Error)) }
        frameCount += 1
    }

    /// Closes the file and renames it to `path`.
    public func finish() throws(ViewerError) {
        guard let file else { throw .cannotWrite(path: path, reason: "the GIF is already finished") }
        self.file = nil
        var error: Int32 = 0
        guard EGifCloseFile(file, &error) == GIF_OK else {
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw .cannotWrite(path: path, reason: Self.message(error))
        }
        // giflib creates the file readable by its owner only; give it the usual mode.
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o666 & ~mask)
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    /// Closes and deletes the temporary file, leaving nothing behind.
    private func abandon() {
        guard let file else { return }
        self.file = nil
        var error: Int32 = 0
        EGifCloseFile(file, &error)
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }

    /// The bounding box of the pixels that differ, or one pixel when none do.
    private func changedRect(from old: Frame, to new: Frame) -> PixelRect {
        var minX = width, minY = height, maxX = -1, maxY = -1
        old.pixels.withUnsafeBufferPointer { a in
            new.pixels.withUnsafeBufferPointer { b in
                for y in 0..<height {
                    let row = y * width * 3
                    var x = 0
                    while x < width {
                        let i = row + x * 3
                        if a[i] != b[i] || a[i + 1] != b[i + 1] || a[i + 2] != b[i + 2] {
                            minX = min(minX, x); maxX = max(maxX, x)
                            minY = min(minY, y); maxY = max(maxY, y)
                        }
                        x += 1
                    }
                }
            }
        }
        if maxX < 0 { return PixelRect(x: 0, y: 0, width: 1, height: 1) }
        return PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    private static func message(_ code: Int32) -> String {
        if let text = GifErrorString(code) { return String(cString: text) }
        return "giflib error \(code)"
    }
}
