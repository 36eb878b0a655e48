import SeededRandom
import XCTest
@testable import Sweeps

final class SearchTests: XCTestCase {
    let space = SearchSpace([
        Parameter(key: "ppo.learning_rate", domain: .logUniform(1e-5...1e-1)),
        Parameter(key: "ppo.clip", domain: .uniform(0.1...0.3)),
        Parameter(key: "ppo.epochs", domain: .integer(1...10)),
        Parameter(key: "ppo.activation", domain: .choice([.string("tanh"), .string("relu")])),
    ])

    func testGridEnumeratesEveryCombinationOnceLastKeyFastest() {
        let grid = SearchSpace([
            Parameter(key: "b", domain: .choice([.int(1), .int(2), .int(3)])),
            Parameter(key: "a", domain: .choice([.string("x"), .string("y")])),
            Parameter(key: "c", domain: .integer(0...1)),
        ])
        XCTAssertEqual(grid.keys, ["a", "b", "c"], "keys are sorted, so YAML order does not matter")
        XCTAssertEqual(grid.gridSize, 12)
        let all = grid.grid()!
        XCTAssertEqual(all.count, 12)
        XCTAssertEqual(Set(all).count, 12, "no combination twice")
        XCTAssertEqual(all[0], [.string("x"), .int(1), .int(0)])
        XCTAssertEqual(all[1], [.string("x"), .int(1), .int(1)])
        XCTAssertEqual(all[2], [.string("x"), .int(2), .int(0)])
        XCTAssertEqual(all[11], [.string("y"), .int(3), .int(1)])
        let search = Search(space: grid, method: .grid, seed: 0)
        XCTAssertEqual((0..<12).map { search.propose(index: $0, observations: []) }, all)
        XCTAssertNil(space.grid(), "a continuous range has no grid")
    }

    func testRandomProposalsAreReproducibleAndInsideTheirDomains() {
        let a = Search(space: space, method: .random, seed: 7), b = Search(space: space, method: .random, seed: 7)
        let other = Search(space: space, method: .random, seed: 8)
        var logRates: [Double] = []
        for k in 0..<500 {
            let proposal = a.propose(index: k, observations: [])
            XCTAssertEqual(proposal, b.propose(index: k, observations: []))
            for (parameter, value) in zip(space.parameters, proposal) {
                XCTAssertTrue(parameter.domain.contains(value), "\(parameter.key) = \(value)")
            }
            logRates.append(log10(proposal[space.keys.firstIndex(of: "ppo.learning_rate")!].number!))
        }
        XCTAssertNotEqual(a.propose(index: 0, observations: []), other.propose(index: 0, observations: []))
        // Log-uniform: each decade of [1e-5, 1e-1] gets about a quarter of the draws.
        for decade in -5 ..< -1 {
            let share = Double(logRates.filter { $0 >= Double(decade) && $0 < Double(decade + 1) }.count) / 500
            XCTAssertEqual(share, 0.25, accuracy: 0.06, "decade 1e\(decade)")
        }
    }

    func testTPEProposalsAreReproducibleAndInsideTheirDomains() {
        let search = Search(space: space, method: .tpe, seed: 3, startupCount: 5)
        var observations: [Observation] = []
        for k in 0..<40 {
            let proposal = search.propose(index: k, observations: observations)
            XCTAssertEqual(proposal, search.propose(index: k, observations: observations))
            for (parameter, value) in zip(space.parameters, proposal) {
                XCTAssertTrue(parameter.domain.contains(value), "\(parameter.key) = \(value) at \(k)")
            }
            observations.append(Observation(assignment: proposal, score: toyScore(proposal, keys: space.keys)))
        }
    }

    /// A scripted trial: best at learning rate 1e-3, clip 0.2, 4 epochs and relu.
    func toyScore(_ a: Assignment, keys: [String]) -> Double {
        func value(_ key: String) -> SweepValue { a[keys.firstIndex(of: key)!] }
        let lr = log10(value("ppo.learning_rate").number!) + 3
        let clip = (value("ppo.clip").number! - 0.2) * 10
        let epochs = (value("ppo.epochs").number! - 4) / 3
        return -(lr * lr) - clip * clip - epochs * epochs + (value("ppo.activation") == .string("relu") ? 1 : 0)
    }

    func testTPEFindsBetterConfigurationsThanRandomSearchOnAverage() {
        var tpeBest: [Double] = [], randomBest: [Double] = []
        for seed in 0..<20 {
            for method in [SearchMethod.tpe, .random] {
                let search = Search(space: space, method: method, seed: UInt64(seed), startupCount: 8)
                var observations: [Observation] = []
                for k in 0..<40 {
                    let proposal = search.propose(index: k, observations: observations)
                    observations.append(Observation(assignment: proposal, score: toyScore(proposal, keys: space.keys)))
                }
                let best = observations.map(\.score).max()!
                if method == .tpe { tpeBest.append(best) } else { randomBest.append(best) }
            }
        }
        let tpe = tpeBest.reduce(0, +) / 20, random = randomBest.reduce(0, +) / 20
        XCTAssertGreaterThan(tpe, random, "TPE \(tpe) against random \(random)")
        XCTAssertGreaterThan(zip(tpeBest, randomBest).filter { $0 > $1 }.count, 12, "TPE wins on most seeds")
    }

    func testParzenEstimatorPrefersObservedValues() {
        var generator = SeededGenerator(seed: 1)
        let l = ParzenEstimator(.uniform(0...1), observed: [.double(0.2), .double(0.25)])
        XCTAssertGreaterThan(l.logDensity(.double(0.22)), l.logDensity(.double(0.9)))
        // A density over [0, 1]: it integrates to 1.
        let integral = stride(from: 0.0005, to: 1, by: 0.001).map { exp(l.logDensity(.double($0))) * 0.001 }.reduce(0, +)
        XCTAssertEqual(integral, 1, accuracy: 0.01)
        for _ in 0..<1000 { XCTAssertTrue(Domain.uniform(0...1).contains(l.sample(generator: &generator))) }
        // Whole numbers: probabilities of 1...4 add up to 1.
        let n = ParzenEstimator(.integer(1...4), observed: [.int(2)])
        XCTAssertEqual((1...4).map { exp(n.logDensity(.int($0))) }.reduce(0, +), 1, accuracy: 1e-9)
        // Lists: counts plus one.
        let c = ParzenEstimator(.choice([.string("a"), .string("b")]), observed: [.string("b"), .string("b")])
        XCTAssertEqual(exp(c.logDensity(.string("b"))), 3.0 / 4, accuracy: 1e-12)
    }
}
