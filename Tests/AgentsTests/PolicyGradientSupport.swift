import Autodiff
import Environments
import Foundation
import XCTest
@testable import Agents

/// A combination lock of five cells for the policy-gradient smoke tests, observed
/// one-hot: start in cell 0; in cell c the action `key[c]` moves one cell right and the
/// other action sends the agent back to cell 0. Reaching cell 4 pays +1 and terminates;
/// every other step pays −0.1. The best return is 3·(−0.1) + 1 = 0.7, in four steps;
/// wrapped in a 20-step time limit, a policy that never arrives gets −2.
struct LockChain: Environment {
    static let length = 5
    static let bestReturn: Float = 0.7
    static let key = [1, 0, 0, 1]
    var position = 0
    var isOver = true

    var observationSpace: Box { Box(low: 0, high: 1, shape: [Self.length]) }
    var actionSpace: ActionSpace { .discrete(Discrete(2)) }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        position = 0
        isOver = false
        write(into: observation)
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome {
        guard !isOver else { throw .episodeEnded }
        guard (0..<actionSpace.width).contains(action) else { throw .invalidAction(action, count: 2) }
        position = action == Self.key[position] ? position + 1 : 0
        write(into: observation)
        if position == Self.length - 1 {
            isOver = true
            return StepOutcome(reward: 1, isTerminated: true)
        }
        return StepOutcome(reward: -0.1)
    }

    private func write(into observation: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<Self.length { observation[i] = i == position ? 1 : 0 }
    }

    func render() -> Frame { Frame(width: Self.length, height: 1) }

    /// The chain under a 20-step limit.
    static func timeLimited() -> TimeLimit<LockChain> { TimeLimit(LockChain(), maxEpisodeSteps: 20) }
}

/// The undiscounted return of one greedy episode (`choose(for:)`) on a fresh environment.
func greedyReturn(of agent: some Agent, on prototype: some Environment) throws -> Float {
    var environment = prototype
    var observation = environment.reset(seed: 0)
    var total: Float = 0
    while true {
        let action = observation.withUnsafeBufferPointer { agent.choose(for: $0).action }
        let step = try environment.step(action)
        total += step.reward
        observation = step.observation
        if step.isDone { return total }
    }
}

/// The network tensor named `name` (`"value.0.bias"`), or a test failure.
func parameter(_ name: String, of network: ActorCritic, file: StaticString = #filePath, line: UInt = #line) -> Tensor {
    guard let tensor = network.namedParameters.first(where: { $0.name == name })?.tensor else {
        XCTFail("no parameter \(name) in \(network.namedParameters.map(\.name))", file: file, line: line)
        return Tensor.zeros([1])
    }
    return tensor
}

/// Makes a one-input, one-hidden-unit actor-critic's value network compute V(o) = tanh(o),
/// so a test picks V by feeding the observation atanh(V).
func makeValueTanhOfObservation(_ network: ActorCritic) {
    for name in ["value.0.weight", "value.2.weight"] { parameter(name, of: network).assign([1]) }
    for name in ["value.0.bias", "value.2.bias"] { parameter(name, of: network).assign([0]) }
}

/// Asserts two float arrays agree element by element.
func assertElementsEqual(
    _ actual: [Float], _ expected: [Float], accuracy: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(a, e, accuracy: accuracy, "element \(index): \(actual) vs \(expected)", file: file, line: line)
    }
}

/// The logistic function 1/(1 + e^−x): a two-action softmax's probability of the action
/// whose logit leads by x.
func logistic(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
