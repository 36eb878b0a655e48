import Foundation

/// Files written whole or not at all: a temporary file beside the target, flushed to disk,
/// then renamed over it (one step on POSIX file systems), then the folder flushed.
package enum AtomicFile {
    /// The marker in the name of a temporary file (`.metrics.csv.tmp-PID-N`).
    package static let temporaryMarker = ".tmp-"

    /// Writes `data` to `url` atomically.
    package static func write(_ data: Data, to url: URL) throws(RunFolderError) {
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + temporaryMarker + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unwritable(url.path, reason: String(cString: strerror(errno))) }
        var failure = writeAll(data, to: fd)
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(temporary, url.path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw .unwritable(url.path, reason: String(cString: strerror(failure)))
        }
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// Writes all of `data` to the open file `fd`, retrying short and interrupted writes;
    /// returns 0, or the `errno` of the write that failed.
    package static func writeAll(_ data: Data, to fd: Int32) -> Int32 {
        data.withUnsafeBytes { raw -> Int32 in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }

    /// Removes temporary files that a killed writer left in `folder` (call while holding
    /// the folder's lock, so no live writer's file is removed).
    package static func removeLeftovers(in folder: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(".") && name.contains(temporaryMarker) {
            unlink(folder.appendingPathComponent(name).path)
        }
    }
}

/// An advisory lock on a run folder, held from creation until the process ends (the kernel
/// releases it then, even after a kill), so a second writer is refused.
package final class RunFolderLock {
    private let descriptor: Int32

    /// Takes the lock of `folder` (its `.agentlab.lock` file).
    /// - Throws: `RunFolderError.locked` naming the process that holds it.
    package init(_ folder: URL) throws(RunFolderError) {
        let path = folder.appendingPathComponent(".agentlab.lock").path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .unwritable(path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw .locked(folder.path, holder: holder.isEmpty ? "another process" : holder)
        }
        let note = "process \(getpid()) (agentlab \(CommandLine.arguments.dropFirst().joined(separator: " ")))\n"
        ftruncate(descriptor, 0)
        _ = note.withCString { Glibc.write(descriptor, $0, strlen($0)) }
    }

    deinit { close(descriptor) }
}
