import Agents
import Viewer

/// A trained agent as the viewer's advisor: its greedy choice each step, with the scores
/// the panel shows (probabilities, Q-values, or a Gaussian's mean and spread). An agent
/// with memory carries it from step to step and starts afresh with each episode.
public struct AgentAdvisor: ActionAdvisor {
    /// The agent whose choices are shown.
    public let agent: any Agent
    /// The episode's memory (nil for an agent without one).
    private var memory: AgentMemory?

    /// An advisor for `agent`.
    public init(agent: any Agent) {
        self.agent = agent
        memory = agent.makeMemory()
    }

    public mutating func episodeDidStart() {
        memory = agent.makeMemory()
    }

    /// |∂ score / ∂ observation| for the action the agent would choose (its logit or
    /// Q-value; the sum of a continuous policy's outputs), through the agent's network
    /// (`PolicyNetwork.saliency`); nil for an agent with memory.
    public func saliency(of observation: [Float]) -> [Float]? {
        agent.policyNetwork?.saliency(for: observation)
    }

    public mutating func advise(_ observation: [Float]) -> Advice {
        let choice = observation.withUnsafeBufferPointer { agent.choose(for: $0, memory: &memory) }
        switch choice.kind {
        case .gaussian, .deterministic: return Advice(continuous: choice.values, spreads: choice.spreads)
        case .probabilities: return Advice(action: choice.action, scores: choice.scores, kind: .probabilities)
        case .values: return Advice(action: choice.action, scores: choice.scores, kind: .values)
        }
    }
}
