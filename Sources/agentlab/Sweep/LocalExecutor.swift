import Foundation
import Training

/// How one trial's attempt ended.
enum TrialOutcome: Equatable {
    /// Every command exited with 0.
    case succeeded
    /// A command failed; the reason is the last line it wrote.
    case failed(String)
    /// Stopped by the sweep (it saved a checkpoint if training).
    case stopped
    /// The machine running it went away (Ray); submit it again.
    case lost(String)
}

/// Runs trials somewhere: local processes, or jobs on a Ray cluster.
protocol TrialExecutor: AnyObject {
    /// Starts `commands` (argument lists run one after another, each only if the one before
    /// exited with 0) for the trial `id` on `threads` threads; output goes to `log`.
    func launch(id: String, commands: [[String]], threads: Int, log: URL) throws
    /// Waits up to `timeout` seconds for attempts to end, and returns those that did.
    func collect(timeout: Double) -> [(id: String, outcome: TrialOutcome)]
    /// Asks every running trial to stop (training saves its checkpoint first).
    func stopAll()
    /// Ends every running trial at once (a second Ctrl-C).
    func killAll()
    var runningCount: Int { get }
}

/// Trials as child processes of this one, each command in its own process group so a
/// Ctrl-C reaches the sweep first, which then stops its trials in order. The children
/// stop themselves (saving a checkpoint) if the sweep is killed: they watch their parent
/// through `AGENTLAB_SWEEP_PID`.
final class LocalExecutor: TrialExecutor {
    private struct Running {
        var remaining: [[String]]
        var pid: pid_t
        let log: URL
        let threads: Int
    }
    private var running: [String: Running] = [:]
    private var stopping = false

    var runningCount: Int { running.count }

    func launch(id: String, commands: [[String]], threads: Int, log: URL) throws {
        guard let first = commands.first else { return }
        let pid = try spawn(first, log: log)
        running[id] = Running(remaining: Array(commands.dropFirst()), pid: pid, log: log, threads: threads)
    }

    func collect(timeout: Double) -> [(id: String, outcome: TrialOutcome)] {
        let deadline = monotonicNanoseconds() + UInt64(max(0, timeout) * 1e9)
        var ended: [(id: String, outcome: TrialOutcome)] = []
        repeat {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0, let (id, trial) = running.first(where: { $0.value.pid == pid }) {
                let exited = (status & 0x7f) == 0
                let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                if code == 0, let next = trial.remaining.first, !stopping {
                    do {
                        running[id]!.pid = try spawn(next, log: trial.log)
                        running[id]!.remaining.removeFirst()
                    } catch {
                        running[id] = nil
                        ended.append((id, .failed("\(error)")))
                    }
                    continue
                }
                running[id] = nil
                if code == 0 {
                    ended.append((id, stopping && !trial.remaining.isEmpty ? .stopped : .succeeded))
                } else if stopping && [128 + SIGINT, 128 + SIGTERM, 128 + SIGHUP, 128 + SIGKILL].contains(code) {
                    ended.append((id, .stopped))
                } else {
                    let last = Self.lastLine(of: trial.log) ?? ""
                    ended.append((id, .failed(exited ? "exit status \(code)\(last.isEmpty ? "" : ": \(last)")"
                                                      : "killed by signal \(code - 128)")))
                }
                continue
            }
            if !ended.isEmpty || running.isEmpty { break }
            usleep(20_000)
        } while monotonicNanoseconds() < deadline
        return ended
    }

    func stopAll() {
        stopping = true
        for trial in running.values { kill(-trial.pid, SIGINT) }
    }

    func killAll() {
        stopping = true
        for trial in running.values { kill(-trial.pid, SIGKILL) }
    }

    /// Starts `arguments` in a new process group with standard output and error appended
    /// to `log`.
    private func spawn(_ arguments: [String], log: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        var environment = ProcessInfo.processInfo.environment
        environment[sweepParentVariable] = String(getpid())
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SweepError.cannotStart(arguments[0], reason: String(cString: strerror(result)))
        }
        return pid
    }

    /// The last non-empty line of a log (its last 4 KiB), for a failure's reason.
    static func lastLine(of log: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: log) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { String($0.prefix(300)) }
    }
}

/// The environment variable that tells a trial which process runs its sweep.
let sweepParentVariable = "AGENTLAB_SWEEP_PID"

/// In a trial started by a sweep: a thread that sends this process SIGTERM when the sweep
/// is gone (killed, even with SIGKILL), so training saves its checkpoint and stops instead
/// of running on unwatched and holding its run folder.
func watchSweepParent() {
    guard let text = ProcessInfo.processInfo.environment[sweepParentVariable], let parent = pid_t(text) else { return }
    let thread = Thread {
        while getppid() == parent { usleep(200_000) }
        kill(getpid(), SIGTERM)
    }
    thread.start()
}

/// A sweep that cannot go on.
enum SweepError: Error, CustomStringConvertible {
    case cannotStart(String, reason: String)
    case folder(String)

    var description: String {
        switch self {
        case .cannotStart(let program, let reason): "cannot start \(program): \(reason)"
        case .folder(let message): message
        }
    }
}

/// `text` quoted for a POSIX shell.
func shellQuoted(_ text: String) -> String {
    guard text.contains(where: { !($0.isLetter || $0.isNumber || "-_./=:,+@".contains($0)) }) || text.isEmpty else { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
