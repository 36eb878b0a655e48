// Element-wise choice between two tensors by a condition (torch.where).

extension Tensor {
    /// `a`'s element where `condition` is non-zero, else `b`'s, as `torch.where(condition,
    /// a, b)`. `a` and `b` broadcast against each other (NumPy's rule); `condition` must
    /// broadcast to their common shape, which is the result's (a condition [N, 1] picks
    /// whole rows, a scalar picks everything). Any non-zero value counts as true, NaN too.
    ///
    /// The gradient flows to `a` where the condition holds and to `b` elsewhere, summed over
    /// the axes each was broadcast along; `condition` receives none (it is a mask, not a
    /// value, and need not be recorded).
    public static func select(where condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "select")
        let conditionPlan = BroadcastPlan(condition.shape, plan.shape, op: "select")
        guard conditionPlan.shape == plan.shape else {
            shapeFailure(ShapeError("select: condition \(condition.shape) does not broadcast to \(plan.shape), "
                + "the shape of \(a.shape) and \(b.shape) broadcast together"))
        }
        // Whether each result element takes a's value, read once from the condition.
        var takesA = [Bool](repeating: false, count: plan.count)
        let pc = condition.storage
        conditionPlan.forEach { o, i, _ in takesA[o] = pc[i] != 0 }
        let mask = takesA

        let y = result(shape: plan.shape, of: a, b)
        let pa = a.storage, pb = b.storage, py = y.storage
        plan.forEach { o, i, j in py[o] = mask[o] ? pa[i] : pb[j] }
        // d y/d a = 1 where the condition holds, else 0; d y/d b the other way round.
        y.record([a, b]) { _, g in
            if a.requiresGradient {
                let ga = a.gradientBuffer()
                plan.forEach { o, i, _ in if mask[o] { ga[i] += g[o] } }
            }
            if b.requiresGradient {
                let gb = b.gradientBuffer()
                plan.forEach { o, _, j in if !mask[o] { gb[j] += g[o] } }
            }
        }
        return y
    }
}
