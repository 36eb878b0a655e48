import SeededRandom
import XCTest
@testable import Environments

final class AsterixTests: XCTestCase {
    private typealias Object = AsterixGame.MovingObject

    /// A fresh game in which nothing spawns or moves unless a test says so.
    private func makeQuietGame() -> AsterixGame {
        var generator = SeededGenerator(seed: 0)
        var game = AsterixGame(generator: &generator)
        game.spawnCountdown = 1_000
        game.moveCountdown = 1_000
        return game
    }

    private func advance(_ game: inout AsterixGame, _ action: MinAtarAction = .noop, seed: UInt64 = 5)
        -> (reward: Float, isTerminal: Bool)
    {
        var generator = SeededGenerator(seed: seed)
        return game.advance(action, generator: &generator)
    }

    func testPlayerWalkingIntoGoldScoresAndRemovesIt() {
        var game = makeQuietGame()
        game[objectInRow: 5] = Object(column: 6, isMovingRight: false, isGold: true)

        let result = advance(&game, .right)

        XCTAssertEqual(result.reward, 1)
        XCTAssertFalse(result.isTerminal)
        XCTAssertEqual(game.playerColumn, 6)
        XCTAssertNil(game[objectInRow: 5])
        XCTAssertEqual(game.occupiedLanes, 0)
    }

    func testGoldDriftingOntoPlayerScores() {
        var game = makeQuietGame()
        game.moveCountdown = 0
        game[objectInRow: 5] = Object(column: 4, isMovingRight: true, isGold: true)
        game[objectInRow: 2] = Object(column: 7, isMovingRight: false, isGold: false)

        let result = advance(&game)

        XCTAssertEqual(result.reward, 1)
        XCTAssertFalse(result.isTerminal)
        XCTAssertNil(game[objectInRow: 5])
        XCTAssertEqual(game[objectInRow: 2], Object(column: 6, isMovingRight: false, isGold: false))
        XCTAssertEqual(game.moveCountdown, game.moveInterval - 1)
    }

    func testTouchingAnEnemyTerminates() {
        var game = makeQuietGame()
        game[objectInRow: 4] = Object(column: 5, isMovingRight: true, isGold: false)
        let result = advance(&game, .up)
        XCTAssertEqual(result.reward, 0)
        XCTAssertTrue(result.isTerminal)

        game = makeQuietGame()
        game.moveCountdown = 0
        game[objectInRow: 5] = Object(column: 6, isMovingRight: false, isGold: false)
        XCTAssertTrue(advance(&game).isTerminal, "enemy drifting onto the player")

        game = makeQuietGame()
        game[objectInRow: 5] = Object(column: 7, isMovingRight: false, isGold: false)
        XCTAssertFalse(advance(&game).isTerminal, "an enemy two cells away is harmless")
    }

    func testPlayerStaysInRowsOneToEight() {
        var game = makeQuietGame()
        game.playerRow = 1
        _ = advance(&game, .up)
        XCTAssertEqual(game.playerRow, 1)
        game.playerRow = 8
        _ = advance(&game, .down)
        XCTAssertEqual(game.playerRow, 8)
        game.playerColumn = 0
        _ = advance(&game, .left)
        XCTAssertEqual(game.playerColumn, 0)
        game.playerColumn = 9
        _ = advance(&game, .right)
        _ = advance(&game, .fire)
        XCTAssertEqual(game.playerColumn, 9)
        XCTAssertEqual(game.playerRow, 8)
    }

    func testObjectsLeavingTheGridVanish() {
        var game = makeQuietGame()
        game.moveCountdown = 0
        game[objectInRow: 1] = Object(column: 9, isMovingRight: true, isGold: false)
        game[objectInRow: 8] = Object(column: 0, isMovingRight: false, isGold: true)
        game[objectInRow: 3] = Object(column: 0, isMovingRight: true, isGold: true)

        _ = advance(&game)

        XCTAssertNil(game[objectInRow: 1])
        XCTAssertNil(game[objectInRow: 8])
        XCTAssertEqual(game[objectInRow: 3], Object(column: 1, isMovingRight: true, isGold: true))
        XCTAssertEqual(game.occupiedLanes, 0b100)
    }

    func testSpawnOnlyInFreeRows() {
        for seed: UInt64 in 0..<40 {
            var game = makeQuietGame()
            game.playerColumn = 9
            for row in 1...8 where row != 6 {
                game[objectInRow: row] = Object(column: 0, isMovingRight: true, isGold: false)
            }
            game.spawnCountdown = 0

            let result = advance(&game, seed: seed)

            XCTAssertFalse(result.isTerminal)
            XCTAssertEqual(game.occupiedLanes, 0xFF, "the free row 6 was filled")
            let spawned = try! XCTUnwrap(game[objectInRow: 6])
            XCTAssertEqual(spawned.column, spawned.isMovingRight ? 0 : 9, "spawns at the edge it moves away from")
            XCTAssertEqual(game.spawnCountdown, game.spawnInterval - 1)
            for row in 1...8 where row != 6 {
                XCTAssertEqual(game[objectInRow: row], Object(column: 0, isMovingRight: true, isGold: false))
            }
        }

        var full = makeQuietGame()
        full.playerColumn = 9
        for row in 1...8 { full[objectInRow: row] = Object(column: 0, isMovingRight: true, isGold: true) }
        full.spawnCountdown = 0
        let before = full
        _ = advance(&full)
        XCTAssertEqual(full.occupiedLanes, before.occupiedLanes)
        XCTAssertEqual(full.goldLanes, before.goldLanes)
        XCTAssertEqual(full.objectColumns, before.objectColumns)
    }

    func testSpawnsCoverBothEdgesAndBothKinds() {
        var golds = 0, enemies = 0, rightward = 0
        for seed: UInt64 in 0..<300 {
            var game = makeQuietGame()
            game.spawnCountdown = 0
            _ = advance(&game, seed: seed)
            XCTAssertEqual(game.occupiedLanes.nonzeroBitCount, 1)
            let row = game.occupiedLanes.trailingZeroBitCount + 1
            let object = game[objectInRow: row]!
            if object.isGold { golds += 1 } else { enemies += 1 }
            if object.isMovingRight { rightward += 1 }
        }
        // Gold one time in three: 100 expected of 300, standard deviation about 8.
        XCTAssertTrue((70...130).contains(golds), "\(golds) gold of 300")
        XCTAssertTrue((115...185).contains(rightward), "\(rightward) rightward of 300")
        XCTAssertEqual(golds + enemies, 300)
    }

    func testFirstSpawnAndFirstMoveTiming() {
        var generator = SeededGenerator(seed: 3)
        var game = AsterixGame(generator: &generator)
        game.playerRow = 8
        game[objectInRow: 1] = Object(column: 0, isMovingRight: true, isGold: false)
        var sentinelColumns: [Int] = []
        for frame in 1...11 {
            _ = game.advance(.noop, generator: &generator)
            sentinelColumns.append(game[objectInRow: 1]!.column)
            if frame == 10 { XCTAssertEqual(game.occupiedLanes, 0b1, "nothing spawns in the first 10 frames") }
        }
        XCTAssertEqual(sentinelColumns, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2], "moves on frames 6 and 11")
        XCTAssertEqual(game.occupiedLanes.nonzeroBitCount, 2, "the first object on frame 11")
        XCTAssertEqual(game.spawnCountdown, 9)
        XCTAssertEqual(game.moveCountdown, 4)
    }

    func testRampSpeedsUpSpawningAndMovement() {
        var generator = SeededGenerator(seed: 11)
        var game = AsterixGame(generator: &generator)
        func run(frames: Int) {
            for _ in 0..<frames {
                _ = game.advance(.noop, generator: &generator)
                game.occupiedLanes = 0  // keep the board empty so the player survives
            }
        }
        run(frames: 101)
        XCTAssertEqual(game.rampCount, 0)
        XCTAssertEqual(game.spawnInterval, 10)
        XCTAssertEqual(game.moveInterval, 5)
        run(frames: 1)  // frame 102
        XCTAssertEqual(game.rampCount, 1)
        XCTAssertEqual(game.spawnInterval, 9)
        XCTAssertEqual(game.moveInterval, 5)
        run(frames: 101)  // frame 203
        XCTAssertEqual(game.spawnInterval, 9)
        run(frames: 1)  // frame 204
        XCTAssertEqual(game.rampCount, 2)
        XCTAssertEqual(game.spawnInterval, 8)
        XCTAssertEqual(game.moveInterval, 4)
        run(frames: 102 * 6 + 101)  // frame 917
        XCTAssertEqual(game.rampCount, 8)
        XCTAssertEqual(game.spawnInterval, 2)
        XCTAssertEqual(game.moveInterval, 1)
        run(frames: 1)  // frame 918
        XCTAssertEqual(game.rampCount, 9)
        XCTAssertEqual(game.spawnInterval, 1)
        XCTAssertEqual(game.moveInterval, 1)
        run(frames: 1_000)
        XCTAssertEqual(game.rampCount, 9, "the ramp stops once both intervals reach 1")
        XCTAssertEqual(game.spawnInterval, 1)
    }

    func testShorterIntervalsSpawnAndMoveMoreOften() {
        var game = makeQuietGame()
        // The player shares row 1 with the sentinel, behind it, so nothing can reach it.
        game.playerRow = 1; game.playerColumn = 0
        game[objectInRow: 1] = Object(column: 2, isMovingRight: true, isGold: false)
        game.spawnInterval = 3
        game.moveInterval = 2
        game.spawnCountdown = 0
        game.moveCountdown = 0
        var spawnFrames: [Int] = [], sentinelColumns: [Int] = []
        for frame in 1...8 {
            let before = game.occupiedLanes
            XCTAssertFalse(advance(&game, seed: UInt64(frame)).isTerminal)
            if game.occupiedLanes & ~before != 0 { spawnFrames.append(frame) }
            sentinelColumns.append(game[objectInRow: 1]!.column)
        }
        XCTAssertEqual(spawnFrames, [1, 4, 7], "spawn interval 3: every third frame")
        XCTAssertEqual(sentinelColumns, [3, 3, 4, 4, 5, 5, 6, 6], "move interval 2: every second frame")
    }

    func testObservationChannels() {
        var game = makeQuietGame()
        game.playerRow = 7; game.playerColumn = 2
        game[objectInRow: 2] = Object(column: 0, isMovingRight: true, isGold: true)    // trail off-grid
        game[objectInRow: 3] = Object(column: 4, isMovingRight: false, isGold: false)  // trail at 5
        game[objectInRow: 8] = Object(column: 9, isMovingRight: true, isGold: false)   // trail at 8

        var environment = MinAtarEnvironment<AsterixGame>(seed: 0)
        environment.game = game
        var observation = [Float](repeating: 0, count: 400)
        observation.withUnsafeMutableBufferPointer { environment.writeObservation(into: $0) }

        var expected = [Float](repeating: 0, count: 400)
        func set(_ row: Int, _ column: Int, _ channel: Int) { expected[(row * 10 + column) * 4 + channel] = 1 }
        set(7, 2, 0)
        set(2, 0, 3)
        set(3, 4, 1); set(3, 5, 2)
        set(8, 9, 1); set(8, 8, 2)
        XCTAssertEqual(observation, expected)

        environment = MinAtarEnvironment<AsterixGame>(seed: 0)
        let first = environment.reset(seed: 0)
        XCTAssertEqual(first.reduce(0, +), 1)
        XCTAssertEqual(first[(5 * 10 + 5) * 4], 1, "the player alone at (5, 5)")
    }

    func testSameSeedGivesTheSameTrajectory() {
        func trajectory(seed: UInt64) -> [Float] {
            var environment = MinAtarEnvironment<AsterixGame>(seed: seed)
            var actions = SeededGenerator(seed: 5)
            var record = environment.reset(seed: seed)
            for _ in 0..<200 {
                let step = try! environment.step(actions.int(below: 6))
                record += step.observation + [step.reward, step.isTerminated ? 1 : 0]
                if step.isDone { record += environment.reset() }
            }
            return record
        }
        XCTAssertEqual(trajectory(seed: 21), trajectory(seed: 21))
        XCTAssertNotEqual(trajectory(seed: 21), trajectory(seed: 22))
    }

    func testStickyProbabilityOneRepeatsNoopForever() {
        var environment = MinAtarEnvironment<AsterixGame>(stickyActionProbability: 1, seed: 6)
        _ = environment.reset(seed: 6)
        for _ in 0..<10 {
            _ = try! environment.step(MinAtarAction.left.rawValue)
            XCTAssertEqual(environment.lastAction, .noop)
            XCTAssertEqual(environment.game.playerRow, 5)
            XCTAssertEqual(environment.game.playerColumn, 5)
        }
    }

    func testMinimalActionSet() {
        let environment = MinAtarEnvironment<AsterixGame>(usesMinimalActions: true)
        XCTAssertEqual(environment.actionNames, ["no-op", "left", "up", "right", "down"])
        XCTAssertEqual(environment.observationSpace.shape, [10, 10, 4])
        XCTAssertEqual(Set(AsterixGame.channelColors).count, 4)
    }

    /// A reference trace of this implementation (not MinAtar's): it pins the rules and the
    /// order in which they draw random numbers. Update it only for a deliberate change.
    func testPinnedRandomPolicyTrace() {
        let summary = randomPolicySummary(AsterixGame.self, seed: 2024, steps: 3000)
        XCTAssertEqual(summary.totalReward, 22)
        XCTAssertEqual(summary.episodes, 42)
        XCTAssertEqual(summary.checksum, 3680187)
    }
}
