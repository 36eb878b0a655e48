import XCTest
@testable import Agents

/// `generalizedAdvantages` and `discountedReturns` against sums worked out by hand.
final class AdvantagesTests: XCTestCase {
    /// Two copies, three steps, γ = 0.9, step-major `[t * 2 + i]`.
    /// Copy 0: rewards 1, 0, 2; its episode terminates at t = 1; V = 0.2, 0.3, −0.1; V(s₃) = 0.5.
    /// Copy 1: rewards 0.5, 1.36, −1; its episode ends at t = 1 (a truncation whose
    /// γ·V(final) = 0.9·0.4 the caller has already folded into 1 + 0.36); V = 0.6, −0.4, 0.1;
    /// V(s₃) = −0.5.
    private let rewards: [Float] = [1, 0.5, 0, 1.36, 2, -1]
    private let values: [Float] = [0.2, 0.6, 0.3, -0.4, -0.1, 0.1]
    private let ended = [false, false, true, true, false, false]
    private let lastValues: [Float] = [0.5, -0.5]

    private func advantages(lambda: Float) -> (advantages: [Float], returns: [Float]) {
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                ended.withUnsafeBufferPointer { e in
                    lastValues.withUnsafeBufferPointer { l in
                        generalizedAdvantages(rewards: r, values: v, episodeEnded: e, lastValues: l,
                                              steps: 3, copies: 2, gamma: 0.9, lambda: lambda)
                    }
                }
            }
        }
    }

    func testLambdaOneGivesNStepReturnsMinusValues() {
        // Copy 0: t2: δ = 2 + 0.9·0.5 + 0.1 = 2.55.  t1 (ends): δ = 0 − 0.3 = −0.3, no carry.
        //         t0: δ = 1 + 0.9·0.3 − 0.2 = 1.07; Â = 1.07 + 0.9·(−0.3) = 0.8.
        // Copy 1: t2: δ = −1 + 0.9·(−0.5) − 0.1 = −1.55.  t1 (ends): δ = 1.36 + 0.4 = 1.76.
        //         t0: δ = 0.5 + 0.9·(−0.4) − 0.6 = −0.46; Â = −0.46 + 0.9·1.76 = 1.124.
        let (a, r) = advantages(lambda: 1)
        assertElementsEqual(a, [0.8, 1.124, -0.3, 1.76, 2.55, -1.55])
        // With λ = 1 the targets are the plain n-step returns: copy 0 t0: 1 + 0.9·0 = 1;
        // copy 1 t0: 0.5 + 0.9·1.36 = 1.724; t2: r + 0.9·V(s₃).
        assertElementsEqual(r, [1, 1.724, 0, 1.36, 2.45, -1.45])
    }

    func testLambdaBelowOneDecaysTheCarry() {
        // γλ = 0.855. Copy 0 t0: 1.07 + 0.855·(−0.3) = 0.8135; copy 1 t0: −0.46 + 0.855·1.76 = 1.0448.
        // The other steps have nothing to carry (last step, or the episode ended there).
        let (a, r) = advantages(lambda: 0.95)
        assertElementsEqual(a, [0.8135, 1.0448, -0.3, 1.76, 2.55, -1.55])
        assertElementsEqual(r, [1.0135, 1.6448, 0, 1.36, 2.45, -1.45])
    }

    func testLambdaZeroIsTheOneStepTemporalDifference() {
        let (a, _) = advantages(lambda: 0)
        assertElementsEqual(a, [1.07, -0.46, -0.3, 1.76, 2.55, -1.55])
    }

    func testDiscountedReturns() {
        // γ = 0.5: G₂ = 3, G₁ = 2 + 1.5 = 3.5, G₀ = 1 + 1.75 = 2.75.
        assertElementsEqual(discountedReturns([1, 2, 3], gamma: 0.5), [2.75, 3.5, 3])
        // Bootstrapped from V = 4 after the last step: G₂ = 3 + 0.5·4 = 5, G₁ = 4.5, G₀ = 3.25.
        assertElementsEqual(discountedReturns([1, 2, 3], gamma: 0.5, bootstrap: 4), [3.25, 4.5, 5])
        // γ = 1 sums the rest of the episode; γ = 0 keeps each reward.
        assertElementsEqual(discountedReturns([1, -1, 2], gamma: 1), [2, 1, 2])
        assertElementsEqual(discountedReturns([1, -1, 2], gamma: 0, bootstrap: 10), [1, -1, 2])
        XCTAssertEqual(discountedReturns([], gamma: 0.9, bootstrap: 3), [])
    }
}
