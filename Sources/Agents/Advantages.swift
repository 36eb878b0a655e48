/// Generalised advantage estimation (Schulman et al., 2016) over a rollout of `steps` ×
/// `copies`, stored step-major (`[t * copies + i]`).
///
/// For each step, δₜ = rₜ + γ·V(sₜ₊₁)·(1 − doneₜ) − V(sₜ) and Âₜ = δₜ + γλ·(1 − doneₜ)·Âₜ₊₁,
/// where V(s_T) is `lastValues` (the value of the observation after the last step) and
/// `doneₜ` says the episode ended at step t. A truncated episode is handled by the caller
/// adding γ·V(final observation) to its last reward before marking it done (SB3's rule),
/// so truncation still bootstraps. Returns the advantages and the value targets Â + V.
public func generalizedAdvantages(
    rewards: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>,
    episodeEnded: UnsafeBufferPointer<Bool>, lastValues: UnsafeBufferPointer<Float>,
    steps: Int, copies: Int, gamma: Float, lambda: Float
) -> (advantages: [Float], returns: [Float]) {
    precondition(rewards.count >= steps * copies && values.count >= steps * copies
                 && episodeEnded.count >= steps * copies && lastValues.count >= copies,
                 "generalizedAdvantages: buffers smaller than steps × copies")
    var advantages = [Float](repeating: 0, count: steps * copies)
    var returns = [Float](repeating: 0, count: steps * copies)
    for i in 0..<copies {
        var running: Float = 0
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let k = t * copies + i
            let nextValue = t == steps - 1 ? lastValues[i] : values[k + copies]
            let continues: Float = episodeEnded[k] ? 0 : 1
            let delta = rewards[k] + gamma * nextValue * continues - values[k]
            running = delta + gamma * lambda * continues * running
            advantages[k] = running
            returns[k] = running + values[k]
        }
    }
    return (advantages, returns)
}

/// Discounted returns Gₜ = rₜ + γ·Gₜ₊₁ of one episode's rewards (REINFORCE's targets).
public func discountedReturns(_ rewards: [Float], gamma: Float, bootstrap: Float = 0) -> [Float] {
    var returns = [Float](repeating: 0, count: rewards.count)
    var running = bootstrap
    for t in stride(from: rewards.count - 1, through: 0, by: -1) {
        running = rewards[t] + gamma * running
        returns[t] = running
    }
    return returns
}
