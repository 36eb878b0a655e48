import Foundation
import Training

/// Where a command writes a report (`eval --json`, `--junit`): `-` is standard output; a
/// device or a pipe is written through, never replaced; a symbolic link is followed and its
/// target written; anything else is replaced atomically. Failures are usage errors (exit 2)
/// naming the option and the path.
struct OutputFile {
    let option: String
    let path: String
    /// The file actually written: `path` with symbolic links followed.
    private let target: String
    private let kind: Kind

    private enum Kind { case standardOutput, device, file }

    /// Checks `path` before any work is done: it must be writable as it will be written.
    init(option: String, path: String) throws {
        self.option = option
        self.path = path
        guard !path.isEmpty else { throw UsageError("\(option) needs a path (or - for standard output)") }
        if path == "-" {
            (target, kind) = (path, .standardOutput)
            return
        }
        var resolved = path
        for _ in 0..<16 {
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: resolved) else { break }
            resolved = link.hasPrefix("/") ? link
                : URL(fileURLWithPath: resolved).deletingLastPathComponent().appendingPathComponent(link).path
        }
        target = resolved
        var status = stat()
        if stat(resolved, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFDIR: throw UsageError("\(option) \(path) is a folder; name a file")
            case S_IFREG: kind = .file
            default: kind = .device
            }
            guard access(resolved, W_OK) == 0 else {
                throw UsageError("\(option) \(path) is not writable: \(String(cString: strerror(errno)))")
            }
        } else {
            kind = .file
            let folder = URL(fileURLWithPath: resolved).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw UsageError("\(option) \(path): the folder \(folder) does not exist; create it first")
            }
            guard access(folder, W_OK) == 0 else {
                throw UsageError("\(option) \(path): the folder \(folder) is not writable")
            }
        }
    }

    /// Writes `data` whole.
    func write(_ data: Data) throws {
        switch kind {
        case .standardOutput:
            FileHandle.standardOutput.write(data)
        case .device:
            let fd = open(target, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw UsageError("cannot write \(option) \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let failure = AtomicFile.writeAll(data, to: fd)
            guard failure == 0 else { throw UsageError("cannot write \(option) \(path): \(String(cString: strerror(failure)))") }
        case .file:
            do {
                try AtomicFile.write(data, to: URL(fileURLWithPath: target))
            } catch {
                throw UsageError("cannot write \(option) \(path): \(error.description)")
            }
        }
    }
}
