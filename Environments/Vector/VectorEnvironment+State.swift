import Foundation

/// What `savedState()` writes: every copy as it is, the observations the learner will act
/// on next, and the return and length of each episode in progress.
struct VectorSnapshot<Copy: Codable>: Codable {
    var copies: [Copy]
    var observations: [Float]
    var runningReturns: [Double]
    var runningLengths: [Int]
}

extension VectorEnvironment {
    /// The whole state of the copies as JSON, so a resumed run continues exactly where it
    /// stopped; nil when `E` is not `Codable` (its state cannot be saved).
    public func savedState() -> Data? {
        guard let codable = E.self as? any Codable.Type else { return nil }
        return encodedState(as: codable)
    }

    private func encodedState<C: Codable>(as type: C.Type) -> Data? {
        let snapshot = VectorSnapshot(
            copies: (0..<count).map { kernel.environments[$0] as! C },
            observations: Array(observations),
            runningReturns: Array(UnsafeBufferPointer(start: kernel.runningReturns, count: count)),
            runningLengths: Array(UnsafeBufferPointer(start: kernel.runningLengths, count: count)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same state gives the same bytes
        return try? encoder.encode(snapshot)
    }

    /// Restores what `savedState()` wrote, all or nothing.
    /// - Throws: `EnvironmentError.invalidConfiguration` when the data is not a saved state
    ///   of `count` copies of this environment type.
    public func restoreState(from data: Data) throws(EnvironmentError) {
        guard let codable = E.self as? any Codable.Type else {
            throw .invalidConfiguration("\(E.self) cannot restore a saved state: it is not Codable")
        }
        try restoreState(from: data, as: codable)
    }

    private func restoreState<C: Codable>(from data: Data, as type: C.Type) throws(EnvironmentError) {
        let snapshot: VectorSnapshot<C>
        do { snapshot = try JSONDecoder().decode(VectorSnapshot<C>.self, from: data) } catch {
            throw .invalidConfiguration("the saved environment state is not a state of \(E.self): \(error)")
        }
        let copies = snapshot.copies.compactMap { $0 as? E }
        guard copies.count == count, snapshot.observations.count == count * observationSize,
              snapshot.runningReturns.count == count, snapshot.runningLengths.count == count,
              copies.allSatisfy({ $0.observationSpace == observationSpace && $0.actionSpace == actionSpace }),
              snapshot.observations.allSatisfy(\.isFinite), snapshot.runningReturns.allSatisfy(\.isFinite),
              snapshot.runningLengths.allSatisfy({ $0 >= 0 })
        else {
            throw .invalidConfiguration("the saved environment state does not fit \(count) copies of \(E.self)")
        }
        for i in 0..<count {
            kernel.environments[i] = copies[i]
            kernel.runningReturns[i] = snapshot.runningReturns[i]
            kernel.runningLengths[i] = snapshot.runningLengths[i]
        }
        kernel.observations.update(from: snapshot.observations, count: snapshot.observations.count)
        control.pointee.canStep = true
        control.pointee.hasBeenSeeded = true
    }
}
