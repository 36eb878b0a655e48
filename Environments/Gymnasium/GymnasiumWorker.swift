#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// One Python process running the module `agentlab_gymnasium` (python/agentlab_gymnasium in
/// the repository, embedded in the binary) and hosting `copies` copies of one Gymnasium
/// environment. It speaks the binary protocol of docs/gymnasium-bridge.md over two pipes:
/// requests on the worker's descriptor 3, replies on its descriptor 4.
///
/// Every failure is a `GymnasiumError` naming the environment and saying what to do: no
/// interpreter, no `gymnasium` package, an unknown id, an unsupported space, an exception in
/// the environment, a worker that died or stopped answering. After one, the worker is
/// killed and every later request fails with the same error. No worker outlives the
/// process: each is killed at exit, asks the kernel to kill it when its parent dies, and
/// exits when its request pipe closes.
final class GymnasiumWorker: @unchecked Sendable {  // used by one thread at a time
    /// The id after `gymnasium:`.
    let id: String
    let copies: Int
    /// Whether the environments were made with `render_mode="rgb_array"`.
    let rendersFrames: Bool
    /// What the worker said the environment is.
    let description: GymnasiumDescription
    private let process: pid_t
    private let requests: Int32
    private let replies: Int32
    private let timeout: Double
    /// The error that ended the worker, repeated by every later request.
    private(set) var failure: GymnasiumError?
    private var isClosed = false
    /// Reused storage for replies (a step's reply is read into it without allocating).
    private var replyBuffer = [UInt8](repeating: 0, count: 4096)

    /// Starts the worker and makes the environment; `render` asks for `rgb_array` frames.
    /// Its messages number copies from `firstCopy` (its block's place in a vector).
    init(id: String, copies: Int, firstCopy: Int = 0, render: Bool) throws(GymnasiumError) {
        precondition(copies > 0, "a worker hosts at least one copy")
        self.id = id
        self.copies = copies
        rendersFrames = render
        timeout = GymnasiumBridge.replyTimeout
        (process, requests, replies) = try GymnasiumWorker.spawn(id: id)
        var make = GymnasiumMessage(opcode: .make)
        make.append(UInt32(copies))
        make.append(UInt32(firstCopy))
        make.append(UInt8(render ? 1 : 0))
        make.append(string: id)
        do {
            try Self.send(make.bytes, to: requests, process: process, id: id)
            var reply = [UInt8]()
            let count = try Self.receive(into: &reply, from: replies, process: process, id: id,
                                         timeout: max(timeout, GymnasiumBridge.startTimeout))
            var reader = GymnasiumReader(reply[0..<count], id: id)
            description = try GymnasiumDescription(reading: &reader, id: id)
        } catch {
            Self.terminate(process, requests: requests, replies: replies)
            throw error
        }
    }

    deinit { close() }

    /// Sends `request` and returns the reply's payload (status byte stripped), valid until
    /// the next reply. An error reply, a dead worker or a timeout kills the worker and is
    /// thrown (then and on every later call).
    func exchange(_ request: [UInt8]) throws(GymnasiumError) -> ArraySlice<UInt8> {
        try send(request)
        return try receiveReply()
    }

    /// The first half of `exchange`: lets a vector send to every worker before reading any.
    func send(_ request: [UInt8]) throws(GymnasiumError) {
        if let failure { throw failure }
        do {
            try Self.send(request, to: requests, process: process, id: id)
        } catch {
            fail(error)
            throw error
        }
    }

    /// The second half of `exchange`.
    func receiveReply() throws(GymnasiumError) -> ArraySlice<UInt8> {
        if let failure { throw failure }
        do {
            let count = try Self.receive(into: &replyBuffer, from: replies, process: process, id: id, timeout: timeout)
            return replyBuffer[0..<count]
        } catch {
            fail(error)
            throw error
        }
    }

    /// Asks the worker to exit, then makes sure it did.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        if failure == nil {
            try? Self.send(GymnasiumMessage(opcode: .close).bytes, to: requests, process: process, id: id)
        }
        Self.terminate(process, requests: requests, replies: replies, grace: failure == nil)
    }

    private func fail(_ error: GymnasiumError) {
        failure = error
        isClosed = true
        Self.terminate(process, requests: requests, replies: replies)
    }

    // MARK: Processes

    /// The processes started and not yet reaped, killed at exit.
    private static let living = Mutex<Set<pid_t>>([])
    private static let setUp: Void = {
        // A worker that dies must give an error on write, not end this process.
        signal(SIGPIPE, SIG_IGN)
        atexit {
            let pids = GymnasiumWorker.living.withLock { $0 }
            for pid in pids { kill(pid, SIGKILL) }
            for pid in pids { var status: Int32 = 0; waitpid(pid, &status, 0) }
        }
    }()

    private static func spawn(id: String) throws(GymnasiumError) -> (pid_t, requests: Int32, replies: Int32) {
        _ = setUp
        let python = try GymnasiumBridge.interpreter()
        let modulePath = try GymnasiumBridge.moduleDirectory()
        // Pipes at descriptors ≥ 10, close-on-exec, so the child's 3 and 4 are only what we
        // put there.
        func pipePair() throws(GymnasiumError) -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw .spawn(id: id, reason: "no pipe: \(errorText())") }
            let high = fds.map { fcntl($0, F_DUPFD_CLOEXEC, 10) }
            Glibc.close(fds[0]); Glibc.close(fds[1])
            guard high.allSatisfy({ $0 >= 0 }) else { throw .spawn(id: id, reason: "no pipe: \(errorText())") }
            return (high[0], high[1])
        }
        let request = try pipePair()
        let reply: (read: Int32, write: Int32)
        do { reply = try pipePair() } catch { Glibc.close(request.read); Glibc.close(request.write); throw error }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)  // print() in an environment goes to stderr
        posix_spawn_file_actions_adddup2(&actions, request.read, 3)
        posix_spawn_file_actions_adddup2(&actions, reply.write, 4)

        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = [modulePath, environment["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
        let arguments = [python, "-m", "agentlab_gymnasium", "--parent-pid", String(getpid())]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0, status: Int32 = 0
        SpawningThread.shared.perform {
            living.withLock { set in
                status = posix_spawn(&pid, python, &actions, nil, argv, envp)
                if status == 0 { set.insert(pid) }
            }
        }
        Glibc.close(request.read)
        Glibc.close(reply.write)
        guard status == 0 else {
            Glibc.close(request.write); Glibc.close(reply.read)
            throw .spawn(id: id, reason: "\(python) could not be started: \(String(cString: strerror(status)))")
        }
        return (pid, request.write, reply.read)
    }

    /// Closes the pipes, gives the worker a moment to exit when `grace`, then kills it and
    /// reaps it.
    private static func terminate(_ pid: pid_t, requests: Int32, replies: Int32, grace: Bool = false) {
        Glibc.close(requests)
        Glibc.close(replies)
        guard living.withLock({ $0.contains(pid) }) else { return }  // already reaped
        var status: Int32 = 0
        if grace {
            for _ in 0..<100 {  // up to a second
                if waitpid(pid, &status, WNOHANG) == pid { living.withLock { _ = $0.remove(pid) }; return }
                usleep(10_000)
            }
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        living.withLock { _ = $0.remove(pid) }
    }

    // MARK: Frames

    private static func send(_ bytes: [UInt8], to fd: Int32, process: pid_t, id: String) throws(GymnasiumError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .died(id: id, detail: exitDescription(of: process))
            }
            written += n
        }
    }

    /// Reads one reply frame into `buffer` (grown as needed) and returns the payload length
    /// after the status byte, which is removed; an error reply is thrown.
    private static func receive(
        into buffer: inout [UInt8], from fd: Int32, process: pid_t, id: String, timeout: Double
    ) throws(GymnasiumError) -> Int {
        let deadline = monotonicSeconds() + timeout
        var header = [UInt8](repeating: 0, count: 4)
        try readExactly(into: &header, count: 4, from: fd, deadline: deadline, process: process, id: id, timeout: timeout)
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard length >= 1, length <= GymnasiumBridge.maximumReplyBytes else {
            throw .protocolViolation(id: id, detail: "a reply of \(length) bytes")
        }
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
        try readExactly(into: &buffer, count: length, from: fd, deadline: deadline, process: process, id: id,
                        timeout: timeout)
        let status = buffer[0]
        guard status == 0 else {
            let message = String(decoding: buffer[1..<length], as: UTF8.self)
            throw status == 1 ? .environment(id: id, message: message)
                : .protocolViolation(id: id, detail: "reply status \(status)")
        }
        buffer.withUnsafeMutableBytes { raw in
            _ = memmove(raw.baseAddress!, raw.baseAddress! + 1, length - 1)
        }
        return length - 1
    }

    private static func readExactly(
        into buffer: inout [UInt8], count: Int, from fd: Int32, deadline: Double, process: pid_t, id: String,
        timeout: Double
    ) throws(GymnasiumError) {
        var filled = 0
        while filled < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { throw .timedOut(id: id, seconds: timeout) }
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .died(id: id, detail: "poll failed: \(errorText())")
            }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .died(id: id, detail: exitDescription(of: process))
            }
            if n == 0 { throw .died(id: id, detail: exitDescription(of: process)) }
            filled += n
        }
    }

    /// How the worker ended, once its pipe closed ("exit status 1", "killed by signal 9").
    private static func exitDescription(of pid: pid_t) -> String {
        var status: Int32 = 0
        for _ in 0..<50 {  // the pipe closes just before the process ends
            if waitpid(pid, &status, WNOHANG) == pid {
                living.withLock { _ = $0.remove(pid) }
                let signal = status & 0x7f
                return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(signal)"
            }
            usleep(10_000)
        }
        return "its pipe closed"
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// The thread every worker is started from, alive as long as the process. Linux sends a
/// child its parent-death signal when the *thread* that started it ends, so a worker
/// started from a pool thread that later exits would be killed with it.
private final class SpawningThread: @unchecked Sendable {  // state guarded by `condition`
    static let shared = SpawningThread()
    private let callers = NSLock()
    private let condition = NSCondition()
    private var job: (() -> Void)?
    private var isFinished = false

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "agentlab-gymnasium-spawner"
        thread.start()
    }

    /// Runs `body` on the spawning thread and returns when it is done.
    func perform(_ body: @escaping () -> Void) {
        callers.lock()
        defer { callers.unlock() }
        condition.lock()
        job = body
        isFinished = false
        condition.broadcast()
        while !isFinished { condition.wait() }
        condition.unlock()
    }

    private func serve() {
        condition.lock()
        while true {
            while job == nil { condition.wait() }
            let body = job!
            job = nil
            condition.unlock()
            body()
            condition.lock()
            isFinished = true
            condition.broadcast()
        }
    }
}

private func errorText() -> String { String(cString: strerror(errno)) }
