import CSDL2
import Environments
import Foundation

/// Draws text into a `Frame` with SDL2_ttf and the packaged DejaVu Sans font: each string
/// is rendered once to an alpha mask (anti-aliased) and blended in the requested colour.
/// Needs no window and no video subsystem.
public final class TextRenderer {
    /// Text sizes the panel uses.
    public enum Style: Int, CaseIterable, Sendable { case title, body, small }

    /// DejaVu Sans from the Debian package `fonts-dejavu-core`. The environment variable
    /// `AGENTLAB_FONT` names another TrueType file.
    public static var defaultFontPath: String {
        ProcessInfo.processInfo.environment["AGENTLAB_FONT"]
            ?? "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    }

    /// An anti-aliased rendering of one string: one coverage byte per pixel.
    struct Mask {
        let width: Int, height: Int
        let alpha: [UInt8]
    }

    private var fonts: [Style: OpaquePointer] = [:]
    private var cache: [String: Mask] = [:]

    public init(fontPath: String = TextRenderer.defaultFontPath) throws(ViewerError) {
        guard FileManager.default.fileExists(atPath: fontPath) else { throw .fontMissing(path: fontPath) }
        try SDLContext.startText()
        for style in Style.allCases {
            let points: Int32 = switch style { case .title: 18; case .body: 15; case .small: 12 }
            guard let font = TTF_OpenFont(fontPath, points) else {
                for font in fonts.values { TTF_CloseFont(font) }
                throw SDLContext.error("cannot open the font \(fontPath)")
            }
            if style == .title { TTF_SetFontStyle(font, TTF_STYLE_BOLD) }
            fonts[style] = font
        }
    }

    deinit {
        for font in fonts.values { TTF_CloseFont(font) }
    }

    /// The width and height `text` takes in `style`.
    public func size(of text: String, style: Style = .body) -> (width: Int, height: Int) {
        let mask = self.mask(text, style: style)
        return (mask.width, mask.height)
    }

    /// Blends `text` into `frame` with its top-left corner at (`x`, `y`), clipped.
    public func draw(_ text: String, style: Style = .body, into frame: inout Frame, x: Int, y: Int, color: Color) {
        let mask = self.mask(text, style: style)
        guard mask.width > 0 else { return }
        let frameWidth = frame.width, frameHeight = frame.height
        let source = [color.red, color.green, color.blue]
        frame.pixels.withUnsafeMutableBufferPointer { pixels in
            for row in 0..<mask.height where y + row >= 0 && y + row < frameHeight {
                for column in 0..<mask.width where x + column >= 0 && x + column < frameWidth {
                    let a = Int(mask.alpha[row * mask.width + column])
                    guard a > 0 else { continue }
                    let i = ((y + row) * frameWidth + x + column) * 3
                    for channel in 0..<3 {
                        let blended = (Int(source[channel]) * a + Int(pixels[i + channel]) * (255 - a) + 127) / 255
                        pixels[i + channel] = UInt8(blended)
                    }
                }
            }
        }
    }

    func mask(_ text: String, style: Style) -> Mask {
        let key = "\(style.rawValue)\u{0}\(text)"
        if let cached = cache[key] { return cached }
        let mask = render(text, style: style)
        if cache.count > 1024 { cache.removeAll(keepingCapacity: true) }
        cache[key] = mask
        return mask
    }

    private func render(_ text: String, style: Style) -> Mask {
        guard !text.isEmpty, let font = fonts[style],
              let rendered = TTF_RenderUTF8_Blended(font, text, SDL_Color(r: 255, g: 255, b: 255, a: 255))
        else { return Mask(width: 0, height: 0, alpha: []) }
        defer { SDL_FreeSurface(rendered) }
        // Blended text comes as 32-bit ARGB; convert anything else to be sure.
        let argb = SDL_PIXELFORMAT_ARGB8888.rawValue
        let surface: UnsafeMutablePointer<SDL_Surface>
        var converted: UnsafeMutablePointer<SDL_Surface>?
        if rendered.pointee.format.pointee.format == argb {
            surface = rendered
        } else {
            guard let c = SDL_ConvertSurfaceFormat(rendered, argb, 0) else {
                return Mask(width: 0, height: 0, alpha: [])
            }
            converted = c
            surface = c
        }
        defer { if let converted { SDL_FreeSurface(converted) } }
        let width = Int(surface.pointee.w), height = Int(surface.pointee.h), pitch = Int(surface.pointee.pitch)
        var alpha = [UInt8](repeating: 0, count: width * height)
        SDL_LockSurface(surface)
        let base = surface.pointee.pixels!.assumingMemoryBound(to: UInt8.self)
        for row in 0..<height {
            let line = UnsafeRawPointer(base + row * pitch).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width { alpha[row * width + column] = UInt8(line[column] >> 24) }
        }
        SDL_UnlockSurface(surface)
        return Mask(width: width, height: height, alpha: alpha)
    }
}
