/// The built-in maps of `GridWorld` and the environments the registry makes from them.
///
/// | map            | size  | registry id              | rewards                                    | shortest path | optimal return |
/// |----------------|-------|--------------------------|--------------------------------------------|---------------|----------------|
/// | `small`        | 5×5   | `GridWorld-v0`           | goal +1, pit −1, step 0                    | 8 moves       | +1             |
/// | `cliffWalking` | 4×12  | `GridWorld-Cliff-v0`     | goal −1, step −1, cliff −100 and back to S | 13 moves      | −13            |
/// | `fourRooms`    | 13×13 | `GridWorld-FourRooms-v0` | goal +1, step 0                            | 20 moves      | +1             |
///
/// Optimal returns are undiscounted, with slipping off (`GridWorld.optimalReturn`).
extension GridWorld.Map {
    /// A 5×5 room with four pillars and a pit in the middle; the start is top left, the
    /// goal bottom right. The shortest path goes round the edge in 8 moves.
    public static let small = builtIn("small", """
        S....
        .#.#.
        ..P..
        .#.#.
        ....G
        """)

    /// Sutton & Barto's cliff walk (Example 6.6): 4×12, start bottom left, goal bottom
    /// right, the ten cells between them a cliff. Falling in costs −100 and puts the agent
    /// back on the start without ending the episode; every other step costs −1, the step
    /// onto the goal included (Gymnasium's CliffWalking-v0). Optimal: up, 11 × right,
    /// down = 13 moves, return −13.
    public static let cliffWalking = builtIn("cliff walking", """
        ............
        ............
        ............
        SCCCCCCCCCCG
        """)

    /// Sutton, Precup & Singh's four rooms (1999): an 11×11 floor inside a wall, divided
    /// into four rooms joined by one-cell doorways. Start in the top-left corner of the
    /// top-left room, goal in the bottom-right corner of the bottom-right room: 20 moves.
    public static let fourRooms = builtIn("four rooms", """
        #############
        #S....#.....#
        #.....#.....#
        #...........#
        #.....#.....#
        #.....#.....#
        ##.####.....#
        #.....###.###
        #.....#.....#
        #.....#.....#
        #...........#
        #.....#....G#
        #############
        """)

    private static func builtIn(_ name: String, _ text: String) -> GridWorld.Map {
        do {
            return try GridWorld.Map(parsing: text, name: name)
        } catch {
            preconditionFailure("built-in grid map '\(name)' is invalid: \(error)")
        }
    }
}

extension GridWorld.Rewards {
    /// Gymnasium's CliffWalking rewards: −1 per step (the goal step too), −100 for the cliff.
    public static let cliffWalking = GridWorld.Rewards(goal: -1, pit: -1, cliff: -100, step: -1)
}

extension GridWorld {
    /// The cliff walk with Gymnasium's CliffWalking-v0 rewards; optimal return −13.
    public static func cliffWalking(slipProbability: Double = 0, seed: UInt64 = 0) -> GridWorld {
        GridWorld(map: .cliffWalking, rewards: .cliffWalking, slipProbability: slipProbability, seed: seed)
    }

    /// The four rooms with goal +1 and no step penalty; optimal return +1 in 20 moves.
    public static func fourRooms(slipProbability: Double = 0, seed: UInt64 = 0) -> GridWorld {
        GridWorld(map: .fourRooms, slipProbability: slipProbability, seed: seed)
    }
}
