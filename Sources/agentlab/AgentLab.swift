import ArgumentParser

@main
struct AgentLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentlab",
        abstract: "Train, watch and evaluate reinforcement-learning agents.",
        subcommands: [])
}
