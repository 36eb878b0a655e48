// 2-D convolution, stride 1, channels last, by im2col and one sgemm.

/// How a convolution treats the border.
public enum Padding: String, Sendable, Codable {
    /// No padding: the output shrinks by kernel − 1.
    case valid
    /// Zero padding so the output keeps the input's height and width (odd kernels).
    case same
}

extension Tensor {
    /// Convolves `input` [N, H, W, C] with `filter` [kh, kw, C, O] at stride 1; the result
    /// is [N, H', W', O] with H' = H − kh + 1 for `.valid` and H' = H for `.same`.
    /// (Cross-correlation, as every deep-learning library computes it.)
    public static func conv2D(_ input: Tensor, filter: Tensor, padding: Padding) -> Tensor {
        guard input.rank == 4, filter.rank == 4, input.shape[3] == filter.shape[2] else {
            shapeFailure(ShapeError("conv2D: input \(input.shape) and filter \(filter.shape) do not fit: "
                + "expected [N, H, W, C] and [kh, kw, C, O]"))
        }
        let geometry = ConvolutionGeometry(input: input.shape, filter: filter.shape, padding: padding)
        guard geometry.outputHeight > 0, geometry.outputWidth > 0 else {
            shapeFailure(ShapeError("conv2D: filter \(filter.shape) is larger than input \(input.shape) with \(padding) padding"))
        }
        let rows = geometry.rows, patch = geometry.patchSize, outChannels = filter.shape[3]
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * patch)
        geometry.im2col(input.storage, into: columns)
        let y = result(shape: geometry.outputShape(channels: outChannels), of: input, filter)
        gemm(columns, transposed: false, filter.storage, transposed: false, into: y.storage,
             m: rows, n: outChannels, k: patch, beta: 0)
        guard y.requiresGradient else {
            columns.deallocate()
            return y
        }
        // The patch matrix is kept for the filter's gradient and freed with the graph.
        let saved = PatchMatrix(columns)
        y.record([input, filter]) { _, g in
            if filter.requiresGradient {
                // dFilter [patch, O] = columnsᵀ [patch, rows] · dY [rows, O]
                gemm(saved.pointer, transposed: true, g, transposed: false, into: filter.gradientBuffer(),
                     m: patch, n: outChannels, k: rows, beta: 1)
            }
            if input.requiresGradient {
                // dColumns [rows, patch] = dY [rows, O] · filterᵀ [O, patch], then scattered back.
                let dColumns = UnsafeMutablePointer<Float>.allocate(capacity: rows * patch)
                defer { dColumns.deallocate() }
                gemm(g, transposed: false, filter.storage, transposed: true, into: dColumns,
                     m: rows, n: patch, k: outChannels, beta: 0)
                geometry.col2im(dColumns, addingInto: input.gradientBuffer())
            }
        }
        return y
    }
}

/// Owns an im2col buffer for as long as a recorded convolution needs it.
final class PatchMatrix {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}

/// The index arithmetic of a stride-1 channels-last convolution.
struct ConvolutionGeometry {
    let batch, height, width, channels: Int
    let kernelHeight, kernelWidth: Int
    let padTop, padLeft: Int
    let outputHeight, outputWidth: Int

    init(input: [Int], filter: [Int], padding: Padding) {
        batch = input[0]; height = input[1]; width = input[2]; channels = input[3]
        kernelHeight = filter[0]; kernelWidth = filter[1]
        switch padding {
        case .valid:
            padTop = 0; padLeft = 0
            outputHeight = height - kernelHeight + 1; outputWidth = width - kernelWidth + 1
        case .same:
            padTop = (kernelHeight - 1) / 2; padLeft = (kernelWidth - 1) / 2
            outputHeight = height; outputWidth = width
        }
    }

    /// One row of the patch matrix per output pixel.
    var rows: Int { batch * outputHeight * outputWidth }
    /// kh · kw · C values per patch, ordered (dy, dx, c) to match the filter's layout.
    var patchSize: Int { kernelHeight * kernelWidth * channels }

    func outputShape(channels outChannels: Int) -> [Int] { [batch, outputHeight, outputWidth, outChannels] }

    /// Copies every patch into a row of `columns` (zeros outside the input).
    func im2col(_ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        var row = columns
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var out = row
                    for dy in 0..<kernelHeight {
                        let iy = oy + dy - padTop
                        for dx in 0..<kernelWidth {
                            let ix = ox + dx - padLeft
                            if iy >= 0, iy < height, ix >= 0, ix < width {
                                out.update(from: input + ((n * height + iy) * width + ix) * channels, count: channels)
                            } else {
                                out.update(repeating: 0, count: channels)
                            }
                            out += channels
                        }
                    }
                    row += patchSize
                }
            }
        }
    }

    /// Adds every row of `columns` back onto the input positions it was copied from.
    func col2im(_ columns: UnsafePointer<Float>, addingInto input: UnsafeMutablePointer<Float>) {
        var row = columns
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var source = row
                    for dy in 0..<kernelHeight {
                        let iy = oy + dy - padTop
                        for dx in 0..<kernelWidth {
                            let ix = ox + dx - padLeft
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
