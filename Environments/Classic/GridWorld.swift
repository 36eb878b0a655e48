import Foundation
import SeededRandom

/// GridWorld-v0: walk from the start to the goal on a grid read from a text map.
///
/// **Map legend** (one character per cell, one line per row, all rows the same length):
///
/// | char      | cell  | entering it                                                      |
/// |-----------|-------|------------------------------------------------------------------|
/// | `.`       | floor | `rewards.step`                                                   |
/// | `S`       | start | `rewards.step`; where episodes begin (exactly one per map)       |
/// | `G`       | goal  | `rewards.goal`, terminates (at least one per map)                |
/// | `P` / `X` | pit   | `rewards.pit`, terminates                                        |
/// | `C`       | cliff | `rewards.cliff`, the agent is sent back to the start, the episode goes on |
/// | `#`       | wall  | cannot be entered: the agent stays where it is (`rewards.step`)  |
///
/// The map's edge behaves like a wall, so a map need not be walled in.
///
/// **Action space**: `Discrete(4)`: 0 up, 1 right, 2 down, 3 left (Gymnasium's
/// CliffWalking order; `Move`).
///
/// **Observation space**: `rows * columns` floats, a one-hot of the agent's cell in
/// row-major order (`row * columns + column`); shape `[rows * columns]`, bounds [0, 1].
///
/// **Rewards**: each step earns exactly one of `rewards.goal`, `.pit`, `.cliff` (by the
/// cell entered) or, otherwise, `.step`. Defaults: goal +1, pit −1, cliff −100, step 0.
///
/// **Slipping**: with probability `slipProbability` (default 0) the chosen move is replaced
/// by one of the two moves perpendicular to it, each equally likely, drawn from the
/// environment's `SeededGenerator`. With probability 0 no random numbers are drawn.
///
/// **Starting state**: the `S` cell.
///
/// **Episode end**: terminated on entering a goal or a pit. There is no time limit here;
/// the registry wraps the grid in `TimeLimit`.
///
/// Built-in maps and their optimal returns are in `GridWorldMaps.swift`.
public struct GridWorld: Environment, Sendable {
    /// The four moves, in action order.
    public enum Move: Int, CaseIterable, Sendable {
        case up = 0, right, down, left

        public var name: String {
            switch self {
            case .up: "up"
            case .right: "right"
            case .down: "down"
            case .left: "left"
            }
        }

        /// (row, column) change.
        @inlinable
        public var offset: (row: Int, column: Int) {
            switch self {
            case .up: (-1, 0)
            case .right: (0, 1)
            case .down: (1, 0)
            case .left: (0, -1)
            }
        }
    }

    /// What each kind of step earns; see the type's documentation.
    public struct Rewards: Equatable, Sendable {
        public var goal: Float
        public var pit: Float
        public var cliff: Float
        public var step: Float

        public init(goal: Float = 1, pit: Float = -1, cliff: Float = -100, step: Float = 0) {
            self.goal = goal
            self.pit = pit
            self.cliff = cliff
            self.step = step
        }
    }

    /// A cell's position on the map; row 0 is the top row.
    public struct Position: Hashable, Sendable, CustomStringConvertible {
        public var row: Int
        public var column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }

        public var description: String { "(row \(row), column \(column))" }
    }

    public let map: Map
    public let rewards: Rewards
    /// The probability that a move is replaced by a perpendicular one.
    public let slipProbability: Double
    /// The agent's cell as a row-major index into `map.cells`.
    @usableFromInline var cell: Int
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// A grid world on `map`.
    /// - Precondition: `slipProbability` is in [0, 1].
    public init(map: Map = .small, rewards: Rewards = Rewards(), slipProbability: Double = 0, seed: UInt64 = 0) {
        precondition((0...1).contains(slipProbability),
                     "slip probability must be in [0, 1], got \(slipProbability)")
        self.map = map
        self.rewards = rewards
        self.slipProbability = slipProbability
        cell = map.startIndex
        generator = SeededGenerator(seed: seed)
    }

    /// A grid world on the map in the text file at `mapFile`.
    /// - Throws: `EnvironmentError.invalidConfiguration` naming the file and, for a bad
    ///   map, the offending line.
    public init(
        mapFile: String, rewards: Rewards = Rewards(), slipProbability: Double = 0, seed: UInt64 = 0
    ) throws(EnvironmentError) {
        let text: String
        let size = (try? FileManager.default.attributesOfItem(atPath: mapFile)[.size] as? Int) ?? 0
        guard size <= Map.maximumFileSize else {
            throw .invalidConfiguration("grid map file '\(mapFile)' is \(size) bytes; a map file may hold at most \(Map.maximumFileSize)")
        }
        do {
            text = try String(contentsOfFile: mapFile, encoding: .utf8)
        } catch {
            throw .invalidConfiguration("cannot read grid map file '\(mapFile)': \(error.localizedDescription)")
        }
        let map = try Map(parsing: text, name: mapFile)
        guard (0...1).contains(slipProbability) else {
            throw .invalidConfiguration("slip probability must be in [0, 1], got \(slipProbability)")
        }
        self.init(map: map, rewards: rewards, slipProbability: slipProbability, seed: seed)
    }

    public var observationSpace: Box { Box.binary(shape: [map.rows * map.columns]) }

    public var actionSpace: ActionSpace { .discrete(Discrete(4)) }

    public var actionNames: [String] { Move.allCases.map(\.name) }

    /// One float per map cell, and `render()` draws the map cell for cell.
    public var observationGrid: ObservationGrid? { ObservationGrid(rows: map.rows, columns: map.columns) }

    /// Where the agent stands. Set it (after `reset`) to put the agent on any cell that is
    /// not a wall; the episode phase is unchanged.
    public var position: Position {
        get { Position(row: cell / map.columns, column: cell % map.columns) }
        set {
            precondition(newValue.row >= 0 && newValue.row < map.rows
                         && newValue.column >= 0 && newValue.column < map.columns,
                         "position \(newValue) is outside the \(map.rows)×\(map.columns) map")
            let index = newValue.row * map.columns + newValue.column
            precondition(map.cells[index] != .wall, "position \(newValue) is a wall")
            cell = index
        }
    }

    /// Whether the current episode has ended at a goal or in a pit.
    public var isTerminated: Bool { phase == .ended }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        cell = map.startIndex
        phase = .running
        write(into: observation)
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard phase == .running else { throw phase == .notStarted ? .notReset : .episodeEnded }
        guard UInt(bitPattern: action) < 4 else { throw .invalidAction(action, count: 4) }

        var move = Move(rawValue: action)!
        if slipProbability > 0, generator.uniform() < slipProbability {
            // One of the two perpendicular moves: a quarter turn either way.
            let turn = generator.int(below: 2) == 0 ? 1 : 3
            move = Move(rawValue: (action + turn) % 4)!
        }

        let (dr, dc) = move.offset
        let row = cell / map.columns + dr, column = cell % map.columns + dc
        var reward = rewards.step
        var isTerminated = false
        if row >= 0, row < map.rows, column >= 0, column < map.columns {
            let target = row * map.columns + column
            switch map.cells[target] {
            case .wall:
                break
            case .floor, .start:
                cell = target
            case .goal:
                cell = target
                reward = rewards.goal
                isTerminated = true
            case .pit:
                cell = target
                reward = rewards.pit
                isTerminated = true
            case .cliff:
                cell = map.startIndex
                reward = rewards.cliff
            }
        }
        if isTerminated { phase = .ended }
        write(into: observation)
        return StepOutcome(reward: reward, isTerminated: isTerminated)
    }

    /// Writes the one-hot of the agent's cell.
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == map.cells.count,
                     "GridWorld writes \(map.cells.count) floats, the buffer holds \(observation.count)")
        observation.update(repeating: 0)
        observation[cell] = 1
    }

    /// The number of moves on a shortest path from the start to a goal that never enters
    /// a pit or a cliff, with no slipping; `nil` when no goal can be reached that way.
    public var shortestPathLength: Int? {
        var distance = [Int](repeating: -1, count: map.cells.count)
        var queue = [map.startIndex]
        distance[map.startIndex] = 0
        var head = 0
        while head < queue.count {
            let here = queue[head]
            head += 1
            if map.cells[here] == .goal { return distance[here] }
            for move in Move.allCases {
                let row = here / map.columns + move.offset.row
                let column = here % map.columns + move.offset.column
                guard row >= 0, row < map.rows, column >= 0, column < map.columns else { continue }
                let next = row * map.columns + column
                guard distance[next] < 0 else { continue }
                switch map.cells[next] {
                case .wall, .pit, .cliff: continue
                case .floor, .start, .goal:
                    distance[next] = distance[here] + 1
                    queue.append(next)
                }
            }
        }
        return nil
    }

    /// The undiscounted return of a shortest safe path: `(length - 1) * rewards.step +
    /// rewards.goal`. It is the optimal return whenever slipping is off and
    /// `rewards.step <= 0`, `rewards.pit <= rewards.goal` and
    /// `rewards.cliff <= rewards.step` (every built-in map); `nil` when no goal is reachable.
    public var optimalReturn: Float? {
        guard let length = shortestPathLength, length > 0 else { return nil }
        return Float(length - 1) * rewards.step + rewards.goal
    }

    /// Pixels per grid cell in `render()`.
    public static let cellSize = 24

    /// Cell colours in `render()`.
    public static func color(of cell: Cell) -> Color {
        switch cell {
        case .floor: Color(44, 44, 58)
        case .wall: Color(128, 128, 140)
        case .start: Color(58, 78, 140)
        case .goal: Color(60, 200, 90)
        case .pit: Color(210, 50, 50)
        case .cliff: Color(235, 130, 40)
        }
    }

    /// The agent's colour in `render()`.
    public static let agentColor = Color(250, 215, 50)

    /// One `cellSize`-pixel square per cell in its colour (`color(of:)`), a thin dark line
    /// between cells, and the agent as a yellow disc.
    public func render() -> Frame {
        let size = Self.cellSize
        var frame = Frame(width: map.columns * size, height: map.rows * size, fill: .background)
        for row in 0..<map.rows {
            for column in 0..<map.columns {
                frame.fillRectangle(
                    x: column * size + 1, y: row * size + 1, width: size - 2, height: size - 2,
                    color: Self.color(of: map[row, column]))
            }
        }
        let here = position
        frame.fillDisc(
            centerX: (Double(here.column) + 0.5) * Double(size),
            centerY: (Double(here.row) + 0.5) * Double(size),
            radius: Double(size) * 0.35, color: Self.agentColor)
        return frame
    }
}

extension GridWorld {
    /// What a map cell is; see `GridWorld`'s legend.
    public enum Cell: UInt8, Sendable {
        case floor, wall, start, goal, pit, cliff

        /// The cell a map character stands for, or `nil` for an unknown character.
        public init?(character: Character) {
            switch character {
            case ".": self = .floor
            case "#": self = .wall
            case "S": self = .start
            case "G": self = .goal
            case "P", "X": self = .pit
            case "C": self = .cliff
            default: return nil
            }
        }

        /// The character `Map.description` writes for this cell.
        public var character: Character {
            switch self {
            case .floor: "."
            case .wall: "#"
            case .start: "S"
            case .goal: "G"
            case .pit: "P"
            case .cliff: "C"
            }
        }
    }

    /// A rectangular grid of cells with one start and at least one goal.
    public struct Map: Equatable, Sendable, CustomStringConvertible {
        /// A name for messages (a built-in map's name or the file it came from).
        public let name: String
        public let rows: Int
        public let columns: Int
        /// `rows * columns` cells, row-major.
        public let cells: [Cell]
        /// The start cell's row-major index.
        public let startIndex: Int

        public static let legend =
            "'.' floor, '#' wall, 'S' start, 'G' goal, 'P' or 'X' pit, 'C' cliff"

        /// Parses a map: one line per row, one character per cell (see `legend`). Trailing
        /// spaces, tabs and carriage returns on a line are ignored, as are blank lines
        /// before and after the map.
        /// - Throws: `EnvironmentError.invalidConfiguration` naming the map and the line
        ///   for an unknown character, ragged rows, a blank line inside the map, a missing
        ///   or repeated start, or a missing goal.
        /// The most bytes a map file may hold, and the most cells a map may have (its
        /// observation is one float per cell).
        public static let maximumFileSize = 1 << 20
        public static let maximumCellCount = 65_536

        public init(parsing text: String, name: String = "custom map") throws(EnvironmentError) {
            guard text.utf8.count <= Self.maximumFileSize else {
                throw .invalidConfiguration("grid map '\(name)' is \(text.utf8.count) bytes; a map may hold at most \(Self.maximumFileSize)")
            }
            // "\r\n" is a single Character in Swift, and a newline.
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
                var line = Substring($0)
                while let last = line.last, last == " " || last == "\t" || last == "\r" { line.removeLast() }
                return line
            }
            guard let first = lines.firstIndex(where: { !$0.isEmpty }),
                  let last = lines.lastIndex(where: { !$0.isEmpty }) else {
                throw .invalidConfiguration("grid map '\(name)' is empty; legend: \(Self.legend)")
            }
            let width = lines[first].count
            var cells: [Cell] = []
            var starts: [Int] = []
            var hasGoal = false
            for index in first...last {
                let line = lines[index], lineNumber = index + 1
                guard !line.isEmpty else {
                    throw .invalidConfiguration("grid map '\(name)', line \(lineNumber) is blank inside the map")
                }
                guard line.count == width else {
                    throw .invalidConfiguration(
                        "grid map '\(name)', line \(lineNumber) has \(line.count) cells but line \(first + 1) has \(width): every row must be the same length")
                }
                guard cells.count + width <= Self.maximumCellCount else {
                    throw .invalidConfiguration("grid map '\(name)' has more than \(Self.maximumCellCount) cells; make it smaller")
                }
                for (column, character) in line.enumerated() {
                    guard let cell = Cell(character: character) else {
                        throw .invalidConfiguration(
                            "grid map '\(name)', line \(lineNumber), column \(column + 1): unknown character '\(character)'; legend: \(Self.legend)")
                    }
                    if cell == .start { starts.append(cells.count) }
                    if cell == .goal { hasGoal = true }
                    cells.append(cell)
                }
            }
            guard let start = starts.first else {
                throw .invalidConfiguration("grid map '\(name)' has no start: mark one cell 'S'")
            }
            guard starts.count == 1 else {
                throw .invalidConfiguration(
                    "grid map '\(name)' has \(starts.count) starts (line \(first + 1 + starts[1] / width) has a second 'S'): mark exactly one")
            }
            guard hasGoal else {
                throw .invalidConfiguration("grid map '\(name)' has no goal: mark at least one cell 'G'")
            }
            self.name = name
            self.rows = cells.count / width
            self.columns = width
            self.cells = cells
            self.startIndex = start
        }

        /// The cell at (`row`, `column`).
        public subscript(row: Int, column: Int) -> Cell { cells[row * columns + column] }

        /// The map in its text form, one line per row.
        public var description: String {
            (0..<rows).map { row in
                String((0..<columns).map { self[row, $0].character })
            }.joined(separator: "\n")
        }
    }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension GridWorld: Codable {}
extension GridWorld.Map: Codable {}
extension GridWorld.Rewards: Codable {}
extension GridWorld.Cell: Codable {}
extension GridWorld.EpisodePhase: Codable {}
