/// The five MinAtar-style arcade games: sticky actions with probability 0.1, all six
/// actions, truncated after 10,000 steps, no reward threshold.
extension EnvironmentRegistry {
    /// Frames after which a game is truncated: generous, so a good agent is rarely cut off.
    public static let minAtarStepLimit = 10_000

    public static let minAtarSpecs: [EnvironmentSpec] = [
        EnvironmentSpec(
            id: "Breakout-MinAtar",
            summary: "Keep the ball in play with a paddle and break the rows of bricks.",
            maxEpisodeSteps: minAtarStepLimit, rewardThreshold: nil,
            makeBase: { MinAtarEnvironment<BreakoutGame>() }),
        EnvironmentSpec(
            id: "SpaceInvaders-MinAtar",
            summary: "Shoot the descending alien formation before it reaches the cannon.",
            maxEpisodeSteps: minAtarStepLimit, rewardThreshold: nil,
            makeBase: { MinAtarEnvironment<SpaceInvadersGame>() }),
        EnvironmentSpec(
            id: "Freeway-MinAtar",
            summary: "Walk a chicken across lanes of traffic as many times as possible.",
            maxEpisodeSteps: minAtarStepLimit, rewardThreshold: nil,
            makeBase: { MinAtarEnvironment<FreewayGame>() }),
        EnvironmentSpec(
            id: "Asterix-MinAtar",
            summary: "Collect the treasure and dodge the enemies that stream across the rows.",
            maxEpisodeSteps: minAtarStepLimit, rewardThreshold: nil,
            makeBase: { MinAtarEnvironment<AsterixGame>() }),
        EnvironmentSpec(
            id: "Seaquest-MinAtar",
            summary: "Pilot a submarine: shoot, rescue divers and surface before the oxygen runs out.",
            maxEpisodeSteps: minAtarStepLimit, rewardThreshold: nil,
            makeBase: { MinAtarEnvironment<SeaquestGame>() }),
    ]
}
