import ArgumentParser
import Environments
import Foundation
import SeededRandom
import Training

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

            For a continuous environment each action is a vector: separate its floats with ':' \
            and the steps with ',' (Pendulum-v1: --actions 2,-2,0.5; a two-dimensional action: \
            --actions 0.5:-1,1:0). Values beyond the bounds are clipped by the environment.

            Examples:
              agentlab rollout CartPole-v1 --seed 3 --steps 20 --json
              agentlab rollout Pendulum-v1 --actions 2,2,2,-2,-2 --json
              agentlab rollout Breakout-MinAtar --steps 100000 --episodes-only
            """)

    @Argument(help: "An environment id (see `agentlab envs`).")
    var id: String

    @Option(help: "Seed of the first reset and of the random actions.")
    var seed: UInt64 = 0

    @Option(help: "Number of steps to play (default: 100, or the length of --actions).")
    var steps: Int?

    @Option(help: ArgumentHelp("Comma-separated actions to play instead of random ones (a continuous action's "
        + "floats joined by ':').", valueName: "a,b,..."))
    var actions: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(help: "Print one line per finished episode (return and length) instead of every step.")
    var episodesOnly = false

    func validate() throws {
        if let steps, steps < 0 { throw ValidationError("--steps must be 0 or more, got \(steps)") }
        if let actions, actions.count > 1_000_000 {
            throw ValidationError("--actions is \(actions.count) characters long; give at most 1,000,000")
        }
    }

    /// The actions of `--actions` for `space`: whole numbers in range for a discrete space,
    /// `width` finite floats joined by ':' for a box.
    private func parsedActions(_ text: String, for space: ActionSpace, names: [String]) throws -> [RolloutAction] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return try parts.map { part in
            switch space {
            case .discrete(let discrete):
                guard let action = Int(part) else {
                    throw UsageError("--actions must be comma-separated integers for \(id), got '\(part)'")
                }
                guard discrete.contains(action) else {
                    throw UsageError("action \(action) is outside \(id)'s action space: valid actions are "
                        + "0...\(discrete.count - 1) (\(names.joined(separator: ", ")))")
                }
                return .discrete(action)
            case .box(let box):
                let values = part.split(separator: ":", omittingEmptySubsequences: false).map { Float($0) }
                guard values.count == box.count, let floats = values as? [Float], floats.allSatisfy(\.isFinite) else {
                    throw UsageError("action '\(part)' does not fit \(id)'s continuous actions: give \(box.count) finite "
                        + "float\(box.count == 1 ? "" : "s joined by ':'") per step (\(box))")
                }
                return .continuous(floats)
            }
        }
    }

    func run() throws {
        var environment = try makeEnvironment(id: id)
        let given = try actions.map {
            try parsedActions($0, for: environment.actionSpace, names: environment.actionNames)
        }
        let total = steps ?? given?.count ?? 100
        var generator = SeededGenerator(seed: seed, stream: 1)
        var observation = environment.reset(seed: seed)
        var episode = 0, episodeReturn = 0.0, episodeLength = 0
        if !episodesOnly { emitReset(episode: episode, observation: observation) }
        for t in 0..<total {
            let action: RolloutAction
            if let given {
                action = given[t % given.count]
            } else {
                switch environment.actionSpace {
                case .discrete(let space): action = .discrete(space.sample(using: &generator))
                case .box(let box): action = .continuous(box.sample(using: &generator))
                }
            }
            let step: Step
            switch action {
            case .discrete(let a): step = try environment.step(a)
            case .continuous(let a): step = try environment.step(a)
            }
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

    private func emitStep(_ t: Int, action: RolloutAction, _ step: Step, names: [String]) {
        let actionJSON: String, actionText: String
        switch action {
        case .discrete(let a):
            (actionJSON, actionText) = ("\(a)", "\(a) (\(names[a]))")
        case .continuous(let a):
            (actionJSON, actionText) = (jsonArray(a), jsonArray(a))
        }
        if json {
            print(#"{"step":\#(t),"action":\#(actionJSON),"reward":\#(step.reward),"observation":\#(jsonArray(step.observation)),"terminated":\#(step.isTerminated),"truncated":\#(step.isTruncated)}"#)
        } else {
            var line = "step \(t)  action \(actionText)  reward \(step.reward)  observation \(textArray(step.observation))"
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

/// One action of a rollout: a number, or a continuous action's floats.
private enum RolloutAction {
    case discrete(Int)
    case continuous([Float])
}
