import ArgumentParser
import Environments

/// `agentlab envs`: the registered environments as a table.
struct EnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs",
        abstract: "List the registered environments.",
        discussion: """
            One row per id: observation shape, number of actions, step limit and reward threshold. \
            Besides these, any Gymnasium environment trains as gymnasium:ID (gymnasium:CartPole-v1, \
            gymnasium:my_package.envs:MyEnv-v0), run in Python worker processes: the last line says \
            whether this machine's Python has gymnasium (AGENTLAB_PYTHON chooses the interpreter).
            """)

    func run() throws {
        var rows = [["id", "observation", "actions", "step limit", "threshold", "summary"]]
        for spec in EnvironmentRegistry.standard.specs {
            let environment = spec.makeEnvironment()
            rows.append([
                spec.id,
                environment.observationSpace.shape.map(String.init).joined(separator: "×"),
                environment.actionSpace.box.map { "box \($0.count)" } ?? String(environment.actionSpace.width),
                spec.maxEpisodeSteps.map(String.init) ?? "none",
                spec.rewardThreshold.map { $0.formatted(significantDigits: 6) } ?? "none",
                spec.summary,
            ])
        }
        print(Table(rows: rows).rendered)
        switch GymnasiumBridge.installedVersion() {
        case .success(let version):
            print("\nGymnasium environments: gymnasium:ID, through gymnasium \(version) (see docs/gymnasium-bridge.md).")
        case .failure(let reason):
            print("\nGymnasium environments (gymnasium:ID) are unavailable: \(reason).")
        }
    }
}
