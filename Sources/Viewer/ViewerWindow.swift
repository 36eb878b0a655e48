import CSDL2
import Environments
import Foundation

/// An SDL window that shows a canvas (`SceneRenderer`'s output), scaled to fit and
/// letterboxed when the window is resized. Lives on the main thread.
final class ViewerWindow {
    private let window: OpaquePointer
    private let renderer: OpaquePointer
    private let texture: OpaquePointer
    let width: Int, height: Int

    init(title: String, width: Int, height: Int, command: String) throws(ViewerError) {
        try SDLContext.startVideo(command: command)
        let undefined = Int32(bitPattern: SDL_WINDOWPOS_UNDEFINED_MASK)
        guard let window = SDL_CreateWindow(
            title, undefined, undefined, Int32(width), Int32(height),
            SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_ALLOW_HIGHDPI.rawValue)
        else { throw SDLContext.error("cannot open a window") }
        guard let renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED.rawValue)
            ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
        else {
            SDL_DestroyWindow(window)
            throw SDLContext.error("cannot create a renderer")
        }
        guard let texture = SDL_CreateTexture(
            renderer, SDL_PIXELFORMAT_RGB24.rawValue, Int32(SDL_TEXTUREACCESS_STREAMING.rawValue),
            Int32(width), Int32(height))
        else {
            SDL_DestroyRenderer(renderer)
            SDL_DestroyWindow(window)
            throw SDLContext.error("cannot create a texture")
        }
        SDL_SetTextureScaleMode(texture, SDL_ScaleModeNearest)  // crisp when enlarged
        SDL_SetWindowMinimumSize(window, Int32(max(1, width / 4)), Int32(max(1, height / 4)))
        self.window = window
        self.renderer = renderer
        self.texture = texture
        self.width = width
        self.height = height
    }

    deinit {
        SDL_DestroyTexture(texture)
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
    }

    /// Shows `canvas`, as large as fits, centred on black.
    func present(_ canvas: Frame) {
        precondition(canvas.width == width && canvas.height == height, "the canvas changed size")
        canvas.pixels.withUnsafeBytes { bytes in
            _ = SDL_UpdateTexture(texture, nil, bytes.baseAddress, Int32(width * 3))
        }
        var outputWidth: Int32 = 0, outputHeight: Int32 = 0
        SDL_GetRendererOutputSize(renderer, &outputWidth, &outputHeight)
        let box = letterbox((width, height), in: (Int(outputWidth), Int(outputHeight)))
        var target = SDL_Rect(x: Int32(box.x), y: Int32(box.y), w: Int32(box.width), h: Int32(box.height))
        SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255)
        SDL_RenderClear(renderer)
        SDL_RenderCopy(renderer, texture, nil, &target)
        SDL_RenderPresent(renderer)
    }
}

/// How `watchEpisodes` plays.
public struct WatchOptions: Sendable {
    /// The window's and the panel's title (the environment id or the run's name).
    public var title: String
    /// The frame's scale; `nil` for `ViewerLayout.defaultScale`.
    public var scale: Int?
    /// Environment steps per second at the start (+ and − change it). The window redraws
    /// at 60 frames per second whatever the speed.
    public var stepsPerSecond: Double
    /// Seed of the first reset.
    public var seed: UInt64?
    /// Start the next episode a second after one ends (`watch`); otherwise wait for r
    /// (`play`).
    public var restartsAutomatically: Bool
    /// Where s saves screenshots.
    public var screenshotDirectory: String
    /// The command, for messages ("agentlab play").
    public var command: String
    public var fontPath: String
    /// Close the window after this many episodes have ended (nil: play until closed).
    public var maxEpisodes: Int?
    /// Overlay the advisor's saliency (see `ActionAdvisor.saliency(of:)`).
    public var showsSaliency = false

    public init(
        title: String, scale: Int? = nil, stepsPerSecond: Double = 15, seed: UInt64? = 0,
        restartsAutomatically: Bool = true, screenshotDirectory: String = ".",
        command: String = "agentlab watch", fontPath: String = TextRenderer.defaultFontPath,
        maxEpisodes: Int? = nil
    ) {
        self.maxEpisodes = maxEpisodes
        self.title = title
        self.scale = scale
        self.stepsPerSecond = stepsPerSecond
        self.seed = seed
        self.restartsAutomatically = restartsAutomatically
        self.screenshotDirectory = screenshotDirectory
        self.command = command
        self.fontPath = fontPath
    }
}

/// What happened in a viewing session.
public struct WatchSummary: Equatable, Sendable {
    /// The episodes that ended while watching, in order.
    public var episodes: [EpisodeRecord]
    /// Screenshots saved with s.
    public var screenshots: [String]
}

/// The speeds + and − step through, in steps per second.
public let playbackSpeeds: [Double] = [1, 2, 5, 10, 15, 20, 30, 50, 60, 120, 240, 480, 960]

/// The next faster (`faster == true`) or slower speed in `playbackSpeeds` from `speed`.
public func nextPlaybackSpeed(after speed: Double, faster: Bool) -> Double {
    if faster { return playbackSpeeds.first { $0 > speed } ?? playbackSpeeds.last! }
    return playbackSpeeds.last { $0 < speed } ?? playbackSpeeds.first!
}

/// Opens a window and plays `environment` with `advisor`, episode after episode, until the
/// window is closed or q / Escape is pressed. When the advisor is a `KeyboardAdvisor`, the
/// keys it claims (arrows, space) play actions; p then pauses.
///
/// Keys: space (or p) pauses and resumes; → (or n) steps once while paused; + and −
/// change the speed; r starts a new episode; s saves a screenshot PNG of the canvas;
/// q or Escape quits. The loop polls events every frame (60 per second) and never blocks
/// on the advisor or the environment for more than about 10 ms per frame.
///
/// - Throws: `ViewerError.noDisplay` with a message suggesting `agentlab record` when
///   there is no display; other `ViewerError`s and `EnvironmentError`s.
public func watchEpisodes(
    environment: any Environment, advisor: any ActionAdvisor, options: WatchOptions
) throws -> WatchSummary {
    let session = EpisodeSession(environment: environment, advisor: advisor, seed: options.seed)
    session.showsSaliency = options.showsSaliency
    let keyboard = advisor as? KeyboardAdvisor
    let first = session.render()
    let scene = try SceneRenderer(
        frameWidth: first.width, frameHeight: first.height, scale: options.scale,
        actionCount: environment.actionSpace.width,
        saliencyRows: saliencyRows(for: environment, shown: options.showsSaliency), fontPath: options.fontPath)
    var loop = WatchLoop(session: session, keyboard: keyboard, scene: scene, options: options)
    defer { if SDL_WasInit(SDL_INIT_VIDEO) != 0 { SDL_QuitSubSystem(SDL_INIT_VIDEO) } }
    // The window lives inside this call, so it is destroyed before video shuts down.
    func show() throws -> WatchSummary {
        let window = try ViewerWindow(
            title: "AgentLab · \(options.title)", width: scene.layout.canvasWidth,
            height: scene.layout.canvasHeight, command: options.command)
        return try loop.run(window)
    }
    return try show()
}

/// The state of the interactive loop, kept apart from SDL's window.
struct WatchLoop {
    let session: EpisodeSession
    let keyboard: KeyboardAdvisor?
    let scene: SceneRenderer
    let options: WatchOptions
    var speed: Double
    var isPaused = false
    var isRunning = true
    var stepBudget = 0.0
    var endedAt: Double?
    var notice: (text: String, until: Double)?
    var summary = WatchSummary(episodes: [], screenshots: [])
    var canvas: Frame?
    var needsRender = true
    var screenshotCount = 0

    init(session: EpisodeSession, keyboard: KeyboardAdvisor?, scene: SceneRenderer, options: WatchOptions) {
        self.session = session
        self.keyboard = keyboard
        self.scene = scene
        self.options = options
        speed = max(0.1, options.stepsPerSecond)
    }

    mutating func run(_ window: ViewerWindow) throws -> WatchSummary {
        let frequency = Double(SDL_GetPerformanceFrequency())
        func now() -> Double { Double(SDL_GetPerformanceCounter()) / frequency }
        let frameTime = 1.0 / 60
        var last = now()
        while isRunning {
            var event = SDL_Event()
            while SDL_PollEvent(&event) != 0 { try handle(event, time: now()) }
            guard isRunning else { break }
            let time = now()
            let elapsed = min(time - last, 0.25)
            last = time
            try play(elapsed: elapsed, until: time + 0.010, time: time, clock: now)
            if let notice, time > notice.until { self.notice = nil; needsRender = true }
            if needsRender || canvas == nil {
                canvas = scene.render(frame: session.render(), panel: panel())
                needsRender = false
            }
            window.present(canvas!)
            let spare = frameTime - (now() - time)
            if spare > 0.001 { SDL_Delay(UInt32(spare * 1000)) }
        }
        return summary
    }

    /// Plays the steps due in `elapsed` seconds at the current speed, stopping at `deadline`.
    mutating func play(elapsed: Double, until deadline: Double, time: Double, clock: () -> Double) throws {
        if session.isEpisodeOver {
            if endedAt == nil {
                endedAt = time
                summary.episodes.append(currentEpisode())
                needsRender = true
            }
            if let maxEpisodes = options.maxEpisodes, summary.episodes.count >= maxEpisodes,
               let endedAt, time - endedAt >= 1 {
                isRunning = false
            } else if options.restartsAutomatically, !isPaused, let endedAt, time - endedAt >= 1 {
                newEpisode()
            }
            return
        }
        guard !isPaused else { return }
        if let keyboard, !keyboard.isReady {
            stepBudget = 0
            return
        }
        if let keyboard, keyboard.idle == .wait {
            while keyboard.isReady, !session.isEpisodeOver { try step() }
            return
        }
        stepBudget += elapsed * speed
        while stepBudget >= 1, !session.isEpisodeOver {
            try step()
            stepBudget -= 1
            if clock() > deadline { stepBudget = min(stepBudget, 1); break }
        }
    }

    mutating func step() throws {
        try session.advance()
        needsRender = true
    }

    mutating func newEpisode() {
        session.startNextEpisode()
        endedAt = nil
        stepBudget = 0
        needsRender = true
    }

    func currentEpisode() -> EpisodeRecord { session.record }

    func panel() -> PanelModel {
        let status: String
        if let notice {
            status = notice.text
        } else if session.isEpisodeOver {
            status = options.restartsAutomatically ? "episode over" : "episode over · r for another"
        } else if isPaused {
            status = "paused"
        } else if let keyboard, !keyboard.isReady {
            status = keyboard.idle == .wait ? "your move" : "press a key to start"
        } else {
            status = "playing · \(PanelModel.format(speed)) steps/s"
        }
        let pauseKey = keyboard?.claims(.space) == true ? "p" : "space"
        let stepKey = keyboard?.claims(.right) == true ? "n" : "→"
        let help = [
            "\(pauseKey) pause · \(stepKey) step · +/− speed",
            "r new episode · s screenshot · q quit",
        ]
        let labels = keyboard.map { k in (0..<session.actionNames.count).map { k.keyLabel(for: $0) } }
        return PanelModel(session: session, title: options.title, keyLabels: labels, status: status, help: help)
    }

    mutating func handle(_ event: SDL_Event, time: Double) throws {
        switch event.type {
        case SDL_QUIT.rawValue:
            isRunning = false
        case SDL_WINDOWEVENT.rawValue:
            if event.window.event == UInt8(SDL_WINDOWEVENT_CLOSE.rawValue) { isRunning = false }
            needsRender = true
        case SDL_KEYUP.rawValue:
            if let key = PlayKey(keycode: event.key.keysym.sym) { keyboard?.release(key) }
        case SDL_KEYDOWN.rawValue:
            let sym = event.key.keysym.sym
            if let key = PlayKey(keycode: sym), let keyboard, keyboard.claims(key) {
                if event.key.repeat == 0 { keyboard.press(key) }
                return
            }
            try handleCommand(sym, time: time)
        default:
            break
        }
    }

    mutating func handleCommand(_ sym: SDL_Keycode, time: Double) throws {
        func key(_ code: SDL_KeyCode) -> SDL_Keycode { SDL_Keycode(bitPattern: code.rawValue) }
        switch sym {
        case key(SDLK_q), key(SDLK_ESCAPE):
            isRunning = false
        case key(SDLK_SPACE), key(SDLK_p):
            isPaused.toggle()
            stepBudget = 0
            needsRender = true
        case key(SDLK_RIGHT), key(SDLK_n):
            guard isPaused else { return }
            if session.isEpisodeOver { newEpisode() } else { try step() }
        case key(SDLK_PLUS), key(SDLK_EQUALS), key(SDLK_KP_PLUS):
            speed = nextPlaybackSpeed(after: speed, faster: true)
            needsRender = true
        case key(SDLK_MINUS), key(SDLK_KP_MINUS):
            speed = nextPlaybackSpeed(after: speed, faster: false)
            needsRender = true
        case key(SDLK_r):
            if session.isEpisodeOver == false, session.step > 0 { summary.episodes.append(currentEpisode()) }
            newEpisode()
        case key(SDLK_s):
            try saveScreenshot(time: time)
        default:
            break
        }
    }

    mutating func saveScreenshot(time: Double) throws {
        let canvas = scene.render(frame: session.render(), panel: panel())
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        screenshotCount += 1
        let safeTitle = String(options.title.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let name = "agentlab-\(safeTitle)-\(formatter.string(from: Date()))-\(screenshotCount).png"
        let path = (options.screenshotDirectory as NSString).appendingPathComponent(name)
        try PNGFile.write(canvas, to: path)
        summary.screenshots.append(path)
        print("saved screenshot \(path)")
        notice = ("screenshot saved", time + 2)
        needsRender = true
    }
}

extension PlayKey {
    /// The play key for an SDL key code, if it is one.
    init?(keycode: SDL_Keycode) {
        switch UInt32(bitPattern: keycode) {
        case SDLK_LEFT.rawValue: self = .left
        case SDLK_RIGHT.rawValue: self = .right
        case SDLK_UP.rawValue: self = .up
        case SDLK_DOWN.rawValue: self = .down
        case SDLK_SPACE.rawValue: self = .space
        default: return nil
        }
    }
}
