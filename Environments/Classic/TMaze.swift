import SeededRandom

/// TMaze-v0: remember a cue seen at the start of a corridor and, at the junction where the
/// corridor ends, turn into the arm it named (Bakker's T-maze, 2002, a test of memory).
///
/// **Layout**: a corridor of `corridorLength` cells running left to right, the start at its
/// left end, then a junction cell with one arm above it and one below:
///
/// ```
///                 U        S  start, where the cue shows
///   S . . . . . . J        J  junction
///                 D        U, D  the up and down arms
/// ```
///
/// **Cue**: at each reset, `up` or `down` with probability ½ each: one `int(below: 2)` from
/// the environment's `SeededGenerator` (0 up, 1 down), the only random number drawn.
///
/// **Action space**: `Discrete(4)`: 0 up, 1 right, 2 down, 3 left (`GridWorld`'s order,
/// `Move`). Right and left walk along the corridor. Up and down in the corridor, left at
/// the start and right at the junction bump into a wall: the agent stays where it is. At
/// the junction, up and down enter that arm.
///
/// **Observation space**: 4 floats, each 0 or 1 (`Box.binary(shape: [4])`):
///
/// | index | 1 when                                        |
/// |-------|-----------------------------------------------|
/// | 0     | the cue says up (only on the start cell)      |
/// | 1     | the cue says down (only on the start cell)    |
/// | 2     | in the corridor, the start cell included      |
/// | 3     | at the junction                               |
///
/// The start cell reads `[1, 0, 1, 0]` (cue up) or `[0, 1, 1, 0]` (cue down), every other
/// corridor cell `[0, 0, 1, 0]`, the junction `[0, 0, 0, 1]`, and an arm (only ever the
/// terminating observation) `[0, 0, 0, 0]`. The corridor cells after the start all look
/// alike, so nothing but memory carries the cue to the junction. The cue shows whenever the
/// agent stands on the start cell, after walking back to it too.
///
/// **Rewards**: +1 for entering the arm the cue named, −1 for entering the other. Every
/// step that does not move towards the arms (a bump, a step back, left at the junction)
/// costs 1/`stepLimit`; moves towards them are free. Without that cost, stalling until
/// the time limit (0) is exactly as good as walking to the junction and guessing (0 on
/// average), and a learner that drifts into stalling never sees an arm again (measured:
/// recurrent PPO stopped walking on one seed in three). With it, the task tests memory
/// alone, as the passive T-maze of Ni et al. (2023) does: the best return is still exactly
/// +1, and a stalled episode costs −1.
///
/// **Starting state**: the start cell, with a freshly drawn cue.
///
/// **Episode end**: terminated on entering an arm. The environment itself never truncates:
/// the registry wraps it in `TimeLimit` at `stepLimit` = 4 × (`corridorLength` + 2) steps
/// (48 for TMaze-v0's 10 cells). The shortest episode is `corridorLength` + 1 moves, so the
/// limit leaves room for 3 × `corridorLength` + 7 wasted moves (the bumps and back-steps of
/// a policy still learning) while keeping episodes short. A truncated episode returns −1,
/// guessing an arm at the end of a straight walk 0 on average: only a policy that remembers
/// the cue averages more than 0, and TMaze-v0's threshold of 0.9 asks for the right arm in
/// at least 95% of episodes.
public struct TMaze: Environment, Sendable {
    /// The moves, in action order: `GridWorld`'s.
    public typealias Move = GridWorld.Move

    /// What the start cell shows: the arm that pays +1.
    public enum Cue: Int, CaseIterable, Sendable {
        case up = 0, down

        public var name: String {
            switch self {
            case .up: "up"
            case .down: "down"
            }
        }
    }

    /// Where the agent is.
    public enum Location: Hashable, Sendable {
        /// A corridor cell, counted from the start (0) to `corridorLength - 1`.
        case corridor(Int)
        /// The junction at the corridor's right end.
        case junction
        /// Inside an arm: the episode has ended.
        case arm(Cue)
    }

    /// The corridor lengths a maze may have.
    public static let corridorLengths = 1...1000

    /// The number of corridor cells, the start included and the junction not.
    public let corridorLength: Int
    /// The cue of the current episode.
    public private(set) var cue: Cue
    /// Where the agent is in the current episode.
    public private(set) var location: Location
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// A T-maze whose corridor has `corridorLength` cells and whose resets without a seed
    /// draw from a generator seeded with `seed`.
    /// - Precondition: `corridorLength` is in `corridorLengths` (1...1000).
    public init(corridorLength: Int = 10, seed: UInt64 = 0) {
        precondition(Self.corridorLengths.contains(corridorLength),
                     "a T-maze corridor must have 1...1000 cells, got \(corridorLength)")
        self.corridorLength = corridorLength
        cue = .up
        location = .corridor(0)
        generator = SeededGenerator(seed: seed)
    }

    public var observationSpace: Box { Box.binary(shape: [4]) }

    public var actionSpace: ActionSpace { .discrete(Discrete(4)) }

    public var actionNames: [String] { Move.allCases.map(\.name) }
    public var observationNames: [String] { ["cue up", "cue down", "corridor", "junction"] }

    /// Whether the current episode has ended in an arm.
    public var isTerminated: Bool { phase == .ended }

    /// The number of moves of the shortest episode: along the corridor to the junction,
    /// then into an arm.
    public var shortestEpisodeLength: Int { corridorLength + 1 }

    /// The step limit the registry's `TimeLimit` puts on this maze: 4 × (`corridorLength` + 2);
    /// see the type's documentation.
    public var stepLimit: Int { 4 * (corridorLength + 2) }

    /// What a step that does not move towards the arms costs: 1/`stepLimit`, so a
    /// stalled episode totals −1.
    public var idleCost: Float { 1 / Float(stepLimit) }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        cue = Cue(rawValue: generator.int(below: 2))!
        location = .corridor(0)
        phase = .running
        write(into: observation)
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard phase == .running else { throw phase == .notStarted ? .notReset : .episodeEnded }
        guard UInt(bitPattern: action) < 4 else { throw .invalidAction(action, count: 4) }

        var movesOn = false
        switch (location, Move(rawValue: action)!) {
        case (.corridor(let column), .right):
            location = column + 1 < corridorLength ? .corridor(column + 1) : .junction
            movesOn = true
        case (.corridor(let column), .left):
            location = .corridor(max(0, column - 1))  // at the start: a bump
        case (.corridor, .up), (.corridor, .down), (.junction, .right):
            break  // a wall: a bump
        case (.junction, .left):
            location = .corridor(corridorLength - 1)
        case (.junction, .up):
            location = .arm(.up)
            movesOn = true
        case (.junction, .down):
            location = .arm(.down)
            movesOn = true
        case (.arm, _):
            preconditionFailure("an episode that reached an arm has ended")
        }

        var reward: Float = movesOn ? 0 : -idleCost
        var isTerminated = false
        if case .arm(let arm) = location {
            reward = arm == cue ? 1 : -1
            isTerminated = true
            phase = .ended
        }
        write(into: observation)
        return StepOutcome(reward: reward, isTerminated: isTerminated)
    }

    /// Writes `[cue says up, cue says down, in the corridor, at the junction]`; see the
    /// type's documentation.
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 4, "TMaze writes 4 floats, the buffer holds \(observation.count)")
        observation.update(repeating: 0)
        switch location {
        case .corridor(let column):
            observation[2] = 1
            if column == 0 { observation[cue.rawValue] = 1 }
        case .junction:
            observation[3] = 1
        case .arm:
            break
        }
    }

    /// Pixels per cell in `render()`: 40, less for a corridor of more than 23 cells so that
    /// the frame is at most about 960 pixels wide, and never less than 2.
    public var cellSize: Int { max(2, min(40, 960 / (corridorLength + 1))) }

    /// The start cell's colour in `render()`, showing the cue.
    public static func color(of cue: Cue) -> Color {
        switch cue {
        case .up: Color(70, 150, 240)
        case .down: Color(190, 90, 220)
        }
    }

    /// A grid of 3 rows and `corridorLength + 1` columns of `cellSize`-pixel squares in
    /// `GridWorld`'s colours: the corridor in the middle row as floor, its start cell in the
    /// cue's colour (`color(of:)`), the junction at the right end as floor, the arm the cue
    /// names above or below it as a goal and the other as a pit, every other cell a wall,
    /// and the agent as a yellow disc. Cells of at least 8 pixels have a thin dark line
    /// between them; smaller ones have none, and the agent fills its cell.
    public func render() -> Frame {
        let size = cellSize, gap = size >= 8 ? 1 : 0
        var frame = Frame(width: (corridorLength + 1) * size, height: 3 * size, fill: .background)
        func fill(row: Int, column: Int, _ color: Color) {
            frame.fillRectangle(
                x: column * size + gap, y: row * size + gap, width: size - 2 * gap, height: size - 2 * gap,
                color: color)
        }
        for row in 0..<3 {
            for column in 0...corridorLength { fill(row: row, column: column, GridWorld.color(of: .wall)) }
        }
        fill(row: 1, column: 0, Self.color(of: cue))
        for column in 1...corridorLength { fill(row: 1, column: column, GridWorld.color(of: .floor)) }
        fill(row: 0, column: corridorLength, GridWorld.color(of: cue == .up ? .goal : .pit))
        fill(row: 2, column: corridorLength, GridWorld.color(of: cue == .down ? .goal : .pit))

        let here = cell(of: location)
        if gap == 0 {
            fill(row: here.row, column: here.column, GridWorld.agentColor)  // too small for a disc
        } else {
            frame.fillDisc(
                centerX: (Double(here.column) + 0.5) * Double(size),
                centerY: (Double(here.row) + 0.5) * Double(size),
                radius: Double(size) * 0.35, color: GridWorld.agentColor)
        }
        return frame
    }

    /// The row and column of `location` in `render()`'s grid.
    private func cell(of location: Location) -> (row: Int, column: Int) {
        switch location {
        case .corridor(let column): (1, column)
        case .junction: (1, corridorLength)
        case .arm(let arm): (arm == .up ? 0 : 2, corridorLength)
        }
    }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension TMaze: Codable {}
extension TMaze.Cue: Codable {}
extension TMaze.Location: Codable {}
extension TMaze.EpisodePhase: Codable {}
