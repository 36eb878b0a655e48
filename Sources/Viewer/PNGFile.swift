import CSDL2
import Environments
import Foundation

/// PNG files of frames, through SDL2_image.
public enum PNGFile {
    /// Writes `frame` as an RGB PNG at `path`, atomically (temporary file, then rename).
    public static func write(_ frame: Frame, to path: String) throws(ViewerError) {
        do {
            try AtomicWrite.file(at: path) { temporary in try writeDirectly(frame, to: temporary) }
        } catch let error as ViewerError {
            throw error
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// Writes without the temporary file (for files inside a folder that is itself
    /// written under a temporary name).
    static func writeDirectly(_ frame: Frame, to path: String) throws(ViewerError) {
        try SDLContext.startImages()
        var pixels = frame.pixels
        let status: Int32 = pixels.withUnsafeMutableBytes { bytes in
            guard let surface = SDL_CreateRGBSurfaceWithFormatFrom(
                bytes.baseAddress, Int32(frame.width), Int32(frame.height), 24, Int32(frame.width * 3),
                SDL_PIXELFORMAT_RGB24.rawValue)
            else { return -2 }
            defer { SDL_FreeSurface(surface) }
            return IMG_SavePNG(surface, path)
        }
        if status != 0 {
            throw .cannotWrite(path: path, reason: String(cString: SDL_GetError()))
        }
    }

    /// Reads a PNG (or any image SDL2_image knows) as an RGB frame.
    public static func read(_ path: String) throws(ViewerError) -> Frame {
        try SDLContext.startImages()
        guard let loaded = IMG_Load(path) else { throw SDLContext.error("cannot read \(path)") }
        defer { SDL_FreeSurface(loaded) }
        guard let rgb = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_RGB24.rawValue, 0) else {
            throw SDLContext.error("cannot convert \(path) to RGB")
        }
        defer { SDL_FreeSurface(rgb) }
        let width = Int(rgb.pointee.w), height = Int(rgb.pointee.h), pitch = Int(rgb.pointee.pitch)
        var frame = Frame(width: width, height: height)
        SDL_LockSurface(rgb)
        let base = rgb.pointee.pixels!.assumingMemoryBound(to: UInt8.self)
        for row in 0..<height {
            for i in 0..<width * 3 { frame.pixels[row * width * 3 + i] = base[row * pitch + i] }
        }
        SDL_UnlockSurface(rgb)
        return frame
    }
}
