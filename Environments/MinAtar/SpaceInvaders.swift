import SeededRandom

/// Space Invaders on MinAtar's 10×10 grid (Young & Tian 2019), written from the published
/// rules: a cannon on the bottom row shoots at a marching block of aliens that shoots back.
///
/// ## Action Space
/// The six `MinAtarAction`s; the minimal set is no-op, left, right, fire (up and down act
/// as no-ops). Left and right move the cannon one column (it stops at the walls). Fire
/// launches a friendly bullet from the cannon when the cool-down allows it.
///
/// ## Observation Space
/// 10×10×6, one binary channel per object kind, in this order:
/// 0. `cannon`: the cannon, always on row 9.
/// 1. `alien`: every alien.
/// 2. `alien_left`: every alien while the block marches left (empty otherwise).
/// 3. `alien_right`: every alien while the block marches right (empty otherwise).
/// 4. `friendly_bullet`: the cannon's bullets.
/// 5. `enemy_bullet`: the aliens' bullets.
///
/// ## Rewards
/// +1 for each alien destroyed; nothing else is rewarded or penalised.
///
/// ## Starting State
/// The cannon at column 5; 24 aliens filling rows 0–3, columns 2–7, marching left; no
/// bullets; march period 12; the aliens' shot timer at 10; the cannon ready to fire.
/// The start is the same for every seed (the game draws no random numbers).
///
/// ## Episode End
/// Terminated when an enemy bullet reaches the cannon's cell, or when the block steps
/// down so that an alien is on row 9. There is no time limit (that is a wrapper's job).
///
/// ## One frame, in order
/// 1. The action: left/right moves the cannon; fire, when the cool-down is 0, puts a
///    bullet on the cannon's cell and sets the cool-down to 5.
/// 2. Friendly bullets move up one row, enemy bullets down one row; bullets that leave
///    the grid vanish. A friendly bullet on an alien destroys both (+1 each). An enemy
///    bullet now on the cannon's cell ends the episode. (So a shot fired this frame is on
///    row 8 at the end of it, and can fire again 5 frames later.)
/// 3. The march timer counts down by one; at 0 the block moves and the timer restarts at
///    `min(number of aliens, march interval)`. A block moving towards a wall it already
///    touches (an alien in column 0 while marching left, or in column 9 while marching
///    right) reverses and steps down one row instead of moving sideways; if that puts an
///    alien on row 9 the episode ends. Otherwise every alien moves one column. Friendly
///    bullets that an alien moved onto destroy it (+1 each).
/// 4. The aliens' shot timer counts down by one; at 0 it restarts at 10 and the alien
///    nearest above the cannon fires: the bottom-most alien of the occupied column closest
///    to the cannon's (the left one on a tie) puts an enemy bullet on its own cell.
/// 5. The cool-down counts down by one (not below 0).
/// 6. If no alien is left, a new wave of 24 arrives in the starting formation, marching
///    left, with the march interval one frame shorter (never below 6) and the march timer
///    restarted at that interval.
///
/// ## Difficulty ramp
/// The block marches every `min(aliens left, interval)` frames, so it speeds up as it
/// thins out, and the interval (12 for the first wave) drops by one with each new wave
/// down to 6.
public struct SpaceInvadersGame: MinAtarGame {
    /// One bit mask per grid row (lanes 0–9; lanes 10–15 stay zero): bit `c` of lane `r`
    /// is the cell at row `r`, column `c`.
    public typealias Rows = SIMD16<UInt16>

    /// Frames between two shots of the cannon.
    static let shotCooldown = 5
    /// Frames between two shots of the aliens.
    static let alienShotInterval = 10
    /// The first wave's march interval.
    static let initialMarchInterval = 12
    /// The shortest march interval later waves reach.
    static let shortestMarchInterval = 6
    /// The bits of the 10 columns of one row.
    static let fullRow: UInt16 = 0x3FF

    /// The cannon's column (its row is always 9).
    var cannonColumn = 5
    /// The aliens, one mask per row.
    var aliens = Self.startingWave
    /// The cannon's bullets (moving up), one mask per row.
    var friendlyBullets = Rows()
    /// The aliens' bullets (moving down), one mask per row.
    var enemyBullets = Rows()
    /// The direction of the block's sideways march.
    var isMarchingRight = false
    /// The current wave's longest march period, in frames.
    var marchInterval = Self.initialMarchInterval
    /// Frames until the block's next move.
    var marchTimer = Self.initialMarchInterval
    /// Frames until the aliens' next shot.
    var alienShotTimer = Self.alienShotInterval
    /// Frames until the cannon may fire again (0: ready).
    var shotCooldown = 0
    /// Waves cleared so far.
    var wavesCleared = 0

    /// Rows 0–3, columns 2–7.
    static var startingWave: Rows {
        let block: UInt16 = 0b00_1111_1100
        return Rows(block, block, block, block, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    public static let channelNames = [
        "cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet",
    ]
    public static let channelColors = [
        Color(250, 205, 60),   // cannon: amber
        Color(90, 210, 110),   // alien: green
        Color(80, 170, 255),   // alien_left: sky blue
        Color(225, 110, 235),  // alien_right: orchid
        Color(245, 245, 245),  // friendly_bullet: white
        Color(255, 95, 70),    // enemy_bullet: red
    ]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .right, .fire]

    public init(generator: inout SeededGenerator) {}

    public mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)
    {
        var reward = 0
        switch action {
        case .left: cannonColumn = max(0, cannonColumn - 1)
        case .right: cannonColumn = min(9, cannonColumn + 1)
        case .fire where shotCooldown == 0:
            friendlyBullets[9] |= 1 << UInt16(cannonColumn)
            shotCooldown = Self.shotCooldown
        default: break
        }

        friendlyBullets = Self.shiftedUp(friendlyBullets)
        enemyBullets = Self.shiftedDown(enemyBullets)
        reward += destroyHitAliens()
        if enemyBullets[9] & (1 << UInt16(cannonColumn)) != 0 { return (Float(reward), true) }

        marchTimer -= 1
        if marchTimer <= 0 {
            marchTimer = min(alienCount, marchInterval)
            let columns = Self.occupiedColumns(aliens)
            let wall: UInt16 = isMarchingRight ? 1 << 9 : 1
            if columns & wall != 0 {
                isMarchingRight.toggle()
                aliens = Self.shiftedDown(aliens)
                if aliens[9] != 0 { return (Float(reward), true) }
            } else {
                aliens = isMarchingRight ? aliens &<< 1 : aliens &>> 1
            }
            reward += destroyHitAliens()
        }

        alienShotTimer -= 1
        if alienShotTimer <= 0 {
            alienShotTimer = Self.alienShotInterval
            if let shooter = nearestAlien(toColumn: cannonColumn) {
                enemyBullets[shooter.row] |= 1 << UInt16(shooter.column)
            }
        }

        if shotCooldown > 0 { shotCooldown -= 1 }

        if aliens == Rows() {
            wavesCleared += 1
            marchInterval = max(Self.shortestMarchInterval, marchInterval - 1)
            marchTimer = marchInterval
            isMarchingRight = false
            aliens = Self.startingWave
        }
        return (Float(reward), false)
    }

    public func draw(into grid: inout ChannelGrid) {
        grid.mark(row: 9, column: cannonColumn, channel: 0)
        let directionChannel = isMarchingRight ? 3 : 2
        for row in 0..<10 {
            var bits = aliens[row]
            while bits != 0 {
                let column = bits.trailingZeroBitCount
                grid.mark(row: row, column: column, channel: 1)
                grid.mark(row: row, column: column, channel: directionChannel)
                bits &= bits &- 1
            }
            bits = friendlyBullets[row]
            while bits != 0 {
                grid.mark(row: row, column: bits.trailingZeroBitCount, channel: 4)
                bits &= bits &- 1
            }
            bits = enemyBullets[row]
            while bits != 0 {
                grid.mark(row: row, column: bits.trailingZeroBitCount, channel: 5)
                bits &= bits &- 1
            }
        }
    }

    // MARK: - Rules' helpers

    /// The number of aliens on the grid.
    var alienCount: Int {
        var count = 0
        for row in 0..<10 { count += aliens[row].nonzeroBitCount }
        return count
    }

    /// Removes every alien that shares a cell with a friendly bullet, and that bullet.
    /// - Returns: the number of aliens destroyed.
    mutating func destroyHitAliens() -> Int {
        let hits = aliens & friendlyBullets
        guard hits != Rows() else { return 0 }
        aliens &= ~hits
        friendlyBullets &= ~hits
        var count = 0
        for row in 0..<10 { count += hits[row].nonzeroBitCount }
        return count
    }

    /// The bottom-most alien of the occupied column closest to `column` (the left one of
    /// two equally close columns), or nil when there are no aliens.
    func nearestAlien(toColumn column: Int) -> (row: Int, column: Int)? {
        let columns = Self.occupiedColumns(aliens)
        guard columns != 0 else { return nil }
        for distance in 0..<10 {
            let left = column - distance, right = column + distance
            if left >= 0, columns & (1 << UInt16(left)) != 0 { return (bottomAlienRow(inColumn: left), left) }
            if right <= 9, columns & (1 << UInt16(right)) != 0 { return (bottomAlienRow(inColumn: right), right) }
        }
        return nil
    }

    /// The lowest row with an alien in `column`.
    /// - Precondition: `column` holds at least one alien.
    func bottomAlienRow(inColumn column: Int) -> Int {
        let bit: UInt16 = 1 << UInt16(column)
        var row = 9
        while aliens[row] & bit == 0 { row -= 1 }
        return row
    }

    /// The columns that hold at least one cell of `rows`, as a mask.
    static func occupiedColumns(_ rows: Rows) -> UInt16 {
        var columns: UInt16 = 0
        for row in 0..<10 { columns |= rows[row] }
        return columns
    }

    /// Every cell one row up; row 0 leaves the grid.
    static func shiftedUp(_ rows: Rows) -> Rows {
        var result = Rows()
        for row in 0..<9 { result[row] = rows[row + 1] }
        return result
    }

    /// Every cell one row down; row 9 leaves the grid.
    static func shiftedDown(_ rows: Rows) -> Rows {
        var result = Rows()
        for row in 1..<10 { result[row] = rows[row - 1] }
        return result
    }
}
