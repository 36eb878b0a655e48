import Foundation
import SeededRandom
import XCTest
@testable import Environments

/// The name of the concrete type behind an existential, found by opening it.
private func concreteTypeName<E: Environment>(_ environment: E) -> String { String(describing: E.self) }

final class TMazeTests: XCTestCase {
    private typealias Move = TMaze.Move

    // The four observations (see `TMaze`'s documentation).
    private let startCueUp: [Float] = [1, 0, 1, 0]
    private let startCueDown: [Float] = [0, 1, 1, 0]
    private let corridor: [Float] = [0, 0, 1, 0]
    private let junction: [Float] = [0, 0, 0, 1]
    private let arm: [Float] = [0, 0, 0, 0]

    /// Plays `moves` and checks each step's observation and the agent's location; no step
    /// ends the episode, a step right along the corridor earns 0 and any other step costs
    /// `idleCost`.
    private func walk(
        _ env: inout TMaze, _ moves: [(move: Move, observation: [Float], location: TMaze.Location)],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        for (i, expected) in moves.enumerated() {
            var wasInCorridor = false
            if case .corridor = env.location { wasInCorridor = true }
            let step = try env.step(expected.move.rawValue)
            let place = "move \(i + 1) (\(expected.move.name))"
            XCTAssertEqual(step.observation, expected.observation, place, file: file, line: line)
            XCTAssertEqual(env.location, expected.location, place, file: file, line: line)
            XCTAssertEqual(step.reward, expected.move == .right && wasInCorridor ? 0 : -env.idleCost, place,
                           file: file, line: line)
            XCTAssertFalse(step.isDone, place, file: file, line: line)
        }
    }

    /// One episode from `reset(seed: seed)` under the registry's step limit, the policy
    /// seeing the episode's first observation (where the cue is) and the current one.
    private func play(
        corridorLength: Int, seed: UInt64, policy: (_ first: [Float], _ observation: [Float]) -> Move
    ) throws -> (total: Float, length: Int, last: Step) {
        let maze = TMaze(corridorLength: corridorLength)
        var env = TimeLimit(maze, maxEpisodeSteps: maze.stepLimit)
        let first = env.reset(seed: seed)
        var observation = first
        var total: Float = 0
        var length = 0
        while true {
            let step = try env.step(policy(first, observation).rawValue)
            total += step.reward
            length += 1
            observation = step.observation
            if step.isDone { return (total, length, step) }
        }
    }

    // MARK: Cue

    func testTheCueIsDrawnFromTheSeedAndShownAtTheStart() {
        var env = TMaze(corridorLength: 3)
        let expected: [(seed: UInt64, cue: TMaze.Cue)] = [(0, .up), (1, .down), (2, .down), (3, .up)]
        for (seed, cue) in expected {
            let observation = env.reset(seed: seed)
            XCTAssertEqual(env.cue, cue, "seed \(seed)")
            XCTAssertEqual(observation, cue == .up ? startCueUp : startCueDown, "seed \(seed)")
            XCTAssertEqual(env.location, .corridor(0))
            // One int(below: 2) of the seeded generator: 0 up, 1 down.
            var generator = SeededGenerator(seed: seed)
            XCTAssertEqual(cue.rawValue, generator.int(below: 2), "seed \(seed)")
        }

        // Resets without a seed continue the generator: one draw per episode.
        _ = env.reset(seed: 5)
        var cues = [env.cue]
        for _ in 0..<4 {
            _ = env.reset(seed: nil)
            cues.append(env.cue)
        }
        XCTAssertEqual(cues, [.up, .down, .up, .up, .down])
        var draws = SeededGenerator(seed: 5)
        let expectedDraws = (0..<5).map { _ in draws.int(below: 2) }
        XCTAssertEqual(cues.map(\.rawValue), expectedDraws)
    }

    // MARK: Moves

    func testWalkingTheCorridorAndBumpingIntoItsWalls() throws {
        var env = TMaze(corridorLength: 3)
        XCTAssertEqual(env.reset(seed: 0), startCueUp)
        try walk(&env, [
            (.left, startCueUp, .corridor(0)),  // the start's left wall
            (.up, startCueUp, .corridor(0)),  // the corridor's walls
            (.down, startCueUp, .corridor(0)),
            (.right, corridor, .corridor(1)),  // the cue is gone
            (.up, corridor, .corridor(1)),
            (.down, corridor, .corridor(1)),
            (.left, startCueUp, .corridor(0)),  // back at the start: the cue shows again
            (.right, corridor, .corridor(1)),
            (.right, corridor, .corridor(2)),
            (.right, junction, .junction),
            (.right, junction, .junction),  // the junction's far wall
            (.left, corridor, .corridor(2)),
            (.right, junction, .junction),
        ])
        let step = try env.step(Move.up.rawValue)
        XCTAssertEqual(step.observation, arm)
        XCTAssertEqual(env.location, .arm(.up))
        XCTAssertEqual(step.reward, 1, "the cue said up")
        XCTAssertTrue(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
        XCTAssertTrue(env.isTerminated)
        XCTAssertThrowsError(try env.step(Move.right.rawValue)) {
            XCTAssertEqual($0 as? EnvironmentError, .episodeEnded)
        }
    }

    func testTheArmTheCueNamedPaysPlusOneAndTheOtherMinusOne() throws {
        var env = TMaze(corridorLength: 3)
        XCTAssertEqual(env.reset(seed: 1), startCueDown)
        try walk(&env, [(.right, corridor, .corridor(1)), (.right, corridor, .corridor(2)), (.right, junction, .junction)])
        var step = try env.step(Move.up.rawValue)
        XCTAssertEqual(step.reward, -1, "the cue said down")
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(step.observation, arm)
        XCTAssertEqual(env.location, .arm(.up))

        XCTAssertEqual(env.reset(seed: 1), startCueDown)
        try walk(&env, [(.right, corridor, .corridor(1)), (.right, corridor, .corridor(2)), (.right, junction, .junction)])
        step = try env.step(Move.down.rawValue)
        XCTAssertEqual(step.reward, 1)
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(env.location, .arm(.down))

        XCTAssertEqual(env.reset(seed: 0), startCueUp)
        try walk(&env, [(.right, corridor, .corridor(1)), (.right, corridor, .corridor(2)), (.right, junction, .junction)])
        step = try env.step(Move.down.rawValue)
        XCTAssertEqual(step.reward, -1, "the cue said up")
        XCTAssertTrue(step.isTerminated)
    }

    func testACorridorOfOneCellIsJustTheStart() throws {
        var env = TMaze(corridorLength: 1)
        XCTAssertEqual(env.shortestEpisodeLength, 2)
        XCTAssertEqual(env.stepLimit, 12)
        XCTAssertEqual(env.reset(seed: 2), startCueDown)
        try walk(&env, [
            (.left, startCueDown, .corridor(0)),
            (.right, junction, .junction),
            (.right, junction, .junction),
            (.left, startCueDown, .corridor(0)),  // the junction's left neighbour is the start
            (.right, junction, .junction),
        ])
        let step = try env.step(Move.down.rawValue)
        XCTAssertEqual(step.reward, 1)
        XCTAssertTrue(step.isTerminated)
        XCTAssertEqual(step.observation, arm)
    }

    // MARK: Step limit

    func testTheStepLimitTruncatesWithReturnMinusOne() throws {
        let maze = TMaze(corridorLength: 3)
        XCTAssertEqual(maze.stepLimit, 20, "4 × (3 + 2)")
        XCTAssertEqual(maze.shortestEpisodeLength, 4)
        XCTAssertEqual(maze.idleCost, 0.05, "1/20")
        var env = TimeLimit(maze, maxEpisodeSteps: maze.stepLimit)
        _ = env.reset(seed: 0)
        var total: Float = 0
        for i in 1...20 {
            let step = try env.step(Move.left.rawValue)  // bumping at the start
            total += step.reward
            XCTAssertEqual(step.observation, startCueUp)
            XCTAssertFalse(step.isTerminated)
            XCTAssertEqual(step.isTruncated, i == 20, "step \(i)")
        }
        XCTAssertEqual(total, -1, accuracy: 1e-5, "twenty bumps at 1/20 each")
        XCTAssertThrowsError(try env.step(Move.right.rawValue)) {
            XCTAssertEqual($0 as? EnvironmentError, .episodeEnded)
        }

        // Entering an arm on the last step: terminated and truncated, with the arm's reward.
        _ = env.reset(seed: nil)
        for _ in 1...16 { _ = try env.step(Move.left.rawValue) }
        for _ in 17...19 { XCTAssertFalse(try env.step(Move.right.rawValue).isDone) }
        XCTAssertEqual(env.base.location, .junction)
        let step = try env.step(env.base.cue == .up ? Move.up.rawValue : Move.down.rawValue)
        XCTAssertEqual(step.reward, 1)
        XCTAssertTrue(step.isTerminated)
        XCTAssertTrue(step.isTruncated)
    }

    func testTheRegistryEntry() throws {
        let spec = try EnvironmentRegistry.standard.spec(id: "TMaze-v0")
        XCTAssertEqual(spec.maxEpisodeSteps, 48, "4 × (10 + 2)")
        XCTAssertEqual(spec.maxEpisodeSteps, TMaze().stepLimit)
        XCTAssertEqual(spec.rewardThreshold, 0.9)
        XCTAssertTrue(spec.summary.contains("+1 for the arm the cue named, −1 for the other"), spec.summary)
        let env = spec.makeEnvironment()
        XCTAssertEqual(concreteTypeName(env), "TimeLimit<TMaze>")
        let maze = try XCTUnwrap(env as? TimeLimit<TMaze>).base
        XCTAssertEqual(maze.corridorLength, 10)
        XCTAssertLessThan(maze.shortestEpisodeLength, try XCTUnwrap(spec.maxEpisodeSteps))
    }

    // MARK: Policies

    /// Reading the cue in the first observation and walking straight to the arm it names
    /// scores +1 in every episode, in `shortestEpisodeLength` moves.
    func testAPolicyThatRemembersTheCueAlwaysScoresOne() throws {
        for corridorLength in [1, 3, 10] {
            for seed: UInt64 in 0..<100 {
                let (total, length, last) = try play(corridorLength: corridorLength, seed: seed) { first, observation in
                    observation[3] == 1 ? (first[0] == 1 ? .up : .down) : .right
                }
                XCTAssertEqual(total, 1, "corridor \(corridorLength), seed \(seed)")
                XCTAssertEqual(length, corridorLength + 1, "corridor \(corridorLength), seed \(seed)")
                XCTAssertTrue(last.isTerminated)
                XCTAssertFalse(last.isTruncated)
            }
        }
    }

    /// A policy that never looks at the cue (always up, always down, a coin flipped
    /// apart from the maze) wins about half its episodes: over 1,000 episodes each return is
    /// ±1, so the mean of a guesser has standard error 1/√1000 ≈ 0.032; it must lie within
    /// four of them of 0, far below the threshold of 0.9.
    func testPoliciesThatIgnoreTheCueAverageZero() throws {
        let episodes = 1_000
        let tolerance: Float = 4 / Float(episodes).squareRoot()
        var up: [Float] = [], down: [Float] = [], coin: [Float] = []
        var coins = SeededGenerator(seed: 99)
        for seed in 0..<UInt64(episodes) {
            up.append(try play(corridorLength: 10, seed: seed) { _, observation in observation[3] == 1 ? .up : .right }.total)
            down.append(try play(corridorLength: 10, seed: seed) { _, observation in observation[3] == 1 ? .down : .right }.total)
            let side: Move = coins.int(below: 2) == 0 ? .up : .down
            coin.append(try play(corridorLength: 10, seed: seed) { _, observation in observation[3] == 1 ? side : .right }.total)
        }
        for (name, returns) in [("always up", up), ("always down", down), ("coin", coin)] {
            XCTAssertTrue(returns.allSatisfy { $0 == 1 || $0 == -1 }, name)
            let mean = returns.reduce(0, +) / Float(episodes)
            XCTAssertLessThan(abs(mean), tolerance, "\(name): mean \(mean)")
        }
        let upWins = up.filter { $0 == 1 }.count
        XCTAssertTrue((400...600).contains(upWins), "always up won \(upWins) of \(episodes)")
        XCTAssertEqual(zip(up, down).map { $0 + $1 }, Array(repeating: 0, count: episodes),
                       "with the same cues, up wins exactly where down loses")
    }

    // MARK: Contract

    func testSpacesAndContractErrors() throws {
        var env = TMaze()
        XCTAssertEqual(env.corridorLength, 10)
        XCTAssertEqual(env.observationSpace, Box.binary(shape: [4]))
        XCTAssertTrue(env.observationSpace.isBinary)
        XCTAssertEqual(env.actionSpace, .discrete(Discrete(4)))
        XCTAssertEqual(env.actionNames, ["up", "right", "down", "left"])
        XCTAssertEqual([Move.up, .right, .down, .left].map(\.rawValue), [0, 1, 2, 3])
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 0)
        XCTAssertThrowsError(try env.step(4)) { XCTAssertEqual($0 as? EnvironmentError, .invalidAction(4, count: 4)) }
        XCTAssertThrowsError(try env.step(-1)) { XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 4)) }
    }

    func testDeterministicForASeed() throws {
        let maze = TMaze(corridorLength: 5)
        var first = TimeLimit(maze, maxEpisodeSteps: maze.stepLimit)
        var second = TimeLimit(maze, maxEpisodeSteps: maze.stepLimit)
        XCTAssertEqual(first.reset(seed: 42), second.reset(seed: 42))
        var actions = SeededGenerator(seed: 3)
        var episodes = 0
        for i in 1...400 {
            let action = actions.int(below: 4)
            let a = try first.step(action), b = try second.step(action)
            XCTAssertEqual(a, b, "step \(i)")
            XCTAssertEqual(first.base.location, second.base.location, "step \(i)")
            if a.isDone {
                XCTAssertEqual(first.reset(seed: nil), second.reset(seed: nil), "reset after step \(i)")
                XCTAssertEqual(first.base.cue, second.base.cue)
                episodes += 1
            }
        }
        XCTAssertGreaterThan(episodes, 5, "a 28-step limit ends an episode at least every 28 steps")
    }

    func testSavedStateContinuesTheEpisode() throws {
        var env = TMaze(corridorLength: 4)
        _ = env.reset(seed: 8)
        _ = try env.step(Move.right.rawValue)
        var restored = try JSONDecoder().decode(TMaze.self, from: JSONEncoder().encode(env))
        XCTAssertEqual(restored.location, .corridor(1))
        XCTAssertEqual(restored.cue, env.cue)
        XCTAssertEqual(try restored.step(Move.right.rawValue), try env.step(Move.right.rawValue))
        XCTAssertEqual(restored.reset(seed: nil), env.reset(seed: nil), "the generator was saved too")
        XCTAssertEqual(restored.cue, env.cue)
    }

    func testPassesTheChecker() throws {
        var registered = try makeEnvironment(id: "TMaze-v0")
        var report = try EnvironmentChecker.check(&registered, seed: 11, steps: 1200)
        XCTAssertGreaterThan(report.episodesEnded, 0)
        XCTAssertEqual(report.passed, EnvironmentChecker.Check.allCases)

        let short = TMaze(corridorLength: 1)
        var limited = TimeLimit(short, maxEpisodeSteps: short.stepLimit)
        report = try EnvironmentChecker.check(&limited, seed: 4, steps: 500)
        XCTAssertGreaterThan(report.episodesEnded, 10)
        XCTAssertEqual(report.notExercised, [])
    }

    // MARK: Rendering

    func testRenderShowsTheCueTheArmsAndTheAgent() throws {
        var env = TMaze(corridorLength: 3)
        _ = env.reset(seed: 0)  // cue up
        XCTAssertEqual(env.cellSize, 40)
        var frame = env.render()
        XCTAssertEqual(frame.width, 4 * 40)
        XCTAssertEqual(frame.height, 3 * 40)
        func centre(_ row: Int, _ column: Int) -> Color { frame[column * 40 + 20, row * 40 + 20] }
        func corner(_ row: Int, _ column: Int) -> Color { frame[column * 40 + 2, row * 40 + 2] }
        XCTAssertEqual(centre(1, 0), GridWorld.agentColor, "the agent on the start")
        XCTAssertEqual(corner(1, 0), TMaze.color(of: .up), "the start shows the cue")
        XCTAssertEqual(centre(1, 1), GridWorld.color(of: .floor))
        XCTAssertEqual(centre(1, 2), GridWorld.color(of: .floor))
        XCTAssertEqual(centre(1, 3), GridWorld.color(of: .floor), "the junction")
        XCTAssertEqual(centre(0, 3), GridWorld.color(of: .goal), "the arm the cue names")
        XCTAssertEqual(centre(2, 3), GridWorld.color(of: .pit), "the other arm")
        XCTAssertEqual(centre(0, 0), GridWorld.color(of: .wall))
        XCTAssertEqual(centre(2, 1), GridWorld.color(of: .wall))
        XCTAssertEqual(frame[0, 0], .background, "grid line")

        _ = try env.step(Move.right.rawValue)
        frame = env.render()
        XCTAssertEqual(centre(1, 1), GridWorld.agentColor)
        XCTAssertEqual(centre(1, 0), TMaze.color(of: .up))

        _ = env.reset(seed: 1)  // cue down
        for move in [Move.right, .right, .right, .down] { _ = try env.step(move.rawValue) }
        frame = env.render()
        XCTAssertEqual(centre(1, 0), TMaze.color(of: .down))
        XCTAssertEqual(centre(0, 3), GridWorld.color(of: .pit))
        XCTAssertEqual(centre(2, 3), GridWorld.agentColor, "the agent in the down arm")
        XCTAssertEqual(corner(2, 3), GridWorld.color(of: .goal))

        var colours: Set<Color> = [TMaze.color(of: .up), TMaze.color(of: .down), GridWorld.agentColor, .background]
        for cell in [GridWorld.Cell.floor, .wall, .goal, .pit] { colours.insert(GridWorld.color(of: cell)) }
        XCTAssertEqual(colours.count, 8, "both cues, the agent and every kind of cell have distinct colours")
    }

    func testLongCorridorsDrawSmallerCells() {
        XCTAssertEqual(TMaze(corridorLength: 23).cellSize, 40)
        XCTAssertEqual(TMaze(corridorLength: 24).cellSize, 38)
        XCTAssertEqual(TMaze(corridorLength: 100).cellSize, 9)
        let longest = TMaze(corridorLength: 1000)
        XCTAssertEqual(longest.cellSize, 2)
        let frame = longest.render()
        XCTAssertEqual(frame.width, 1001 * 2)
        XCTAssertEqual(frame.height, 3 * 2)
        for (x, y) in [(0, 2), (1, 2), (0, 3), (1, 3)] {
            XCTAssertEqual(frame[x, y], GridWorld.agentColor, "the agent fills its 2-pixel cell")
        }
        XCTAssertEqual(frame[0, 0], GridWorld.color(of: .wall), "no grid lines between 2-pixel cells")
        XCTAssertEqual(frame[2 * 1000, 2], GridWorld.color(of: .floor), "the junction")
    }
}
