import Foundation
import Sweeps
import Training

/// What a sweep scores each trial by (higher is better).
enum SweepObjective: String, CaseIterable {
    /// The mean greedy return of `eval` after training.
    case finalReturn = "final_return"
    /// The mean of the learning curve (metrics.csv's episodic return), which rewards
    /// learning early as well as well.
    case auc
}

/// A sweep spec: a base run configuration, the settings searched, how, and over which seeds.
/// Read from YAML with the configuration's own limits; everything is checked before a
/// single trial runs.
struct SweepSpec {
    var base: ConfigurationValue
    var space: SearchSpace
    var method: SearchMethod
    /// Configurations to try (a grid: all of its combinations).
    var configurationCount: Int
    var seeds: [Int]
    var objective: SweepObjective
    /// The sweep's own seed: the same spec and seed give the same proposals.
    var seed: UInt64
    /// TPE proposes this many configurations at a time, each round from the results of all
    /// earlier rounds (so proposals never depend on which trial happened to finish first).
    var round: Int
    /// TPE's random configurations before it models the results.
    var startupCount: Int
    /// Greedy episodes `eval` plays to score a trial (for final_return).
    var evaluationEpisodes: Int

    var trialCount: Int { configurationCount * seeds.count }

    static let topLevelKeys = ["base", "search", "method", "trials", "seeds", "objective", "seed", "round",
                               "startup_trials", "eval_episodes"]
    /// Keys a sweep sets itself, which a search may not.
    static let reservedKeys = ["seed", "threads"]
    /// Keys that pick a preset, which a search may list (each value brings its own preset).
    static let presetKeys = ["environment", "algorithm"]
    static let maximumParameters = 64
    static let maximumChoices = 1_000
    static let maximumSeeds = 1_000
    static let maximumConfigurations = 10_000
    static let maximumTrials = 100_000

    /// Parses and checks a spec; `file` names it in messages.
    static func parse(yaml text: String, file: String) throws -> SweepSpec {
        let tree = try ConfigurationValue.parse(yaml: text, file: file)
        guard case .object(let top) = tree else { throw ConfigurationError.unreadable(file, reason: "the top level must be a mapping") }
        for key in top.keys.sorted() where !topLevelKeys.contains(key) {
            throw ConfigurationError.unknownKey(key, known: topLevelKeys)
        }
        let base = top["base"] ?? .object([:])
        guard case .object = base else { throw ConfigurationError.wrongType(key: "base", expected: "a mapping of run-configuration keys") }

        guard case .object(let search)? = top["search"], !search.isEmpty else {
            throw ConfigurationError.invalidValue(key: "search", reason: "give at least one key to search, e.g. `ppo.learning_rate: {log_uniform: [1.0e-4, 3.0e-3]}`")
        }
        guard search.count <= maximumParameters else {
            throw ConfigurationError.invalidValue(key: "search", reason: "\(search.count) keys; a sweep searches at most \(maximumParameters)")
        }
        var parameters: [Parameter] = []
        for (key, value) in search {
            parameters.append(Parameter(key: key, domain: try domain(of: value, key: "search.\(key)")))
            if reservedKeys.contains(key) {
                throw ConfigurationError.invalidValue(key: "search.\(key)", reason: key == "seed"
                    ? "seeds are listed under `seeds:`, not searched" : "a sweep sets \(key) itself (--threads)")
            }
            if presetKeys.contains(key) {
                guard case .choice(let values) = parameters.last!.domain,
                      values.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                    throw ConfigurationError.wrongType(key: "search.\(key)", expected: "a list of names")
                }
            }
        }
        let space = SearchSpace(parameters)

        let methodName = try string(top["method"], key: "method") ?? "random"
        guard let method = SearchMethod(rawValue: methodName) else {
            throw ConfigurationError.invalidValue(key: "method", reason: "'\(methodName)' is not one of grid, random, tpe")
        }
        var configurationCount: Int
        if method == .grid {
            guard let size = space.gridSize, size <= maximumConfigurations else {
                let continuous = space.parameters.first { $0.domain.gridValues == nil }
                throw ConfigurationError.invalidValue(key: continuous.map { "search.\($0.key)" } ?? "search", reason: continuous != nil
                    ? "a grid needs a list of values here; list them, or use method: random or tpe"
                    : "the grid holds more than \(maximumConfigurations) configurations; list fewer values")
            }
            configurationCount = size
            if let trials = try int(top["trials"], key: "trials", in: 1...maximumConfigurations), trials != size {
                throw ConfigurationError.invalidValue(key: "trials", reason: "a grid runs all of its \(size) configurations; remove `trials: \(trials)` or use method: random")
            }
        } else {
            configurationCount = try int(top["trials"], key: "trials", in: 1...maximumConfigurations) ?? 12
        }

        var seeds = [0, 1, 2]
        if let value = top["seeds"] {
            guard case .array(let items) = value, !items.isEmpty, items.count <= maximumSeeds else {
                throw ConfigurationError.wrongType(key: "seeds", expected: "a list of 1 to \(maximumSeeds) seeds, e.g. [0, 1, 2]")
            }
            seeds = try items.enumerated().map { i, item in
                guard case .int(let s) = item, s >= 0 else {
                    throw ConfigurationError.wrongType(key: "seeds[\(i)]", expected: "a whole number ≥ 0")
                }
                return s
            }
            guard Set(seeds).count == seeds.count else {
                throw ConfigurationError.invalidValue(key: "seeds", reason: "a seed is listed twice; each seed runs once per configuration")
            }
        }
        guard configurationCount * seeds.count <= maximumTrials else {
            throw ConfigurationError.invalidValue(key: "trials", reason: "\(configurationCount) configurations × \(seeds.count) seeds is more than \(maximumTrials) trials")
        }
        let objectiveName = try string(top["objective"], key: "objective") ?? SweepObjective.finalReturn.rawValue
        guard let objective = SweepObjective(rawValue: objectiveName) else {
            throw ConfigurationError.invalidValue(key: "objective", reason: "'\(objectiveName)' is not one of final_return, auc")
        }
        let seed = try int(top["seed"], key: "seed", in: 0...Int.max) ?? 0
        let round = try int(top["round"], key: "round", in: 1...1_000) ?? 2
        let startup = try int(top["startup_trials"], key: "startup_trials", in: 1...maximumConfigurations)
            ?? max(2, min(10, configurationCount / 3))
        let episodes = try int(top["eval_episodes"], key: "eval_episodes", in: 1...100_000) ?? 100
        let spec = SweepSpec(base: base, space: space, method: method, configurationCount: configurationCount, seeds: seeds,
                             objective: objective, seed: UInt64(seed), round: round, startupCount: startup,
                             evaluationEpisodes: episodes)
        try spec.checkConfigurations()
        return spec
    }

    /// The run configuration of `assignment` with `seed`: the preset, then `base`, then the
    /// searched values.
    func configuration(_ assignment: Assignment, seed: Int) throws -> RunConfiguration {
        var overrides = ConfigurationValue.object(["seed": .int(seed)])
        for (parameter, value) in zip(space.parameters, assignment) {
            overrides = Self.setting(overrides, path: parameter.key.split(separator: ".").map(String.init), to: value)
        }
        return try RunConfiguration.resolved(layers: [base, overrides])
    }

    /// Every value a trial could get is accepted by the configuration before anything runs:
    /// a grid's every combination, and each range's ends and each listed value otherwise
    /// (with the other keys at their first value).
    private func checkConfigurations() throws {
        let first = space.parameters.map { $0.domain.extremes[0] }
        do {
            if method == .grid, let grid = space.grid() {
                for assignment in grid { _ = try configuration(assignment, seed: seeds[0]) }
            } else {
                for (i, parameter) in space.parameters.enumerated() {
                    for value in parameter.domain.extremes {
                        var assignment = first
                        assignment[i] = value
                        _ = try configuration(assignment, seed: seeds[0])
                    }
                }
            }
        } catch let error as ConfigurationError {
            // Keys in the search appear under `search.`; say so.
            throw SweepSpecError(message: "the sweep's configurations are refused: \(error)")
        } catch {
            throw SweepSpecError(message: "the sweep's configurations are refused: \(error)")
        }
    }

    private static func setting(_ tree: ConfigurationValue, path: [String], to value: SweepValue) -> ConfigurationValue {
        guard case .object(var object) = tree, let head = path.first else { return tree }
        if path.count == 1 {
            object[head] = switch value {
            case .bool(let v): .bool(v)
            case .int(let v): .int(v)
            case .double(let v): .double(v)
            case .string(let v): .string(v)
            }
        } else {
            object[head] = setting(object[head] ?? .object([:]), path: Array(path.dropFirst()), to: value)
        }
        return .object(object)
    }

    /// A searched key's domain: a list, or `{uniform|log_uniform|int: [low, high]}`, or `{choice: [...]}`.
    private static func domain(of value: ConfigurationValue, key: String) throws(ConfigurationError) -> Domain {
        switch value {
        case .array(let items):
            return .choice(try choices(items, key: key))
        case .object(let object):
            guard object.count == 1, let (kind, bounds) = object.first else {
                throw .wrongType(key: key, expected: "one of {uniform: [low, high]}, {log_uniform: [low, high]}, {int: [low, high]}, {choice: [...]} or a list")
            }
            if kind == "choice" {
                guard case .array(let items) = bounds else { throw .wrongType(key: "\(key).choice", expected: "a list of values") }
                return .choice(try choices(items, key: "\(key).choice"))
            }
            guard case .array(let pair) = bounds, pair.count == 2 else {
                throw .wrongType(key: "\(key).\(kind)", expected: "[low, high]")
            }
            switch kind {
            case "uniform", "log_uniform":
                guard let low = number(pair[0]), let high = number(pair[1]), low.isFinite, high.isFinite, low < high else {
                    throw .invalidValue(key: "\(key).\(kind)", reason: "needs two finite numbers, the first below the second")
                }
                if kind == "log_uniform" {
                    guard low > 0 else { throw .invalidValue(key: "\(key).log_uniform", reason: "a log-uniform range must be above 0, got \(low)") }
                    return .logUniform(low...high)
                }
                return .uniform(low...high)
            case "int", "integer":
                let limit = 1 << 52
                guard case .int(let low) = pair[0], case .int(let high) = pair[1], low < high, low >= -limit, high <= limit else {
                    throw .invalidValue(key: "\(key).\(kind)", reason: "needs two whole numbers within ±2^52, the first below the second")
                }
                return .integer(low...high)
            default:
                throw .unknownKey("\(key).\(kind)", known: ["choice", "int", "log_uniform", "uniform"])
            }
        default:
            throw .wrongType(key: key, expected: "a list of values, or {uniform|log_uniform|int: [low, high]}")
        }
    }

    private static func choices(_ items: [ConfigurationValue], key: String) throws(ConfigurationError) -> [SweepValue] {
        guard !items.isEmpty, items.count <= maximumChoices else {
            throw .invalidValue(key: key, reason: "list 1 to \(maximumChoices) values")
        }
        var values: [SweepValue] = []
        for (i, item) in items.enumerated() {
            let value: SweepValue = switch item {
            case .bool(let v): .bool(v)
            case .int(let v): .int(v)
            case .double(let v): .double(v)
            case .string(let v): .string(v)
            case .array, .object: throw .wrongType(key: "\(key)[\(i)]", expected: "a number, boolean or text")
            }
            guard !values.contains(value) else { throw .invalidValue(key: key, reason: "\(value) is listed twice") }
            values.append(value)
        }
        return values
    }

    private static func number(_ value: ConfigurationValue) -> Double? {
        switch value {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }

    private static func string(_ value: ConfigurationValue?, key: String) throws(ConfigurationError) -> String? {
        guard let value else { return nil }
        guard case .string(let s) = value else { throw .wrongType(key: key, expected: "a name (text)") }
        return s
    }

    private static func int(_ value: ConfigurationValue?, key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value else { return nil }
        guard case .int(let v) = value else { throw .wrongType(key: key, expected: "a whole number") }
        guard range.contains(v) else { throw .invalidValue(key: key, reason: "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }
}

/// A sweep spec whose trials could not run; the message names the key.
struct SweepSpecError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
