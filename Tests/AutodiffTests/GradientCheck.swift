import SeededRandom
import XCTest
@testable import Autodiff

/// Checks every gradient of `f` against central finite differences.
///
/// The scalar checked is L = Σ f(inputs) ⊙ R for a fixed random R, so every element of
/// the output's Jacobian takes part. Finite differences run in Float32 with step `h`; the
/// tolerance is |analytic − numeric| ≤ absolute + relative·|numeric|. With h = 1e-2 the
/// truncation error is O(h²·f''') and rounding O(ε·|L|/h), both near 1e-4 for the sizes
/// used here, so the defaults (2e-3, 1e-2) leave a margin of ten.
func assertGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], h: Float = 1e-2, absolute: Float = 2e-3, relative: Float = 1e-2,
    seed: UInt64 = 99, file: StaticString = #filePath, line: UInt = #line,
    _ f: ([Tensor]) -> Tensor
) {
    let probe = f(inputs)
    var generator = SeededGenerator(seed: seed)
    let weights = Tensor.uniform(probe.shape, low: -1, high: 1, generator: &generator)
    func objective() -> Float {
        withoutGradients { (f(inputs) * weights).sum().scalar }
    }
    for x in inputs { x.zeroGradient() }
    (f(inputs) * weights).sum().backward()
    for (k, x) in inputs.enumerated() where x.requiresGradient {
        guard let analytic = x.gradient else {
            XCTFail("input \(k) received no gradient", file: file, line: line)
            continue
        }
        for i in 0..<x.count {
            let saved = x.storage[i]
            x.storage[i] = saved + h
            let up = objective()
            x.storage[i] = saved - h
            let down = objective()
            x.storage[i] = saved
            let numeric = (up - down) / (2 * h)
            let error = Swift.abs(analytic[i] - numeric)
            XCTAssertLessThanOrEqual(
                error, absolute + relative * Swift.abs(numeric),
                "input \(k) element \(i): analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
        }
    }
}

/// A parameter-like tensor of random values in [low, high).
func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return .uniform(shape, low: low, high: high, generator: &generator, requiresGradient: true)
}

/// Random values kept at least `margin` away from each of `kinks` (for ops that are not
/// differentiable there: relu, abs, clamp, minimum, maximum).
func randomTensorAvoiding(_ kinks: [Float], margin: Float = 0.05, _ shape: [Int], seed: UInt64) -> Tensor {
    let t = randomTensor(shape, low: -2, high: 2, seed: seed)
    for i in 0..<t.count {
        for kink in kinks where Swift.abs(t.storage[i] - kink) < margin {
            t.storage[i] = kink + (t.storage[i] >= kink ? margin : -margin) * 2
        }
    }
    return t
}

func XCTAssertEqualElements(
    _ a: [Float], _ b: [Float], accuracy: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "element counts differ \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= accuracy) {
        XCTFail("element \(i): \(x) vs \(y) (accuracy \(accuracy)) \(message)", file: file, line: line)
        return
    }
}
