import SeededRandom
import XCTest
@testable import Environments

final class SpaceInvadersTests: XCTestCase {
    typealias Rows = SpaceInvadersGame.Rows

    /// Masks with exactly the listed (row, column) cells set.
    func rows(_ cells: [(Int, Int)]) -> Rows {
        var result = Rows()
        for (row, column) in cells { result[row] |= 1 << UInt16(column) }
        return result
    }

    /// A game with the given aliens and no march or alien shot for a long while.
    func quietGame(aliens cells: [(Int, Int)]) -> SpaceInvadersGame {
        var generator = SeededGenerator(seed: 0)
        var game = SpaceInvadersGame(generator: &generator)
        game.aliens = rows(cells)
        game.marchTimer = 1000
        game.alienShotTimer = 1000
        return game
    }

    func testResetObservationCellByCell() {
        var env = MinAtarEnvironment<SpaceInvadersGame>(seed: 3)
        let observation = env.reset(seed: 3)
        XCTAssertEqual(observation.count, 10 * 10 * 6)
        XCTAssertEqual(env.observationSpace.shape, [10, 10, 6])
        for row in 0..<10 {
            for column in 0..<10 {
                let isAlien = (0..<4).contains(row) && (2..<8).contains(column)
                let expected: [Float] = [
                    row == 9 && column == 5 ? 1 : 0,  // cannon
                    isAlien ? 1 : 0,                  // alien
                    isAlien ? 1 : 0,                  // alien_left: the first wave marches left
                    0, 0, 0,                          // alien_right, friendly_bullet, enemy_bullet
                ]
                let cell = Array(observation[(row * 10 + column) * 6 ..< (row * 10 + column + 1) * 6])
                XCTAssertEqual(cell, expected, "cell (\(row), \(column))")
            }
        }
    }

    func testMinimalActions() {
        let env = MinAtarEnvironment<SpaceInvadersGame>(usesMinimalActions: true)
        XCTAssertEqual(env.actionSpace.width, 4)
        XCTAssertEqual(env.actionNames, ["no-op", "left", "right", "fire"])
        XCTAssertEqual(Set(SpaceInvadersGame.channelColors).count, 6)
        XCTAssertFalse(SpaceInvadersGame.channelColors.contains(.background))
    }

    func testFiredBulletAppearsAboveCannonAndClimbs() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(0, 0)])
        _ = game.advance(.fire, generator: &generator)
        XCTAssertEqual(game.friendlyBullets, rows([(8, 5)]))
        _ = game.advance(.noop, generator: &generator)
        XCTAssertEqual(game.friendlyBullets, rows([(7, 5)]))
    }

    func testFriendlyBulletHitScoresAndRemovesBoth() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(4, 3), (0, 9)])
        game.friendlyBullets = rows([(5, 3), (7, 6)])
        let (reward, isTerminal) = game.advance(.noop, generator: &generator)
        XCTAssertEqual(reward, 1)
        XCTAssertFalse(isTerminal)
        XCTAssertEqual(game.aliens, rows([(0, 9)]))
        XCTAssertEqual(game.friendlyBullets, rows([(6, 6)]))
    }

    func testAlienMarchingOntoBulletIsDestroyed() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(2, 4), (0, 9)])
        game.isMarchingRight = false
        game.marchTimer = 1
        game.friendlyBullets = rows([(3, 3)])  // climbs to (2, 3); the alien marches onto it
        let (reward, _) = game.advance(.noop, generator: &generator)
        XCTAssertEqual(reward, 1)
        XCTAssertEqual(game.aliens, rows([(0, 8)]))
        XCTAssertEqual(game.friendlyBullets, Rows())
    }

    func testCannonCoolDownAllowsOneShotEveryFiveFrames() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(0, 0)])
        var shotFrames: [Int] = []
        var cooldowns: [Int] = []
        for frame in 1...11 {
            _ = game.advance(.fire, generator: &generator)
            if game.friendlyBullets[8] != 0 { shotFrames.append(frame) }
            cooldowns.append(game.shotCooldown)
        }
        XCTAssertEqual(shotFrames, [1, 6, 11])
        XCTAssertEqual(cooldowns, [4, 3, 2, 1, 0, 4, 3, 2, 1, 0, 4])
        // The first bullet left the top after 9 more frames; the second is on row 3.
        XCTAssertEqual(game.friendlyBullets, rows([(3, 5), (8, 5)]))
    }

    func testCannonMovesAndStopsAtWalls() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(0, 0)])
        for _ in 0..<7 { _ = game.advance(.left, generator: &generator) }
        XCTAssertEqual(game.cannonColumn, 0)
        for _ in 0..<4 { _ = game.advance(.right, generator: &generator) }
        XCTAssertEqual(game.cannonColumn, 4)
        _ = game.advance(.up, generator: &generator)
        _ = game.advance(.down, generator: &generator)
        XCTAssertEqual(game.cannonColumn, 4)
    }

    func testMarchStepsDownAndReversesAtTheEdge() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(2, 7), (3, 8)])
        game.isMarchingRight = true
        game.marchTimer = 1

        _ = game.advance(.noop, generator: &generator)  // sideways: column 9 was free
        XCTAssertEqual(game.aliens, rows([(2, 8), (3, 9)]))
        XCTAssertEqual(game.marchTimer, 2, "period is min(2 aliens, interval 12)")

        _ = game.advance(.noop, generator: &generator)  // timer 2 -> 1: no move
        XCTAssertEqual(game.aliens, rows([(2, 8), (3, 9)]))

        _ = game.advance(.noop, generator: &generator)  // at the wall: down and reverse
        XCTAssertEqual(game.aliens, rows([(3, 8), (4, 9)]))
        XCTAssertFalse(game.isMarchingRight)

        _ = game.advance(.noop, generator: &generator)
        _ = game.advance(.noop, generator: &generator)
        XCTAssertEqual(game.aliens, rows([(3, 7), (4, 8)]))

        var env = MinAtarEnvironment<SpaceInvadersGame>()
        env.game = game
        var observation = [Float](repeating: 0, count: 600)
        observation.withUnsafeMutableBufferPointer { env.writeObservation(into: $0) }
        XCTAssertEqual(observation[(3 * 10 + 7) * 6 + 2], 1, "alien_left marks a left-marching alien")
        XCTAssertEqual(observation[(3 * 10 + 7) * 6 + 3], 0)
    }

    func testMarchPeriodIsTheIntervalWhileManyAliensRemain() {
        var generator = SeededGenerator(seed: 0)
        var game = SpaceInvadersGame(generator: &generator)
        game.alienShotTimer = 1000
        var moveFrames: [Int] = []
        var previous = game.aliens
        for frame in 1...30 {
            _ = game.advance(.noop, generator: &generator)
            if game.aliens != previous { moveFrames.append(frame) }
            previous = game.aliens
        }
        XCTAssertEqual(moveFrames, [12, 24])
        XCTAssertEqual(game.aliens, rows((0..<4).flatMap { r in (0..<6).map { (r, $0) } }))
    }

    func testNearestAlienShootsFromTheBottomOfTheClosestColumn() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(1, 2), (3, 2), (0, 7), (2, 7)])
        game.alienShotTimer = 1
        _ = game.advance(.noop, generator: &generator)
        XCTAssertEqual(game.enemyBullets, rows([(2, 7)]), "column 7 is 2 from the cannon, column 2 is 3")
        XCTAssertEqual(game.alienShotTimer, 10)

        var tie = quietGame(aliens: [(1, 3), (0, 7)])
        tie.alienShotTimer = 1
        _ = tie.advance(.noop, generator: &generator)
        XCTAssertEqual(tie.enemyBullets, rows([(1, 3)]), "equally close: the left column shoots")
    }

    func testEnemyBulletOnCannonTerminates() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(0, 0)])
        game.enemyBullets = rows([(8, 5)])
        XCTAssertEqual(game.advance(.noop, generator: &generator).isTerminal, true)

        var dodging = quietGame(aliens: [(0, 0)])
        dodging.enemyBullets = rows([(8, 5)])
        XCTAssertEqual(dodging.advance(.left, generator: &generator).isTerminal, false)
        XCTAssertEqual(dodging.enemyBullets, rows([(9, 5)]))
        XCTAssertEqual(dodging.advance(.noop, generator: &generator).isTerminal, false)
        XCTAssertEqual(dodging.enemyBullets, Rows(), "the bullet left the grid")

        var stepping = quietGame(aliens: [(0, 0)])
        stepping.enemyBullets = rows([(8, 4)])
        XCTAssertEqual(stepping.advance(.left, generator: &generator).isTerminal, true)
    }

    func testAliensReachingTheBottomRowTerminate() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(8, 0), (7, 1)])
        game.isMarchingRight = false
        game.marchTimer = 1
        XCTAssertEqual(game.advance(.noop, generator: &generator).isTerminal, true)

        var sideways = quietGame(aliens: [(8, 2)])
        sideways.marchTimer = 1
        XCTAssertEqual(sideways.advance(.noop, generator: &generator).isTerminal, false)
        XCTAssertEqual(sideways.aliens, rows([(8, 1)]))
    }

    func testClearedWaveComesBackFaster() {
        var generator = SeededGenerator(seed: 0)
        var game = quietGame(aliens: [(4, 3)])
        game.friendlyBullets = rows([(5, 3)])
        game.isMarchingRight = true
        let (reward, isTerminal) = game.advance(.noop, generator: &generator)
        XCTAssertEqual(reward, 1)
        XCTAssertFalse(isTerminal)
        XCTAssertEqual(game.aliens, SpaceInvadersGame.startingWave)
        XCTAssertEqual(game.alienCount, 24)
        XCTAssertEqual(game.marchInterval, 11)
        XCTAssertEqual(game.marchTimer, 11)
        XCTAssertFalse(game.isMarchingRight)
        XCTAssertEqual(game.wavesCleared, 1)

        var fastest = quietGame(aliens: [(4, 3)])
        fastest.friendlyBullets = rows([(5, 3)])
        fastest.marchInterval = 6
        _ = fastest.advance(.noop, generator: &generator)
        XCTAssertEqual(fastest.marchInterval, 6, "the interval never drops below 6")
    }

    func testSameSeedGivesSameTrajectory() throws {
        func trajectory(seed: UInt64) throws -> (rewards: [Float], observations: [Float]) {
            var env = MinAtarEnvironment<SpaceInvadersGame>(seed: seed)
            var policy = SeededGenerator(seed: 99)
            var rewards: [Float] = []
            var observations = env.reset(seed: seed)
            for _ in 0..<400 {
                let step = try env.step(policy.int(below: 6))
                rewards.append(step.reward)
                observations += step.observation
                if step.isTerminated { observations += env.reset() }
            }
            return (rewards, observations)
        }
        let first = try trajectory(seed: 5), second = try trajectory(seed: 5)
        XCTAssertEqual(first.rewards, second.rewards)
        XCTAssertEqual(first.observations, second.observations)
        let other = try trajectory(seed: 6)
        XCTAssertNotEqual(first.observations, other.observations, "sticky actions depend on the seed")
    }
}
