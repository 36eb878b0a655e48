import Synchronization

extension GymnasiumBridge {
    /// The spec of `gymnasium:NAME`: a worker is started once per process to ask what the
    /// environment is (spaces, Gymnasium's time limit and reward threshold), then closed.
    /// Gymnasium's time limit applies in Python, so the spec adds none of its own.
    public static func spec(id: String) throws(GymnasiumError) -> EnvironmentSpec {
        precondition(id.hasPrefix(prefix), "\(id) is not a gymnasium: id")
        let name = String(id.dropFirst(prefix.count))
        if let known = probed.withLock({ $0[name] }) { return known }
        guard !name.isEmpty, name.utf8.count <= 1_000, !name.contains(where: \.isNewline) else {
            throw .environment(id: name, message: "the id after gymnasium: must be a Gymnasium id such as "
                + "CartPole-v1 or module:Name (at most 1,000 characters, one line)")
        }
        let probe = try GymnasiumVectorEnvironment(id: name, count: 1, workers: 1, render: false)
        let description = probe.environmentDescription
        let limit = description.maxEpisodeSteps.map { "time limit \($0) in Python" } ?? "no time limit"
        let spec = EnvironmentSpec(
            id: id, summary: "Gymnasium's \(description.summary), run in Python workers (\(limit)).",
            maxEpisodeSteps: nil, rewardThreshold: description.rewardThreshold,
            makeBase: { GymnasiumEnvironment(id: name, description: description) },
            makeVector: { count throws(EnvironmentError) in
                do throws(GymnasiumError) { return try GymnasiumVectorEnvironment(id: name, count: count) } catch {
                    throw .external(error.description)
                }
            })
        probed.withLock { $0[name] = spec }
        return spec
    }

    private static let probed = Mutex<[String: EnvironmentSpec]>([:])
}
