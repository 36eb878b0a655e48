import ArgumentParser
import Environments
import Foundation
import Training
import Viewer

/// Steps per second for showing `id` to a person: CartPole in real time (50 steps/s, its
/// 0.02 s step), the arcade games at 15, the grid worlds and the T-maze at 5.
func defaultStepsPerSecond(for id: String) -> Double {
    if id.hasPrefix("CartPole") { return 50 }
    if id.hasPrefix("GridWorld") || id.hasPrefix("TMaze") { return 5 }
    return 15
}

/// What `record` (and, later, `watch`) plays: an environment and the advisor that acts
/// in it, with a title for the panel.
struct PlaybackTarget {
    var environment: any Environment
    var advisor: any ActionAdvisor
    var title: String
    var environmentID: String
    /// The status line describing the player ("random policy · seed 0").
    var description: String
}

/// Who acts when the target is a bare environment id.
enum PolicyChoice: String, ExpressibleByArgument, CaseIterable {
    /// Uniformly random actions (from a generator seeded with --seed).
    case random
}

/// Resolves a TARGET argument: a run folder (its trained agent plays greedily in its
/// environment), or an environment id played by `policy`.
func resolvePlaybackTarget(
    _ target: String, policy: PolicyChoice, seed: UInt64, environment replacement: String? = nil, saliency: Bool = false
) throws -> PlaybackTarget {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
        let run: TrainedRun
        do { run = try TrainedRun(target, environment: replacement) } catch { throw UsageError(error.description) }
        try checkSaliency(saliency, of: run)
        return PlaybackTarget(
            environment: run.makeEnvironment(), advisor: AgentAdvisor(agent: run.agent),
            title: "\(run.spec.id) · \(run.configuration.algorithm)",
            environmentID: run.spec.id,
            description: "\(run.configuration.algorithm) · step \(run.info.step) · seed \(seed)")
    }
    if saliency {
        throw UsageError("--saliency needs a run folder: a random player has no network to differentiate")
    }
    let environment = try makeEnvironment(id: target)
    switch policy {
    case .random:
        let advisor = RandomAdvisor(actionSpace: environment.actionSpace, seed: seed)
        return PlaybackTarget(
            environment: environment, advisor: advisor, title: target, environmentID: target,
            description: "random policy · seed \(seed)")
    }
}

/// Refuses `--saliency` for an agent whose choice is not one feed-forward network.
func checkSaliency(_ requested: Bool, of run: TrainedRun) throws {
    guard requested, run.agent.policyNetwork == nil else { return }
    throw UsageError("--saliency needs a feed-forward agent, and \(run.configuration.algorithm) carries memory from step "
        + "to step; leave out --saliency")
}

/// Runs `body`, turning viewer failures into a message on stderr: exit status 2 for what
/// the user can fix in the command (an output that cannot be written), 1 for the machine
/// (no display, SDL failing, a missing font).
func reportingViewerErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ViewerError {
        if case .cannotWrite = error { throw UsageError(error.description) }
        printError(error.description)
        throw ExitCode.failure
    }
}

/// Checks that the folder `path` would be written in exists.
func checkParentFolder(of path: String) throws {
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw UsageError("the folder \(parent) does not exist; create it first or choose another --out")
    }
}
