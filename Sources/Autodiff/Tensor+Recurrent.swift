// Recurrent cells unrolled over a whole sequence as one op each: the LSTM and the GRU.
// The forward pass keeps what backpropagation through time needs (the state entering
// each step, the gate activations); the backward pass walks the steps in reverse inside
// the op, so a sequence of T steps records one graph node instead of dozens per step, and
// the recurrent weight's gradient is one product over all steps at the end.
//
// Layout: sequences are time-major, [T, B, ·]. The input projections x·W + b of every
// step are computed before the op by one product over all T·B rows (the caller's
// `linear`), so inside the op each step multiplies only the [B, H] state by the
// recurrent weight. `resets` (T·B flags, step-major) zero the state entering step t of
// row b: an episode started there, so nothing may flow across the boundary, forward or
// backward.

/// Scratch memory that a recorded op keeps for its backward pass, freed with the graph.
final class SavedScratch {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int) {
        self.count = count
        pointer = StoragePool.allocate(count)
    }
    deinit { StoragePool.deallocate(pointer, count: count) }
}

extension Tensor {
    /// An LSTM unrolled over a sequence (gate order i, f, g, o, as PyTorch's):
    /// gates = xWᵢ + b + h·W_h; i, f, o = σ(·), g = tanh(·); c' = f⊙c + i⊙g; h' = o⊙tanh(c').
    ///
    /// - Parameters:
    ///   - projectedInputs: x·W_input + bias for every step, [T, B, 4H].
    ///   - hiddenWeight: W_h, [H, 4H].
    ///   - initialHidden: h before the first step, [B, H].
    ///   - initialCell: c before the first step, [B, H].
    ///   - resets: T·B flags, step-major; where set, the state entering that step is zero.
    /// - Returns: [T, B, 2H]: at each step, h (the first H values of a row) then c. The last
    ///   step's rows are the state to carry on with.
    ///
    /// The derivative, step by step backwards with ∂h and ∂c arriving from the output and
    /// from the step after: ∂o = ∂h⊙tanh c'; ∂c' += ∂h⊙o⊙(1 − tanh² c'); ∂i = ∂c'⊙g;
    /// ∂g = ∂c'⊙i; ∂f = ∂c'⊙c; ∂c ← ∂c'⊙f; each gate's pre-activation gradient through
    /// σ' = σ(1 − σ) or tanh' = 1 − tanh²; then ∂h ← ∂gates·W_hᵀ, ∂W_h = Σₜ hₜᵀ·∂gatesₜ, and
    /// ∂(projected inputs) = ∂gates.
    public static func lstm(
        projectedInputs: Tensor, hiddenWeight: Tensor, initialHidden: Tensor, initialCell: Tensor,
        resets: [Bool]? = nil
    ) -> Tensor {
        guard projectedInputs.rank == 3, hiddenWeight.rank == 2 else {
            shapeFailure(ShapeError("lstm: projected inputs \(projectedInputs.shape) must be [T, B, 4H] and "
                + "the hidden weight \(hiddenWeight.shape) [H, 4H]"))
        }
        let steps = projectedInputs.shape[0], batch = projectedInputs.shape[1], hidden = hiddenWeight.shape[0]
        guard projectedInputs.shape[2] == 4 * hidden, hiddenWeight.shape[1] == 4 * hidden,
              initialHidden.shape == [batch, hidden], initialCell.shape == [batch, hidden] else {
            shapeFailure(ShapeError("lstm: projected inputs \(projectedInputs.shape), hidden weight \(hiddenWeight.shape), "
                + "initial states \(initialHidden.shape) and \(initialCell.shape) do not fit: expected "
                + "[T, B, 4H], [H, 4H], [B, H], [B, H]"))
        }
        if let resets, resets.count != steps * batch {
            shapeFailure(ShapeError("lstm: \(resets.count) reset flags for \(steps) steps of \(batch) rows"))
        }
        let gateWidth = 4 * hidden, stateWidth = 2 * hidden, rows = steps * batch
        let y = result(shape: [steps, batch, stateWidth], of: projectedInputs, hiddenWeight, initialHidden, initialCell)
        // Saved for the backward pass: the state entering each step (h, then c), [T, B, H]
        // each, the gate activations, [T, B, 4H], and tanh of each new cell, [T, B, H].
        let hiddenIn = SavedScratch(rows * hidden), cellIn = SavedScratch(rows * hidden)
        let gates = SavedScratch(rows * gateWidth), tanhCells = SavedScratch(rows * hidden)
        let px = projectedInputs.storage, py = y.storage
        for t in 0..<steps {
            let hIn = hiddenIn.pointer + t * batch * hidden, cIn = cellIn.pointer + t * batch * hidden
            for b in 0..<batch {
                let isReset = resets?[t * batch + b] ?? false
                let (hSource, cSource) = t == 0
                    ? (UnsafePointer(initialHidden.storage + b * hidden), UnsafePointer(initialCell.storage + b * hidden))
                    : (UnsafePointer(py + ((t - 1) * batch + b) * stateWidth),
                       UnsafePointer(py + ((t - 1) * batch + b) * stateWidth + hidden))
                if isReset {
                    (hIn + b * hidden).update(repeating: 0, count: hidden)
                    (cIn + b * hidden).update(repeating: 0, count: hidden)
                } else {
                    (hIn + b * hidden).update(from: hSource, count: hidden)
                    (cIn + b * hidden).update(from: cSource, count: hidden)
                }
            }
            let g = gates.pointer + t * batch * gateWidth
            g.update(from: px + t * batch * gateWidth, count: batch * gateWidth)
            gemm(hIn, transposed: false, hiddenWeight.storage, transposed: false, into: g,
                 m: batch, n: gateWidth, k: hidden, beta: 1)
            for b in 0..<batch {
                // Each loop reads and writes one array at the same index, or reads the gates
                // and writes the state, so that each vectorises.
                let row = g + b * gateWidth, c = UnsafePointer(cIn + b * hidden)
                let out = py + (t * batch + b) * stateWidth
                for j in 0..<(2 * hidden) { row[j] = FastMath.sigmoid(row[j]) }  // i, f
                let candidates = row + 2 * hidden
                for j in 0..<hidden { candidates[j] = FastMath.tanh(candidates[j]) }  // g
                let outputs = row + 3 * hidden
                for j in 0..<hidden { outputs[j] = FastMath.sigmoid(outputs[j]) }  // o
                let i = UnsafePointer(row), f = UnsafePointer(row + hidden)
                let candidate = UnsafePointer(candidates), o = UnsafePointer(outputs)
                let cellOut = out + hidden
                for j in 0..<hidden { cellOut[j] = f[j] * c[j] + i[j] * candidate[j] }
                let cellIn = UnsafePointer(cellOut), squashed = tanhCells.pointer + (t * batch + b) * hidden
                for j in 0..<hidden { squashed[j] = FastMath.tanh(cellIn[j]) }
                let squashedIn = UnsafePointer(squashed)
                for j in 0..<hidden { out[j] = o[j] * squashedIn[j] }
            }
        }
        y.record([projectedInputs, hiddenWeight, initialHidden, initialCell]) { y, g in
            let dGates = SavedScratch(rows * gateWidth)
            // ∂h and ∂c flowing from step t + 1 into step t's outputs.
            let dHidden = SavedScratch(batch * hidden), dCell = SavedScratch(batch * hidden)
            dHidden.pointer.update(repeating: 0, count: batch * hidden)
            dCell.pointer.update(repeating: 0, count: batch * hidden)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                for b in 0..<batch {
                    // Short loops of few arrays each, so that each vectorises.
                    let k = t * batch + b
                    let act = UnsafePointer(gates.pointer + k * gateWidth), dg = dGates.pointer + k * gateWidth
                    let (i, f, candidate, o) = (act, act + hidden, act + 2 * hidden, act + 3 * hidden)
                    let up = g + k * stateWidth, upCell = up + hidden
                    let tanhCell = UnsafePointer(tanhCells.pointer + k * hidden)
                    let c = UnsafePointer(cellIn.pointer + k * hidden)
                    let dh = dHidden.pointer + b * hidden, dc = dCell.pointer + b * hidden
                    for j in 0..<hidden { dh[j] += up[j] }  // ∂h: from the output and the next step
                    for j in 0..<hidden { dc[j] += upCell[j] + dh[j] * o[j] * (1 - tanhCell[j] * tanhCell[j]) }
                    let (dI, dF, dG, dO) = (dg, dg + hidden, dg + 2 * hidden, dg + 3 * hidden)
                    for j in 0..<hidden { dO[j] = dh[j] * tanhCell[j] * o[j] * (1 - o[j]) }
                    for j in 0..<hidden { dI[j] = dc[j] * candidate[j] * i[j] * (1 - i[j]) }
                    for j in 0..<hidden { dF[j] = dc[j] * c[j] * f[j] * (1 - f[j]) }
                    for j in 0..<hidden { dG[j] = dc[j] * i[j] * (1 - candidate[j] * candidate[j]) }
                    for j in 0..<hidden { dc[j] *= f[j] }  // ∂c entering the step
                }
                // ∂h entering step t = ∂gatesₜ · W_hᵀ; nothing crosses a reset.
                gemm(dGates.pointer + t * batch * gateWidth, transposed: false, hiddenWeight.storage, transposed: true,
                     into: dHidden.pointer, m: batch, n: hidden, k: gateWidth, beta: 0)
                if let resets {
                    for b in 0..<batch where resets[t * batch + b] {
                        (dHidden.pointer + b * hidden).update(repeating: 0, count: hidden)
                        (dCell.pointer + b * hidden).update(repeating: 0, count: hidden)
                    }
                }
            }
            if projectedInputs.requiresGradient {
                let source = dGates.pointer
                projectedInputs.accumulateGradient { source[$0] }
            }
            if hiddenWeight.requiresGradient {
                // ∂W_h [H, 4H] = Σₜ hₜᵀ · ∂gatesₜ, one product over all T·B rows.
                let (gw, isFresh) = hiddenWeight.gradientDestination()
                gemm(hiddenIn.pointer, transposed: true, dGates.pointer, transposed: false, into: gw,
                     m: hidden, n: gateWidth, k: rows, beta: isFresh ? 0 : 1)
            }
            if initialHidden.requiresGradient {
                let source = dHidden.pointer
                initialHidden.accumulateGradient { source[$0] }
            }
            if initialCell.requiresGradient {
                let source = dCell.pointer
                initialCell.accumulateGradient { source[$0] }
            }
        }
        return y
    }

    /// A GRU unrolled over a sequence (gate order r, z, n, as PyTorch's):
    /// r = σ(x_r + h·W_r + b_r), z = σ(x_z + h·W_z + b_z), n = tanh(x_n + r⊙(h·W_n + b_n)),
    /// h' = (1 − z)⊙n + z⊙h, where x_· = x·W_input + input bias (the projected inputs).
    ///
    /// - Parameters:
    ///   - projectedInputs: x·W_input + input bias for every step, [T, B, 3H].
    ///   - hiddenWeight: W_h, [H, 3H].
    ///   - hiddenBias: the recurrent bias b_h, [3H] (kept apart from the input bias: it sits
    ///     inside r⊙(·) for the candidate).
    ///   - initialHidden: h before the first step, [B, H].
    ///   - resets: T·B flags, step-major; where set, the state entering that step is zero.
    /// - Returns: h after every step, [T, B, H].
    ///
    /// The derivative, backwards with ∂h from the output and the step after:
    /// ∂z = ∂h⊙(h − n), ∂n = ∂h⊙(1 − z), ∂h_prev = ∂h⊙z + ∂hh·W_hᵀ, where the recurrent
    /// pre-activations hh = h·W_h + b_h get (∂r', ∂z', ∂n'⊙r) and the projected inputs
    /// (∂r', ∂z', ∂n'), with ∂n' = ∂n⊙(1 − n²), ∂r' = ∂n'⊙hh_n⊙r(1 − r), ∂z' = ∂z⊙z(1 − z).
    public static func gru(
        projectedInputs: Tensor, hiddenWeight: Tensor, hiddenBias: Tensor, initialHidden: Tensor,
        resets: [Bool]? = nil
    ) -> Tensor {
        guard projectedInputs.rank == 3, hiddenWeight.rank == 2 else {
            shapeFailure(ShapeError("gru: projected inputs \(projectedInputs.shape) must be [T, B, 3H] and "
                + "the hidden weight \(hiddenWeight.shape) [H, 3H]"))
        }
        let steps = projectedInputs.shape[0], batch = projectedInputs.shape[1], hidden = hiddenWeight.shape[0]
        guard projectedInputs.shape[2] == 3 * hidden, hiddenWeight.shape[1] == 3 * hidden,
              hiddenBias.shape == [3 * hidden], initialHidden.shape == [batch, hidden] else {
            shapeFailure(ShapeError("gru: projected inputs \(projectedInputs.shape), hidden weight \(hiddenWeight.shape), "
                + "hidden bias \(hiddenBias.shape) and initial state \(initialHidden.shape) do not fit: expected "
                + "[T, B, 3H], [H, 3H], [3H], [B, H]"))
        }
        if let resets, resets.count != steps * batch {
            shapeFailure(ShapeError("gru: \(resets.count) reset flags for \(steps) steps of \(batch) rows"))
        }
        let gateWidth = 3 * hidden, rows = steps * batch
        let y = result(shape: [steps, batch, hidden], of: projectedInputs, hiddenWeight, hiddenBias, initialHidden)
        // Saved: the state entering each step [T, B, H], the recurrent pre-activations
        // hh = h·W_h + b_h [T, B, 3H] and the gates r, z, n [T, B, 3H].
        let hiddenIn = SavedScratch(rows * hidden), recurrent = SavedScratch(rows * gateWidth)
        let gates = SavedScratch(rows * gateWidth)
        let px = projectedInputs.storage, py = y.storage, pb = hiddenBias.storage
        for t in 0..<steps {
            let hIn = hiddenIn.pointer + t * batch * hidden
            for b in 0..<batch {
                if resets?[t * batch + b] ?? false {
                    (hIn + b * hidden).update(repeating: 0, count: hidden)
                } else {
                    let source = t == 0 ? initialHidden.storage + b * hidden : py + ((t - 1) * batch + b) * hidden
                    (hIn + b * hidden).update(from: source, count: hidden)
                }
            }
            let hh = recurrent.pointer + t * batch * gateWidth
            for b in 0..<batch { (hh + b * gateWidth).update(from: pb, count: gateWidth) }
            gemm(hIn, transposed: false, hiddenWeight.storage, transposed: false, into: hh,
                 m: batch, n: gateWidth, k: hidden, beta: 1)
            for b in 0..<batch {
                // Short loops, each writing one array, so that each vectorises.
                let x = UnsafePointer(px + (t * batch + b) * gateWidth), rowHH = UnsafePointer(hh + b * gateWidth)
                let act = gates.pointer + (t * batch + b) * gateWidth
                let h = UnsafePointer(hIn + b * hidden), out = py + (t * batch + b) * hidden
                for j in 0..<(2 * hidden) { act[j] = FastMath.sigmoid(x[j] + rowHH[j]) }  // r, z
                let r = UnsafePointer(act), z = UnsafePointer(act + hidden), n = act + 2 * hidden
                for j in 0..<hidden { n[j] = FastMath.tanh(x[2 * hidden + j] + r[j] * rowHH[2 * hidden + j]) }
                let candidate = UnsafePointer(n)
                for j in 0..<hidden { out[j] = (1 - z[j]) * candidate[j] + z[j] * h[j] }
            }
        }
        y.record([projectedInputs, hiddenWeight, hiddenBias, initialHidden]) { _, g in
            let dInputs = SavedScratch(rows * gateWidth), dRecurrent = SavedScratch(rows * gateWidth)
            let dHidden = SavedScratch(batch * hidden)
            dHidden.pointer.update(repeating: 0, count: batch * hidden)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let hIn = hiddenIn.pointer + t * batch * hidden
                for b in 0..<batch {
                    // Short loops, each writing one array, so that each vectorises.
                    let k = t * batch + b
                    let act = UnsafePointer(gates.pointer + k * gateWidth)
                    let (r, z, n) = (act, act + hidden, act + 2 * hidden)
                    let hhN = UnsafePointer(recurrent.pointer + k * gateWidth + 2 * hidden)
                    let dx = dInputs.pointer + k * gateWidth, dhh = dRecurrent.pointer + k * gateWidth
                    let up = g + k * hidden, dh = dHidden.pointer + b * hidden, h = UnsafePointer(hIn + b * hidden)
                    for j in 0..<hidden { dh[j] += up[j] }  // ∂h: from the output and the next step
                    let (dxR, dxZ, dxN) = (dx, dx + hidden, dx + 2 * hidden)
                    for j in 0..<hidden { dxN[j] = dh[j] * (1 - z[j]) * (1 - n[j] * n[j]) }  // ∂n'
                    let dnPre = UnsafePointer(dxN)
                    for j in 0..<hidden { dxR[j] = dnPre[j] * hhN[j] * r[j] * (1 - r[j]) }  // ∂r'
                    for j in 0..<hidden { dxZ[j] = dh[j] * (h[j] - n[j]) * z[j] * (1 - z[j]) }  // ∂z'
                    (dhh).update(from: dx, count: 2 * hidden)  // ∂r', ∂z' reach hh unchanged
                    let dhhN = dhh + 2 * hidden
                    for j in 0..<hidden { dhhN[j] = dnPre[j] * r[j] }
                    for j in 0..<hidden { dh[j] *= z[j] }  // the direct path; the product below adds the rest
                }
                gemm(dRecurrent.pointer + t * batch * gateWidth, transposed: false, hiddenWeight.storage,
                     transposed: true, into: dHidden.pointer, m: batch, n: hidden, k: gateWidth, beta: 1)
                if let resets {
                    for b in 0..<batch where resets[t * batch + b] {
                        (dHidden.pointer + b * hidden).update(repeating: 0, count: hidden)
                    }
                }
            }
            if projectedInputs.requiresGradient {
                let source = dInputs.pointer
                projectedInputs.accumulateGradient { source[$0] }
            }
            if hiddenWeight.requiresGradient {
                let (gw, isFresh) = hiddenWeight.gradientDestination()
                gemm(hiddenIn.pointer, transposed: true, dRecurrent.pointer, transposed: false, into: gw,
                     m: hidden, n: gateWidth, k: rows, beta: isFresh ? 0 : 1)
            }
            if hiddenBias.requiresGradient {
                accumulateColumnSums(of: dRecurrent.pointer, rows: rows, columns: gateWidth,
                                     into: hiddenBias.gradientBuffer())
            }
            if initialHidden.requiresGradient {
                let source = dHidden.pointer
                initialHidden.accumulateGradient { source[$0] }
            }
        }
        return y
    }
}
