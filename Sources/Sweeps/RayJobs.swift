import Foundation

/// A Ray cluster's Job Submission REST API, served by the head's dashboard (port 8265 by
/// default): the calls the Ray executor makes to run each trial as a job.
///
/// `POST /api/jobs/` submits, `GET /api/jobs/{id}` reports the status, `GET
/// /api/jobs/{id}/logs` returns the entrypoint's output, `POST /api/jobs/{id}/stop` stops it
/// and `GET /api/version` says which Ray answers. Transport failures are thrown as
/// `HTTPError`; replies Ray sends but that are not a success are thrown as `RayJobsError`.
public struct RayJobs: Sendable {
    /// The dashboard's address without a trailing slash, e.g. `http://127.0.0.1:8265`.
    public let address: String
    public let client: HTTPClient

    /// Checks that `address` is an `http://HOST:PORT` URL (a path prefix is kept, for a
    /// dashboard behind a proxy); nothing is sent until a call.
    public init(address: String, client: HTTPClient = HTTPClient()) throws(HTTPError) {
        let url = try HTTPURL(address)
        guard !url.target.contains("?") else { throw .invalidURL(address, reason: "it has a query (?...)") }
        var path = url.target
        while path.hasSuffix("/") { path.removeLast() }
        self.address = "http://\(url.authority)\(path)"
        self.client = client
    }

    /// Submits `entrypoint` (a shell command run on whichever node has `cpus` free CPUs)
    /// as the job `submissionID`, and returns the ID Ray records (the same one).
    ///
    /// `cpus` must be above zero: Ray runs a job that asks for no resources on the head
    /// node. `metadata` is stored with the job and shown by `ray job list`. An ID Ray
    /// already has throws `RayJobsError.alreadyExists`: a resumed sweep can adopt that job.
    public func submit(entrypoint: String, submissionID: String, cpus: Double, metadata: [String: String] = [:]) throws -> String {
        precondition(cpus > 0 && cpus.isFinite, "a Ray job must ask for some CPUs, or Ray pins it to the head node")
        let action = "submitting job '\(submissionID)' to \(address)"
        var request: [String: Any] = ["entrypoint": entrypoint, "submission_id": submissionID, "entrypoint_num_cpus": cpus]
        if !metadata.isEmpty { request["metadata"] = metadata }
        let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        let reply = try client.request("POST", address + "/api/jobs/", jsonBody: Array(body))
        // Ray's job agent refuses a known ID with 400, which the head passes on as 500
        // (Ray 2.60: "ValueError: Job with submission_id X already exists. ...").
        if !reply.isSuccess && reply.text.contains("already exists") {
            throw RayJobsError.alreadyExists(submissionID: submissionID)
        }
        let object = try Self.object(from: reply, action: action)
        guard let id = object["submission_id"] as? String else {
            throw RayJobsError.unexpectedReply(action: action, reason: "it has no submission_id: \(Self.excerpt(reply.text))")
        }
        return id
    }

    /// The job's status, with Ray's message and error type.
    public func info(_ id: String) throws -> RayJobInfo {
        let action = "asking \(address) about job '\(id)'"
        let reply = try client.request("GET", jobURL(id))
        let object = try Self.object(from: reply, action: action, job: id, address: address)
        guard let text = object["status"] as? String, let status = RayJobInfo.Status(rawValue: text) else {
            throw RayJobsError.unexpectedReply(
                action: action,
                reason: "its status \(object["status"].map { "\($0)" } ?? "is missing"), not one of "
                    + RayJobInfo.Status.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return RayJobInfo(
            status: status, message: object["message"] as? String ?? "", errorType: object["error_type"] as? String,
            driverExitCode: (object["driver_exit_code"] as? NSNumber)?.intValue, driverNodeID: object["driver_node_id"] as? String)
    }

    /// Everything the job's entrypoint has written so far (stdout and stderr together,
    /// after Ray's own lines).
    public func logs(_ id: String) throws -> String {
        let action = "reading the logs of job '\(id)' from \(address)"
        let reply = try client.request("GET", jobURL(id) + "/logs")
        let object = try Self.object(from: reply, action: action, job: id, address: address)
        guard let logs = object["logs"] as? String else {
            throw RayJobsError.unexpectedReply(action: action, reason: "it has no logs: \(Self.excerpt(reply.text))")
        }
        return logs
    }

    /// Asks Ray to stop the job (SIGTERM to the entrypoint's process group, SIGKILL a few
    /// seconds later); returns whether it was still running.
    @discardableResult
    public func stop(_ id: String) throws -> Bool {
        let action = "stopping job '\(id)' on \(address)"
        let reply = try client.request("POST", jobURL(id) + "/stop")
        let object = try Self.object(from: reply, action: action, job: id, address: address)
        return object["stopped"] as? Bool ?? false
    }

    /// The Ray version serving `address` (e.g. "2.60.0"), or nil if it has no
    /// `/api/version`: a cheap first call that proves the address is a Ray dashboard.
    public func version() throws -> String? {
        let action = "asking \(address) for its Ray version"
        let reply = try client.request("GET", address + "/api/version")
        if reply.status == 404 { return nil }
        let object = try Self.object(from: reply, action: action)
        guard let version = object["ray_version"] as? String else {
            throw RayJobsError.unexpectedReply(action: action, reason: "it has no ray_version: \(Self.excerpt(reply.text))")
        }
        return version
    }

    // MARK: Helpers

    private func jobURL(_ id: String) -> String {
        precondition(!id.isEmpty, "a Ray job ID is not empty")
        return address + "/api/jobs/" + (id.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? id)
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A successful reply's JSON object; a 404 about `job` is `notFound`, any other
    /// failure `refused` with Ray's message.
    private static func object(from reply: HTTPResponse, action: String, job: String? = nil, address: String = "") throws -> [String: Any] {
        if reply.status == 404, let job { throw RayJobsError.notFound(submissionID: job, address: address) }
        guard reply.isSuccess else {
            throw RayJobsError.refused(action: action, status: reply.status, message: rayMessage(reply.text))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] else {
            throw RayJobsError.unexpectedReply(action: action, reason: "it is not a JSON object: \(excerpt(reply.text))")
        }
        return object
    }

    /// The line of a failure reply worth showing: Ray sends a one-line message or a Python
    /// traceback, whose last `SomethingError: ...` line says what went wrong.
    static func rayMessage(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let exception = lines.last { line in
            guard let colon = line.firstIndex(of: ":") else { return false }
            let name = line[..<colon]
            return (name.hasSuffix("Error") || name.hasSuffix("Exception"))
                && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        }
        let chosen = exception ?? lines.last { $0.contains(where: \.isLetter) } ?? "(no message)"
        return excerpt(chosen)
    }

    private static func excerpt(_ text: some StringProtocol) -> String {
        text.count > 500 ? text.prefix(500) + "…" : String(text)
    }
}

/// Where a Ray job stands, from `GET /api/jobs/{id}`.
public struct RayJobInfo: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case pending = "PENDING", running = "RUNNING", stopped = "STOPPED", succeeded = "SUCCEEDED", failed = "FAILED"

        /// Whether the job has ended (it cannot change status again).
        public var isTerminal: Bool { self == .stopped || self == .succeeded || self == .failed }
    }

    public let status: Status
    /// Ray's explanation, e.g. "Job entrypoint command failed with exit code 3, last
    /// available logs ..." (empty if Ray sent none).
    public let message: String
    /// Ray's `error_type` for a failed job: `JOB_ENTRYPOINT_COMMAND_ERROR` (the command
    /// exited non-zero), `JOB_SUPERVISOR_ACTOR_DIED` (its node died, among other causes),
    /// `JOB_SUPERVISOR_ACTOR_START_TIMEOUT` (no node had the resources in time), ...
    public let errorType: String?
    /// The entrypoint's exit code once it has exited by itself.
    public let driverExitCode: Int?
    /// The node running (or that ran) the entrypoint; nil while pending.
    public let driverNodeID: String?

    public init(status: Status, message: String, errorType: String? = nil, driverExitCode: Int? = nil, driverNodeID: String? = nil) {
        self.status = status
        self.message = message
        self.errorType = errorType
        self.driverExitCode = driverExitCode
        self.driverNodeID = driverNodeID
    }

    /// Whether the job failed because the process supervising it died rather than because
    /// its command failed: its node was lost (Ray notices after its health checks, about
    /// 15-20 s) or the supervisor was killed. Submitting it again under a new ID is right.
    public var isNodeLost: Bool { status == .failed && errorType == "JOB_SUPERVISOR_ACTOR_DIED" }
}

/// A reply from Ray's Job Submission API that is not the success asked for.
public enum RayJobsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Ray already has a job with this submission ID.
    case alreadyExists(submissionID: String)
    /// Ray has no job with this submission ID.
    case notFound(submissionID: String, address: String)
    /// Ray answered with a failure status; `message` is its own.
    case refused(action: String, status: Int, message: String)
    /// The reply was not the JSON Ray sends.
    case unexpectedReply(action: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyExists(let id):
            "Ray already has a job with submission ID '\(id)': follow that job, or submit under another ID"
        case .notFound(let id, let address):
            "Ray at \(address) has no job '\(id)': the head may have restarted (it forgets its jobs), or the ID is wrong"
        case .refused(let action, let status, let message):
            "Ray refused \(action) (HTTP \(status)): \(message)"
        case .unexpectedReply(let action, let reason):
            "unexpected reply when \(action): \(reason); is the address the Ray dashboard's (http://HEAD:8265)?"
        }
    }
}
