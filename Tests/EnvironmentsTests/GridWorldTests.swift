import Foundation
import SeededRandom
import XCTest
@testable import Environments

final class GridWorldTests: XCTestCase {
    private typealias Map = GridWorld.Map

    /// The message of an `invalidConfiguration` error, or a failure.
    private func configurationMessage(
        _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        do {
            try body()
            XCTFail("expected invalidConfiguration", file: file, line: line)
        } catch {
            if case .invalidConfiguration(let message) = error as? EnvironmentError { return message }
            XCTFail("expected invalidConfiguration, got \(error)", file: file, line: line)
        }
        return ""
    }

    // MARK: Maps

    func testParsesTheLegend() throws {
        let map = try Map(parsing: "\nS.#\r\nPXC  \n..G\n\n", name: "legend")
        XCTAssertEqual(map.rows, 3)
        XCTAssertEqual(map.columns, 3)
        XCTAssertEqual(map.startIndex, 0)
        XCTAssertEqual(map.cells, [.start, .floor, .wall, .pit, .pit, .cliff, .floor, .floor, .goal])
        XCTAssertEqual(map[1, 2], .cliff)
        XCTAssertEqual(map.description, "S.#\nPPC\n..G")
    }

    func testBadMapsNameTheProblemAndTheLine() {
        var message = configurationMessage { _ = try Map(parsing: "...\n..G\n", name: "m") }
        XCTAssertTrue(message.contains("no start"), message)

        message = configurationMessage { _ = try Map(parsing: "S..\n...\n", name: "m") }
        XCTAssertTrue(message.contains("no goal"), message)

        message = configurationMessage { _ = try Map(parsing: "S..\n....\n..G", name: "m") }
        XCTAssertTrue(message.contains("line 2 has 4 cells but line 1 has 3"), message)

        message = configurationMessage { _ = try Map(parsing: "S..\n.Q.\n..G", name: "m") }
        XCTAssertTrue(message.contains("line 2, column 2: unknown character 'Q'"), message)
        XCTAssertTrue(message.contains(Map.legend), message)

        message = configurationMessage { _ = try Map(parsing: "S.G\n...\nS..", name: "m") }
        XCTAssertTrue(message.contains("2 starts (line 3"), message)

        message = configurationMessage { _ = try Map(parsing: "S.G\n\n...", name: "m") }
        XCTAssertTrue(message.contains("line 2 is blank"), message)

        message = configurationMessage { _ = try Map(parsing: " \n\n", name: "m") }
        XCTAssertTrue(message.contains("empty"), message)
    }

    func testLoadsAMapFile() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("gridworld-test-\(ProcessInfo.processInfo.processIdentifier).txt")
        try "S#G\n...\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        var env = try GridWorld(mapFile: url.path)
        XCTAssertEqual(env.map.rows, 2)
        XCTAssertEqual(env.observationSpace.count, 6)
        XCTAssertEqual(env.shortestPathLength, 4)
        XCTAssertEqual(env.reset(seed: 0), [1, 0, 0, 0, 0, 0])

        try "S#G\n.Z.\n".write(to: url, atomically: true, encoding: .utf8)
        let message = configurationMessage { _ = try GridWorld(mapFile: url.path) }
        XCTAssertTrue(message.contains(url.path) && message.contains("line 2, column 2"), message)

        let missing = configurationMessage { _ = try GridWorld(mapFile: "/nonexistent/map.txt") }
        XCTAssertTrue(missing.contains("cannot read grid map file '/nonexistent/map.txt'"), missing)
    }

    // MARK: Moves and rewards

    func testMovesWallsAndEdges() throws {
        var env = GridWorld()  // Map.small
        XCTAssertEqual(env.actionNames, ["up", "right", "down", "left"])
        XCTAssertEqual(env.observationSpace.shape, [25])
        var expected = [Float](repeating: 0, count: 25)
        expected[0] = 1
        XCTAssertEqual(env.reset(seed: 0), expected)

        var step = try env.step(GridWorld.Move.up.rawValue)  // off the top edge: stays
        XCTAssertEqual(env.position, .init(row: 0, column: 0))
        XCTAssertEqual(step.observation, expected)
        XCTAssertEqual(step.reward, 0)

        step = try env.step(GridWorld.Move.right.rawValue)
        XCTAssertEqual(env.position, .init(row: 0, column: 1))
        XCTAssertEqual(step.observation.firstIndex(of: 1), 1)
        XCTAssertEqual(step.observation.reduce(0, +), 1)

        step = try env.step(GridWorld.Move.down.rawValue)  // (1, 1) is a wall: stays
        XCTAssertEqual(env.position, .init(row: 0, column: 1))
        XCTAssertFalse(step.isTerminated)

        step = try env.step(GridWorld.Move.left.rawValue)
        XCTAssertEqual(env.position, .init(row: 0, column: 0))
        step = try env.step(GridWorld.Move.down.rawValue)
        XCTAssertEqual(env.position, .init(row: 1, column: 0))
        XCTAssertEqual(step.observation.firstIndex(of: 1), 5)
    }

    func testPitEndsTheEpisodeWithMinusOne() throws {
        var env = GridWorld()
        _ = env.reset(seed: 0)
        env.position = .init(row: 2, column: 1)
        let step = try env.step(GridWorld.Move.right.rawValue)
        XCTAssertEqual(env.position, .init(row: 2, column: 2))
        XCTAssertEqual(step.reward, -1)
        XCTAssertTrue(step.isTerminated)
        XCTAssertFalse(step.isTruncated)
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .episodeEnded) }
        _ = env.reset()
        XCTAssertEqual(env.position, .init(row: 0, column: 0))
    }

    func testShortestPathOfTheSmallMapEarnsTheOptimalReturn() throws {
        var env = GridWorld(map: .small, rewards: .init(step: -0.1))
        XCTAssertEqual(env.shortestPathLength, 8)
        XCTAssertEqual(try XCTUnwrap(env.optimalReturn), 0.3, accuracy: 1e-6)  // 7 × −0.1 + 1
        _ = env.reset(seed: 0)
        var rewards: [Float] = []
        for move in [GridWorld.Move.right, .right, .right, .right, .down, .down, .down, .down] {
            let step = try env.step(move.rawValue)
            rewards.append(step.reward)
            XCTAssertEqual(step.isTerminated, rewards.count == 8)
        }
        XCTAssertEqual(rewards, Array(repeating: -0.1, count: 7) + [1])
        XCTAssertEqual(GridWorld().optimalReturn, 1)
    }

    func testCliffSendsBackToStartAndTheSafePathReturnsMinusThirteen() throws {
        var env = GridWorld.cliffWalking()
        XCTAssertEqual(env.map.rows, 4)
        XCTAssertEqual(env.map.columns, 12)
        XCTAssertEqual(env.shortestPathLength, 13)
        XCTAssertEqual(env.optimalReturn, -13)
        _ = env.reset(seed: 0)
        XCTAssertEqual(env.position, .init(row: 3, column: 0))

        var step = try env.step(GridWorld.Move.right.rawValue)
        XCTAssertEqual(step.reward, -100)
        XCTAssertFalse(step.isTerminated)
        XCTAssertEqual(env.position, .init(row: 3, column: 0))
        XCTAssertEqual(step.observation.firstIndex(of: 1), 36)

        var total: Float = 0
        let path = [GridWorld.Move.up] + Array(repeating: .right, count: 11) + [.down]
        for (i, move) in path.enumerated() {
            step = try env.step(move.rawValue)
            total += step.reward
            XCTAssertEqual(step.isTerminated, i == path.count - 1)
        }
        XCTAssertEqual(total, -13)
        XCTAssertEqual(env.position, .init(row: 3, column: 11))
    }

    func testFourRoomsLayout() {
        let env = GridWorld.fourRooms()
        XCTAssertEqual(env.map.rows, 13)
        XCTAssertEqual(env.map.columns, 13)
        XCTAssertEqual(env.map.cells.filter { $0 == .wall }.count, 13 * 4 - 4 + 17)
        XCTAssertEqual(env.map.cells.filter { $0 != .wall }.count, 104, "the 104 cells of Sutton, Precup & Singh")
        XCTAssertEqual(env.map[3, 6], .floor, "doorway between the top rooms")
        XCTAssertEqual(env.map[7, 9], .floor, "doorway between the right rooms")
        XCTAssertEqual(env.shortestPathLength, 20)
        XCTAssertEqual(env.optimalReturn, 1)
    }

    func testSlipMovesPerpendicularlyAndIsSeeded() throws {
        let open = try Map(parsing: String(repeating: ".......\n", count: 3) + "...S...\n" + String(repeating: ".......\n", count: 2) + "......G")
        var env = GridWorld(map: open, slipProbability: 1)
        var counts = [0, 0, 0, 0]  // by the move actually made
        var trajectory: [Int] = []
        _ = env.reset(seed: 9)
        for _ in 0..<200 {
            env.position = .init(row: 3, column: 3)
            _ = try env.step(GridWorld.Move.up.rawValue)
            let p = env.position
            let made = p.row == 2 ? 0 : p.column == 4 ? 1 : p.row == 4 ? 2 : 3
            counts[made] += 1
            trajectory.append(made)
        }
        XCTAssertEqual(counts[0], 0, "with slip probability 1 the chosen move never happens")
        XCTAssertEqual(counts[2], 0, "slipping never reverses the move")
        XCTAssertEqual(counts[1] + counts[3], 200)
        XCTAssertGreaterThan(counts[1], 70)
        XCTAssertGreaterThan(counts[3], 70)

        var again = GridWorld(map: open, slipProbability: 1)
        _ = again.reset(seed: 9)
        for expected in trajectory {
            again.position = .init(row: 3, column: 3)
            _ = try again.step(GridWorld.Move.up.rawValue)
            let p = again.position
            XCTAssertEqual(p.row == 2 ? 0 : p.column == 4 ? 1 : p.row == 4 ? 2 : 3, expected)
        }
    }

    func testContractErrors() throws {
        var env = GridWorld()
        XCTAssertThrowsError(try env.step(0)) { XCTAssertEqual($0 as? EnvironmentError, .notReset) }
        _ = env.reset(seed: 0)
        XCTAssertThrowsError(try env.step(4)) { XCTAssertEqual($0 as? EnvironmentError, .invalidAction(4, count: 4)) }
        XCTAssertThrowsError(try env.step(-1)) { XCTAssertEqual($0 as? EnvironmentError, .invalidAction(-1, count: 4)) }
    }

    func testRenderColoursEachKindOfCell() throws {
        var env = GridWorld(map: try Map(parsing: "S#P\nC.G"))
        _ = env.reset(seed: 0)
        env.position = .init(row: 1, column: 1)
        let frame = env.render()
        let size = GridWorld.cellSize
        XCTAssertEqual(frame.width, 3 * size)
        XCTAssertEqual(frame.height, 2 * size)
        func centre(_ row: Int, _ column: Int) -> Color { frame[column * size + size / 2, row * size + size / 2] }
        func corner(_ row: Int, _ column: Int) -> Color { frame[column * size + 2, row * size + 2] }
        XCTAssertEqual(centre(0, 0), GridWorld.color(of: .start))
        XCTAssertEqual(centre(0, 1), GridWorld.color(of: .wall))
        XCTAssertEqual(centre(0, 2), GridWorld.color(of: .pit))
        XCTAssertEqual(centre(1, 0), GridWorld.color(of: .cliff))
        XCTAssertEqual(centre(1, 1), GridWorld.agentColor)
        XCTAssertEqual(corner(1, 1), GridWorld.color(of: .floor))
        XCTAssertEqual(centre(1, 2), GridWorld.color(of: .goal))
        XCTAssertEqual(frame[0, 0], .background, "grid line")
        let colours = Set([Cell.floor, .wall, .start, .goal, .pit, .cliff].map(GridWorld.color(of:)) + [GridWorld.agentColor])
        XCTAssertEqual(colours.count, 7, "every kind of cell and the agent have distinct colours")
    }

    private typealias Cell = GridWorld.Cell

    /// Seeded mutations of a valid map (characters replaced, inserted, removed; lines
    /// doubled; oversized maps): every one parses or is refused with a message, never a
    /// crash, and a parsed map steps without failing.
    func testMutatedMapsParseOrAreRefused() throws {
        let valid = GridWorld.Map.small.description
        var generator = SeededGenerator(seed: 11)
        let alphabet = Array("SG#P.xS G\n\r\t.\u{00e9}")
        var parsed = 0, refused = 0
        for _ in 0..<1_000 {
            var characters = Array(valid)
            for _ in 0..<(1 + generator.int(below: 4)) {
                let position = generator.int(below: characters.count)
                switch generator.int(below: 4) {
                case 0: characters[position] = alphabet[generator.int(below: alphabet.count)]
                case 1: characters.insert(alphabet[generator.int(below: alphabet.count)], at: position)
                case 2: characters.remove(at: position)
                default: characters += characters
                }
            }
            do {
                let map = try GridWorld.Map(parsing: String(characters))
                var world = GridWorld(map: map)
                _ = world.reset(seed: 0)
                for action in 0..<4 { _ = try? world.step(action) }
                parsed += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                refused += 1
            }
        }
        XCTAssertGreaterThan(parsed, 0)
        XCTAssertGreaterThan(refused, 0)
        let wide = String(repeating: "S" + String(repeating: ".", count: 300) + "G\n", count: 1) + String(repeating: String(repeating: ".", count: 302) + "\n", count: 300)
        XCTAssertThrowsError(try GridWorld.Map(parsing: wide)) { error in
            XCTAssertTrue("\(error)".contains("more than 65536 cells"), "\(error)")
        }
        XCTAssertThrowsError(try GridWorld.Map(parsing: String(repeating: "S.G", count: 400_000))) { error in
            XCTAssertTrue("\(error)".contains("a map may hold at most"), "\(error)")
        }
    }
}
