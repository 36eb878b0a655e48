import Foundation
import SeededRandom

/// How a sweep proposes configurations.
public enum SearchMethod: String, Sendable, CaseIterable {
    /// Every combination of the listed values.
    case grid
    /// Independent draws from each domain.
    case random
    /// The Tree-structured Parzen Estimator (Bergstra et al., 2011): random draws at first,
    /// then draws that a density of the best configurations favours over one of the rest.
    case tpe
}

/// A configuration's score so far, as the search sees it: its assignment and the mean
/// objective over its finished seeds (higher is better).
public struct Observation: Equatable, Sendable {
    public let assignment: Assignment
    public let score: Double
    public init(assignment: Assignment, score: Double) {
        self.assignment = assignment
        self.score = score
    }
}

/// Proposes configuration number `index` of a sweep. A proposal depends only on the sweep's
/// seed, the index and the observations it is given, never on timing, so the same spec,
/// seed and results give the same proposals on any machine.
public struct Search: Sendable {
    public let space: SearchSpace
    public let method: SearchMethod
    public let seed: UInt64
    /// TPE's random proposals before it models anything.
    public let startupCount: Int
    /// TPE's candidates drawn from the good density per proposal.
    public let candidateCount = 24

    public init(space: SearchSpace, method: SearchMethod, seed: UInt64, startupCount: Int = 10) {
        self.space = space
        self.method = method
        self.seed = seed
        self.startupCount = startupCount
    }

    /// Configuration `index`. Grid: the `index`-th combination; random: independent draws
    /// from the generator of stream `index`; TPE: a random draw while fewer than
    /// `startupCount` observations exist, then the best of `candidateCount` candidates by
    /// the ratio of the good to the bad density.
    public func propose(index: Int, observations: [Observation]) -> Assignment {
        var generator = SeededGenerator(seed: seed, stream: UInt64(index))
        switch method {
        case .grid:
            return space.grid()![index]
        case .random:
            return space.parameters.map { Self.draw($0.domain, generator: &generator) }
        case .tpe:
            guard observations.count >= max(startupCount, 2) else {
                return space.parameters.map { Self.draw($0.domain, generator: &generator) }
            }
            let ranked = observations.enumerated().sorted {
                $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset
            }.map(\.element)
            let goodCount = Self.goodCount(of: ranked.count)
            let good = Array(ranked.prefix(goodCount)), bad = Array(ranked.dropFirst(goodCount))
            return space.parameters.enumerated().map { position, parameter in
                let l = ParzenEstimator(parameter.domain, observed: good.map { $0.assignment[position] })
                let g = ParzenEstimator(parameter.domain, observed: bad.map { $0.assignment[position] })
                var best: SweepValue? = nil, bestScore = -Double.infinity
                for _ in 0..<candidateCount {
                    let candidate = l.sample(generator: &generator)
                    let score = l.logDensity(candidate) - g.logDensity(candidate)
                    if score > bestScore { best = candidate; bestScore = score }
                }
                return best ?? l.sample(generator: &generator)
            }
        }
    }

    /// How many of `n` ranked observations count as good: a tenth (rounded up), at most 25
    /// (Optuna's default split; a quarter left too many near-best points in the bad density,
    /// which then pushed proposals away from the best region: measured worse than random).
    static func goodCount(of n: Int) -> Int {
        min(25, max(1, Int((Double(n) / 10).rounded(.up))))
    }

    /// A value drawn evenly from `domain` (log-evenly for a log-uniform one).
    static func draw(_ domain: Domain, generator: inout SeededGenerator) -> SweepValue {
        switch domain {
        case .uniform(let r): .double(generator.uniform(r.lowerBound, r.upperBound))
        case .logUniform(let r): .double(clamp(exp(generator.uniform(log(r.lowerBound), log(r.upperBound))), r))
        case .integer(let r): .int(r.lowerBound + generator.int(below: r.count))
        case .choice(let values): values[generator.int(below: values.count)]
        }
    }

    static func clamp(_ x: Double, _ range: ClosedRange<Double>) -> Double {
        min(max(x, range.lowerBound), range.upperBound)
    }
}

/// A density over one domain built from observed values: for a range, a mixture of a
/// wide prior kernel and one Gaussian kernel per observation (truncated to the range, in
/// log space for log-uniform domains, widths from the spacing of neighbours); for a list,
/// the counts of each value plus one.
struct ParzenEstimator {
    private enum Kind {
        case continuous(low: Double, high: Double, centres: [Double], widths: [Double], integer: Bool, logScale: Bool)
        case categorical(values: [SweepValue], weights: [Double])
    }
    private let kind: Kind

    init(_ domain: Domain, observed: [SweepValue]) {
        switch domain {
        case .choice(let values):
            var weights = [Double](repeating: 1, count: values.count)
            for value in observed { if let i = values.firstIndex(of: value) { weights[i] += 1 } }
            kind = .categorical(values: values, weights: weights)
        case .uniform(let r), .logUniform(let r):
            let logScale = if case .logUniform = domain { true } else { false }
            let t: (Double) -> Double = logScale ? { log($0) } : { $0 }
            kind = Self.continuous(low: t(r.lowerBound), high: t(r.upperBound),
                                   points: observed.compactMap { $0.number.map(t) }, integer: false, logScale: logScale)
        case .integer(let r):
            kind = Self.continuous(low: Double(r.lowerBound) - 0.5, high: Double(r.upperBound) + 0.5,
                                   points: observed.compactMap(\.number), integer: true, logScale: false)
        }
    }

    /// The prior kernel sits at the range's centre with the range's width; each observation's
    /// kernel is as wide as the larger gap to its neighbours, kept between a hundredth of the
    /// range (so it never collapses) and the whole range.
    private static func continuous(low: Double, high: Double, points: [Double], integer: Bool, logScale: Bool) -> Kind {
        let span = max(high - low, 1e-12)
        let sorted = points.sorted()
        var centres = [(low + high) / 2], widths = [span]
        for (i, x) in sorted.enumerated() {
            let left = i > 0 ? x - sorted[i - 1] : x - low
            let right = i + 1 < sorted.count ? sorted[i + 1] - x : high - x
            centres.append(x)
            widths.append(min(span, max(span / 100, max(left, right))))
        }
        return .continuous(low: low, high: high, centres: centres, widths: widths, integer: integer, logScale: logScale)
    }

    /// A draw: pick a kernel evenly, then a point from it inside the range (by rejection,
    /// falling back to clamping after 100 tries).
    func sample(generator: inout SeededGenerator) -> SweepValue {
        switch kind {
        case .categorical(let values, let weights):
            var u = generator.uniform() * weights.reduce(0, +)
            for (i, w) in weights.enumerated() {
                u -= w
                if u < 0 { return values[i] }
            }
            return values[values.count - 1]
        case .continuous(let low, let high, let centres, let widths, let integer, let logScale):
            let k = generator.int(below: centres.count)
            var x = centres[k]
            for _ in 0..<100 {
                x = centres[k] + widths[k] * generator.normal()
                if x >= low && x <= high { break }
                x = min(max(x, low), high)
            }
            if integer { return .int(Int(x.rounded()).clamped(Int(low + 0.5), Int(high - 0.5))) }
            return .double(logScale ? Search.clamp(exp(x), exp(low)...exp(high)) : x)
        }
    }

    /// The log of the density at `value` (for a list, the log of its probability).
    func logDensity(_ value: SweepValue) -> Double {
        switch kind {
        case .categorical(let values, let weights):
            guard let i = values.firstIndex(of: value) else { return -.infinity }
            return log(weights[i] / weights.reduce(0, +))
        case .continuous(let low, let high, let centres, let widths, let integer, let logScale):
            guard var x = value.number else { return -.infinity }
            if logScale { x = log(x) }
            var total = 0.0
            for (c, w) in zip(centres, widths) {
                let mass = normalCDF((high - c) / w) - normalCDF((low - c) / w)
                guard mass > 0 else { continue }
                if integer {
                    // The kernel's probability of the whole number x.
                    total += (normalCDF((x + 0.5 - c) / w) - normalCDF((x - 0.5 - c) / w)) / mass
                } else {
                    let z = (x - c) / w
                    total += exp(-0.5 * z * z) / (w * (2 * Double.pi).squareRoot()) / mass
                }
            }
            return log(total / Double(centres.count))
        }
    }

    private func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
