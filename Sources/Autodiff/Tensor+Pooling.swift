// Max and average pooling over channels-last batches [N, H, W, C], without padding.

extension Tensor {
    /// The largest value of each `size`×`size` window, channel by channel, with windows
    /// `stride` pixels apart (default `size`: windows side by side, PyTorch's default), as
    /// PyTorch's `max_pool2d` without padding. `input` is [N, H, W, C]; the result is
    /// [N, H', W', C] with H' = ⌊(H − size) / stride⌋ + 1 (rows and columns that no whole
    /// window reaches are left out). A NaN in a window is its maximum (as PyTorch's).
    ///
    /// The gradient of each output goes to the first maximum of its window in row-major
    /// order (PyTorch picks the first one too); an input that is the maximum of several
    /// overlapping windows receives all their gradients.
    /// - Precondition: `size` and `stride` are at least 1 and the window fits the input.
    public static func maxPool2D(_ input: Tensor, size: Int, stride: Int? = nil) -> Tensor {
        let geometry = PoolingGeometry(input.shape, size: size, stride: stride, op: "maxPool2D")
        let y = result(shape: geometry.outputShape, of: input)
        let channels = geometry.channels
        // For each output element, the index of the input element it took.
        var winners = [Int](repeating: 0, count: y.count)
        let px = input.storage, py = y.storage
        var out = 0  // the output pixel's first element
        for n in 0..<geometry.batch {
            for oy in 0..<geometry.outputHeight {
                for ox in 0..<geometry.outputWidth {
                    let corner = geometry.cornerIndex(n: n, oy: oy, ox: ox)
                    for c in 0..<channels {
                        py[out + c] = px[corner + c]
                        winners[out + c] = corner + c
                    }
                    for dy in 0..<size {
                        for dx in 0..<size where dy > 0 || dx > 0 {
                            let tap = corner + (dy * geometry.width + dx) * channels
                            for c in 0..<channels {
                                let value = px[tap + c]
                                if value > py[out + c] || value.isNaN {
                                    py[out + c] = value
                                    winners[out + c] = tap + c
                                }
                            }
                        }
                    }
                    out += channels
                }
            }
        }
        let chosen = winners
        // d y / d x = 1 at the window's first maximum, 0 elsewhere in it.
        y.record([input]) { _, g in
            let gx = input.gradientBuffer()
            for j in 0..<chosen.count { gx[chosen[j]] += g[j] }
        }
        return y
    }

    /// The mean of each `size`×`size` window, channel by channel, with windows `stride`
    /// pixels apart (default `size`), as PyTorch's `avg_pool2d` without padding: the sum of
    /// the window divided by size². Shapes as `maxPool2D`.
    ///
    /// Each output's gradient, divided by size², goes to every input of its window; inputs
    /// in several overlapping windows receive a share from each.
    /// - Precondition: `size` and `stride` are at least 1 and the window fits the input.
    public static func averagePool2D(_ input: Tensor, size: Int, stride: Int? = nil) -> Tensor {
        let geometry = PoolingGeometry(input.shape, size: size, stride: stride, op: "averagePool2D")
        let y = result(shape: geometry.outputShape, of: input)
        let channels = geometry.channels
        let divisor = Float(size * size)
        let px = input.storage, py = y.storage
        var out = 0  // the output pixel's first element
        for n in 0..<geometry.batch {
            for oy in 0..<geometry.outputHeight {
                for ox in 0..<geometry.outputWidth {
                    let corner = geometry.cornerIndex(n: n, oy: oy, ox: ox)
                    let sums = py + out
                    sums.update(repeating: 0, count: channels)
                    for dy in 0..<size {
                        for dx in 0..<size {
                            let tap = px + corner + (dy * geometry.width + dx) * channels
                            for c in 0..<channels { sums[c] += tap[c] }
                        }
                    }
                    for c in 0..<channels { sums[c] /= divisor }
                    out += channels
                }
            }
        }
        // d y / d x = 1/size² for each input of the window.
        y.record([input]) { _, g in
            let gx = input.gradientBuffer()
            let scale = 1 / divisor
            var pixel = 0  // the output pixel's first element
            for n in 0..<geometry.batch {
                for oy in 0..<geometry.outputHeight {
                    for ox in 0..<geometry.outputWidth {
                        let corner = geometry.cornerIndex(n: n, oy: oy, ox: ox)
                        let up = g + pixel
                        for dy in 0..<size {
                            for dx in 0..<size {
                                let tap = gx + corner + (dy * geometry.width + dx) * channels
                                for c in 0..<channels { tap[c] += scale * up[c] }
                            }
                        }
                        pixel += channels
                    }
                }
            }
        }
        return y
    }
}

/// The index arithmetic of pooling without padding over [N, H, W, C]: output pixel
/// (oy, ox) covers input rows oy·stride ..< oy·stride + size and the same columns.
struct PoolingGeometry {
    let batch, height, width, channels: Int
    let size, stride: Int
    let outputHeight, outputWidth: Int

    /// Checks the shape and window for `op` (stopping with a message naming them) and
    /// works out the output's extent; `stride` defaults to `size`.
    init(_ shape: [Int], size: Int, stride: Int?, op: String) {
        guard shape.count == 4 else {
            shapeFailure(ShapeError("\(op): needs an input [N, H, W, C], shape is \(shape)"))
        }
        let step = stride ?? size
        guard size >= 1, step >= 1 else {
            shapeFailure(ShapeError("\(op): size and stride must be at least 1, got size \(size) and stride \(step)"))
        }
        guard shape[1] >= size, shape[2] >= size else {
            shapeFailure(ShapeError("\(op): a \(size)×\(size) window does not fit input \(shape)"))
        }
        batch = shape[0]; height = shape[1]; width = shape[2]; channels = shape[3]
        self.size = size
        self.stride = step
        outputHeight = (height - size) / step + 1
        outputWidth = (width - size) / step + 1
    }

    var outputShape: [Int] { [batch, outputHeight, outputWidth, channels] }

    /// The index of channel 0 of the top-left input pixel of output pixel (oy, ox) of
    /// batch entry n.
    @inline(__always)
    func cornerIndex(n: Int, oy: Int, ox: Int) -> Int {
        ((n * height + oy * stride) * width + ox * stride) * channels
    }
}
