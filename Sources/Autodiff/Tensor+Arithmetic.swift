// Element-wise binary ops with broadcasting. Each op computes its result and, beside it,
// records its derivative rule: d y / d a and d y / d b as functions of (a, b, y).

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "+")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 + $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { _, _, _ in 1 }, db: { _, _, _ in 1 })
        }
        return y
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "-")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 - $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { _, _, _ in 1 }, db: { _, _, _ in -1 })
        }
        return y
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "*")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 * $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { _, b, _ in b }, db: { a, _, _ in a })
        }
        return y
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "/")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 / $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { _, b, _ in 1 / b }, db: { _, b, y in -y / b })
        }
        return y
    }

    /// The smaller of the two at each element; the gradient goes to `a` on ties.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "minimum")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 <= $1 ? $0 : $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { a, b, _ in a <= b ? 1 : 0 }, db: { a, b, _ in a <= b ? 0 : 1 })
        }
        return y
    }

    /// The larger of the two at each element; the gradient goes to `a` on ties.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "maximum")
        let y = result(shape: plan.shape, of: a, b)
        plan.map(a, b, into: y) { $0 >= $1 ? $0 : $1 }
        y.record([a, b]) { y, g in
            plan.accumulate(a, b, y, g, da: { a, b, _ in a >= b ? 1 : 0 }, db: { a, b, _ in a >= b ? 0 : 1 })
        }
        return y
    }

    // Scalars on either side: an affine map `scale * x + shift` is one primitive, so
    // `x * 0.5` or `1 - x` allocates no constant tensor.

    /// `scale * x + shift`, element-wise.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let x = self
        let y = Tensor.result(shape: shape, of: x)
        let px = x.storage, py = y.storage
        for i in 0..<count { py[i] = scale * px[i] + shift }
        y.record([x]) { y, g in
            x.accumulateGradient { i in scale * g[i] }
        }
        return y
    }

    public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1, shift: 0) }
    public static func + (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1, shift: c) }
    public static func + (c: Float, x: Tensor) -> Tensor { x.affine(scale: 1, shift: c) }
    public static func - (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1, shift: -c) }
    public static func - (c: Float, x: Tensor) -> Tensor { x.affine(scale: -1, shift: c) }
    public static func * (x: Tensor, c: Float) -> Tensor { x.affine(scale: c, shift: 0) }
    public static func * (c: Float, x: Tensor) -> Tensor { x.affine(scale: c, shift: 0) }
    public static func / (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1 / c, shift: 0) }
}
