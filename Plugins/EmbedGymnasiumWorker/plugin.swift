import Foundation
import PackagePlugin

/// Embeds the Gymnasium worker (`python/agentlab_gymnasium/__main__.py`) in the
/// Environments module as a string constant at build time, so the `agentlab` binary carries
/// the one copy of it that lives in the repository.
@main
struct EmbedGymnasiumWorker: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let source = context.package.directoryURL.appending(path: "python/agentlab_gymnasium/__main__.py")
        let output = context.pluginWorkDirectoryURL.appending(path: "GymnasiumWorkerSource.swift")
        return [
            .buildCommand(
                displayName: "Embedding the Gymnasium worker",
                executable: try context.tool(named: "EmbedText").url,
                arguments: [source.path(), output.path(), "gymnasiumWorkerSource"],
                inputFiles: [source],
                outputFiles: [output]),
        ]
    }
}
