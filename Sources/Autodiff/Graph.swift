/// How a recorded tensor was computed: the tensors it came from and the derivative rule
/// that pushes its gradient back to them.
struct Origin {
    /// The inputs, kept alive until the graph is freed.
    let inputs: [Tensor]
    /// Adds each input's share of the output's gradient to that input's gradient buffer
    /// (`+=`, so a tensor used twice receives both contributions). It is handed the
    /// output rather than capturing it, so no tensor ever references itself.
    let propagate: (_ output: Tensor, _ outputGradient: UnsafePointer<Float>) -> Void
}

/// Whether ops are recorded for differentiation on the current task or thread.
public enum GradientMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording any op: results never require gradients. Use it for
/// acting, evaluation and target computations.
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientMode.$isEnabled.withValue(false) { try body() }
}

extension Tensor {
    /// A fresh result of an op over `inputs`: it requires gradients when recording is on
    /// and any input does.
    @inline(__always)
    static func result(shape: [Int], of inputs: Tensor...) -> Tensor {
        var needsGradient = false
        for input in inputs where input.requiresGradient { needsGradient = true; break }
        return Tensor(uninitializedShape: shape, requiresGradient: needsGradient && GradientMode.isEnabled)
    }

    /// Records how this result came from `inputs`, unless it needs no gradient.
    @inline(__always)
    func record(
        _ inputs: [Tensor],
        _ propagate: @escaping (_ output: Tensor, _ outputGradient: UnsafePointer<Float>) -> Void
    ) {
        guard requiresGradient else { return }
        origin = Origin(inputs: inputs, propagate: propagate)
    }

    /// Whether this tensor is a leaf that keeps its gradient (a parameter or an input
    /// marked as requiring gradients).
    public var isLeaf: Bool { origin == nil }

    /// The same values cut off from the graph: no gradient flows back through the result
    /// (target networks, advantages). Shares nothing with `self`.
    public func detached() -> Tensor {
        let copy = Tensor(uninitializedShape: shape)
        copy.storage.update(from: storage, count: count)
        return copy
    }

    /// Back-propagates from this tensor: with `seed` (the gradient of some final quantity
    /// with respect to this tensor, default all ones, which for a scalar loss is
    /// d loss / d loss) it adds to every leaf that requires gradients its gradient.
    ///
    /// The recorded graph is freed afterwards: intermediate results drop their inputs and
    /// their gradients, so calling `backward()` twice on one graph is an error.
    public func backward(seed: [Float]? = nil) {
        precondition(requiresGradient, "backward() on a tensor that does not require gradients: "
            + "mark parameters with requiresGradient and do not compute the loss inside withoutGradients")
        if let seed {
            precondition(seed.count == count, "backward seed has \(seed.count) values, tensor has \(count)")
        }
        // Topological order by an iterative depth-first search (deep graphs cannot overflow
        // the stack).
        var order: [Tensor] = []
        var stack: [(tensor: Tensor, nextInput: Int)] = [(self, 0)]
        isVisited = true
        while let (tensor, nextInput) = stack.popLast() {
            let inputs = tensor.origin?.inputs ?? []
            if nextInput < inputs.count {
                stack.append((tensor, nextInput + 1))
                let input = inputs[nextInput]
                if input.requiresGradient, !input.isVisited {
                    input.isVisited = true
                    stack.append((input, 0))
                }
            } else {
                order.append(tensor)
            }
        }

        let start = gradientBuffer()
        if let seed {
            for i in 0..<count { start[i] += seed[i] }
        } else {
            for i in 0..<count { start[i] += 1 }
        }
        for tensor in order.reversed() {
            tensor.isVisited = false
            guard let origin = tensor.origin, let gradient = tensor.gradientStorage else { continue }
            origin.propagate(tensor, gradient)
            // Free the graph as we go: this result's inputs and its gradient are done.
            tensor.origin = nil
            StoragePool.deallocate(gradient, count: tensor.count)
            tensor.gradientStorage = nil
        }
    }
}
