import Foundation
import XCTest
@testable import Autodiff

/// The activations, pow, slicing, stacking, select, batched matmul, strided and dilated
/// convolution and pooling: every gradient against finite differences, and forward values
/// worked out by hand or with Double math. Sizes are small: debug builds are slow.
final class ToolkitOpGradientTests: XCTestCase {
    /// Random values in ±[low, 2] (every other one negative), by default at least 0.1 from
    /// 0, where leaky ReLU and ELU have their kinks, so no ±h step crosses one.
    private func signedAwayFromZero(_ shape: [Int], low: Float = 0.1, seed: UInt64) -> Tensor {
        let t = randomTensor(shape, low: low, high: 2, seed: seed)
        for i in Swift.stride(from: 0, to: t.count, by: 2) { t.storage[i] = -t.storage[i] }
        return t
    }

    // MARK: pow and activations

    func testPowGradients() {
        let positive = randomTensor([2, 5], low: 0.5, high: 2, seed: 101)
        for exponent in [2, 3, 0.5, -1, 0, 1.7] as [Float] {
            assertGradientsMatchFiniteDifferences([positive]) { pow($0[0], exponent) }
        }
        // Integer exponents are defined for negative inputs too (kept 0.5 from the pole of
        // x⁻¹, whose third derivative would swamp the finite differences near 0).
        let signed = signedAwayFromZero([2, 5], low: 0.5, seed: 102)
        assertGradientsMatchFiniteDifferences([signed]) { pow($0[0], 3) }
        assertGradientsMatchFiniteDifferences([signed]) { pow($0[0], -1) }
    }

    func testPowValues() {
        let x = randomTensor([7], low: -3, high: 3, seed: 103)
        // p = 2 is exactly x · x.
        XCTAssertEqual(pow(x, 2).scalars, x.scalars.map { $0 * $0 })
        // 4^0.5 = 2, 2^0.5 = √2, 0.25^0.5 = 0.5, (−2)^0.5 = NaN (as powf), (−2)³ = −8,
        // 2^−1 = 0.5, 0^0 = 1.
        let y = Tensor(shape: [4], scalars: [4, 2, 0.25, -2])
        let roots = pow(y, 0.5).scalars
        XCTAssertEqualElements(Array(roots.prefix(3)), [2, Float(2).squareRoot(), 0.5], accuracy: 2e-7)
        XCTAssertTrue(roots[3].isNaN)
        XCTAssertEqual(pow(Tensor(shape: [1], scalars: [-2]), 3).scalars, [-8])
        XCTAssertEqual(pow(Tensor(shape: [1], scalars: [2]), -1).scalars, [0.5])
        XCTAssertEqual(pow(Tensor(shape: [1], scalars: [0]), 0).scalars, [1])
        // d/dx x³ at x = −2 is 3·(−2)² = 12; the derivative for p = 0 is 0 (PyTorch's).
        let z = Tensor(shape: [1], scalars: [-2], requiresGradient: true)
        pow(z, 3).sum().backward()
        XCTAssertEqual(z.gradient, [12])
        let w = Tensor(shape: [1], scalars: [3], requiresGradient: true)
        pow(w, 0).sum().backward()
        XCTAssertEqual(w.gradient, [0])
    }

    func testActivationGradients() {
        let x = signedAwayFromZero([3, 4], seed: 111)
        assertGradientsMatchFiniteDifferences([x]) { leakyRelu($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { leakyRelu($0[0], negativeSlope: 0.2) }
        assertGradientsMatchFiniteDifferences([x]) { elu($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { elu($0[0], alpha: 1.5) }
        assertGradientsMatchFiniteDifferences([x]) { gelu($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { silu($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { softplus($0[0]) }
        // GELU, SiLU and softplus are smooth: a wider range, 0 included.
        let wide = randomTensor([3, 4], low: -4, high: 4, seed: 112)
        assertGradientsMatchFiniteDifferences([wide]) { gelu($0[0]) }
        assertGradientsMatchFiniteDifferences([wide]) { silu($0[0]) }
        assertGradientsMatchFiniteDifferences([wide]) { softplus($0[0]) }
        // β = 2 and threshold 1: the switch to x at x = 0.5 is a jump (from log(1 + e)/2
        // ≈ 0.657 to 0.5), so inputs keep away from it.
        let aroundThreshold = randomTensorAvoiding([0.5], [3, 4], seed: 113)
        assertGradientsMatchFiniteDifferences([aroundThreshold]) { softplus($0[0], beta: 2, threshold: 1) }
    }

    func testActivationValuesAgainstDoubleMath() {
        let points: [Double] = [-2, -0.5, 0, 0.3, 1.7]
        let x = Tensor(shape: [points.count], scalars: points.map { Float($0) })
        func expected(_ f: (Double) -> Double) -> [Float] { points.map { Float(f($0)) } }
        // GELU: 0.5·x·(1 + erf(x/√2)), e.g. gelu(1.7) = 0.5·1.7·(1 + erf(1.2021)) ≈ 1.6242387.
        XCTAssertEqualElements(gelu(x).scalars, expected { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) },
                               accuracy: 1e-6)
        // SiLU: x/(1 + e^−x), e.g. silu(−0.5) = −0.5/(1 + e^0.5) ≈ −0.1887703.
        XCTAssertEqualElements(silu(x).scalars, expected { $0 / (1 + Foundation.exp(-$0)) }, accuracy: 1e-6)
        // softplus: log(1 + e^x), e.g. softplus(0) = log 2 ≈ 0.6931472.
        XCTAssertEqualElements(softplus(x).scalars, expected { Foundation.log1p(Foundation.exp($0)) }, accuracy: 1e-6)
        // ELU: e^x − 1 below 0, e.g. elu(−2) = e^−2 − 1 ≈ −0.8646647.
        XCTAssertEqualElements(elu(x).scalars, expected { $0 > 0 ? $0 : Foundation.expm1($0) }, accuracy: 1e-6)
        // ELU with α = 0.5: elu(−0.5) = 0.5·(e^−0.5 − 1) ≈ −0.1967347.
        XCTAssertEqualElements(elu(x, alpha: 0.5).scalars, expected { $0 > 0 ? $0 : 0.5 * Foundation.expm1($0) },
                               accuracy: 1e-6)
        // Leaky ReLU: −2·0.01 = −0.02, −0.5·0.01 = −0.005, then 0, 0.3, 1.7.
        XCTAssertEqualElements(leakyRelu(x).scalars, [-0.02, -0.005, 0, 0.3, 1.7], accuracy: 1e-9)

        // softplus stays accurate far below 0, where log(1 + e^x) in Float32 rounds to 0:
        // softplus(−30) = log1p(e^−30) ≈ 9.357623e−14. Above the threshold it is x itself.
        let extremes = softplus(Tensor(shape: [3], scalars: [-30, 25, 100])).scalars
        XCTAssertEqual(Double(extremes[0]), Foundation.log1p(Foundation.exp(-30.0)), accuracy: 1e-5 * 9.36e-14)
        XCTAssertEqual(Array(extremes.dropFirst()), [25, 100])
        // β = 2: softplus(1; β = 2) = log(1 + e²)/2 = log(8.389056)/2 ≈ 1.063464.
        XCTAssertEqual(softplus(Tensor(shape: [1], scalars: [1]), beta: 2).scalar,
                       Float(Foundation.log1p(Foundation.exp(2.0)) / 2), accuracy: 1e-6)
    }

    func testDerivativesAtTheKinksArePyTorchs() {
        // Leaky ReLU at 0: the negative slope. ELU at 0: α·e⁰ = α.
        let x = Tensor(shape: [1], scalars: [0], requiresGradient: true)
        leakyRelu(x, negativeSlope: 0.2).sum().backward()
        XCTAssertEqual(x.gradient, [0.2])
        let y = Tensor(shape: [1], scalars: [0], requiresGradient: true)
        elu(y, alpha: 1.5).sum().backward()
        XCTAssertEqual(y.gradient, [1.5])
    }

    // MARK: slicing and stacking

    func testSlicingGradients() {
        let x = randomTensor([3, 4, 2], seed: 121)
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sliced(alongAxis: 0, 1..<3) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sliced(alongAxis: 1, 1..<3) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sliced(alongAxis: 2, 1..<2) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sliced(alongAxis: -1, 0..<1) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sliced(alongAxis: -2, 2..<4) }
        // Overlapping slices of one tensor: both gradients add up.
        assertGradientsMatchFiniteDifferences([x]) {
            Tensor.concatenate([$0[0].sliced(alongAxis: 1, 0..<3), $0[0].sliced(alongAxis: 1, 2..<4)], alongAxis: 1)
        }
    }

    func testStackingGradients() {
        let a = randomTensor([2, 3], seed: 131), b = randomTensor([2, 3], seed: 132), c = randomTensor([2, 3], seed: 133)
        for axis in [0, 1, 2, -1, -3] {
            assertGradientsMatchFiniteDifferences([a, b, c]) { Tensor.stack($0, alongAxis: axis) }
        }
        // One tensor twice: both slices' gradients reach it.
        assertGradientsMatchFiniteDifferences([a, b]) { Tensor.stack([$0[0], $0[1], $0[0]], alongAxis: 1) }
    }

    func testSlicingAndStackingValues() {
        // x = [[1, 2, 3], [4, 5, 6]].
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        // Columns 1..<3: [[2, 3], [5, 6]].
        let columns = x.sliced(alongAxis: 1, 1..<3)
        XCTAssertEqual(columns.shape, [2, 2])
        XCTAssertEqual(columns.scalars, [2, 3, 5, 6])
        // Row 1: [[4, 5, 6]]; the last axis, column 0: [[1], [4]]; an empty range keeps the axis.
        XCTAssertEqual(x.sliced(alongAxis: 0, 1..<2).scalars, [4, 5, 6])
        XCTAssertEqual(x.sliced(alongAxis: -1, 0..<1).shape, [2, 1])
        XCTAssertEqual(x.sliced(alongAxis: -1, 0..<1).scalars, [1, 4])
        XCTAssertEqual(x.sliced(alongAxis: 0, 1..<1).shape, [0, 3])
        // The gradient lands on the sliced positions only: d Σ x[:, 1..<3] / dx = [[0, 1, 1], [0, 1, 1]].
        let leaf = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGradient: true)
        leaf.sliced(alongAxis: 1, 1..<3).sum().backward()
        XCTAssertEqual(leaf.gradient, [0, 1, 1, 0, 1, 1])

        // p = [1, 2] and q = [3, 4]: stacked on axis 0 [[1, 2], [3, 4]], on axis 1 (= −1)
        // [[1, 3], [2, 4]].
        let p = Tensor(shape: [2], scalars: [1, 2]), q = Tensor(shape: [2], scalars: [3, 4])
        XCTAssertEqual(Tensor.stack([p, q], alongAxis: 0).shape, [2, 2])
        XCTAssertEqual(Tensor.stack([p, q], alongAxis: 0).scalars, [1, 2, 3, 4])
        XCTAssertEqual(Tensor.stack([p, q], alongAxis: 1).scalars, [1, 3, 2, 4])
        XCTAssertEqual(Tensor.stack([p, q], alongAxis: -1).scalars, [1, 3, 2, 4])
        // Two [2, 2] matrices on the middle axis: result[i, t, j] = (t == 0 ? u : v)[i, j],
        // so row 0 of u, row 0 of v, row 1 of u, row 1 of v: [1, 2, 5, 6, 3, 4, 7, 8].
        let u = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), v = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        let middle = Tensor.stack([u, v], alongAxis: 1)
        XCTAssertEqual(middle.shape, [2, 2, 2])
        XCTAssertEqual(middle.scalars, [1, 2, 5, 6, 3, 4, 7, 8])
    }

    // MARK: select

    func testSelectGradients() {
        // A 0/1 pattern, and a row mask that broadcasts over the rows.
        let condition = Tensor(shape: [3, 4], scalars: [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0])
        let rowMask = Tensor(shape: [4], scalars: [0, 2, -1, 0])
        let a = randomTensor([3, 4], seed: 141)
        let scalarLike = randomTensor([1], seed: 142)
        let column = randomTensor([3, 1], seed: 143), row = randomTensor([4], seed: 144)
        for mask in [condition, rowMask] {
            assertGradientsMatchFiniteDifferences([a, scalarLike]) { Tensor.select(where: mask, $0[0], $0[1]) }
            assertGradientsMatchFiniteDifferences([scalarLike, a]) { Tensor.select(where: mask, $0[0], $0[1]) }
            assertGradientsMatchFiniteDifferences([column, row]) { Tensor.select(where: mask, $0[0], $0[1]) }
        }
    }

    func testSelectValues() {
        // condition [[1, 0], [0, 2]], a = [[1, 2], [3, 4]], b = [−1] broadcast:
        // [[a, b], [b, a]] = [[1, −1], [−1, 4]].
        let condition = Tensor(shape: [2, 2], scalars: [1, 0, 0, 2])
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4], requiresGradient: true)
        let b = Tensor(shape: [1], scalars: [-1], requiresGradient: true)
        let y = Tensor.select(where: condition, a, b)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.scalars, [1, -1, -1, 4])
        // d Σy/da is the mask [1, 0, 0, 1]; b stood in for two elements, so d Σy/db = 2.
        y.sum().backward()
        XCTAssertEqual(a.gradient, [1, 0, 0, 1])
        XCTAssertEqual(b.gradient, [2])
        // A column condition [[1], [0]] picks row 0 from a and row 1 from b: [[1, 2], [−1, −1]].
        let byRow = Tensor.select(where: Tensor(shape: [2, 1], scalars: [1, 0]), a.detached(), b.detached())
        XCTAssertEqual(byRow.scalars, [1, 2, -1, -1])
    }

    // MARK: batched matmul

    func testBatchedMatmulInAllFourTranspositions() {
        let batch = 2, m = 3, k = 4
        for n in [3, 2] {  // n = 2 takes gemm's matrix-vector path
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = randomTensor(ta ? [batch, k, m] : [batch, m, k], seed: 151)
                let b = randomTensor(tb ? [batch, n, k] : [batch, k, n], seed: 152)
                assertGradientsMatchFiniteDifferences([a, b]) {
                    Tensor.batchedMatmul($0[0], $0[1], transposingA: ta, transposingB: tb)
                }
                // Forward: each batch entry is matmul of that entry.
                let c = Tensor.batchedMatmul(a, b, transposingA: ta, transposingB: tb)
                XCTAssertEqual(c.shape, [batch, m, n])
                for p in 0..<batch {
                    let ap = a.sliced(alongAxis: 0, p..<(p + 1)).reshaped(to: Array(a.shape.dropFirst()))
                    let bp = b.sliced(alongAxis: 0, p..<(p + 1)).reshaped(to: Array(b.shape.dropFirst()))
                    let expected = Tensor.matmul(ap, bp, transposingA: ta, transposingB: tb)
                    XCTAssertEqualElements(Array(c.scalars[(p * m * n)..<((p + 1) * m * n)]), expected.scalars,
                                           accuracy: 1e-6)
                }
            }
        }
        // One tensor on both sides, a·aᵀ: the first share of its gradient is written into a
        // fresh buffer (β = 0), the second added to it (β = 1).
        let a = randomTensor([2, 3, 4], seed: 153)
        assertGradientsMatchFiniteDifferences([a]) { Tensor.batchedMatmul($0[0], $0[0], transposingB: true) }
    }

    // MARK: convolution with stride and dilation

    /// Cross-correlation with zero padding, straight from the definition.
    private func convolutionByDefinition(
        _ input: Tensor, _ filter: Tensor, bias: Tensor?, stride: Int, dilation: Int, padTop: Int, padLeft: Int,
        outputHeight: Int, outputWidth: Int
    ) -> [Float] {
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (kh, kw, outChannels) = (filter.shape[0], filter.shape[1], filter.shape[3])
        var result = [Float]()
        for n in 0..<batch { for oy in 0..<outputHeight { for ox in 0..<outputWidth { for o in 0..<outChannels {
            var s: Float = bias?.storage[o] ?? 0
            for dy in 0..<kh { for dx in 0..<kw { for c in 0..<channels {
                let iy = oy * stride + dy * dilation - padTop, ix = ox * stride + dx * dilation - padLeft
                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                s += input.storage[((n * height + iy) * width + ix) * channels + c]
                    * filter.storage[((dy * kw + dx) * channels + c) * outChannels + o]
            } } }
            result.append(s)
        } } } }
        return result
    }

    func testConvolutionWithStrideAndDilation() {
        // Input 6×7, 3×3 filter (span 3, or 5 dilated): output ⌊(H + pad − span)/stride⌋ + 1.
        let cases: [(padding: Padding, stride: Int, dilation: Int, kernel: [Int], output: (Int, Int))] = [
            (.valid, 2, 1, [3, 3], (2, 3)),  // ⌊(6 − 3)/2⌋ + 1 = 2, ⌊(7 − 3)/2⌋ + 1 = 3
            (.valid, 1, 2, [3, 3], (2, 3)),  // 6 − 5 + 1 = 2, 7 − 5 + 1 = 3
            (.valid, 2, 2, [3, 3], (1, 2)),  // ⌊(6 − 5)/2⌋ + 1 = 1, ⌊(7 − 5)/2⌋ + 1 = 2
            (.same, 1, 2, [3, 3], (6, 7)),   // pads 2 before and 2 after
            (.valid, 3, 1, [2, 3], (2, 2)),  // ⌊(6 − 2)/3⌋ + 1 = 2, ⌊(7 − 3)/3⌋ + 1 = 2
            (.valid, 2, 2, [2, 3], (2, 2)),  // spans 3 and 5: ⌊(6 − 3)/2⌋ + 1 = 2, ⌊(7 − 5)/2⌋ + 1 = 2
        ]
        let input = randomTensor([2, 6, 7, 2], seed: 161)
        let bias = randomTensor([3], seed: 163)
        for (index, c) in cases.enumerated() {
            let filter = randomTensor(c.kernel + [2, 3], seed: 162)
            assertGradientsMatchFiniteDifferences([input, filter, bias]) {
                Tensor.conv2D($0[0], filter: $0[1], bias: $0[2], padding: c.padding, stride: c.stride, dilation: c.dilation)
            }
            if index < 3 {
                assertGradientsMatchFiniteDifferences([input, filter]) {
                    Tensor.conv2D($0[0], filter: $0[1], padding: c.padding, stride: c.stride, dilation: c.dilation)
                }
            }
            let y = Tensor.conv2D(input, filter: filter, bias: bias, padding: c.padding, stride: c.stride,
                                  dilation: c.dilation)
            XCTAssertEqual(y.shape, [2, c.output.0, c.output.1, 3], "case \(index)")
            let pad = c.padding == .same ? c.dilation * (c.kernel[0] - 1) / 2 : 0
            let padLeft = c.padding == .same ? c.dilation * (c.kernel[1] - 1) / 2 : 0
            let expected = convolutionByDefinition(
                input, filter, bias: bias, stride: c.stride, dilation: c.dilation, padTop: pad, padLeft: padLeft,
                outputHeight: c.output.0, outputWidth: c.output.1)
            XCTAssertEqualElements(y.scalars, expected, accuracy: 1e-5, "case \(index)")
        }
        // The stride-1 signatures are stride 1, dilation 1.
        let filter = randomTensor([3, 3, 2, 3], seed: 164)
        for padding in [Padding.valid, .same] {
            XCTAssertEqual(Tensor.conv2D(input, filter: filter, padding: padding).scalars,
                           Tensor.conv2D(input, filter: filter, padding: padding, stride: 1, dilation: 1).scalars)
            XCTAssertEqual(Tensor.conv2D(input, filter: filter, bias: bias, padding: padding).scalars,
                           Tensor.conv2D(input, filter: filter, bias: bias, padding: padding, stride: 1).scalars)
        }
    }

    func testStridedAndDilatedConvolutionValues() {
        // Input 4×4 holding 1...16 row by row, filter [[1, 2], [3, 4]], one channel in and out.
        let input = Tensor(shape: [1, 4, 4, 1], scalars: (1...16).map { Float($0) })
        let filter = Tensor(shape: [2, 2, 1, 1], scalars: [1, 2, 3, 4])
        // Stride 2: windows at (0, 0), (0, 2), (2, 0), (2, 2):
        // 1·1 + 2·2 + 5·3 + 6·4 = 44, 3 + 8 + 21 + 32 = 64, 9 + 20 + 39 + 56 = 124, 11 + 24 + 45 + 64 = 144.
        let strided = Tensor.conv2D(input, filter: filter, padding: .valid, stride: 2)
        XCTAssertEqual(strided.shape, [1, 2, 2, 1])
        XCTAssertEqual(strided.scalars, [44, 64, 124, 144])
        // Dilation 2: taps two apart, e.g. at (0, 0) the values 1, 3, 9, 11:
        // 1 + 6 + 27 + 44 = 78; then 2 + 8 + 30 + 48 = 88, 5 + 14 + 39 + 60 = 118, 6 + 16 + 42 + 64 = 128.
        let dilated = Tensor.conv2D(input, filter: filter, padding: .valid, stride: 1, dilation: 2)
        XCTAssertEqual(dilated.shape, [1, 2, 2, 1])
        XCTAssertEqual(dilated.scalars, [78, 88, 118, 128])
        // With a bias of 0.5 every output moves by 0.5.
        let biased = Tensor.conv2D(input, filter: filter, bias: Tensor(shape: [1], scalars: [0.5]), padding: .valid,
                                   stride: 2)
        XCTAssertEqual(biased.scalars, [44.5, 64.5, 124.5, 144.5])
    }

    // MARK: pooling

    func testPoolingGradients() {
        // Distinct values 0.05 apart (a fixed permutation) so no window's maximum changes
        // within ±h.
        let distinct = Tensor(shape: [2, 5, 5, 2], scalars: (0..<100).map { Float(($0 * 37) % 100) * 0.05 - 2.5 },
                              requiresGradient: true)
        let x = randomTensor([2, 5, 5, 2], seed: 171)
        for (size, stride) in [(2, 2), (3, 2), (2, 1), (3, 3)] {
            assertGradientsMatchFiniteDifferences([distinct]) { Tensor.maxPool2D($0[0], size: size, stride: stride) }
            assertGradientsMatchFiniteDifferences([x]) { Tensor.averagePool2D($0[0], size: size, stride: stride) }
        }
        assertGradientsMatchFiniteDifferences([distinct]) { Tensor.maxPool2D($0[0], size: 2) }
        assertGradientsMatchFiniteDifferences([x]) { Tensor.averagePool2D($0[0], size: 2) }
    }

    func testPoolingValues() {
        // One channel:
        //   1 5 2 0
        //   3 4 8 6
        //   7 0 1 2
        //   9 3 4 5
        let x = Tensor(shape: [1, 4, 4, 1], scalars: [1, 5, 2, 0, 3, 4, 8, 6, 7, 0, 1, 2, 9, 3, 4, 5],
                       requiresGradient: true)
        // Size 2, stride 2 (the default): windows {1, 5, 3, 4}, {2, 0, 8, 6}, {7, 0, 9, 3}, {1, 2, 4, 5}.
        let maxima = Tensor.maxPool2D(x, size: 2)
        XCTAssertEqual(maxima.shape, [1, 2, 2, 1])
        XCTAssertEqual(maxima.scalars, [5, 8, 9, 5])
        // Means: 13/4 = 3.25, 16/4 = 4, 19/4 = 4.75, 12/4 = 3.
        XCTAssertEqual(Tensor.averagePool2D(x, size: 2).scalars, [3.25, 4, 4.75, 3])
        // Size 3, stride 1: four overlapping windows (rows 0–2 or 1–3, columns 0–2 or 1–3);
        // maxima 8, 8, 9, 8; sums 31, 28, 39, 33 over 9.
        XCTAssertEqual(Tensor.maxPool2D(x, size: 3, stride: 1).scalars, [8, 8, 9, 8])
        XCTAssertEqualElements(Tensor.averagePool2D(x, size: 3, stride: 1).scalars,
                               [31.0 / 9, 28.0 / 9, 39.0 / 9, 33.0 / 9], accuracy: 3e-7)
        // Gradients: each maximum (the 5 at index 1, 8 at 6, 9 at 12, 5 at 15) gets 1.
        maxima.sum().backward()
        XCTAssertEqual(x.gradient, [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1])
        // The 8 at index 6 is the maximum of three of the size-3 windows: gradient 3.
        x.zeroGradient()
        Tensor.maxPool2D(x, size: 3, stride: 1).sum().backward()
        XCTAssertEqual(x.gradient, [0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0])
        // Average, size 2 stride 2: every input is in one window, so each gets 1/4.
        x.zeroGradient()
        Tensor.averagePool2D(x, size: 2).sum().backward()
        XCTAssertEqual(x.gradient, [Float](repeating: 0.25, count: 16))
        // Ties: the first maximum in row-major order takes the gradient.
        let tied = Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 2, 2], requiresGradient: true)
        Tensor.maxPool2D(tied, size: 2).sum().backward()
        XCTAssertEqual(tied.gradient, [0, 1, 0, 0])
        // Channels pool separately: channel 0 holds 1, 2, 3, 4 and channel 1 holds 8, 7, 6, 5.
        let twoChannels = Tensor(shape: [1, 2, 2, 2], scalars: [1, 8, 2, 7, 3, 6, 4, 5])
        XCTAssertEqual(Tensor.maxPool2D(twoChannels, size: 2).scalars, [4, 8])
        XCTAssertEqual(Tensor.averagePool2D(twoChannels, size: 2).scalars, [2.5, 6.5])
    }
}
