import Foundation

/// Writes that never leave a half-written file under the final name: the content goes to
/// a temporary name in the same folder, which is renamed over the final one at the end.
enum AtomicWrite {
    /// A temporary path beside `path`, hidden and unique to this process.
    static func temporaryPath(for path: String, suffix: String = "tmp") -> String {
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent).\(suffix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Calls `write` with a temporary path beside `path`, then renames it to `path`
    /// (replacing a file there). The temporary file is removed if `write` throws.
    /// Refuses a file name that names an existing folder.
    static func refuseFolder(at path: String) throws(ViewerError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .cannotWrite(path: path, reason: "it is a folder; choose a file name")
        }
    }

    static func file(at path: String, _ write: (String) throws -> Void) throws {
        try refuseFolder(at: path)
        let temporary = temporaryPath(for: path)
        do {
            try write(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw ViewerError.cannotWrite(path: path, reason: reason)
        }
    }
}
