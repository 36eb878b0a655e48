import SeededRandom

/// Seaquest on MinAtar's 10×10 grid (Young & Tian 2019), written from the published rules:
/// a submarine shoots fish and enemy submarines, rescues divers, and must come up for air,
/// bringing at least one diver each time.
///
/// ## Action Space
/// All six `MinAtarAction`s (the minimal set is the full set). Left and right move the
/// submarine one column and turn it that way; up and down move it one row within rows
/// 0–8; fire launches a torpedo in the facing direction when none is in flight and the
/// cool-down allows it. Moves stop at the edges.
///
/// ## Observation Space
/// 10×10×10, one binary channel per object kind, in this order (the gauge names keep
/// MinAtar's spelling so that channel names match across implementations):
/// 0. `sub_front`: the submarine's front cell (its position for every collision).
/// 1. `sub_back`: the cell behind it (drawn only; nothing collides with it).
/// 2. `friendly_bullet`: the torpedo.
/// 3. `trail`: the cell behind each fish, enemy submarine and diver, showing its heading.
/// 4. `enemy_bullet`: the enemy submarines' bullets.
/// 5. `enemy_fish`, 6. `enemy_sub`: the enemies.
/// 7. `oxygen_guage`: row 9, columns `0 ..< oxygen * 10 / 200`.
/// 8. `diver_guage`: row 8, columns `0 ..< divers carried`.
/// 9. `diver`: the divers in the water.
///
/// ## Rewards
/// +1 for each fish or enemy submarine a torpedo destroys. Surfacing with six divers adds
/// `remaining oxygen * 10 / 200` (integer division, so 0 to 10).
///
/// ## Starting State
/// The submarine at the surface (row 0), column 5, facing left; oxygen 200; no divers,
/// enemies, bullets or torpedo. The first enemy spawn is due on frame 20 and the first
/// diver on frame 30.
///
/// ## Episode End
/// Terminated when an enemy or an enemy bullet is on the submarine's front cell, when the
/// oxygen reaches 0 (on the 200th frame in a row below the surface), or when the
/// submarine surfaces without a diver. No time limit (that is a wrapper's job).
///
/// ## One frame, in order
/// 1. The action moves or turns the submarine, or fires: with no torpedo in flight and the
///    cool-down at 0, a torpedo appears on the submarine's cell heading where it faces,
///    and the cool-down is set to 5.
/// 2. The torpedo moves one column; off the grid it is gone. On an enemy it destroys it
///    and itself (+1).
/// 3. Each diver: on the submarine's cell with fewer than six carried, it is picked up
///    (one more carried). Otherwise its move timer counts down; at 0 it restarts at 5 and
///    the diver moves one column (off the grid: gone), then is picked up if now on the
///    submarine's cell with fewer than six carried.
/// 4. Each enemy: on the submarine's cell, the episode ends. Its move timer counts down;
///    at 0 it restarts at the enemy move interval and the enemy moves one column (off the
///    grid: gone); on the submarine now, the episode ends; on the torpedo, both are
///    destroyed (+1). An enemy submarine still afloat counts down its shot timer; at 0 it
///    restarts at the shot interval and a bullet appears on its cell, heading its way.
/// 5. Enemy bullets: one on the submarine's cell ends the episode; all move one column
///    (off the grid: gone); one now on the submarine's cell ends the episode.
/// 6. The enemy spawn timer counts down; at 0 it restarts at the spawn interval and one
///    64-bit draw picks a row 1–8 (low three bits + 1), a heading (bit 3: right) and a kind
///    (bit 4: submarine, else fish). The enemy enters at column 0 heading right or column 9
///    heading left, with full move and shot timers, unless its row already holds an enemy
///    (then nothing spawns). Divers likewise every 30 frames (row from the low three bits,
///    heading from bit 3), at most one per row, moving every 5 frames.
/// 7. The torpedo cool-down counts down by one (not below 0).
/// 8. Air: below the surface the oxygen drops by one, and the episode ends at 0. Arriving
///    at row 0 from below is surfacing: with no diver the episode ends; with six, the
///    oxygen bonus is paid and all six are dropped off; with one to five, one is dropped
///    off. Then the oxygen is refilled to 200 and the difficulty rises. Staying at the
///    surface costs and gives nothing.
///
/// ## Difficulty ramp
/// After `k` successful surfacings: enemy spawn interval `max(1, 20 - k)` frames, enemy
/// move interval `max(2, 5 - k / 2)`, enemy shot interval `max(4, 10 - k / 2)`. Divers
/// keep spawning every 30 frames and moving every 5.
public struct SeaquestGame: MinAtarGame {
    /// One small integer per grid row (lanes 0–9; rows 1–8 are the lanes in use).
    public typealias RowValues = SIMD16<Int8>
    /// One bit mask per grid row: bit `c` of lane `r` is the cell at row `r`, column `c`.
    public typealias RowMasks = SIMD16<UInt16>

    /// The two kinds of enemy.
    enum EnemyKind: Sendable { case fish, submarine }

    /// The submarine's torpedo while it is in flight.
    struct Torpedo: Equatable, Sendable, Codable {
        var row: Int
        var column: Int
        var isMovingRight: Bool
    }

    static let maxOxygen = 200
    static let maxDivers = 6
    static let torpedoCooldown = 5
    static let diverSpawnInterval = 30
    static let diverMoveInterval = 5
    static let fullRow: UInt16 = 0x3FF

    // The submarine.
    var subRow = 0
    var subColumn = 5
    var isSubFacingRight = false
    var torpedo: Torpedo?
    /// Frames until the submarine may fire again (0: ready).
    var torpedoCooldown = 0
    var oxygen = Self.maxOxygen
    /// Divers on board, 0–6.
    var diverCount = 0
    /// Whether the submarine was at the surface at the end of the previous frame.
    var isAtSurface = true
    /// Successful surfacings so far; the difficulty ramp's index.
    var surfacings = 0

    // Enemies: at most one per row, stored by row.
    /// Bit `r`: row `r` holds a fish.
    var fishRows: UInt16 = 0
    /// Bit `r`: row `r` holds an enemy submarine.
    var enemySubRows: UInt16 = 0
    /// Bit `r`: the enemy in row `r` heads right.
    var enemyHeadsRight: UInt16 = 0
    var enemyColumns = RowValues()
    var enemyMoveTimers = RowValues()
    var enemyShotTimers = RowValues()
    /// The enemy submarines' bullets heading left and right.
    var enemyBulletsLeft = RowMasks()
    var enemyBulletsRight = RowMasks()
    var enemySpawnTimer = 20

    // Divers: at most one per row, stored by row.
    /// Bit `r`: row `r` holds a diver.
    var diverRows: UInt16 = 0
    /// Bit `r`: the diver in row `r` heads right.
    var diverHeadsRight: UInt16 = 0
    var diverColumns = RowValues()
    var diverMoveTimers = RowValues()
    var diverSpawnTimer = Self.diverSpawnInterval

    public static let channelNames = [
        "sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet", "enemy_fish",
        "enemy_sub", "oxygen_guage", "diver_guage", "diver",
    ]
    public static let channelColors = [
        Color(255, 220, 60),   // sub_front: yellow
        Color(190, 150, 40),   // sub_back: dark gold
        Color(245, 245, 245),  // friendly_bullet: white
        Color(105, 115, 150),  // trail: slate
        Color(255, 70, 70),    // enemy_bullet: red
        Color(255, 150, 50),   // enemy_fish: orange
        Color(215, 90, 225),   // enemy_sub: magenta
        Color(60, 200, 235),   // oxygen_guage: cyan
        Color(110, 225, 120),  // diver_guage: green
        Color(255, 175, 205),  // diver: pink
    ]
    public static let minimalActions: [MinAtarAction] = MinAtarAction.allCases

    public init(generator: inout SeededGenerator) {}

    // MARK: - Difficulty

    /// Frames between enemy spawn attempts.
    var enemySpawnInterval: Int { max(1, 20 - surfacings) }
    /// Frames between two moves of an enemy.
    var enemyMoveInterval: Int { max(2, 5 - surfacings / 2) }
    /// Frames between two shots of an enemy submarine.
    var enemyShotInterval: Int { max(4, 10 - surfacings / 2) }

    // MARK: - One frame

    public mutating func advance(_ action: MinAtarAction, generator: inout SeededGenerator)
        -> (reward: Float, isTerminal: Bool)
    {
        var reward = 0
        switch action {
        case .noop: break
        case .left: subColumn = max(0, subColumn - 1); isSubFacingRight = false
        case .right: subColumn = min(9, subColumn + 1); isSubFacingRight = true
        case .up: subRow = max(0, subRow - 1)
        case .down: subRow = min(8, subRow + 1)
        case .fire:
            if torpedo == nil, torpedoCooldown == 0 {
                torpedo = Torpedo(row: subRow, column: subColumn, isMovingRight: isSubFacingRight)
                torpedoCooldown = Self.torpedoCooldown
            }
        }

        if var shot = torpedo {
            shot.column += shot.isMovingRight ? 1 : -1
            torpedo = (0..<10).contains(shot.column) ? shot : nil
            if torpedo != nil, enemy(inRow: shot.row) != nil, Int(enemyColumns[shot.row]) == shot.column {
                removeEnemy(inRow: shot.row)
                torpedo = nil
                reward += 1
            }
        }

        moveDivers()
        if moveEnemies(reward: &reward) { return (Float(reward), true) }
        if moveEnemyBullets() { return (Float(reward), true) }

        enemySpawnTimer -= 1
        if enemySpawnTimer <= 0 {
            enemySpawnTimer = enemySpawnInterval
            let bits = generator.next()
            placeEnemy(bits & 16 != 0 ? .submarine : .fish, row: 1 + Int(bits & 7),
                       headingRight: bits & 8 != 0)
        }
        diverSpawnTimer -= 1
        if diverSpawnTimer <= 0 {
            diverSpawnTimer = Self.diverSpawnInterval
            let bits = generator.next()
            placeDiver(row: 1 + Int(bits & 7), headingRight: bits & 8 != 0)
        }

        if torpedoCooldown > 0 { torpedoCooldown -= 1 }

        if subRow > 0 {
            isAtSurface = false
            oxygen -= 1
            if oxygen <= 0 { return (Float(reward), true) }
        } else if !isAtSurface {
            isAtSurface = true
            if diverCount == 0 { return (Float(reward), true) }
            if diverCount == Self.maxDivers {
                reward += oxygen * 10 / Self.maxOxygen
                diverCount = 0
            } else {
                diverCount -= 1
            }
            oxygen = Self.maxOxygen
            surfacings += 1
        }
        return (Float(reward), false)
    }

    /// Step 3 of a frame: divers drift and are picked up.
    mutating func moveDivers() {
        var rows = diverRows
        while rows != 0 {
            let row = rows.trailingZeroBitCount
            rows &= rows &- 1
            if subRow == row, subColumn == Int(diverColumns[row]), diverCount < Self.maxDivers {
                diverRows &= ~(1 << UInt16(row))
                diverCount += 1
                continue
            }
            diverMoveTimers[row] &-= 1
            guard diverMoveTimers[row] <= 0 else { continue }
            diverMoveTimers[row] = Int8(Self.diverMoveInterval)
            let column = Int(diverColumns[row]) + (diverHeadsRight & (1 << UInt16(row)) != 0 ? 1 : -1)
            if !(0..<10).contains(column) {
                diverRows &= ~(1 << UInt16(row))
            } else if subRow == row, subColumn == column, diverCount < Self.maxDivers {
                diverRows &= ~(1 << UInt16(row))
                diverCount += 1
            } else {
                diverColumns[row] = Int8(column)
            }
        }
    }

    /// Step 4 of a frame: enemies move, meet the torpedo and shoot.
    /// - Returns: whether an enemy reached the submarine (the episode ends).
    mutating func moveEnemies(reward: inout Int) -> Bool {
        var rows = fishRows | enemySubRows
        while rows != 0 {
            let row = rows.trailingZeroBitCount
            rows &= rows &- 1
            let bit: UInt16 = 1 << UInt16(row)
            var column = Int(enemyColumns[row])
            if subRow == row, subColumn == column { return true }
            enemyMoveTimers[row] &-= 1
            if enemyMoveTimers[row] <= 0 {
                enemyMoveTimers[row] = Int8(enemyMoveInterval)
                column += enemyHeadsRight & bit != 0 ? 1 : -1
                guard (0..<10).contains(column) else {
                    removeEnemy(inRow: row)
                    continue
                }
                enemyColumns[row] = Int8(column)
                if subRow == row, subColumn == column { return true }
                if let shot = torpedo, shot.row == row, shot.column == column {
                    removeEnemy(inRow: row)
                    torpedo = nil
                    reward += 1
                    continue
                }
            }
            if enemySubRows & bit != 0 {
                enemyShotTimers[row] &-= 1
                if enemyShotTimers[row] <= 0 {
                    enemyShotTimers[row] = Int8(enemyShotInterval)
                    if enemyHeadsRight & bit != 0 {
                        enemyBulletsRight[row] |= 1 << UInt16(column)
                    } else {
                        enemyBulletsLeft[row] |= 1 << UInt16(column)
                    }
                }
            }
        }
        return false
    }

    /// Step 5 of a frame: enemy bullets fly.
    /// - Returns: whether a bullet hit the submarine (the episode ends).
    mutating func moveEnemyBullets() -> Bool {
        let subBit: UInt16 = 1 << UInt16(subColumn)
        if (enemyBulletsLeft[subRow] | enemyBulletsRight[subRow]) & subBit != 0 { return true }
        enemyBulletsLeft &>>= 1
        enemyBulletsRight = (enemyBulletsRight &<< 1) & Self.fullRow
        return (enemyBulletsLeft[subRow] | enemyBulletsRight[subRow]) & subBit != 0
    }

    // MARK: - Entities

    /// The kind of enemy in `row`, if any.
    func enemy(inRow row: Int) -> EnemyKind? {
        let bit: UInt16 = 1 << UInt16(row)
        if fishRows & bit != 0 { return .fish }
        if enemySubRows & bit != 0 { return .submarine }
        return nil
    }

    /// Puts a new enemy at the edge it enters from (column 0 heading right, column 9
    /// heading left) with full timers, unless `row` already holds an enemy.
    mutating func placeEnemy(_ kind: EnemyKind, row: Int, headingRight: Bool) {
        let bit: UInt16 = 1 << UInt16(row)
        guard (fishRows | enemySubRows) & bit == 0 else { return }
        switch kind {
        case .fish: fishRows |= bit
        case .submarine: enemySubRows |= bit
        }
        if headingRight { enemyHeadsRight |= bit } else { enemyHeadsRight &= ~bit }
        enemyColumns[row] = headingRight ? 0 : 9
        enemyMoveTimers[row] = Int8(enemyMoveInterval)
        enemyShotTimers[row] = Int8(enemyShotInterval)
    }

    mutating func removeEnemy(inRow row: Int) {
        let keep = ~(UInt16(1) << UInt16(row))
        fishRows &= keep
        enemySubRows &= keep
    }

    /// Puts a new diver at the edge it enters from with a full move timer, unless `row`
    /// already holds a diver.
    mutating func placeDiver(row: Int, headingRight: Bool) {
        let bit: UInt16 = 1 << UInt16(row)
        guard diverRows & bit == 0 else { return }
        diverRows |= bit
        if headingRight { diverHeadsRight |= bit } else { diverHeadsRight &= ~bit }
        diverColumns[row] = headingRight ? 0 : 9
        diverMoveTimers[row] = Int8(Self.diverMoveInterval)
    }

    // MARK: - Drawing

    public func draw(into grid: inout ChannelGrid) {
        grid.mark(row: subRow, column: subColumn, channel: 0)
        grid.mark(row: subRow, column: subColumn + (isSubFacingRight ? -1 : 1), channel: 1)
        if let shot = torpedo { grid.mark(row: shot.row, column: shot.column, channel: 2) }

        var rows = fishRows | enemySubRows
        while rows != 0 {
            let row = rows.trailingZeroBitCount
            rows &= rows &- 1
            let bit: UInt16 = 1 << UInt16(row)
            let column = Int(enemyColumns[row])
            grid.mark(row: row, column: column, channel: fishRows & bit != 0 ? 5 : 6)
            grid.mark(row: row, column: column + (enemyHeadsRight & bit != 0 ? -1 : 1), channel: 3)
        }
        rows = diverRows
        while rows != 0 {
            let row = rows.trailingZeroBitCount
            rows &= rows &- 1
            let column = Int(diverColumns[row])
            grid.mark(row: row, column: column, channel: 9)
            grid.mark(row: row, column: column + (diverHeadsRight & (1 << UInt16(row)) != 0 ? -1 : 1),
                      channel: 3)
        }
        for row in 1..<9 {
            var bits = enemyBulletsLeft[row] | enemyBulletsRight[row]
            while bits != 0 {
                grid.mark(row: row, column: bits.trailingZeroBitCount, channel: 4)
                bits &= bits &- 1
            }
        }
        for column in 0..<(oxygen * 10 / Self.maxOxygen) { grid.mark(row: 9, column: column, channel: 7) }
        for column in 0..<diverCount { grid.mark(row: 8, column: column, channel: 8) }
    }
}
