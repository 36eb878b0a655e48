import Synchronization

/// Element buffers for tensors, gradients and scratch, with large ones reused.
///
/// A training step allocates the same large buffers every time (a convolution's patch
/// matrix, its output and their gradients). glibc serves blocks over 128 KiB with `mmap`
/// and returns them on `free`, so each step paid for fresh zero pages: page faults were a
/// third of the MinAtar step. Large buffers freed here are kept, by size class, for the
/// next request of that class instead; small ones go straight to `malloc`, which already
/// recycles them cheaply.
///
/// Bounded, so memory stays flat: at most `maximumPerClass` buffers per class and
/// `maximumPooledBytes` in all are kept; beyond that, buffers are freed. Thread-safe: the
/// free lists sit behind a mutex (taken only for large buffers).
enum StoragePool {
    /// Buffers of fewer elements than this are not pooled (64 KiB).
    static let minimumPooledCount = 1 << 14
    static let maximumPerClass = 16
    static let maximumPooledBytes = 512 << 20

    private struct State {
        /// Free buffers by size class, as addresses.
        var free: [Int: [UInt]] = [:]
        var pooledBytes = 0
    }

    private static let state = Mutex(State())

    /// The size class of `count` elements and its capacity: four classes per power of two
    /// (capacities 2^e · {1, 1.25, 1.5, 1.75}), so a buffer wastes at most a fifth.
    @inline(__always)
    static func sizeClass(_ count: Int) -> (index: Int, capacity: Int) {
        let exponent = Int.bitWidth - 1 - (count - 1).leadingZeroBitCount  // 2^exponent < count <= 2^(exponent+1)
        let quarter = 1 << (exponent - 2)
        let steps = (count - (1 << exponent) + quarter - 1) / quarter  // 1...4 quarters above 2^exponent
        return (exponent * 4 + steps, (1 << exponent) + steps * quarter)
    }

    /// A buffer of at least `count` elements (uninitialised).
    @inline(__always)
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard count >= minimumPooledCount else { return .allocate(capacity: Swift.max(count, 1)) }
        let (index, capacity) = sizeClass(count)
        let reused: UInt? = state.withLock { state in
            guard let address = state.free[index]?.popLast() else { return nil }
            state.pooledBytes -= capacity * MemoryLayout<Float>.stride
            return address
        }
        if let reused { return UnsafeMutablePointer(bitPattern: reused)! }
        return .allocate(capacity: capacity)
    }

    /// Returns a buffer that `allocate(count)` gave, with the same `count`.
    @inline(__always)
    static func deallocate(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= minimumPooledCount else { return pointer.deallocate() }
        let (index, capacity) = sizeClass(count)
        let bytes = capacity * MemoryLayout<Float>.stride
        let address = UInt(bitPattern: pointer)
        let kept = state.withLock { state in
            guard state.pooledBytes + bytes <= maximumPooledBytes,
                  state.free[index, default: []].count < maximumPerClass else { return false }
            state.free[index, default: []].append(address)
            state.pooledBytes += bytes
            return true
        }
        if !kept { pointer.deallocate() }
    }
}
