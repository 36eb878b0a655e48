import CSDL2
import Foundation

/// Starting SDL's parts and reporting its errors. Everything that touches SDL runs on the
/// main thread; SDL pointers never leave the type that owns them.
enum SDLContext {
    /// A `ViewerError.sdl` with `what` and SDL's last error.
    static func error(_ what: String) -> ViewerError {
        .sdl("\(what): \(String(cString: SDL_GetError()))")
    }

    /// Starts SDL_ttf (no video needed).
    static func startText() throws(ViewerError) {
        if TTF_WasInit() == 0, TTF_Init() != 0 { throw error("cannot start SDL_ttf") }
    }

    /// Starts SDL_image's PNG support (no video needed).
    static func startImages() throws(ViewerError) {
        let png = Int32(IMG_INIT_PNG.rawValue)
        if IMG_Init(png) & png == 0 { throw error("cannot start SDL_image's PNG support") }
    }

    /// Starts SDL's video subsystem, after checking there is a display to show on.
    static func startVideo(command: String) throws(ViewerError) {
        if let message = missingDisplayMessage(
            environment: ProcessInfo.processInfo.environment, command: command)
        {
            throw .noDisplay(message)
        }
        if SDL_WasInit(SDL_INIT_VIDEO) != 0 { return }
        if SDL_InitSubSystem(SDL_INIT_VIDEO) != 0 {
            throw .noDisplay(
                "\(command) needs a display, and SDL could not open one (\(String(cString: SDL_GetError()))); "
                    + "use `agentlab record` to write the episodes to a GIF or PNG frames instead")
        }
    }
}

/// Why a window cannot be opened, or `nil` when one may be: on Linux a window needs
/// `DISPLAY` (X11) or `WAYLAND_DISPLAY`, unless `SDL_VIDEODRIVER` picks SDL's `dummy` or
/// `offscreen` driver, which need none.
public func missingDisplayMessage(environment: [String: String], command: String) -> String? {
    #if os(Linux)
    let driver = environment["SDL_VIDEODRIVER"]?.lowercased() ?? ""
    if driver == "dummy" || driver == "offscreen" { return nil }
    let hasDisplay = !(environment["DISPLAY"] ?? "").isEmpty || !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
    if hasDisplay { return nil }
    return "\(command) needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set; "
        + "use `agentlab record` to write the episodes to a GIF or PNG frames instead "
        + "(or run under a virtual display: xvfb-run \(command) ...)"
    #else
    return nil
    #endif
}
