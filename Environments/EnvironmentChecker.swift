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
/// - `actionNames` has one name per action;
/// - every observation from `reset` and `step` is fully written and inside
///   `observationSpace` (the buffer is filled with NaN before each call);
/// - rewards are finite, and a valid action in a running episode does not throw;
/// - stepping before the first reset throws `.notReset`;
/// - an action outside the space (−1 and `count`) throws `.invalidAction(action, count:)`;
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
        let actionCount = environment.actionSpace.count
        let names = environment.actionNames
        guard names.count == actionCount else {
            throw Failure(check: .actionNames, step: nil,
                          message: "\(names.count) action names for \(actionCount) actions")
        }

        let space = environment.observationSpace
        var buffer = [Float](repeating: .nan, count: space.count)

        // Before any reset.
        let early = buffer.withUnsafeMutableBufferPointer {
            (observation) -> Result<StepOutcome, EnvironmentError> in
            do throws(EnvironmentError) { return .success(try environment.step(0, into: observation)) }
            catch { return .failure(error) }
        }
        guard case .failure(.notReset) = early else {
            throw Failure(check: .stepBeforeReset, step: nil,
                          message: "expected EnvironmentError.notReset, got \(early); pass a freshly made environment")
        }

        var run = Run(space: space, actionCount: actionCount, seed: seed)
        let first = try run.play(&environment, steps: steps, buffer: &buffer)
        var replay = Run(space: space, actionCount: actionCount, seed: seed)
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

    /// One seeded run of the checker: the observations and outcomes it saw.
    private struct Run {
        let space: Box
        let actionCount: Int
        let seed: UInt64
        var actions: SeededGenerator
        var episodesEnded = 0
        var frameSize: (width: Int, height: Int)?

        init(space: Box, actionCount: Int, seed: UInt64) {
            self.space = space
            self.actionCount = actionCount
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
            for invalid in [-1, actionCount] {
                let result = attempt(&environment, action: invalid, buffer: &buffer)
                guard case .failure(.invalidAction(invalid, count: actionCount)) = result else {
                    throw Failure(check: .invalidAction, step: 1,
                                  message: "action \(invalid) with \(actionCount) actions: expected "
                                      + "EnvironmentError.invalidAction(\(invalid), count: \(actionCount)), got \(result)")
                }
            }

            var needsReset = false
            for step in 1...steps {
                if needsReset {
                    reset(&environment, seed: nil, buffer: &buffer)
                    try checkObservation(buffer, step: step, after: "reset(seed: nil) before this step")
                    needsReset = false
                }
                let action = actions.int(below: actionCount)
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
                    let after = attempt(&environment, action: 0, buffer: &buffer)
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

        func attempt<E: Environment>(_ environment: inout E, action: Int, buffer: inout [Float])
            -> Result<StepOutcome, EnvironmentError>
        {
            buffer.withUnsafeMutableBufferPointer { (observation) -> Result<StepOutcome, EnvironmentError> in
                observation.update(repeating: .nan)
                do throws(EnvironmentError) { return .success(try environment.step(action, into: observation)) }
                catch { return .failure(error) }
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
