import SeededRandom

/// Checks that an environment keeps the `Environment` contract (Gymnasium's env checker,
/// for AgentLab's protocol). Run it on any environment, a user's own included:
///
/// ```swift
/// var env = MyEnvironment()
/// let report = try EnvironmentChecker.check(&env, seed: 7, steps: 1000)
/// ```
///
/// Pass a freshly made environment: the first check steps it before any reset. The
/// checker then plays `steps` steps twice with the same seed and the same seeded random
/// actions (resetting with `seed: nil` after every episode end) and checks, on both runs:
///
/// - `actionNames` has one name per action (per dimension of a box);
/// - every observation from `reset` and `step` is fully written and inside
///   `observationSpace` (the buffer is filled with NaN before each call);
/// - rewards are finite, and a valid action in a running episode does not throw;
/// - stepping before the first reset throws `.notReset`;
/// - an action outside the space throws: for a discrete space −1 and `count` throw
///   `.invalidAction(action, count:)`; for a box, an action of the wrong size or with a NaN
///   throws `.wrongActionKind` (values beyond the bounds are clipped, not refused);
/// - stepping an ended episode throws `.episodeEnded`;
/// - two resets with the same seed give the same observation, and the second run repeats
///   the first step for step (observations, rewards and end flags);
/// - `render()` gives a frame whose pixel buffer matches its size, the same size every time.
///
/// The first violation throws a `Failure` that names the check and the step.
public enum EnvironmentChecker {
    /// One property the checker verifies.
    public enum Check: String, CaseIterable, Sendable {
        case actionNames = "action names"
        case stepBeforeReset = "step before reset"
        case observationInSpace = "observation in space"
        case finiteReward = "finite reward"
        case validAction = "valid action"
        case invalidAction = "invalid action"
        case stepAfterEnd = "step after end"
        case resetDeterminism = "reset determinism"
        case stepDeterminism = "step determinism"
        case frameSize = "frame size"
    }

    /// A violated check: which one, at which step, and what was seen.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public let check: Check
        /// The step (counted from 1 over the whole run, across episodes) at which the check
        /// failed; 0 for a reset, `nil` when it is not about a step.
        public let step: Int?
        public let message: String

        public var description: String {
            let place = step.map { $0 == 0 ? " at reset" : " at step \($0)" } ?? ""
            return "environment check '\(check.rawValue)' failed\(place): \(message)"
        }
    }

    /// What a passing check saw.
    public struct Report: Equatable, Sendable, CustomStringConvertible {
        /// Steps played in each of the two runs.
        public let steps: Int
        /// Episodes that ended (terminated or truncated) in each run.
        public let episodesEnded: Int
        /// Checks that were exercised and held.
        public let passed: [Check]
        /// Checks that could not be exercised (`stepAfterEnd` when no episode ended).
        public let notExercised: [Check]

        public var description: String {
            var text = "environment check passed: \(steps) steps, \(episodesEnded) episodes ended"
            if !notExercised.isEmpty {
                text += "; not exercised: \(notExercised.map(\.rawValue).joined(separator: ", "))"
            }
            return text
        }
    }

    /// Checks `environment` as described above.
    /// - Parameters:
    ///   - environment: a freshly made environment, never reset.
    ///   - seed: the reset seed, also the seed of the random actions.
    ///   - steps: how many steps each of the two runs plays.
    /// - Throws: the first `Failure`.
    public static func check<E: Environment>(
        _ environment: inout E, seed: UInt64 = 0, steps: Int = 1000
    ) throws(Failure) -> Report {
        precondition(steps > 0, "the checker needs at least one step")
        let actionSpace = environment.actionSpace
        let names = environment.actionNames
        guard names.count == actionSpace.width else {
            throw Failure(check: .actionNames, step: nil,
                          message: "\(names.count) action names for \(actionSpace.width) "
                              + (actionSpace.isContinuous ? "dimensions" : "actions"))
        }

        let space = environment.observationSpace
        var buffer = [Float](repeating: .nan, count: space.count)

        // Before any reset.
        let early = buffer.withUnsafeMutableBufferPointer {
            (observation) -> Result<StepOutcome, EnvironmentError> in
            do throws(EnvironmentError) { return .success(try Action.first(of: actionSpace).step(&environment, observation)) }
            catch { return .failure(error) }
        }
        guard case .failure(.notReset) = early else {
            throw Failure(check: .stepBeforeReset, step: nil,
                          message: "expected EnvironmentError.notReset, got \(early); pass a freshly made environment")
        }

        var run = Run(space: space, actionSpace: actionSpace, seed: seed)
        let first = try run.play(&environment, steps: steps, buffer: &buffer)
        var replay = Run(space: space, actionSpace: actionSpace, seed: seed)
        let second = try replay.play(&environment, steps: steps, buffer: &buffer)

        // Determinism: the second run must repeat the first.
        let width = space.count
        if first.observations[0..<width] != second.observations[0..<width] {
            throw Failure(check: .resetDeterminism, step: 0,
                          message: "two resets with seed \(seed) gave different observations: "
                              + difference(first.observations, second.observations, at: 0, width: width))
        }
        for index in 0..<steps {
            let a = first.outcomes[index], b = second.outcomes[index]
            let offset = (index + 1) * width
            if first.observations[offset..<offset + width] != second.observations[offset..<offset + width] {
                throw Failure(check: .stepDeterminism, step: index + 1,
                              message: "same seed and actions, different observations: "
                                  + difference(first.observations, second.observations, at: offset, width: width))
            }
            if a != b {
                throw Failure(check: .stepDeterminism, step: index + 1,
                              message: "same seed and actions, different outcomes: \(a) then \(b)")
            }
        }

        var passed = Check.allCases
        var notExercised: [Check] = []
        if run.episodesEnded == 0 {
            passed.removeAll { $0 == .stepAfterEnd }
            notExercised.append(.stepAfterEnd)
        }
        return Report(steps: steps, episodesEnded: run.episodesEnded, passed: passed, notExercised: notExercised)
    }

    /// The first differing element of two observations starting at `offset`.
    private static func difference(_ a: [Float], _ b: [Float], at offset: Int, width: Int) -> String {
        for i in offset..<offset + width where a[i] != b[i] && !(a[i].isNaN && b[i].isNaN) {
            return "element \(i - offset) was \(a[i]) then \(b[i])"
        }
        return "NaN in the observation"
    }

    /// An action of either kind, as the checker plays it.
    private enum Action: CustomStringConvertible {
        case discrete(Int)
        case continuous([Float])

        /// A valid action of `space`: 0, or the box's lower corner.
        static func first(of space: ActionSpace) -> Action {
            switch space {
            case .discrete: .discrete(0)
            case .box(let box): .continuous(box.low.map { $0.isFinite ? $0 : 0 })
            }
        }

        /// A random valid action of `space`.
        static func random(in space: ActionSpace, using generator: inout SeededGenerator) -> Action {
            switch space {
            case .discrete(let discrete): .discrete(generator.int(below: discrete.count))
            case .box(let box): .continuous(box.sample(using: &generator))
            }
        }

        func step<E: Environment>(_ environment: inout E, _ observation: UnsafeMutableBufferPointer<Float>)
            throws(EnvironmentError) -> StepOutcome
        {
            switch self {
            case .discrete(let action):
                return try environment.step(action, into: observation)
            case .continuous(let action):
                return try action.withUnsafeBufferPointer { (action) throws(EnvironmentError) -> StepOutcome in
                    try environment.step(action, into: observation)
                }
            }
        }

        var description: String {
            switch self {
            case .discrete(let action): "\(action)"
            case .continuous(let action): "\(action)"
            }
        }
    }

    /// One seeded run of the checker: the observations and outcomes it saw.
    private struct Run {
        let space: Box
        let actionSpace: ActionSpace
        let seed: UInt64
        var actions: SeededGenerator
        var episodesEnded = 0
        var frameSize: (width: Int, height: Int)?

        init(space: Box, actionSpace: ActionSpace, seed: UInt64) {
            self.space = space
            self.actionSpace = actionSpace
            self.seed = seed
            actions = SeededGenerator(seed: seed, stream: 0xC4EC)
        }

        struct Record {
            /// The reset observation, then one per step, back to back.
            var observations: [Float] = []
            var outcomes: [StepOutcome] = []
        }

        mutating func play<E: Environment>(_ environment: inout E, steps: Int, buffer: inout [Float])
            throws(Failure) -> Record
        {
            var record = Record()
            record.observations.reserveCapacity((steps + 1) * space.count)
            record.outcomes.reserveCapacity(steps)

            reset(&environment, seed: seed, buffer: &buffer)
            try checkObservation(buffer, step: 0, after: "reset(seed: \(seed))")
            record.observations += buffer
            try checkFrame(environment.render(), step: 0)

            // Invalid actions, right after the first reset.
            try checkInvalidActions(&environment, buffer: &buffer)

            var needsReset = false
            for step in 1...steps {
                if needsReset {
                    reset(&environment, seed: nil, buffer: &buffer)
                    try checkObservation(buffer, step: step, after: "reset(seed: nil) before this step")
                    needsReset = false
                }
                let action = Action.random(in: actionSpace, using: &actions)
                let result = attempt(&environment, action: action, buffer: &buffer)
                let outcome: StepOutcome
                switch result {
                case .success(let value): outcome = value
                case .failure(let error):
                    throw Failure(check: .validAction, step: step,
                                  message: "step(\(action)) in a running episode threw \(error)")
                }
                try checkObservation(buffer, step: step, after: "step(\(action))")
                guard outcome.reward.isFinite else {
                    throw Failure(check: .finiteReward, step: step, message: "reward \(outcome.reward)")
                }
                record.observations += buffer
                record.outcomes.append(outcome)

                if outcome.isDone {
                    episodesEnded += 1
                    if episodesEnded == 1 { try checkFrame(environment.render(), step: step) }
                    let after = attempt(&environment, action: .first(of: actionSpace), buffer: &buffer)
                    guard case .failure(.episodeEnded) = after else {
                        throw Failure(check: .stepAfterEnd, step: step,
                                      message: "the episode ended (\(outcome)); the next step should throw "
                                          + "EnvironmentError.episodeEnded, got \(after)")
                    }
                    needsReset = true
                }
            }
            try checkFrame(environment.render(), step: steps)
            return record
        }

        func reset<E: Environment>(_ environment: inout E, seed: UInt64?, buffer: inout [Float]) {
            buffer.withUnsafeMutableBufferPointer {
                $0.update(repeating: .nan)
                environment.reset(seed: seed, into: $0)
            }
        }

        func attempt<E: Environment>(_ environment: inout E, action: Action, buffer: inout [Float])
            -> Result<StepOutcome, EnvironmentError>
        {
            buffer.withUnsafeMutableBufferPointer { (observation) -> Result<StepOutcome, EnvironmentError> in
                observation.update(repeating: .nan)
                do throws(EnvironmentError) { return .success(try action.step(&environment, observation)) }
                catch { return .failure(error) }
            }
        }

        /// Actions outside the space must be refused: −1 and `count` for a discrete space;
        /// for a box, an action one float too long and one holding a NaN.
        func checkInvalidActions<E: Environment>(_ environment: inout E, buffer: inout [Float]) throws(Failure) {
            switch actionSpace {
            case .discrete(let discrete):
                let count = discrete.count
                for invalid in [-1, count] {
                    let result = attempt(&environment, action: .discrete(invalid), buffer: &buffer)
                    guard case .failure(.invalidAction(invalid, count: count)) = result else {
                        throw Failure(check: .invalidAction, step: 1,
                                      message: "action \(invalid) with \(count) actions: expected "
                                          + "EnvironmentError.invalidAction(\(invalid), count: \(count)), got \(result)")
                    }
                }
            case .box(let box):
                let valid = box.low.map { $0.isFinite ? $0 : 0 }
                for invalid in [valid + [0], [Float.nan] + valid.dropFirst()] {
                    let result = attempt(&environment, action: .continuous(invalid), buffer: &buffer)
                    guard case .failure(.wrongActionKind) = result else {
                        throw Failure(check: .invalidAction, step: 1,
                                      message: "action \(invalid) for \(box): expected EnvironmentError.wrongActionKind, "
                                          + "got \(result)")
                    }
                }
            }
        }

        func checkObservation(_ observation: [Float], step: Int, after call: String) throws(Failure) {
            for (i, value) in observation.enumerated() where !(value >= space.low[i] && value <= space.high[i]) {
                let message = value.isNaN
                    ? "element \(i) is NaN or was not written by \(call)"
                    : "element \(i) = \(value) after \(call) is outside [\(space.low[i]), \(space.high[i])]"
                throw Failure(check: .observationInSpace, step: step, message: message)
            }
        }

        mutating func checkFrame(_ frame: Frame, step: Int) throws(Failure) {
            guard frame.pixels.count == frame.width * frame.height * 3 else {
                throw Failure(check: .frameSize, step: step,
                              message: "a \(frame.width)×\(frame.height) frame holds \(frame.pixels.count) bytes, "
                                  + "expected \(frame.width * frame.height * 3)")
            }
            if let size = frameSize, size != (frame.width, frame.height) {
                throw Failure(check: .frameSize, step: step,
                              message: "frame size changed from \(size.width)×\(size.height) to \(frame.width)×\(frame.height)")
            }
            frameSize = (frame.width, frame.height)
        }
    }
}
