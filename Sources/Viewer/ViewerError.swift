/// What can go wrong in the viewer and the recorder; each message says what to do.
public enum ViewerError: Error, Equatable, CustomStringConvertible {
    /// No display to open a window on.
    case noDisplay(String)
    /// SDL, SDL_ttf or SDL_image failed; the message includes SDL's error.
    case sdl(String)
    /// The font file is missing.
    case fontMissing(path: String)
    /// An advisor returned an action or scores that do not fit the environment.
    case invalidAdvice(String)
    /// A recording or screenshot could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .noDisplay(let message): message
        case .sdl(let message): message
        case .fontMissing(let path):
            "the viewer's font is missing: \(path); install the package fonts-dejavu-core (apt-get install fonts-dejavu-core)"
        case .invalidAdvice(let message): message
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
