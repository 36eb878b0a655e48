import SeededRandom

/// Asterix on MinAtar's 10×10 grid (Young & Tian 2019): collect the gold that drifts
/// across the screen and dodge the enemies that drift with it.
///
/// **Action Space**: the six `MinAtarAction`s; `fire` does nothing. The player moves one
/// cell per frame, staying in columns 0–9 and rows 1–8. Minimal set: no-op, left, up,
/// right, down.
///
/// **Observation Space**: 10×10×4 in {0, 1}, channels in this order:
/// 0 `player`, 1 `enemy`, 2 `trail` (the cell behind each enemy or gold, inside the grid,
/// so its direction can be read from one observation), 3 `gold`.
///
/// **Rewards**: +1 for each gold the player touches (the gold disappears); 0 otherwise.
///
/// **Starting State**: the player at row 5, column 5; no enemies or gold. The first object
/// appears on frame 11.
///
/// **Episode End**: terminates when the player and an enemy share a cell. No time limit
/// of its own.
///
/// **Dynamics** (each frame, in this order): when the spawn countdown is 0, an object
/// appears in a row (1–8) that holds none, chosen uniformly (nothing appears when every
/// row is taken): at column 0 moving right or column 9 moving left (equally likely), gold
/// with probability 1/3, otherwise an enemy; the countdown restarts at the spawn
/// interval. The player moves. A touched object is resolved (gold scores and vanishes, an
/// enemy ends the episode). When the move countdown is 0, every object moves one column,
/// those leaving the grid vanish, touches are resolved again and the countdown restarts
/// at the move interval. Then both countdowns fall by one, so with interval `n` objects
/// spawn (or move) once every `n` frames; the first move is on frame 6, the first spawn
/// on frame 11.
///
/// **Difficulty ramp**: the spawn interval starts at 10 and the move interval at 5. The
/// ramp fires on frames 102, 204, 306, ... (MinAtar's 100-frame ramp timer fires when it
/// runs past zero): each firing lowers the spawn interval by one, and every second firing
/// (the 2nd, 4th, ...) also lowers the move interval by one, neither going below 1. Once
/// both are 1 the ramp stops.
public struct AsterixGame: MinAtarGame {
    public static let channelNames = ["player", "enemy", "trail", "gold"]
    public static let channelColors = [
        Color(80, 170, 255),   // player: blue
        Color(235, 65, 65),    // enemy: red
        Color(150, 150, 170),  // trail: grey
        Color(255, 210, 50),   // gold: gold
    ]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .up, .right, .down]

    /// The spawn interval at the start of an episode.
    static let initialSpawnInterval = 10
    /// The move interval at the start of an episode.
    static let initialMoveInterval = 5
    /// The ramp countdown's restart value: a ramp fires every `rampCountdownStart + 1` frames.
    static let rampCountdownStart = 101

    /// One enemy or gold moving along its row.
    struct MovingObject: Equatable, Sendable {
        var column: Int
        var isMovingRight: Bool
        var isGold: Bool
    }

    var playerRow = 5
    var playerColumn = 5
    /// Bit `row - 1` is set when row `row` (1...8) holds an object.
    var occupiedLanes: UInt8 = 0
    /// Bit `row - 1` is set when the object in row `row` moves right.
    var rightwardLanes: UInt8 = 0
    /// Bit `row - 1` is set when the object in row `row` is gold.
    var goldLanes: UInt8 = 0
    /// Lane `row - 1`: the column of the object in row `row`, when there is one.
    var objectColumns = SIMD8<Int32>(repeating: 0)

    /// Frames until the next spawn; an object spawns when this is 0.
    var spawnCountdown = AsterixGame.initialSpawnInterval
    /// Frames between spawns, 10 down to 1; the ramp lowers it.
    var spawnInterval = AsterixGame.initialSpawnInterval
    /// Frames until objects next move; they move when this is 0.
    var moveCountdown = AsterixGame.initialMoveInterval
    /// Frames between object moves, 5 down to 1; the ramp lowers it.
    var moveInterval = AsterixGame.initialMoveInterval
    /// Frames until the next ramp; the ramp fires on a frame that starts with this at 0.
    var rampCountdown = AsterixGame.rampCountdownStart
    /// How many times the ramp has fired.
    var rampCount = 0

    public init(generator: inout SeededGenerator) {}

    /// The object in row `row` (1...8), if any; setting `nil` removes it.
    subscript(objectInRow row: Int) -> MovingObject? {
        get {
            let bit: UInt8 = 1 << UInt8(row - 1)
            guard occupiedLanes & bit != 0 else { return nil }
            return MovingObject(
                column: Int(objectColumns[row - 1]), isMovingRight: rightwardLanes & bit != 0,
                isGold: goldLanes & bit != 0)
        }
        set {
            let bit: UInt8 = 1 << UInt8(row - 1)
            occupiedLanes &= ~bit
            rightwardLanes &= ~bit
            goldLanes &= ~bit
            guard let object = newValue else { return }
            occupiedLanes |= bit
            if object.isMovingRight { rightwardLanes |= bit }
            if object.isGold { goldLanes |= bit }
            objectColumns[row - 1] = Int32(object.column)
        }
    }

    /// Puts a new object in a free row, if there is one.
    mutating func spawn(generator: inout SeededGenerator) {
        let free = ~occupiedLanes
        guard free != 0 else { return }
        // Pick the n-th free lane.
        var remaining = free
        for _ in 0..<generator.int(below: free.nonzeroBitCount) { remaining &= remaining - 1 }
        let lane = remaining.trailingZeroBitCount
        let isMovingRight = generator.next() & 1 == 0
        let isGold = generator.int(below: 3) == 0
        self[objectInRow: lane + 1] = MovingObject(
            column: isMovingRight ? 0 : 9, isMovingRight: isMovingRight, isGold: isGold)
    }

    /// Resolves a touch between the player and the object in its row.
    /// - Returns: the reward, and whether an enemy was touched.
    @inline(__always)
    mutating func resolveTouch() -> (reward: Float, isTerminal: Bool) {
        let lane = playerRow - 1
        let bit: UInt8 = 1 << UInt8(lane)
        guard occupiedLanes & bit != 0, Int(objectColumns[lane]) == playerColumn else { return (0, false) }
        if goldLanes & bit != 0 {
            self[objectInRow: playerRow] = nil
            return (1, false)
        }
        return (0, true)
    }

    public mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)
    {
        if spawnCountdown == 0 {
            spawn(generator: &generator)
            spawnCountdown = spawnInterval
        }

        switch action {
        case .left: playerColumn = max(0, playerColumn - 1)
        case .right: playerColumn = min(9, playerColumn + 1)
        case .up: playerRow = max(1, playerRow - 1)
        case .down: playerRow = min(8, playerRow + 1)
        case .noop, .fire: break
        }

        var (reward, isTerminal) = resolveTouch()
        if moveCountdown == 0 {
            moveCountdown = moveInterval
            var lanes = occupiedLanes
            while lanes != 0 {
                let lane = lanes.trailingZeroBitCount
                let bit: UInt8 = 1 << UInt8(lane)
                let column = objectColumns[lane] + (rightwardLanes & bit != 0 ? 1 : -1)
                if column < 0 || column > 9 {
                    self[objectInRow: lane + 1] = nil
                } else {
                    objectColumns[lane] = column
                }
                lanes &= lanes - 1
            }
            let touch = resolveTouch()
            reward += touch.reward
            isTerminal = isTerminal || touch.isTerminal
        }
        spawnCountdown -= 1
        moveCountdown -= 1

        if spawnInterval > 1 || moveInterval > 1 {
            if rampCountdown > 0 {
                rampCountdown -= 1
            } else {
                rampCount += 1
                if spawnInterval > 1 { spawnInterval -= 1 }
                if rampCount % 2 == 0 && moveInterval > 1 { moveInterval -= 1 }
                rampCountdown = Self.rampCountdownStart
            }
        }
        return (reward, isTerminal)
    }

    public func draw(into grid: inout ChannelGrid) {
        grid.mark(row: playerRow, column: playerColumn, channel: 0)
        var lanes = occupiedLanes
        while lanes != 0 {
            let lane = lanes.trailingZeroBitCount
            let bit: UInt8 = 1 << UInt8(lane)
            let column = Int(objectColumns[lane])
            grid.mark(row: lane + 1, column: column, channel: goldLanes & bit != 0 ? 3 : 1)
            // `mark` ignores a trail that falls outside the grid.
            grid.mark(row: lane + 1, column: rightwardLanes & bit != 0 ? column - 1 : column + 1, channel: 2)
            lanes &= lanes - 1
        }
    }
}
