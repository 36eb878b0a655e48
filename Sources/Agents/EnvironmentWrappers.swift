import Environments

/// The wrappers a run puts around its environments, set in a configuration's `wrappers:`
/// section (and by presets):
///
/// ```yaml
/// wrappers:
///   clip_actions: false           # ClipAction: continuous actions clipped to the bounds
///   rescale_actions: false        # RescaleAction: the policy acts in [-1, 1] per dimension
///   normalize_observations: false # VecNormalize's observation half, shared by all copies
///   normalize_rewards: false      # VecNormalize's reward half (scaled by the return's spread)
///   observation_clip: 10
///   reward_clip: 10
///   reward_gamma: 0.99            # the discount of the returns that scale rewards
/// ```
///
/// Normalisation statistics are saved in checkpoints; evaluation, `watch` and `record`
/// apply the saved observation statistics frozen, and report raw rewards.
public struct EnvironmentWrappers: Codable, Equatable, Sendable {
    /// Clip continuous actions to the action space's bounds before the environment sees them.
    public var clipActions = false
    /// Present bounded continuous actions as [−1, 1] per dimension, mapped linearly to the bounds.
    public var rescaleActions = false
    /// Normalise observations by running statistics shared by every copy.
    public var normalizeObservations = false
    /// Scale rewards by the running standard deviation of the discounted return.
    public var normalizeRewards = false
    /// Normalised observations are clipped to ±this.
    public var observationClip: Double = 10
    /// Normalised rewards are clipped to ±this.
    public var rewardClip: Double = 10
    /// γ of the discounted return whose spread scales the rewards.
    public var rewardGamma: Double = 0.99

    public init() {}

    /// A copy with `changes` applied: `EnvironmentWrappers().with { $0.normalizeObservations = true }`.
    public func with(_ changes: (inout Self) -> Void) -> Self {
        var copy = self
        changes(&copy)
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case clipActions = "clip_actions", rescaleActions = "rescale_actions"
        case normalizeObservations = "normalize_observations", normalizeRewards = "normalize_rewards"
        case observationClip = "observation_clip", rewardClip = "reward_clip", rewardGamma = "reward_gamma"
    }

    /// Whether the vector environment is wrapped for normalisation.
    public var normalizes: Bool { normalizeObservations || normalizeRewards }

    /// Checks ranges and combinations; the message names the key.
    public func validate() throws(TrainingError) {
        try Require.positive("wrappers.observation_clip", observationClip, atMost: 1e6)
        try Require.positive("wrappers.reward_clip", rewardClip, atMost: 1e6)
        try Require.value("wrappers.reward_gamma", rewardGamma, in: 0...1)
        try Require.that(!(clipActions && rescaleActions),
                         "wrappers.clip_actions and wrappers.rescale_actions are both set; rescale_actions already clips, set one")
    }

    /// Checks that the action wrappers fit `space`: they need continuous actions.
    public func validate(for space: ActionSpace, environment: String) throws(TrainingError) {
        if (clipActions || rescaleActions) && !space.isContinuous {
            throw .invalidConfiguration("wrappers.\(clipActions ? "clip_actions" : "rescale_actions") needs continuous "
                + "actions, and \(environment)'s are \(space); unset it")
        }
        if rescaleActions, let box = space.box, !(box.low + box.high).allSatisfy(\.isFinite) {
            throw .invalidConfiguration("wrappers.rescale_actions needs bounded actions, and \(environment)'s are \(box)")
        }
    }

    /// `environment` inside the action wrappers (the existential is opened, so the wrapper
    /// is generic over the concrete type).
    public func wrapActions(of environment: any Environment) -> any Environment {
        func wrap<E: Environment>(_ environment: E) -> any Environment {
            if rescaleActions { return RescaleAction(environment) }
            if clipActions { return ClipAction(environment) }
            return environment
        }
        return wrap(environment)
    }

    /// `vector` inside the normalisation wrapper, when one is set.
    public func wrapNormalization(of vector: any VectorStepping) -> any VectorStepping {
        guard normalizes else { return vector }
        return NormalizedVectorEnvironment(
            vector, normalizeObservations: normalizeObservations, normalizeRewards: normalizeRewards,
            observationClip: Float(observationClip), rewardClip: Float(rewardClip), gamma: rewardGamma)
    }

    /// One environment as a trained agent sees it: the action wrappers, then the saved
    /// observation statistics applied frozen (evaluation, watching, recording).
    public func wrapForEvaluation(
        _ environment: any Environment, statistics: NormalizedVectorEnvironment.Statistics?
    ) -> any Environment {
        let acting = wrapActions(of: environment)
        guard normalizeObservations, let observations = statistics?.observations else { return acting }
        func normalized<E: Environment>(_ environment: E) -> any Environment {
            var wrapper = NormalizeObservation(environment, clip: Float(observationClip), isFrozen: true)
            wrapper.statistics = observations
            return wrapper
        }
        return normalized(acting)
    }
}
