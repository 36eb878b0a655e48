/// `count` copies of `prototype` stepped together, behind the type-erased `VectorStepping`
/// interface, e.g. `makeVectorEnvironment(try makeEnvironment(id: "CartPole-v1"), count: 1024)`
/// (an `any Environment` argument is opened to its dynamic type).
///
/// A vector's stepping loop is compiled for the environment type known where the vector
/// is built (see `VectorEnvironment`). When the caller holds only `any Environment`, that
/// type is known only at run time, so the registry's common types are matched here by a
/// cast, once, and built through a statically typed path: their loop is fully specialised
/// (a direct call per copy, wrappers inlined). Any other type still works, through the
/// generic path, which calls through witness tables per copy: measured at N = 1024 on one
/// core, CartPole-v1 ran about 45 M steps/s specialised and 34 M through the generic path.
/// Add a line below for a new environment type whose vector speed matters.
public func makeVectorEnvironment<E: Environment>(_ prototype: E, count: Int) -> any VectorStepping {
    // The registry's environments, as `makeEnvironment(id:)` returns them (time-limited).
    if let vector = specializedVector(prototype, as: TimeLimit<CartPole>.self, count: count) { return vector }
    if let vector = specializedVector(prototype, as: TimeLimit<GridWorld>.self, count: count) { return vector }
    if let vector = specializedVector(prototype, as: TimeLimit<MinAtarEnvironment<BreakoutGame>>.self, count: count) {
        return vector
    }
    if let vector = specializedVector(
        prototype, as: TimeLimit<MinAtarEnvironment<SpaceInvadersGame>>.self, count: count) { return vector }
    if let vector = specializedVector(prototype, as: TimeLimit<MinAtarEnvironment<FreewayGame>>.self, count: count) {
        return vector
    }
    if let vector = specializedVector(prototype, as: TimeLimit<MinAtarEnvironment<AsterixGame>>.self, count: count) {
        return vector
    }
    if let vector = specializedVector(prototype, as: TimeLimit<MinAtarEnvironment<SeaquestGame>>.self, count: count) {
        return vector
    }
    // The same without a time limit.
    if let vector = specializedVector(prototype, as: CartPole.self, count: count) { return vector }
    return VectorEnvironment(prototype, count: count)
}

/// A vector of `prototype` built with its type statically `Known`, or `nil` when
/// `prototype` is not a `Known`.
@inline(__always)
private func specializedVector<E: Environment, Known: Environment>(
    _ prototype: E, as known: Known.Type, count: Int
) -> (any VectorStepping)? {
    guard let typed = prototype as? Known else { return nil }
    return VectorEnvironment<Known>(typed, count: count)
}
