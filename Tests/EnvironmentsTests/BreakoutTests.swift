import SeededRandom
import XCTest
@testable import Environments

final class BreakoutTests: XCTestCase {
    /// A game in its starting state with the ball starting on the left.
    private func makeGame() -> BreakoutGame {
        var generator = SeededGenerator(seed: 0)
        var game = BreakoutGame(generator: &generator)
        game.ballColumn = 0
        game.trailColumn = 0
        game.ballDeltaColumn = 1
        return game
    }

    private func advance(_ game: inout BreakoutGame, _ action: MinAtarAction = .noop)
        -> (reward: Float, isTerminal: Bool)
    {
        var generator = SeededGenerator(seed: 99)
        return game.advance(action, generator: &generator)
    }

    private func assertBall(
        _ game: BreakoutGame, row: Int, column: Int, deltaRow: Int, deltaColumn: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(game.ballRow, row, "ball row", file: file, line: line)
        XCTAssertEqual(game.ballColumn, column, "ball column", file: file, line: line)
        XCTAssertEqual(game.ballDeltaRow, deltaRow, "vertical direction", file: file, line: line)
        XCTAssertEqual(game.ballDeltaColumn, deltaColumn, "horizontal direction", file: file, line: line)
    }

    func testBrickHitScoresRemovesThatBrickAndReversesVertically() {
        var game = makeGame()
        game.ballRow = 4; game.ballColumn = 5
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1

        let result = advance(&game)

        XCTAssertEqual(result.reward, 1)
        XCTAssertFalse(result.isTerminal)
        XCTAssertEqual(game.bricks, BreakoutGame.fullWall & ~BreakoutGame.brickBit(row: 3, column: 6))
        XCTAssertEqual(game.bricks.nonzeroBitCount, 29)
        XCTAssertFalse(game.hasBrick(row: 3, column: 6))
        // The ball stays in its row, takes its horizontal step and now heads down.
        assertBall(game, row: 4, column: 6, deltaRow: 1, deltaColumn: 1)
        XCTAssertTrue(game.hasJustStruck)
    }

    func testNoSecondBrickScoredOnTheFrameAfterAHit() {
        var game = makeGame()
        game.ballRow = 4; game.ballColumn = 5
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1
        game.hasJustStruck = true

        let result = advance(&game)

        // The ball passes into the brick without removing it.
        XCTAssertEqual(result.reward, 0)
        XCTAssertEqual(game.bricks, BreakoutGame.fullWall)
        assertBall(game, row: 3, column: 6, deltaRow: -1, deltaColumn: 1)
        XCTAssertTrue(game.hasJustStruck)
    }

    func testSideWallsFlipHorizontalDirection() {
        var game = makeGame()
        game.ballRow = 5; game.ballColumn = 0
        game.ballDeltaRow = 1; game.ballDeltaColumn = -1
        XCTAssertEqual(advance(&game).reward, 0)
        assertBall(game, row: 6, column: 0, deltaRow: 1, deltaColumn: 1)

        game.ballRow = 5; game.ballColumn = 9
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1
        XCTAssertEqual(advance(&game).reward, 0)
        assertBall(game, row: 4, column: 9, deltaRow: -1, deltaColumn: -1)
    }

    func testCeilingFlipsVerticalDirection() {
        var game = makeGame()
        game.bricks = 0
        game.ballRow = 0; game.ballColumn = 5
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1

        let result = advance(&game)

        XCTAssertEqual(result.reward, 0)
        XCTAssertFalse(result.isTerminal)
        assertBall(game, row: 0, column: 6, deltaRow: 1, deltaColumn: 1)
    }

    func testCornerOfTopWallFlipsBothDirections() {
        var game = makeGame()
        game.bricks = 0
        game.ballRow = 0; game.ballColumn = 9
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1
        _ = advance(&game)
        assertBall(game, row: 0, column: 9, deltaRow: 1, deltaColumn: -1)
    }

    func testPaddleUnderPreviousColumnBouncesVertically() {
        var game = makeGame()
        game.paddleColumn = 4
        game.ballRow = 8; game.ballColumn = 4
        game.ballDeltaRow = 1; game.ballDeltaColumn = 1

        let result = advance(&game)

        XCTAssertEqual(result.reward, 0)
        XCTAssertFalse(result.isTerminal)
        assertBall(game, row: 8, column: 5, deltaRow: -1, deltaColumn: 1)
    }

    func testPaddleCornerSendsBallBackTheWayItCame() {
        var game = makeGame()
        game.paddleColumn = 4
        game.ballRow = 8; game.ballColumn = 3
        game.ballDeltaRow = 1; game.ballDeltaColumn = 1

        let result = advance(&game)

        XCTAssertFalse(result.isTerminal)
        assertBall(game, row: 8, column: 4, deltaRow: -1, deltaColumn: -1)
    }

    func testPaddleMovesBeforeTheBall() {
        // The paddle steps under the ball's landing column in the same frame.
        var game = makeGame()
        game.paddleColumn = 5
        game.ballRow = 8; game.ballColumn = 3
        game.ballDeltaRow = 1; game.ballDeltaColumn = 1

        let result = advance(&game, .left)

        XCTAssertEqual(game.paddleColumn, 4)
        XCTAssertFalse(result.isTerminal)
        assertBall(game, row: 8, column: 4, deltaRow: -1, deltaColumn: -1)
    }

    func testPaddleStopsAtTheEdges() {
        var game = makeGame()
        game.paddleColumn = 0
        _ = advance(&game, .left)
        XCTAssertEqual(game.paddleColumn, 0)
        game.paddleColumn = 9
        _ = advance(&game, .right)
        XCTAssertEqual(game.paddleColumn, 9)
        _ = advance(&game, .up)
        _ = advance(&game, .fire)
        XCTAssertEqual(game.paddleColumn, 9)
    }

    func testMissingTheBallTerminates() {
        var game = makeGame()
        game.paddleColumn = 7
        game.ballRow = 8; game.ballColumn = 3
        game.ballDeltaRow = 1; game.ballDeltaColumn = 1

        let result = advance(&game)

        XCTAssertEqual(result.reward, 0)
        XCTAssertTrue(result.isTerminal)
        XCTAssertEqual(game.ballRow, 9)
        XCTAssertEqual(game.ballColumn, 4)
    }

    func testClearingTheLastBrickRestoresTheWallWhenTheBallComesDown() {
        var game = makeGame()
        game.bricks = BreakoutGame.brickBit(row: 3, column: 6)
        game.paddleColumn = 9
        game.ballRow = 4; game.ballColumn = 5
        game.ballDeltaRow = -1; game.ballDeltaColumn = 1

        XCTAssertEqual(advance(&game).reward, 1)
        XCTAssertEqual(game.bricks, 0)
        // Down the right side: (5,7), (6,8), (7,9), (8,9) off the wall, then row 9.
        let path = [(5, 7), (6, 8), (7, 9), (8, 9)]
        for (row, column) in path {
            let result = advance(&game)
            XCTAssertEqual(result.reward, 0)
            XCTAssertFalse(result.isTerminal)
            XCTAssertEqual(game.ballRow, row)
            XCTAssertEqual(game.ballColumn, column)
            XCTAssertEqual(game.bricks, 0, "the wall stays empty until the ball reaches the paddle's row")
        }
        let landing = advance(&game)
        XCTAssertFalse(landing.isTerminal)
        XCTAssertEqual(game.bricks, BreakoutGame.fullWall)
        XCTAssertEqual(game.bricks.nonzeroBitCount, 30)
        assertBall(game, row: 8, column: 8, deltaRow: -1, deltaColumn: -1)
    }

    func testTrailMarksThePreviousCell() {
        var environment = MinAtarEnvironment<BreakoutGame>(stickyActionProbability: 0, seed: 5)
        _ = environment.reset(seed: 5)
        environment.game = makeGame()
        environment.game.ballRow = 6; environment.game.ballColumn = 2
        environment.game.ballDeltaRow = -1; environment.game.ballDeltaColumn = -1

        let step = try! environment.step(MinAtarAction.noop.rawValue)

        let channels = 4
        func value(_ row: Int, _ column: Int, _ channel: Int) -> Float {
            step.observation[(row * 10 + column) * channels + channel]
        }
        XCTAssertEqual(value(5, 1, 1), 1, "ball")
        XCTAssertEqual(value(6, 2, 2), 1, "trail at the ball's previous cell")
        XCTAssertEqual((0..<100).map { step.observation[$0 * channels + 1] }.reduce(0, +), 1)
        XCTAssertEqual((0..<100).map { step.observation[$0 * channels + 2] }.reduce(0, +), 1)
    }

    func testObservationAtResetCellByCell() {
        var startColumns: Set<Int> = []
        for seed: UInt64 in 0..<16 {
            var environment = MinAtarEnvironment<BreakoutGame>(seed: seed)
            let observation = environment.reset(seed: seed)
            let column = environment.game.ballColumn
            startColumns.insert(column)
            XCTAssertEqual(environment.game.ballDeltaRow, 1)
            XCTAssertEqual(environment.game.ballDeltaColumn, column == 0 ? 1 : -1)

            var expected = [Float](repeating: 0, count: 400)
            func set(_ row: Int, _ column: Int, _ channel: Int) { expected[(row * 10 + column) * 4 + channel] = 1 }
            set(9, 4, 0)
            set(3, column, 1)
            set(3, column, 2)
            for row in 1...3 { for brickColumn in 0..<10 { set(row, brickColumn, 3) } }
            XCTAssertEqual(observation, expected, "seed \(seed)")
        }
        XCTAssertEqual(startColumns, [0, 9])
    }

    func testFirstFrameFromEitherStart() {
        var game = makeGame()
        _ = advance(&game)
        assertBall(game, row: 4, column: 1, deltaRow: 1, deltaColumn: 1)
        XCTAssertEqual(game.bricks, BreakoutGame.fullWall)

        game = makeGame()
        game.ballColumn = 9; game.trailColumn = 9; game.ballDeltaColumn = -1
        _ = advance(&game)
        assertBall(game, row: 4, column: 8, deltaRow: 1, deltaColumn: -1)
    }

    func testSameSeedGivesTheSameTrajectory() {
        func trajectory(seed: UInt64) -> [Float] {
            var environment = MinAtarEnvironment<BreakoutGame>(seed: seed)
            var actions = SeededGenerator(seed: 1234)
            var record = environment.reset(seed: seed)
            for _ in 0..<300 {
                let step = try! environment.step(actions.int(below: 6))
                record += step.observation + [step.reward, step.isTerminated ? 1 : 0]
                if step.isDone { record += environment.reset() }
            }
            return record
        }
        XCTAssertEqual(trajectory(seed: 42), trajectory(seed: 42))
    }

    func testStickyProbabilityOneRepeatsNoopForever() {
        var environment = MinAtarEnvironment<BreakoutGame>(stickyActionProbability: 1, seed: 3)
        _ = environment.reset(seed: 3)
        environment.game = makeGame()
        var reference = environment.game
        var frames = 0
        while frames < 30 {
            let step = try! environment.step(MinAtarAction.left.rawValue)
            var generator = SeededGenerator(seed: 0)
            let expected = reference.advance(.noop, generator: &generator)
            frames += 1
            XCTAssertEqual(step.reward, expected.reward)
            XCTAssertEqual(step.isTerminated, expected.isTerminal)
            XCTAssertEqual(environment.lastAction, .noop)
            XCTAssertEqual(environment.game.paddleColumn, 4)
            XCTAssertEqual(environment.game.ballRow, reference.ballRow)
            XCTAssertEqual(environment.game.ballColumn, reference.ballColumn)
            if step.isDone { break }
        }
        // Under no-op the paddle stays at column 4 and the ball from column 0 lands in
        // column 6 on frame 6.
        XCTAssertEqual(frames, 6)
    }

    func testRenderDrawsEachChannelInItsColour() {
        var environment = MinAtarEnvironment<BreakoutGame>(seed: 0)
        _ = environment.reset(seed: 0)
        environment.game = makeGame()
        let frame = environment.render()
        let cell = MinAtarEnvironment<BreakoutGame>.cellSize
        func centre(_ row: Int, _ column: Int) -> Color { frame[column * cell + cell / 2, row * cell + cell / 2] }
        XCTAssertEqual(frame.width, 160)
        XCTAssertEqual(centre(9, 4), BreakoutGame.channelColors[0], "paddle")
        XCTAssertEqual(centre(3, 0), BreakoutGame.channelColors[3], "the brick is drawn over the ball")
        XCTAssertEqual(centre(2, 5), BreakoutGame.channelColors[3], "brick")
        XCTAssertEqual(centre(6, 6), .background)
    }

    func testMinimalActionSet() {
        let environment = MinAtarEnvironment<BreakoutGame>(usesMinimalActions: true)
        XCTAssertEqual(environment.actionSpace.width, 3)
        XCTAssertEqual(environment.actionNames, ["no-op", "left", "right"])
        XCTAssertEqual(environment.observationSpace.shape, [10, 10, 4])
        XCTAssertEqual(Set(BreakoutGame.channelColors).count, 4)
        XCTAssertFalse(BreakoutGame.channelColors.contains(.background))
    }

    /// A reference trace of this implementation (not MinAtar's): it pins the rules and the
    /// order in which they draw random numbers. Update it only for a deliberate change.
    func testPinnedRandomPolicyTrace() {
        let summary = randomPolicySummary(BreakoutGame.self, seed: 2024, steps: 3000)
                XCTAssertEqual(summary.totalReward, 146)
        XCTAssertEqual(summary.episodes, 250)
        XCTAssertEqual(summary.checksum, 11568852)
    }
}
