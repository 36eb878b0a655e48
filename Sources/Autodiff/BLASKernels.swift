import CBLAS
import Foundation

/// Which kernels OpenBLAS runs, and whether they are far slower than the CPU allows.
///
/// Older OpenBLAS releases (Debian 12 ships 0.3.21) do not recognise some newer CPUs and
/// fall back to their Prescott (SSE3) or generic kernels: sgemm then runs at a fraction of
/// its speed (measured on an AVX-512 Xeon: 23–30 GFLOP/s instead of 173). AgentLab never
/// sets `OPENBLAS_CORETYPE` itself; it tells the user which value to try.
public enum BLASKernels {
    /// The kernels OpenBLAS chose for this CPU (or that `OPENBLAS_CORETYPE` forced).
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// The CPU's feature flags (from /proc/cpuinfo; empty where it cannot be read).
    public static var cpuFlags: Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// One line telling the user that OpenBLAS runs slow kernels on a CPU that has
    /// faster ones, and which `OPENBLAS_CORETYPE` to try; nil when all is well.
    public static func slowKernelWarning(coreName: String = coreName, cpuFlags: Set<String> = cpuFlags) -> String? {
        let core = coreName.lowercased()
        guard core == "prescott" || core == "generic" else { return nil }
        let (feature, suggestion): (String, String)
        if cpuFlags.contains("avx512f") {
            (feature, suggestion) = ("AVX-512", "SkylakeX")
        } else if cpuFlags.contains("avx2") {
            (feature, suggestion) = ("AVX2", "Haswell")
        } else {
            return nil
        }
        return "note: OpenBLAS runs its \(coreName) kernels on a CPU with \(feature), so matrix products may run several "
            + "times slower than they could; try OPENBLAS_CORETYPE=\(suggestion) in the environment"
    }
}
