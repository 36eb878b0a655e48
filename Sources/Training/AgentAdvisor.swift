import Agents
import Viewer

/// A trained agent as the viewer's advisor: its greedy choice each step, with the scores
/// the panel shows (probabilities, Q-values, or a Gaussian's mean and spread).
public struct AgentAdvisor: ActionAdvisor {
    /// The agent whose choices are shown.
    public let agent: any Agent

    /// An advisor for `agent`.
    public init(agent: any Agent) { self.agent = agent }

    public mutating func advise(_ observation: [Float]) -> Advice {
        let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0) }
        switch choice.kind {
        case .gaussian, .deterministic: return Advice(continuous: choice.values, spreads: choice.spreads)
        case .probabilities: return Advice(action: choice.action, scores: choice.scores, kind: .probabilities)
        case .values: return Advice(action: choice.action, scores: choice.scores, kind: .values)
        }
    }
}
