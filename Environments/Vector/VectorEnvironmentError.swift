/// What can go wrong when stepping a vector of environments; each message names the copy
/// and says what to do.
public enum VectorEnvironmentError: Error, Equatable, CustomStringConvertible {
    /// `step` was called before the first `reset`.
    case notReset
    /// The action buffer does not hold one action per copy.
    case wrongActionCount(Int, expected: Int)
    /// Copy `copy` was given an action outside `0..<count`. No copy was stepped.
    case invalidAction(copy: Int, action: Int, count: Int)
    /// Copy `copy` was given a continuous action with a NaN or an infinity, or the float
    /// buffer does not hold `width` floats per copy. No copy was stepped.
    case invalidContinuousAction(copy: Int, expected: ActionSpace)
    /// Copy `copy` threw while stepping (with the actions already checked, only an
    /// environment that breaks its contract does). Other copies may have stepped, so the
    /// vector refuses to step again until it is reset.
    case copyFailed(copy: Int, EnvironmentError)

    public var description: String {
        switch self {
        case .notReset:
            return "step called before reset: call reset(seed:) on the vector environment first"
        case .wrongActionCount(let given, let expected):
            return "got \(given) actions for \(expected) environment copies: give exactly one action per copy"
        case .invalidAction(let copy, let action, let count):
            return "copy \(copy): action \(action) is outside the action space: valid actions are 0...\(count - 1)"
        case .invalidContinuousAction(let copy, let expected):
            return copy < 0
                ? "the action buffer must hold \(expected.width) floats per copy for \(expected)"
                : "copy \(copy): its action holds a NaN or an infinity; \(expected) needs finite floats"
        case .copyFailed(let copy, let error):
            return "copy \(copy) failed: \(error); reset the vector environment before stepping again"
        }
    }
}
