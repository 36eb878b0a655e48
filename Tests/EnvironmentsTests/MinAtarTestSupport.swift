import SeededRandom
import XCTest
@testable import Environments

/// Plays `steps` uniformly random actions (sticky actions 0.1) from a seeded reset,
/// resetting when an episode ends.
/// - Returns: the total reward, the number of finished episodes, and a checksum of every
///   observation (the sum over steps of each marked cell's index).
func randomPolicySummary<Game: MinAtarGame>(
    _ game: Game.Type, seed: UInt64, steps: Int, usesMinimalActions: Bool = false
) -> (totalReward: Float, episodes: Int, checksum: Int) {
    var environment = MinAtarEnvironment<Game>(usesMinimalActions: usesMinimalActions, seed: seed)
    var actions = SeededGenerator(seed: seed &+ 1)
    var observation = [Float](repeating: 0, count: environment.observationSpace.count)
    let actionCount = environment.actionSpace.width
    var totalReward: Float = 0, episodes = 0, checksum = 0
    observation.withUnsafeMutableBufferPointer { buffer in
        environment.reset(seed: seed, into: buffer)
        for _ in 0..<steps {
            let outcome = try! environment.step(actions.int(below: actionCount), into: buffer)
            totalReward += outcome.reward
            for index in buffer.indices where buffer[index] != 0 { checksum &+= index }
            if outcome.isDone {
                episodes += 1
                environment.reset(seed: nil, into: buffer)
            }
        }
    }
    return (totalReward, episodes, checksum)
}
