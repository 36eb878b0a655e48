import SeededRandom
import XCTest
@testable import Environments

final class SeaquestTests: XCTestCase {
    /// A game with the submarine at (`row`, `column`) and no spawns for a long while.
    func quietGame(row: Int = 0, column: Int = 5, facingRight: Bool = false) -> SeaquestGame {
        var generator = SeededGenerator(seed: 0)
        var game = SeaquestGame(generator: &generator)
        game.subRow = row
        game.subColumn = column
        game.isSubFacingRight = facingRight
        game.isAtSurface = row == 0
        game.enemySpawnTimer = 10_000
        game.diverSpawnTimer = 10_000
        return game
    }

    func testResetObservationCellByCell() {
        var env = MinAtarEnvironment<SeaquestGame>(seed: 11)
        let observation = env.reset(seed: 11)
        XCTAssertEqual(env.observationSpace.shape, [10, 10, 10])
        XCTAssertEqual(env.actionSpace.width, 6)
        for row in 0..<10 {
            for column in 0..<10 {
                var expected = [Float](repeating: 0, count: 10)
                if row == 0 && column == 5 { expected[0] = 1 }  // sub_front
                if row == 0 && column == 6 { expected[1] = 1 }  // sub_back: facing left
                if row == 9 { expected[7] = 1 }                 // oxygen 200: ten cells
                let cell = Array(observation[(row * 10 + column) * 10 ..< (row * 10 + column + 1) * 10])
                XCTAssertEqual(cell, expected, "cell (\(row), \(column))")
            }
        }
        XCTAssertEqual(Set(SeaquestGame.channelColors).count, 10)
        XCTAssertFalse(SeaquestGame.channelColors.contains(.background))
    }

    func testOxygenRunsOutOnTheTwoHundredthFrameBelow() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame()
        XCTAssertFalse(game.advance(.down, generator: &generator).isTerminal)
        XCTAssertEqual(game.oxygen, 199)
        for frame in 2...199 {
            XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal, "frame \(frame)")
        }
        XCTAssertEqual(game.oxygen, 1)
        XCTAssertTrue(game.advance(.noop, generator: &generator).isTerminal)
        XCTAssertEqual(game.oxygen, 0)
    }

    func testOxygenGaugeShowsTenthsOfTheTank() {
        var env = MinAtarEnvironment<SeaquestGame>()
        env.game = quietGame(row: 3)
        env.game.oxygen = 119  // 119 * 10 / 200 = 5 cells
        env.game.diverCount = 4
        var observation = [Float](repeating: 0, count: 1000)
        observation.withUnsafeMutableBufferPointer { env.writeObservation(into: $0) }
        let oxygenCells = (0..<10).filter { observation[(9 * 10 + $0) * 10 + 7] == 1 }
        let diverCells = (0..<10).filter { observation[(8 * 10 + $0) * 10 + 8] == 1 }
        XCTAssertEqual(oxygenCells, [0, 1, 2, 3, 4])
        XCTAssertEqual(diverCells, [0, 1, 2, 3])
    }

    func testSurfacingRefillsOxygenAndDropsOffOneDiver() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 1)
        game.oxygen = 57
        game.diverCount = 3
        let (reward, isTerminal) = game.advance(.up, generator: &generator)
        XCTAssertEqual(reward, 0)
        XCTAssertFalse(isTerminal)
        XCTAssertEqual(game.oxygen, 200)
        XCTAssertEqual(game.diverCount, 2)
        XCTAssertEqual(game.surfacings, 1)
        XCTAssertEqual(game.enemySpawnInterval, 19)
        // Staying at the surface neither drains nor refills, drops off nor ends anything.
        for _ in 0..<50 { XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal) }
        XCTAssertEqual(game.oxygen, 200)
        XCTAssertEqual(game.diverCount, 2)
        XCTAssertEqual(game.surfacings, 1)
    }

    func testSurfacingWithoutDiversTerminates() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame()
        XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal, "starting at the surface is fine")
        XCTAssertFalse(game.advance(.down, generator: &generator).isTerminal)
        XCTAssertTrue(game.advance(.up, generator: &generator).isTerminal)
    }

    func testSurfacingWithSixDiversPaysTheOxygenBonus() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 1)
        game.diverCount = 6
        game.oxygen = 150
        let (reward, isTerminal) = game.advance(.up, generator: &generator)
        XCTAssertEqual(reward, 7, "150 * 10 / 200 = 7.5, rounded down")
        XCTAssertFalse(isTerminal)
        XCTAssertEqual(game.diverCount, 0)
        XCTAssertEqual(game.oxygen, 200)
    }

    func testTorpedoHitScores() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 3, column: 2, facingRight: true)
        game.oxygen = 100
        game.placeEnemy(.fish, row: 3, headingRight: false)  // column 9
        game.enemyColumns[3] = 5
        game.enemyMoveTimers[3] = 100

        XCTAssertEqual(game.advance(.fire, generator: &generator).reward, 0)
        XCTAssertEqual(game.torpedo, SeaquestGame.Torpedo(row: 3, column: 3, isMovingRight: true))
        XCTAssertEqual(game.advance(.fire, generator: &generator).reward, 0, "one torpedo at a time")
        XCTAssertEqual(game.torpedo?.column, 4)
        let (reward, isTerminal) = game.advance(.noop, generator: &generator)
        XCTAssertEqual(reward, 1)
        XCTAssertFalse(isTerminal)
        XCTAssertNil(game.torpedo)
        XCTAssertNil(game.enemy(inRow: 3))
    }

    func testEnemySubMovingOntoTheTorpedoIsDestroyed() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 6, column: 0, facingRight: true)
        game.placeEnemy(.submarine, row: 6, headingRight: false)
        game.enemyColumns[6] = 3
        game.enemyMoveTimers[6] = 2
        game.enemyShotTimers[6] = 100
        XCTAssertEqual(game.advance(.fire, generator: &generator).reward, 0)
        XCTAssertEqual(game.torpedo?.column, 1)
        XCTAssertEqual(game.enemyColumns[6], 3)
        // The torpedo moves 1 -> 2, then the submarine moves 3 -> 2 onto it.
        XCTAssertEqual(game.advance(.noop, generator: &generator).reward, 1)
        XCTAssertNil(game.enemy(inRow: 6))
        XCTAssertNil(game.torpedo)
    }

    func testTorpedoCoolDown() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 2, column: 8, facingRight: true)
        var fireFrames: [Int] = []
        for frame in 1...7 {
            let hadTorpedo = game.torpedo != nil
            _ = game.advance(.fire, generator: &generator)
            if !hadTorpedo, game.torpedo != nil { fireFrames.append(frame) }
        }
        // Column 8 facing right: each torpedo reaches 9, then leaves; the cool-down
        // still holds the next shot until frame 6.
        XCTAssertEqual(fireFrames, [1, 6])
    }

    func testCollisionWithAnEnemyTerminates() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 4, column: 4)
        game.oxygen = 100
        game.placeEnemy(.fish, row: 4, headingRight: false)
        game.enemyColumns[4] = 6
        game.enemyMoveTimers[4] = 1
        XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal)
        XCTAssertEqual(game.enemyColumns[4], 5)
        XCTAssertTrue(game.advance(.right, generator: &generator).isTerminal)

        var swimming = quietGame(row: 4, column: 4)
        swimming.oxygen = 100
        swimming.placeEnemy(.fish, row: 4, headingRight: false)
        swimming.enemyColumns[4] = 5
        swimming.enemyMoveTimers[4] = 1
        XCTAssertTrue(swimming.advance(.noop, generator: &generator).isTerminal, "the fish swims onto the submarine")
    }

    func testEnemySubShootsAndItsBulletTerminates() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 2, column: 3)
        game.oxygen = 100
        game.placeEnemy(.submarine, row: 2, headingRight: false)
        game.enemyColumns[2] = 8
        game.enemyMoveTimers[2] = 100
        game.enemyShotTimers[2] = 1
        XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal)
        XCTAssertEqual(game.enemyBulletsLeft[2], 1 << 7, "fired from column 8, flown to 7")
        XCTAssertEqual(game.enemyShotTimers[2], 10)
        for _ in 0..<3 { XCTAssertFalse(game.advance(.noop, generator: &generator).isTerminal) }
        XCTAssertEqual(game.enemyBulletsLeft[2], 1 << 4)
        XCTAssertTrue(game.advance(.noop, generator: &generator).isTerminal)
    }

    func testDiverPickupIncrementsTheGaugeUpToSix() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(row: 5, column: 5)
        game.oxygen = 100
        game.placeDiver(row: 5, headingRight: false)
        game.diverColumns[5] = 7
        game.diverMoveTimers[5] = 1
        _ = game.advance(.noop, generator: &generator)
        XCTAssertEqual(game.diverColumns[5], 6)
        XCTAssertEqual(game.diverCount, 0)
        _ = game.advance(.right, generator: &generator)
        XCTAssertEqual(game.diverCount, 1)
        XCTAssertEqual(game.diverRows, 0)

        var full = quietGame(row: 5, column: 5)
        full.oxygen = 100
        full.diverCount = 6
        full.placeDiver(row: 5, headingRight: false)
        full.diverColumns[5] = 6
        full.diverMoveTimers[5] = 1
        _ = full.advance(.noop, generator: &generator)
        XCTAssertEqual(full.diverCount, 6)
        XCTAssertEqual(full.diverColumns[5], 5, "the diver swims through the full submarine")
        XCTAssertEqual(full.diverRows, 1 << 5)
    }

    func testSpawnsEnterAtTheEdgeOnTheirTimer() {
        var generator = SeededGenerator(seed: 4)
        var game = SeaquestGame(generator: &generator)
        for _ in 0..<19 { _ = game.advance(.noop, generator: &generator) }
        XCTAssertEqual(game.fishRows | game.enemySubRows, 0)
        _ = game.advance(.noop, generator: &generator)
        let rows = game.fishRows | game.enemySubRows
        XCTAssertEqual(rows.nonzeroBitCount, 1, "one enemy on frame 20")
        let row = rows.trailingZeroBitCount
        XCTAssertTrue((1...8).contains(row))
        let headsRight = game.enemyHeadsRight & (1 << UInt16(row)) != 0
        XCTAssertEqual(game.enemyColumns[row], headsRight ? 0 : 9)
        XCTAssertEqual(game.enemySpawnTimer, 20)

        game.placeEnemy(.submarine, row: row, headingRight: !headsRight)
        XCTAssertEqual(game.fishRows | game.enemySubRows, rows, "a row holds one enemy at most")
    }

    func testDifficultyRampsWithSurfacings() {
        var game = quietGame()
        XCTAssertEqual([game.enemySpawnInterval, game.enemyMoveInterval, game.enemyShotInterval], [20, 5, 10])
        game.surfacings = 3
        XCTAssertEqual([game.enemySpawnInterval, game.enemyMoveInterval, game.enemyShotInterval], [17, 4, 9])
        game.surfacings = 40
        XCTAssertEqual([game.enemySpawnInterval, game.enemyMoveInterval, game.enemyShotInterval], [1, 2, 4])
    }

    func testSameSeedGivesSameTrajectory() throws {
        func trajectory(seed: UInt64) throws -> (rewards: [Float], observations: [Float]) {
            var env = MinAtarEnvironment<SeaquestGame>(seed: seed)
            var policy = SeededGenerator(seed: 42)
            var rewards: [Float] = []
            var observations = env.reset(seed: seed)
            for _ in 0..<400 {
                // Mostly stay below and fire, so enemies spawn and the stream matters.
                let action = policy.bernoulli(0.5) ? MinAtarAction.fire.rawValue : policy.int(below: 6)
                let step = try env.step(action)
                rewards.append(step.reward)
                observations += step.observation
                if step.isTerminated { observations += env.reset() }
            }
            return (rewards, observations)
        }
        let first = try trajectory(seed: 8), second = try trajectory(seed: 8)
        XCTAssertEqual(first.rewards, second.rewards)
        XCTAssertEqual(first.observations, second.observations)
        XCTAssertNotEqual(first.observations, try trajectory(seed: 9).observations)
    }
}
