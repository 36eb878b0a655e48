import SeededRandom

/// The six actions every MinAtar-style game understands, in the full action set's order.
public enum MinAtarAction: Int, CaseIterable, Sendable {
    case noop = 0, left, up, right, down, fire

    public var name: String {
        switch self {
        case .noop: "no-op"
        case .left: "left"
        case .up: "up"
        case .right: "right"
        case .down: "down"
        case .fire: "fire"
        }
    }
}

/// The rules of one game on MinAtar's 10×10 grid. `MinAtarEnvironment` wraps a game with
/// what all of them share: seeding, sticky actions, the ended-episode contract, the
/// channels-last observation and drawing. A game only says what happens in one frame.
public protocol MinAtarGame: Sendable, Codable {
    /// One name per channel (object kind), in observation order.
    static var channelNames: [String] { get }
    /// The colour each channel is drawn in; later channels are drawn over earlier ones.
    static var channelColors: [Color] { get }
    /// The game's minimal action set, in the order the environment numbers them.
    static var minimalActions: [MinAtarAction] { get }

    /// A fresh game, with any randomness drawn from `generator`.
    init(generator: inout SeededGenerator)

    /// Advances the game by one frame under `action`.
    /// - Returns: the reward of this frame and whether the game is over.
    mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)

    /// Marks every occupied cell in `grid` (which arrives all zero).
    func draw(into grid: inout ChannelGrid)
}

/// A 10×10×C channels-last view of an observation buffer that games mark cells in.
public struct ChannelGrid {
    public static let size = 10
    public let channelCount: Int
    @usableFromInline let storage: UnsafeMutableBufferPointer<Float>

    @inlinable
    public init(storage: UnsafeMutableBufferPointer<Float>, channelCount: Int) {
        precondition(storage.count == Self.size * Self.size * channelCount,
                     "observation buffer holds \(storage.count) floats, expected \(Self.size * Self.size * channelCount)")
        self.storage = storage
        self.channelCount = channelCount
    }

    /// Marks channel `channel` at (`row`, `column`); cells outside the grid are ignored.
    @inlinable @inline(__always)
    public mutating func mark(row: Int, column: Int, channel: Int) {
        guard row >= 0, row < Self.size, column >= 0, column < Self.size else { return }
        precondition(channel >= 0 && channel < channelCount, "channel \(channel) is outside 0..<\(channelCount)")
        storage[(row * Self.size + column) * channelCount + channel] = 1
    }

    /// Whether channel `channel` is marked at (`row`, `column`).
    @inlinable
    public func isMarked(row: Int, column: Int, channel: Int) -> Bool {
        storage[(row * Self.size + column) * channelCount + channel] != 0
    }
}

/// A MinAtar-style game as an `Environment`.
///
/// **Observation**: 10×10×C Float32 in {0, 1}, channels last (`Game.channelNames`).
/// **Actions**: the six of `MinAtarAction`, or the game's minimal set when
/// `usesMinimalActions`. **Sticky actions**: with probability `stickyActionProbability`
/// (0.1 by default, 0 disables) the previous action is repeated instead of the chosen one.
public struct MinAtarEnvironment<Game: MinAtarGame>: Environment, Sendable {
    /// The game's state; tests may set it by hand.
    public var game: Game
    public let stickyActionProbability: Double
    public let usesMinimalActions: Bool
    /// The action applied on the previous frame (sticky actions repeat it).
    public private(set) var lastAction: MinAtarAction = .noop
    public private(set) var generator: SeededGenerator
    /// The game action behind each environment action index.
    public let actions: [MinAtarAction]
    private var state: EpisodeState = .notStarted

    private enum EpisodeState: Sendable, Codable { case notStarted, running, ended }

    public init(stickyActionProbability: Double = 0.1, usesMinimalActions: Bool = false, seed: UInt64 = 0) {
        precondition((0...1).contains(stickyActionProbability),
                     "sticky action probability must be in [0, 1], got \(stickyActionProbability)")
        self.stickyActionProbability = stickyActionProbability
        self.usesMinimalActions = usesMinimalActions
        actions = usesMinimalActions ? Game.minimalActions : MinAtarAction.allCases
        generator = SeededGenerator(seed: seed)
        game = Game(generator: &generator)
    }

    public static var channelCount: Int { Game.channelNames.count }

    public var observationSpace: Box {
        Box.binary(shape: [ChannelGrid.size, ChannelGrid.size, Self.channelCount])
    }

    public var actionSpace: ActionSpace { .discrete(Discrete(actions.count)) }

    public var actionNames: [String] { actions.map(\.name) }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        game = Game(generator: &generator)
        lastAction = .noop
        state = .running
        writeObservation(into: observation)
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        switch state {
        case .notStarted: throw .notReset
        case .ended: throw .episodeEnded
        case .running: break
        }
        guard action >= 0, action < actions.count else { throw .invalidAction(action, count: actions.count) }
        var chosen = actions[action]
        if stickyActionProbability > 0, generator.uniform() < stickyActionProbability {
            chosen = lastAction
        }
        lastAction = chosen
        let (reward, isTerminal) = game.advance(chosen, generator: &generator)
        if isTerminal { state = .ended }
        writeObservation(into: observation)
        return StepOutcome(reward: reward, isTerminated: isTerminal)
    }

    /// Writes the game's channels into `observation`.
    public func writeObservation(into observation: UnsafeMutableBufferPointer<Float>) {
        observation.update(repeating: 0)
        var grid = ChannelGrid(storage: observation, channelCount: Self.channelCount)
        game.draw(into: &grid)
    }

    /// Pixels per grid cell in `render()`.
    public static var cellSize: Int { 16 }

    /// Each occupied cell in its channel's colour (later channels on top) on a dark
    /// background, with a thin grid line between cells.
    public func render() -> Frame {
        let size = ChannelGrid.size, cell = Self.cellSize, channels = Self.channelCount
        var observation = [Float](repeating: 0, count: size * size * channels)
        observation.withUnsafeMutableBufferPointer { writeObservation(into: $0) }
        var frame = Frame(width: size * cell, height: size * cell, fill: .background)
        for row in 0..<size {
            for column in 0..<size {
                for channel in 0..<channels where observation[(row * size + column) * channels + channel] != 0 {
                    frame.fillRectangle(x: column * cell + 1, y: row * cell + 1, width: cell - 2,
                                        height: cell - 2, color: Game.channelColors[channel])
                }
            }
        }
        return frame
    }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension MinAtarEnvironment: Codable {}
extension MinAtarAction: Codable {}
