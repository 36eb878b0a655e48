/// A shape that an op cannot accept; the message names the shapes involved.
public struct ShapeError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// Two shapes that do not broadcast together.
    static func notBroadcastable(_ a: [Int], _ b: [Int], op: String) -> ShapeError {
        ShapeError("\(op): shapes \(a) and \(b) cannot be broadcast together "
            + "(trailing axes must be equal or 1)")
    }
}

/// Stops with the error's message: shape mistakes are programming errors, like an
/// out-of-range index. The throwing checks (`Tensor.broadcastShape`, ...) let callers
/// validate first. Layers outside this module stop the same way.
@inline(never)
public func shapeFailure(_ error: ShapeError, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError(error.description, file: file, line: line)
}
