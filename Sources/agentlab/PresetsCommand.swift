import Agents
import ArgumentParser

/// `agentlab presets`: the tuned configurations shipped with the tool.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "Show the shipped training presets.",
        discussion: """
            Without options, a table of every algorithm on every environment. With --env and \
            --algo, that preset as the YAML `agentlab train` would start from (save it, edit it, \
            and pass it with --config).
            """)

    @Option(help: "Environment id.")
    var env: String?

    @Option(help: "Algorithm: \(RunConfiguration.algorithms.joined(separator: ", ")).")
    var algo: String?

    func run() throws {
        if env != nil || algo != nil {
            let id = env ?? "CartPole-v1", algorithm = algo ?? "ppo"
            _ = try EnvironmentRegistry.standard.spec(id: id)
            guard RunConfiguration.algorithms.contains(algorithm) else {
                throw UsageError("unknown algorithm '\(algorithm)'; known algorithms: \(RunConfiguration.algorithms.joined(separator: ", "))")
            }
            print(try TrainingSession.yaml(Presets.configuration(algorithm: algorithm, environment: id)), terminator: "")
            return
        }
        var rows = [["environment", "algorithm", "steps", "copies", "settings beyond the algorithm's defaults"]]
        for spec in EnvironmentRegistry.standard.specs {
            for algorithm in RunConfiguration.algorithms {
                let preset = Presets.configuration(algorithm: algorithm, environment: spec.id)
                rows.append([spec.id, algorithm, String(preset.steps), String(preset.environments),
                             try Presets.differences(preset)])
            }
        }
        print(Table(rows: rows).rendered)
    }
}
