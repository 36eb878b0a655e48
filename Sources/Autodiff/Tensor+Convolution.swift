// 2-D convolution, channels last, with any stride and dilation, by im2col and one sgemm.

/// How a convolution treats the border.
public enum Padding: String, Sendable, Codable {
    /// No padding: the output shrinks by kernel − 1.
    case valid
    /// Zero padding so the output keeps the input's height and width at stride 1: a
    /// dilated kernel's span − 1 in all, half before (rounded down) and the rest after,
    /// as PyTorch's `padding='same'`. Refused for strides above 1, as PyTorch refuses it.
    case same
}

extension Tensor {
    /// Convolves `input` [N, H, W, C] with `filter` [kh, kw, C, O] at stride 1; the result
    /// is [N, H', W', O] with H' = H − kh + 1 for `.valid` and H' = H for `.same`.
    /// (Cross-correlation, as every deep-learning library computes it.)
    public static func conv2D(_ input: Tensor, filter: Tensor, padding: Padding) -> Tensor {
        convolution(input, filter: filter, bias: nil, padding: padding, stride: 1, dilation: 1)
    }

    /// `conv2D(input, filter:, padding:) + bias` for a bias [O], as one op: a convolution
    /// layer's forward pass (the bias is written first and sgemm adds the product to it,
    /// as `linear` does), without a broadcast addition over the whole output.
    public static func conv2D(_ input: Tensor, filter: Tensor, bias: Tensor, padding: Padding) -> Tensor {
        conv2D(input, filter: filter, bias: bias, padding: padding, stride: 1, dilation: 1)
    }

    /// Convolves `input` [N, H, W, C] with `filter` [kh, kw, C, O], moving the window
    /// `stride` pixels at a time and spacing the kernel's taps `dilation` pixels apart
    /// (the same along height and width), as PyTorch's `conv2d(stride:, dilation:)`:
    /// output[n, i, j, o] = Σ input[n, i·stride + di·dilation − pad, j·stride +
    /// dj·dilation − pad, c] · filter[di, dj, c, o] over di, dj, c. The result is
    /// [N, H', W', O] with H' = ⌊(H + padding − dilation·(kh − 1) − 1) / stride⌋ + 1, where
    /// `.valid` pads nothing and `.same` pads dilation·(kh − 1) in all (so H' = H).
    /// - Precondition: stride and dilation are at least 1; `.same` padding needs stride 1
    ///   (PyTorch refuses `padding='same'` for strided convolutions too).
    public static func conv2D(
        _ input: Tensor, filter: Tensor, padding: Padding, stride: Int, dilation: Int = 1
    ) -> Tensor {
        convolution(input, filter: filter, bias: nil, padding: padding, stride: stride, dilation: dilation)
    }

    /// `conv2D(input, filter:, padding:, stride:, dilation:) + bias` for a bias [O], as one
    /// op (see `conv2D(_:filter:bias:padding:)`).
    public static func conv2D(
        _ input: Tensor, filter: Tensor, bias: Tensor, padding: Padding, stride: Int, dilation: Int = 1
    ) -> Tensor {
        guard bias.shape == [filter.shape.last ?? -1] else {
            shapeFailure(ShapeError("conv2D: bias \(bias.shape) does not fit filter \(filter.shape): expected [O]"))
        }
        return convolution(input, filter: filter, bias: bias, padding: padding, stride: stride, dilation: dilation)
    }

    private static func convolution(
        _ input: Tensor, filter: Tensor, bias: Tensor?, padding: Padding, stride: Int, dilation: Int
    ) -> Tensor {
        guard input.rank == 4, filter.rank == 4, input.shape[3] == filter.shape[2] else {
            shapeFailure(ShapeError("conv2D: input \(input.shape) and filter \(filter.shape) do not fit: "
                + "expected [N, H, W, C] and [kh, kw, C, O]"))
        }
        guard stride >= 1, dilation >= 1 else {
            shapeFailure(ShapeError("conv2D: stride and dilation must be at least 1, got stride \(stride) "
                + "and dilation \(dilation)"))
        }
        guard padding == .valid || stride == 1 else {
            shapeFailure(ShapeError("conv2D: 'same' padding needs stride 1, got stride \(stride) (PyTorch refuses "
                + "it too); use .valid padding, or pad the input yourself"))
        }
        let geometry = ConvolutionGeometry(
            input: input.shape, filter: filter.shape, padding: padding, stride: stride, dilation: dilation)
        guard geometry.outputHeight > 0, geometry.outputWidth > 0 else {
            shapeFailure(ShapeError("conv2D: filter \(filter.shape) with dilation \(dilation) is larger than "
                + "input \(input.shape) with \(padding) padding"))
        }
        let rows = geometry.rows, patch = geometry.patchSize, outChannels = filter.shape[3]
        let columns = StoragePool.allocate(rows * patch)
        geometry.im2col(input.storage, into: columns)
        let inputs = bias.map { [input, filter, $0] } ?? [input, filter]
        let y = Tensor(uninitializedShape: geometry.outputShape(channels: outChannels),
                       requiresGradient: GradientMode.isEnabled && inputs.contains { $0.requiresGradient })
        if let bias {
            let pb = bias.storage
            for r in 0..<rows {
                let row = y.storage + r * outChannels
                for o in 0..<outChannels { row[o] = pb[o] }
            }
        }
        gemm(columns, transposed: false, filter.storage, transposed: false, into: y.storage,
             m: rows, n: outChannels, k: patch, beta: bias == nil ? 0 : 1)
        guard y.requiresGradient else {
            StoragePool.deallocate(columns, count: rows * patch)
            return y
        }
        // The patch matrix is kept for the filter's gradient and freed with the graph.
        let saved = PatchMatrix(columns, count: rows * patch)
        y.record(inputs) { _, g in
            if filter.requiresGradient {
                // dFilter [patch, O] = columnsᵀ [patch, rows] · dY [rows, O]
                gemm(saved.pointer, transposed: true, g, transposed: false, into: filter.gradientBuffer(),
                     m: patch, n: outChannels, k: rows, beta: 1)
            }
            if let bias, bias.requiresGradient {
                // dBias [O] = Σ over output pixels of dY.
                accumulateColumnSums(of: g, rows: rows, columns: outChannels, into: bias.gradientBuffer())
            }
            if input.requiresGradient {
                // dColumns [rows, patch] = dY [rows, O] · filterᵀ [O, patch], then scattered back.
                let dColumns = StoragePool.allocate(rows * patch)
                defer { StoragePool.deallocate(dColumns, count: rows * patch) }
                gemm(g, transposed: false, filter.storage, transposed: true, into: dColumns,
                     m: rows, n: patch, k: outChannels, beta: 0)
                geometry.col2im(dColumns, addingInto: input.gradientBuffer())
            }
        }
        return y
    }
}

/// Copies `count` floats eight at a time: runs here are a dozen or so floats, too short
/// for `memcpy`'s call or a vectorised loop's alias checks to pay off.
@inline(__always)
private func copy(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        SIMD8<Float>.load(source + i).store(to: target + i)
        i += 8
    }
    while i < count {
        target[i] = source[i]
        i += 1
    }
}

/// Owns an im2col buffer for as long as a recorded convolution needs it.
final class PatchMatrix {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ pointer: UnsafeMutablePointer<Float>, count: Int) { self.pointer = pointer; self.count = count }
    deinit { StoragePool.deallocate(pointer, count: count) }
}

/// The index arithmetic of a channels-last convolution: output pixel (oy, ox) reads input
/// pixels (oy·strideHeight + dy·dilationHeight − padTop, ox·strideWidth +
/// dx·dilationWidth − padLeft) for kernel taps (dy, dx), zero outside the input.
struct ConvolutionGeometry {
    let batch, height, width, channels: Int
    let kernelHeight, kernelWidth: Int
    /// Input pixels between the windows of neighbouring output pixels.
    let strideHeight, strideWidth: Int
    /// Input pixels between neighbouring kernel taps (1: adjacent taps).
    let dilationHeight, dilationWidth: Int
    let padTop, padLeft: Int
    let outputHeight, outputWidth: Int

    init(input: [Int], filter: [Int], padding: Padding, stride: Int = 1, dilation: Int = 1) {
        batch = input[0]; height = input[1]; width = input[2]; channels = input[3]
        kernelHeight = filter[0]; kernelWidth = filter[1]
        strideHeight = stride; strideWidth = stride
        dilationHeight = dilation; dilationWidth = dilation
        // The input extent a dilated kernel covers, d·(k − 1) + 1.
        let spanHeight = dilation * (kernelHeight - 1) + 1, spanWidth = dilation * (kernelWidth - 1) + 1
        let paddedHeight, paddedWidth: Int
        switch padding {
        case .valid:
            padTop = 0; padLeft = 0
            paddedHeight = height; paddedWidth = width
        case .same:
            // span − 1 in all, the odd one at the bottom and right (PyTorch's split).
            padTop = (spanHeight - 1) / 2; padLeft = (spanWidth - 1) / 2
            paddedHeight = height + spanHeight - 1; paddedWidth = width + spanWidth - 1
        }
        // ⌊(padded − span) / stride⌋ + 1 windows fit, none when the span exceeds the input.
        outputHeight = paddedHeight >= spanHeight ? (paddedHeight - spanHeight) / stride + 1 : 0
        outputWidth = paddedWidth >= spanWidth ? (paddedWidth - spanWidth) / stride + 1 : 0
    }

    /// One row of the patch matrix per output pixel.
    var rows: Int { batch * outputHeight * outputWidth }
    /// kh · kw · C values per patch, ordered (dy, dx, c) to match the filter's layout.
    var patchSize: Int { kernelHeight * kernelWidth * channels }

    func outputShape(channels outChannels: Int) -> [Int] { [batch, outputHeight, outputWidth, outChannels] }

    /// Copies every patch into a row of `columns` (zeros outside the input). An undilated
    /// patch that lies inside the input is kh runs of kw · C consecutive input values, one
    /// row of the input apart: a short copy each. Dilated patches, and patches over the
    /// border, go value by value.
    func im2col(_ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let run = kernelWidth * channels, inputRow = width * channels
        let isDense = dilationHeight == 1 && dilationWidth == 1
        var row = columns
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                let top = oy * strideHeight - padTop
                let rowsInside = isDense && top >= 0 && top + kernelHeight <= height
                for ox in 0..<outputWidth {
                    let left = ox * strideWidth - padLeft
                    if rowsInside, left >= 0, left + kernelWidth <= width {
                        var source = input + ((n * height + top) * width + left) * channels
                        var out = row
                        for _ in 0..<kernelHeight {
                            copy(source, to: out, count: run)
                            source += inputRow
                            out += run
                        }
                    } else {
                        copyPatchByValue(input, n: n, top: top, left: left, into: row)
                    }
                    row += patchSize
                }
            }
        }
    }

    /// One patch (over the border, or dilated) whose first tap is input pixel (top, left),
    /// value by value, with zeros outside the input.
    private func copyPatchByValue(
        _ input: UnsafePointer<Float>, n: Int, top: Int, left: Int, into row: UnsafeMutablePointer<Float>
    ) {
        var out = row
        for dy in 0..<kernelHeight {
            let iy = top + dy * dilationHeight
            for dx in 0..<kernelWidth {
                let ix = left + dx * dilationWidth
                if iy >= 0, iy < height, ix >= 0, ix < width {
                    let source = input + ((n * height + iy) * width + ix) * channels
                    for c in 0..<channels { out[c] = source[c] }
                } else {
                    for c in 0..<channels { out[c] = 0 }
                }
                out += channels
            }
        }
    }

    /// Adds every row of `columns` back onto the input positions it was copied from.
    func col2im(_ columns: UnsafePointer<Float>, addingInto input: UnsafeMutablePointer<Float>) {
        var row = columns
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let top = oy * strideHeight - padTop, left = ox * strideWidth - padLeft
                    var source = row
                    for dy in 0..<kernelHeight {
                        let iy = top + dy * dilationHeight
                        for dx in 0..<kernelWidth {
                            let ix = left + dx * dilationWidth
                            if iy >= 0, iy < height, ix >= 0, ix < width {
                                let target = input + ((n * height + iy) * width + ix) * channels
                                for c in 0..<channels { target[c] += source[c] }
                            }
                            source += channels
                        }
                    }
                    row += patchSize
                }
            }
        }
    }
}
