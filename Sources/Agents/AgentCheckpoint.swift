import Autodiff
import NeuralNet
import SeededRandom

/// An agent's saved state: tensors by name, and scalar state (step counters, generator
/// words) as strings. Stored as one safetensors file, the strings in its `__metadata__`.
///
/// The vocabulary every agent uses: `add(_:prefix:)` saves tensors, `store(_:as:)` a
/// generator, `state[...]` a counter. `load(weights:trainingState:weightsOnly:optionalPrefixes:)`
/// is the one way back into networks, checking every name, shape and value (and refusing
/// tensors the agent does not have) before it assigns anything; buffers read their saved
/// parts through `scalars(_:shape:)`, `actions(_:count:actionCount:)` and `integer(_:in:)`.
public struct AgentCheckpoint: Equatable, Sendable {
    public var tensors: [String: SafeTensors.Entry]
    public var state: [String: String]

    public init(tensors: [String: SafeTensors.Entry] = [:], state: [String: String] = [:]) {
        self.tensors = tensors
        self.state = state
    }

    // MARK: Saving

    /// Adds named tensors under `prefix`.
    public mutating func add(_ parameters: [(name: String, tensor: Tensor)], prefix: String) {
        for (name, tensor) in parameters {
            tensors[prefix + name] = SafeTensors.Entry(shape: tensor.shape, scalars: tensor.scalars)
        }
    }

    /// Saves a generator's state as four decimal words.
    public mutating func store(_ generator: SeededGenerator, as key: String) {
        let s = generator.state
        state[key] = "\(s.0) \(s.1) \(s.2) \(s.3)"
    }

    // MARK: Loading

    /// The one path by which an agent loads tensors. `weights` are the networks' tensors
    /// and `trainingState` everything else a resumed run needs (optimiser moments, target
    /// networks), each under its full name. Before anything is assigned, the checkpoint
    /// must hold every tensor to be loaded with the same shape, and no tensor outside
    /// `weights` and `trainingState` except names starting with one of `optionalPrefixes`
    /// (parts a checkpoint may or may not carry, such as a replay buffer). With
    /// `weightsOnly` (evaluation, watching) only `weights` are required and loaded.
    public func load(
        weights: [(name: String, tensor: Tensor)], trainingState: [(name: String, tensor: Tensor)],
        weightsOnly: Bool, optionalPrefixes: [String] = []
    ) throws(CheckpointError) {
        let known = Set(weights.map(\.name) + trainingState.map(\.name))
        for name in tensors.keys.sorted() where !known.contains(name) {
            guard optionalPrefixes.contains(where: { name.hasPrefix($0) }) else { throw .unexpectedTensor(name: name) }
        }
        let loaded = weightsOnly ? weights : weights + trainingState
        var values: [[Float]] = []
        for (name, tensor) in loaded { values.append(try scalars(name, shape: tensor.shape)) }
        for ((_, tensor), scalars) in zip(loaded, values) { tensor.assign(scalars) }
    }

    /// The values of tensor `name`, which must be present, of shape `shape` and finite.
    public func scalars(_ name: String, shape: [Int]) throws(CheckpointError) -> [Float] {
        guard let entry = tensors[name] else { throw .missingTensor(name: name) }
        guard entry.shape == shape else { throw .shapeMismatch(name: name, expected: shape, found: entry.shape) }
        guard entry.scalars.allSatisfy(\.isFinite) else { throw .nonFiniteValue(name: name) }
        return entry.scalars
    }

    /// `count` actions saved as the floats of tensor `name`: each a whole number in
    /// `0..<actionCount`.
    public func actions(_ name: String, count: Int, actionCount: Int) throws(CheckpointError) -> [Int] {
        let values = try scalars(name, shape: [count])
        for a in values where !(a >= 0 && a < Float(actionCount) && a == a.rounded()) {
            throw .valueOutOfRange(name: name, value: "\(a)", expected: "an action in 0..<\(actionCount)")
        }
        return values.map { Int($0) }
    }

    /// A required state value, or an error naming it.
    public func value(_ key: String) throws(CheckpointError) -> String {
        guard let value = state[key] else { throw .missingTensor(name: "metadata '\(key)'") }
        return value
    }

    /// The largest counter a checkpoint may hold: far beyond any run, far from overflow.
    public static let maximumCounter = 1_000_000_000_000_000

    /// A whole-number state value in `range` (by default a counter: 0 up to
    /// `maximumCounter`), or an error naming it.
    public func integer(_ key: String, in range: ClosedRange<Int> = 0...maximumCounter) throws(CheckpointError) -> Int {
        let text = try value(key)
        guard let value = Int(text), range.contains(value) else {
            throw .valueOutOfRange(name: key, value: text, expected: "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A generator saved by `store(_:as:)`.
    public func generator(_ key: String) throws(CheckpointError) -> SeededGenerator {
        let words = try value(key).split(separator: " ").compactMap { UInt64($0) }
        guard words.count == 4, words != [0, 0, 0, 0] else {
            throw .valueOutOfRange(name: key, value: try value(key), expected: "four whole numbers, not all zero (a generator)")
        }
        return SeededGenerator(state: (words[0], words[1], words[2], words[3]))
    }
}

/// Names every tensor of `parameters` with `prefix` in front.
public func prefixed(_ parameters: [(name: String, tensor: Tensor)], _ prefix: String) -> [(name: String, tensor: Tensor)] {
    parameters.map { (prefix + $0.name, $0.tensor) }
}

extension AgentCheckpoint {
    /// The training state of an actor-critic agent (PPO, A2C, REINFORCE): the networks'
    /// weights, the optimiser's state and step count, and the agent's generator.
    public static func actorCritic(
        _ network: ActorCritic, optimizer: any Optimizer, generator: SeededGenerator
    ) -> AgentCheckpoint {
        actorCritic(parameters: network.namedParameters, optimizer: optimizer, generator: generator)
    }

    /// The same for any network, given its named parameters (recurrent PPO's).
    public static func actorCritic(
        parameters: [(name: String, tensor: Tensor)], optimizer: any Optimizer, generator: SeededGenerator
    ) -> AgentCheckpoint {
        var checkpoint = AgentCheckpoint()
        checkpoint.add(parameters, prefix: "")
        checkpoint.add(optimizer.namedState, prefix: "optimizer.")
        checkpoint.store(generator, as: "generator")
        checkpoint.state["optimizer.steps"] = String(optimizer.stepCount)
        return checkpoint
    }

    /// Restores what `actorCritic(_:optimizer:generator:)` saved, all or nothing, and
    /// returns the generator to adopt; with `weightsOnly`, loads the weights and returns nil.
    public func restoreActorCritic(
        _ network: ActorCritic, optimizer: any Optimizer, weightsOnly: Bool, optionalPrefixes: [String] = []
    ) throws(CheckpointError) -> SeededGenerator? {
        try restoreActorCritic(parameters: network.namedParameters, optimizer: optimizer, weightsOnly: weightsOnly,
                               optionalPrefixes: optionalPrefixes)
    }

    /// The same for any network, given its named parameters (recurrent PPO's).
    public func restoreActorCritic(
        parameters: [(name: String, tensor: Tensor)], optimizer: any Optimizer, weightsOnly: Bool,
        optionalPrefixes: [String] = []
    ) throws(CheckpointError) -> SeededGenerator? {
        let generator = weightsOnly ? nil : try self.generator("generator")
        let steps = weightsOnly ? nil : try integer("optimizer.steps")
        try load(weights: parameters, trainingState: prefixed(optimizer.namedState, "optimizer."),
                 weightsOnly: weightsOnly, optionalPrefixes: optionalPrefixes)
        if let steps { optimizer.stepCount = steps }
        return generator
    }
}
