import Foundation
import Sweeps
import Training

/// Trials as jobs on a Ray cluster, through its Job Submission REST API: Ray places each
/// job on a node with `threads` free CPUs. The entrypoint is the trial's own `agentlab`
/// command lines joined with `&&`; results come back through the folder all nodes share.
/// A job that failed because its node died is reported as lost (the runner submits it
/// again, and training continues from its last checkpoint).
final class RayExecutor: TrialExecutor {
    private let jobs: RayJobs
    private struct Job {
        let submission: String
        let log: URL
    }
    private var running: [String: Job] = [:]
    /// Submissions made per trial, so every submission id is new (Ray refuses to reuse one).
    private var submissions: [String: Int] = [:]
    /// A token for this sweep folder in submission ids, so two sweeps never collide.
    private let token: String

    var runningCount: Int { running.count }

    init(address: String, folder: URL) throws {
        jobs = try Self.connect(address)
        token = String(fnv1a64Hex(Data(folder.path.utf8)).prefix(8))
    }

    /// The cluster's job API at `address`, after one request shows it answers.
    static func connect(_ address: String) throws -> RayJobs {
        do {
            let jobs = try RayJobs(address: address)
            _ = try jobs.version()
            return jobs
        } catch {
            throw SweepError.folder("cannot use the Ray cluster at \(address): \(error)")
        }
    }

    func launch(id: String, commands: [[String]], threads: Int, log: URL) throws {
        let entrypoint = commands.map { $0.map(shellQuoted).joined(separator: " ") }.joined(separator: " && ")
        submissions[id, default: 0] += 1
        let submission = "agentlab-\(token)-\(id)-\(submissions[id]!)"
        do {
            _ = try jobs.submit(entrypoint: entrypoint, submissionID: submission, cpus: Double(threads),
                                metadata: ["agentlab_trial": id])
        } catch RayJobsError.alreadyExists {
            // A resumed sweep finds the job its previous run submitted: follow it.
        }
        running[id] = Job(submission: submission, log: log)
    }

    func collect(timeout: Double) -> [(id: String, outcome: TrialOutcome)] {
        let deadline = Date().addingTimeInterval(max(timeout, 0.2))
        var ended: [(id: String, outcome: TrialOutcome)] = []
        repeat {
            for (id, job) in running.sorted(by: { $0.key < $1.key }) {
                guard let info = try? jobs.info(job.submission) else { continue }
                let outcome: TrialOutcome?
                switch info.status {
                case .pending, .running: outcome = nil
                case .succeeded: outcome = .succeeded
                case .stopped: outcome = .stopped
                case .failed:
                    let text = (info.errorType.map { "\($0): " } ?? "") + info.message
                    outcome = info.isNodeLost ? .lost(text) : .failed(text)
                }
                guard let outcome else { continue }
                if let logs = try? jobs.logs(job.submission) {
                    if let handle = (try? FileHandle(forWritingTo: job.log)) ?? Self.create(job.log) {
                        _ = try? handle.seekToEnd()
                        try? handle.write(contentsOf: Data(logs.utf8))
                        try? handle.close()
                    }
                }
                running[id] = nil
                if case .failed(let text) = outcome, let last = LocalExecutor.lastLine(of: job.log) {
                    ended.append((id, .failed("\(text.prefix(200)); \(last)")))
                } else {
                    ended.append((id, outcome))
                }
            }
            if !ended.isEmpty || running.isEmpty { break }
            usleep(500_000)
        } while Date() < deadline
        return ended
    }

    func stopAll() {
        for job in running.values { _ = try? jobs.stop(job.submission) }
    }

    func killAll() { stopAll() }

    private static func create(_ url: URL) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return try? FileHandle(forWritingTo: url)
    }
}

