// Catch: balls drop one after another down a 5 × 5 board; move the paddle along the bottom
// row to catch each (+1) rather than miss it (−1). Ten balls make an episode, so the best
// return is 10. Trains PPO on it with AgentLab's library, then evaluates the run.
import Environments
import Foundation
import SeededRandom
import Training

struct Catch: Environment {
    static let size = 5, balls = 10
    var ball = (x: 0, y: 0), paddle = 2, dropped = 0
    var generator = SeededGenerator(seed: 0)

    var observationSpace: Box { Box(low: 0, high: 1, shape: [3]) }
    var actionSpace: ActionSpace { .discrete(Discrete(3)) }
    var actionNames: [String] { ["left", "stay", "right"] }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        paddle = Self.size / 2
        dropped = 0
        dropBall()
        observe(into: observation)
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard (0..<3).contains(action) else { throw .invalidAction(action, count: 3) }
        guard dropped > 0, dropped <= Self.balls else { throw dropped == 0 ? .notReset : .episodeEnded }
        paddle = min(max(paddle + action - 1, 0), Self.size - 1)
        ball.y += 1
        var reward: Float = 0
        if ball.y == Self.size - 1 {
            reward = ball.x == paddle ? 1 : -1
            if dropped < Self.balls { dropBall() } else { dropped += 1 }
        }
        observe(into: observation)
        return StepOutcome(reward: reward, isTerminated: dropped > Self.balls)
    }

    mutating func dropBall() {
        ball = (Int(generator.next() % UInt64(Self.size)), 0)
        dropped += 1
    }

    func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        let scale = Float(Self.size - 1)
        observation[0] = Float(ball.x) / scale
        observation[1] = Float(ball.y) / scale
        observation[2] = Float(paddle) / scale
    }

    func render() -> Frame {
        var frame = Frame(width: Self.size * 16, height: Self.size * 16)
        frame.fillRectangle(x: ball.x * 16 + 4, y: ball.y * 16 + 4, width: 8, height: 8, color: Color(250, 200, 40))
        frame.fillRectangle(x: paddle * 16, y: (Self.size - 1) * 16 + 12, width: 16, height: 4, color: Color(80, 160, 255))
        return frame
    }
}

// 1. Check the environment against Gymnasium's contract (seeded determinism, spaces, ends).
var game = Catch()
print(try EnvironmentChecker.check(&game))

// 2. Register it, so training, evaluation and the presets' fallback find it by id.
EnvironmentRegistry.register(EnvironmentSpec(
    id: "Catch-v0", summary: "Catch ten falling balls with a paddle.", maxEpisodeSteps: 100,
    rewardThreshold: 9, makeBase: { Catch() }))

// 3. Train PPO into a run folder (config.yaml, metrics.csv, checkpoint, learning curve).
let folder = CommandLine.arguments.dropFirst().first ?? "runs/catch-ppo"
var configuration = try RunConfiguration(environment: "Catch-v0", algorithm: "ppo", yaml: "steps: 150000\nppo: {learning_rate: 0.001}")
configuration.seed = 1
try TrainingSession(starting: configuration, folder: folder, replacing: true).run()

// 4. Evaluate the checkpoint greedily over 100 seeded episodes.
let result = try TrainedRun(folder).evaluate(episodes: 100)
print(String(format: "Catch-v0: mean return %.2f over 100 episodes (threshold 9)", result.meanReturn))
exit(result.passes ? 0 : 1)
