#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the learning rate moves over a run, as a factor of the configured rate at each
/// point of training progress p (0 at the start, 1 at the end).
///
/// An optional linear warm-up climbs from `warmupStart` to 1 over the first `warmup`
/// fraction of the run; the schedule's `kind` then runs over what is left, with
/// q = (p − warmup) / (1 − warmup):
///
/// | kind | factor | PyTorch equivalent over K updates |
/// |---|---|---|
/// | `constant` | 1 | none |
/// | `linear` | 1 + (final − 1)·q | `LinearLR(1, final, K)` |
/// | `step` | γ^⌊q / interval⌋ | `StepLR(interval·K, γ)` |
/// | `exponential` | final^q | `ExponentialLR(final^(1/K))` |
/// | `cosine` | final + (1 − final)·(1 + cos πq)/2 | `CosineAnnealingLR(K, final)` (closed form) |
///
/// with warm-up, PyTorch's `SequentialLR([LinearLR(warmupStart, 1, W), …], [W])`.
public struct LearningRateSchedule: Equatable, Sendable, Codable {
    public enum Kind: String, Equatable, Sendable, Codable, CaseIterable {
        case constant, linear, step, exponential, cosine
    }

    public var kind: Kind
    /// The factor reached at the end of the run (`linear`, `exponential`, `cosine`).
    public var finalFactor: Double
    /// The fraction of the run between two decays (`step`).
    public var interval: Double
    /// The factor applied at each decay (`step`).
    public var gamma: Double
    /// The fraction of the run spent warming up (0: no warm-up).
    public var warmup: Double
    /// The factor the warm-up starts from.
    public var warmupStart: Double

    public init(kind: Kind = .constant, finalFactor: Double = 0, interval: Double = 0.25, gamma: Double = 0.5,
                warmup: Double = 0, warmupStart: Double = 0) {
        self.kind = kind
        self.finalFactor = finalFactor
        self.interval = interval
        self.gamma = gamma
        self.warmup = warmup
        self.warmupStart = warmupStart
    }

    enum CodingKeys: String, CodingKey {
        case kind, finalFactor = "final_factor", interval, gamma, warmup, warmupStart = "warmup_start"
    }

    /// Every key may be left out of a configuration: the defaults above fill it in.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = LearningRateSchedule()
        kind = try container.decodeIfPresent(Kind.self, forKey: .kind) ?? defaults.kind
        finalFactor = try container.decodeIfPresent(Double.self, forKey: .finalFactor) ?? defaults.finalFactor
        interval = try container.decodeIfPresent(Double.self, forKey: .interval) ?? defaults.interval
        gamma = try container.decodeIfPresent(Double.self, forKey: .gamma) ?? defaults.gamma
        warmup = try container.decodeIfPresent(Double.self, forKey: .warmup) ?? defaults.warmup
        warmupStart = try container.decodeIfPresent(Double.self, forKey: .warmupStart) ?? defaults.warmupStart
    }

    /// Why the settings cannot be used, naming the key under `prefix`; nil when they can.
    public func problem(prefix: String) -> String? {
        func bad(_ key: String, _ value: Double, _ range: String) -> String {
            "\(prefix).\(key) must be in \(range), got \(value)"
        }
        guard finalFactor.isFinite, (0...1).contains(finalFactor) else { return bad("final_factor", finalFactor, "[0, 1]") }
        guard interval.isFinite, interval > 0, interval <= 1 else { return bad("interval", interval, "(0, 1]") }
        guard gamma.isFinite, gamma > 0, gamma <= 1 else { return bad("gamma", gamma, "(0, 1]") }
        guard warmup.isFinite, warmup >= 0, warmup < 1 else { return bad("warmup", warmup, "[0, 1)") }
        guard warmupStart.isFinite, (0...1).contains(warmupStart) else { return bad("warmup_start", warmupStart, "[0, 1]") }
        if kind == .exponential, finalFactor == 0 {
            return "\(prefix).final_factor must be above 0 for an exponential schedule (the rate never reaches 0), got 0"
        }
        return nil
    }

    /// The factor of the configured rate at progress `p` (clamped to [0, 1]).
    public func factor(atProgress p: Double) -> Double {
        let p = min(max(p, 0), 1)
        if p < warmup { return warmupStart + (1 - warmupStart) * p / warmup }
        let q = warmup > 0 ? (p - warmup) / (1 - warmup) : p
        switch kind {
        case .constant: return 1
        case .linear: return 1 + (finalFactor - 1) * q
        case .step:
            // The small allowance keeps q = k·interval, computed with rounding, on its step.
            return pow(gamma, (q / interval + 1e-9).rounded(.down))
        case .exponential: return pow(finalFactor, q)
        case .cosine: return finalFactor + (1 - finalFactor) * (1 + cos(Double.pi * q)) / 2
        }
    }
}
