extension SIMD where Scalar == Float {
    /// The lanes at `pointer` (no alignment needed).
    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Float>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }

    /// The lanes at `pointer` (no alignment needed).
    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafeMutablePointer<Float>) -> Self {
        UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }

    /// Writes the lanes at `pointer` (no alignment needed).
    @inlinable @inline(__always)
    public func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}
