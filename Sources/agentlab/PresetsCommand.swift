import Agents
import ArgumentParser
import Environments
import Training

/// `agentlab presets`: the tuned configurations shipped with the tool.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "Show the shipped training presets.",
        discussion: """
            Without options, a table of every algorithm on every environment, with the settings \
            in which each preset differs from the algorithm's defaults (nested settings flattened: \
            exploration.end=0.01). With --env and --algo, that preset as the YAML `agentlab train` \
            would start from (save it, edit it, and pass it with --config).
            """)

    @Option(help: "Environment id.")
    var env: String?

    @Option(help: "Algorithm: \(AlgorithmRegistry.standard.names.joined(separator: ", ")).")
    var algo: String?

    func run() throws {
        do {
            if env != nil || algo != nil {
                let id = env ?? "CartPole-v1"
                _ = try EnvironmentRegistry.standard.spec(id: id)
                let spec = try AlgorithmRegistry.standard.spec(named: algo ?? "ppo")
                print(try TrainingSession.yaml(RunConfiguration(preset: spec, environment: id)), terminator: "")
                return
            }
        } catch let error as EnvironmentError {
            throw UsageError(error.description)
        } catch let error as TrainingError {
            throw UsageError(error.description)
        }
        var rows = [["environment", "algorithm", "steps", "copies", "settings beyond the algorithm's defaults"]]
        for environment in EnvironmentRegistry.standard.specs {
            for algorithm in AlgorithmRegistry.standard.specs {
                let preset = RunConfiguration(preset: algorithm, environment: environment.id)
                rows.append([environment.id, algorithm.name, String(preset.steps), String(preset.environments),
                             try Self.differences(preset.settings, from: algorithm.defaultConfiguration)])
            }
        }
        print(Table(rows: rows).rendered)
    }

    /// The settings in which `settings` differs from `defaults`, as `key=value` pairs on one
    /// line, nested settings flattened (`exploration.end=0.01`).
    static func differences(
        _ settings: any AlgorithmConfiguration, from defaults: any AlgorithmConfiguration
    ) throws -> String {
        let base = Dictionary(try ConfigurationValue(encoding: defaults).flattened(), uniquingKeysWith: { a, _ in a })
        return try ConfigurationValue(encoding: settings).flattened()
            .filter { base[$0.key] != $0.value }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
    }
}
