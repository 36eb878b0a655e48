/// What can go wrong when using an environment; each message says what to do.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    /// `step` was called before the first `reset`.
    case notReset
    /// `step` was called after the episode terminated or was truncated.
    case episodeEnded
    /// An action outside `0..<count`.
    case invalidAction(Int, count: Int)
    /// A discrete action for a continuous environment or the other way round, or a
    /// continuous action of the wrong size or with a NaN.
    case wrongActionKind(expected: ActionSpace)
    /// An id that the registry does not know.
    case unknownID(String, known: [String])
    /// A map, option or file that could not be used.
    case invalidConfiguration(String)
    /// An environment outside this process failed (a Gymnasium worker): the message says
    /// which, where and what to do.
    case external(String)

    public var description: String {
        switch self {
        case .notReset:
            return "step called before reset: call reset(seed:) to start an episode"
        case .episodeEnded:
            return "step called after the episode ended: call reset() to start a new one"
        case .invalidAction(let action, let count):
            return "action \(action) is outside the action space: valid actions are 0...\(count - 1)"
        case .wrongActionKind(let expected):
            return expected.isContinuous
                ? "the action must be \(expected.width) finite float\(expected.width == 1 ? "" : "s") for \(expected)"
                : "the action must be a whole number for \(expected)"
        case .unknownID(let id, let known):
            return "unknown environment id '\(id)'; known ids: \(known.joined(separator: ", ")), or gymnasium:ID for any Gymnasium environment (run in Python)"
        case .invalidConfiguration(let message), .external(let message):
            return message
        }
    }
}
