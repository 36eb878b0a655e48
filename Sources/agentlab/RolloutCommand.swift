import ArgumentParser
import Environments
import Foundation
import SeededRandom

/// `agentlab rollout`: plays an environment with random or given actions and prints what
/// happens, one line per event.
struct RolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Play an environment with random or given actions and print every step.",
        discussion: """
            Resets with --seed, then plays --steps steps: random actions (from a generator seeded \
            with --seed) or the --actions list in order, resetting whenever an episode ends. \
            Prints a line with the observation after each reset and, per step, the action, \
            reward, observation, terminated and truncated. Numbers are printed with enough digits \
            to read back the same Float32.

            Examples:
              agentlab rollout CartPole-v1 --seed 3 --steps 20 --json
              agentlab rollout Breakout-MinAtar --steps 100000 --episodes-only
            """)

    @Argument(help: "An environment id (see `agentlab envs`).")
    var id: String

    @Option(help: "Seed of the first reset and of the random actions.")
    var seed: UInt64 = 0

    @Option(help: "Number of steps to play (default: 100, or the length of --actions).")
    var steps: Int?

    @Option(help: ArgumentHelp("Comma-separated actions to play instead of random ones.", valueName: "a,b,..."))
    var actions: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(help: "Print one line per finished episode (return and length) instead of every step.")
    var episodesOnly = false

    func validate() throws {
        if let steps, steps < 0 { throw ValidationError("--steps must be 0 or more, got \(steps)") }
        if let actions, parsedActions(actions) == nil {
            throw ValidationError("--actions must be comma-separated integers, got '\(actions)'")
        }
    }

    private func parsedActions(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == parts.count ? values : nil
    }

    func run() throws {
        var environment = try makeEnvironment(id: id)
        let given = actions.flatMap(parsedActions)
        if let given, let bad = given.first(where: { !environment.actionSpace.contains($0) }) {
            throw UsageError("action \(bad) is outside \(id)'s action space: valid actions are "
                + "0...\(environment.actionSpace.count - 1) (\(environment.actionNames.joined(separator: ", ")))")
        }
        let total = steps ?? given?.count ?? 100
        var generator = SeededGenerator(seed: seed, stream: 1)
        var observation = environment.reset(seed: seed)
        var episode = 0, episodeReturn = 0.0, episodeLength = 0
        if !episodesOnly { emitReset(episode: episode, observation: observation) }
        for t in 0..<total {
            let action = given.map { $0[t % $0.count] } ?? environment.actionSpace.sample(using: &generator)
            let step = try environment.step(action)
            observation = step.observation
            episodeReturn += Double(step.reward)
            episodeLength += 1
            if !episodesOnly { emitStep(t + 1, action: action, step, names: environment.actionNames) }
            if step.isDone {
                if episodesOnly { emitEpisode(episode, episodeReturn, episodeLength, step) }
                episode += 1
                episodeReturn = 0
                episodeLength = 0
                if t + 1 < total {
                    observation = environment.reset(seed: nil)
                    if !episodesOnly { emitReset(episode: episode, observation: observation) }
                }
            }
        }
    }

    private func emitReset(episode: Int, observation: [Float]) {
        if json {
            print(#"{"reset":true,"episode":\#(episode),"observation":\#(jsonArray(observation))}"#)
        } else {
            print("reset    episode \(episode)  observation \(textArray(observation))")
        }
    }

    private func emitStep(_ t: Int, action: Int, _ step: Step, names: [String]) {
        if json {
            print(#"{"step":\#(t),"action":\#(action),"reward":\#(step.reward),"observation":\#(jsonArray(step.observation)),"terminated":\#(step.isTerminated),"truncated":\#(step.isTruncated)}"#)
        } else {
            var line = "step \(t)  action \(action) (\(names[action]))  reward \(step.reward)  observation \(textArray(step.observation))"
            if step.isTerminated { line += "  terminated" }
            if step.isTruncated { line += "  truncated" }
            print(line)
        }
    }

    private func emitEpisode(_ episode: Int, _ episodeReturn: Double, _ length: Int, _ step: Step) {
        if json {
            print(#"{"episode":\#(episode),"return":\#(episodeReturn),"length":\#(length),"terminated":\#(step.isTerminated),"truncated":\#(step.isTruncated)}"#)
        } else {
            print("episode \(episode)  return \(episodeReturn)  length \(length)\(step.isTruncated ? "  truncated" : "")")
        }
    }

    /// Shortest round-tripping decimals ("0.1", "-0.04530716").
    private func jsonArray(_ values: [Float]) -> String {
        "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
    }

    private func textArray(_ values: [Float]) -> String {
        values.count <= 16 ? jsonArray(values) : "(\(values.count) values, \(values.filter { $0 != 0 }.count) non-zero)"
    }
}
