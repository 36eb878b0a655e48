import SeededRandom

/// Freeway on MinAtar's 10×10 grid (Young & Tian 2019): lead a chicken across eight lanes
/// of traffic, as many times as possible before time runs out.
///
/// **Action Space**: the six `MinAtarAction`s; only `up` and `down` do anything, and only
/// when the chicken's move cooldown has run out. Minimal set: no-op, up, down.
///
/// **Observation Space**: 10×10×7 in {0, 1}, channels in this order:
/// 0 `chicken` (always column 4), 1 `car`, then 2...6 `speed1`...`speed5`: each car's
/// trail (the cell behind it) marked in the channel of its speed, so one observation shows
/// every car's direction and speed.
///
/// **Rewards**: +1 each time the chicken reaches the top row; 0 otherwise. Being hit costs
/// nothing but the lost ground.
///
/// **Starting State**: the chicken at row 9, column 4 with a full cooldown (its first move
/// can happen on frame 4); one car per lane in rows 1–8, all in column 0, each with a
/// random speed 1...5 and a random direction.
///
/// **Episode End**: terminates on frame 2,501, the only way it ends: the game's clock
/// starts at 2,500, ticks down once a frame, and ends the episode when it falls below zero.
/// MinAtar 1.0.15, measured with a random policy over 2,000 episodes, ends every Freeway
/// episode after 2,501 steps.
///
/// **Dynamics** (each frame, in this order): an `up`/`down` with the cooldown at 0 moves
/// the chicken one row (never below row 9) and restarts the cooldown (a move at most every
/// 3 frames). Reaching row 0 scores +1, puts the chicken back on row 9 and re-draws every
/// car's speed and direction (the cars keep their columns). Then each car either waits
/// (its countdown falls by one) or, when its countdown is 0, moves one column in its
/// direction, wrapping around the edges, and restarts its countdown at its speed: a car of
/// speed `s` moves once every `s + 1` frames, so speed 1 is the fastest. A car in the
/// chicken's row that is in the chicken's column before or after its move sends the
/// chicken back to row 9. Last, the cooldown and the clock tick.
///
/// **Difficulty**: none ramps; traffic is re-drawn after each crossing.
public struct FreewayGame: MinAtarGame {
    public static let channelNames = [
        "chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5",
    ]
    public static let channelColors = [
        Color(255, 220, 60),   // chicken: yellow
        Color(235, 65, 65),    // car: red
        Color(70, 200, 110),   // speed1 trail: green
        Color(60, 190, 210),   // speed2 trail: teal
        Color(90, 140, 255),   // speed3 trail: blue
        Color(175, 110, 255),  // speed4 trail: purple
        Color(255, 110, 200),  // speed5 trail: pink
    ]
    public static let minimalActions: [MinAtarAction] = [.noop, .up, .down]

    /// The chicken's column; it never changes.
    static let chickenColumn = 4
    /// Frames between two chicken moves.
    static let moveCooldown = 3
    /// The clock's start: the episode ends on the frame after it runs out (2,501 frames).
    static let clockStart = 2_500

    /// The chicken's row, 1...9 between frames (row 0 is scored and reset at once).
    var chickenRow = 9
    /// Frames left before the chicken may move again; it may move when this is 0.
    var moveCooldown = FreewayGame.moveCooldown
    /// Frames played so far.
    var frame = 0
    /// Lane `i` holds the car of row `i + 1`: its column, 0...9.
    var carColumns = SIMD8<Int32>(repeating: 0)
    /// Each car's speed, 1...5: it moves once every `speed + 1` frames.
    var carSpeeds = SIMD8<Int32>(repeating: 1)
    /// Each car's direction: +1 right, -1 left.
    var carDirections = SIMD8<Int32>(repeating: 1)
    /// Frames each car still waits before its next move; it moves when this is 0.
    var carCountdowns = SIMD8<Int32>(repeating: 1)

    public init(generator: inout SeededGenerator) {
        redrawTraffic(generator: &generator)
    }

    /// Gives every car a fresh random speed and direction, and a full countdown.
    mutating func redrawTraffic(generator: inout SeededGenerator) {
        for lane in 0..<8 {
            carSpeeds[lane] = Int32(generator.int(below: 5) + 1)
            carDirections[lane] = generator.next() & 1 == 0 ? 1 : -1
        }
        carCountdowns = carSpeeds
    }

    public mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)
    {
        var reward: Float = 0
        if moveCooldown == 0 {
            if action == .up {
                chickenRow -= 1
                moveCooldown = Self.moveCooldown
            } else if action == .down {
                chickenRow = min(9, chickenRow + 1)
                moveCooldown = Self.moveCooldown
            }
        }
        if chickenRow == 0 {
            reward = 1
            chickenRow = 9
            redrawTraffic(generator: &generator)
        }

        // The only car that can hit the chicken is the one in its lane (if it is on the
        // road at all); look at it before the cars move.
        let lane = chickenRow - 1
        let column = Int32(Self.chickenColumn)
        var isHit = lane < 8 && carColumns[lane] == column

        for car in 0..<8 {
            if carCountdowns[car] > 0 {
                carCountdowns[car] -= 1
                continue
            }
            carCountdowns[car] = carSpeeds[car]
            var moved = carColumns[car] + carDirections[car]
            if moved < 0 { moved = 9 } else if moved > 9 { moved = 0 }
            carColumns[car] = moved
        }

        if lane < 8 && carColumns[lane] == column { isHit = true }
        if isHit { chickenRow = 9 }

        if moveCooldown > 0 { moveCooldown -= 1 }
        frame += 1
        return (reward, frame > Self.clockStart)
    }

    public func draw(into grid: inout ChannelGrid) {
        grid.mark(row: chickenRow, column: Self.chickenColumn, channel: 0)
        for lane in 0..<8 {
            let column = Int(carColumns[lane]), direction = Int(carDirections[lane])
            var behind = column - direction
            if behind < 0 { behind = 9 } else if behind > 9 { behind = 0 }
            grid.mark(row: lane + 1, column: column, channel: 1)
            grid.mark(row: lane + 1, column: behind, channel: 1 + Int(carSpeeds[lane]))
        }
    }
}
