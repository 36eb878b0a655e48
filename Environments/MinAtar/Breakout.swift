import SeededRandom

/// Breakout on MinAtar's 10×10 grid (Young & Tian 2019): keep a ball in play with a
/// paddle and knock out a wall of bricks.
///
/// **Action Space**: the six `MinAtarAction`s; only `left` and `right` do anything (they
/// move the paddle one column, stopping at the edges). Minimal set: no-op, left, right.
///
/// **Observation Space**: 10×10×4 in {0, 1}, channels in this order:
/// 0 `paddle` (row 9), 1 `ball`, 2 `trail` (the cell the ball was in one frame earlier,
/// so its direction can be read from a single observation), 3 `brick`.
///
/// **Rewards**: +1 for each brick knocked out; 0 otherwise.
///
/// **Starting State**: paddle at row 9, column 4; three full rows of bricks at rows 1–3;
/// the ball at row 3 in column 0 or 9 (equally likely), moving diagonally down and away
/// from its wall. At the start the ball overlaps the brick it sits on and the trail marks
/// the ball's own cell, as in MinAtar.
///
/// **Episode End**: terminates when the ball reaches the bottom row without landing on
/// the paddle. No time limit of its own.
///
/// **Dynamics** (each frame, in this order): the paddle moves; the ball takes one diagonal
/// step. A step past a side wall keeps the ball in the edge column and flips its
/// horizontal direction; a step above the top keeps it in row 0 and flips its vertical
/// direction. A step into a brick removes that brick, scores +1, leaves the ball in its
/// previous row and flips its vertical direction; right after a brick hit the ball cannot
/// score again in the next frame (it passes into a brick instead, as MinAtar's strike
/// flag does). A step into row 9 bounces off the paddle when the paddle is under the
/// ball's previous column (vertical flip), or when it is under the new column (the
/// paddle's corner: both directions flip, so the ball goes back the way it came); in
/// both cases the ball stays in row 8. Otherwise the ball is lost.
///
/// **Difficulty**: none ramps. When the wall has been cleared, a fresh wall appears the
/// next time the ball comes down to the paddle's row (so new bricks never land on the
/// ball).
public struct BreakoutGame: MinAtarGame {
    public static let channelNames = ["paddle", "ball", "trail", "brick"]
    public static let channelColors = [
        Color(80, 160, 255),   // paddle: blue
        Color(255, 255, 255),  // ball: white
        Color(150, 120, 200),  // trail: muted violet
        Color(240, 120, 50),   // brick: orange
    ]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .right]

    /// The first brick row; the wall fills rows `firstBrickRow ..< firstBrickRow + 3`.
    static let firstBrickRow = 1
    /// The bottom row, where the paddle lives.
    static let paddleRow = 9
    /// Every brick present: 30 bits, one per brick cell.
    static let fullWall: UInt32 = (1 << 30) - 1

    /// The paddle's column, 0...9.
    var paddleColumn = 4
    var ballRow = 3
    var ballColumn: Int
    /// The ball's horizontal direction: +1 right, -1 left.
    var ballDeltaColumn: Int
    /// The ball's vertical direction: +1 down, -1 up.
    var ballDeltaRow = 1
    /// The cell the ball was in one frame earlier.
    var trailRow = 3
    var trailColumn: Int
    /// Bit `(row - 1) * 10 + column` is set when a brick stands at (`row`, `column`),
    /// for rows 1...3.
    var bricks = BreakoutGame.fullWall
    /// The ball knocked out a brick (or went into one) on the previous frame.
    var hasJustStruck = false

    public init(generator: inout SeededGenerator) {
        let startsLeft = generator.next() & 1 == 0
        ballColumn = startsLeft ? 0 : 9
        ballDeltaColumn = startsLeft ? 1 : -1
        trailColumn = ballColumn
    }

    /// The bit for a brick at (`row`, `column`), or 0 outside the brick rows.
    @inline(__always)
    static func brickBit(row: Int, column: Int) -> UInt32 {
        let index = (row - firstBrickRow) * ChannelGrid.size + column
        return index >= 0 && index < 30 ? 1 << UInt32(index) : 0
    }

    /// Whether a brick stands at (`row`, `column`).
    func hasBrick(row: Int, column: Int) -> Bool {
        bricks & Self.brickBit(row: row, column: column) != 0
    }

    public mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)
    {
        switch action {
        case .left: paddleColumn = max(0, paddleColumn - 1)
        case .right: paddleColumn = min(9, paddleColumn + 1)
        default: break
        }

        trailRow = ballRow
        trailColumn = ballColumn
        var row = ballRow + ballDeltaRow
        var column = ballColumn + ballDeltaColumn
        var reward: Float = 0
        var isTerminal = false
        var isStriking = false

        if column < 0 || column > 9 {
            column = column < 0 ? 0 : 9
            ballDeltaColumn = -ballDeltaColumn
        }
        let brick = Self.brickBit(row: row, column: column)
        if row < 0 {
            row = 0
            ballDeltaRow = -ballDeltaRow
        } else if bricks & brick != 0 {
            isStriking = true
            if !hasJustStruck {
                reward = 1
                bricks &= ~brick
                row = trailRow
                ballDeltaRow = -ballDeltaRow
            }
        } else if row == Self.paddleRow {
            if bricks == 0 { bricks = Self.fullWall }
            if trailColumn == paddleColumn {
                ballDeltaRow = -ballDeltaRow
                row = trailRow
            } else if column == paddleColumn {
                ballDeltaRow = -ballDeltaRow
                ballDeltaColumn = -ballDeltaColumn
                row = trailRow
            } else {
                isTerminal = true
            }
        }
        hasJustStruck = isStriking
        ballRow = row
        ballColumn = column
        return (reward, isTerminal)
    }

    public func draw(into grid: inout ChannelGrid) {
        grid.mark(row: Self.paddleRow, column: paddleColumn, channel: 0)
        grid.mark(row: ballRow, column: ballColumn, channel: 1)
        grid.mark(row: trailRow, column: trailColumn, channel: 2)
        // Bricks are always inside the grid, so they skip `mark`'s bounds checks.
        let stride = grid.channelCount
        var remaining = bricks
        while remaining != 0 {
            let cell = Self.firstBrickRow * ChannelGrid.size + remaining.trailingZeroBitCount
            grid.storage[cell * stride + 3] = 1
            remaining &= remaining - 1
        }
    }
}
