import Environments

/// The keys a person plays with.
public enum PlayKey: String, CaseIterable, Sendable {
    case left, right, up, down, space

    /// How the key is shown in the panel.
    public var label: String {
        switch self {
        case .left: "←"
        case .right: "→"
        case .up: "↑"
        case .down: "↓"
        case .space: "space"
        }
    }

    /// The action name the key stands for: the arrows for the moves of the same name,
    /// space for `fire`.
    public var actionName: String {
        switch self {
        case .space: "fire"
        default: rawValue
        }
    }
}

/// A person at the keyboard, as an advisor for `agentlab play`.
///
/// Keys map to actions by name (`actionNames`): the arrows to `left`, `right`, `up`,
/// `down` and space to `fire`, where the environment has such actions. When several mapped
/// keys are held, the one pressed last wins.
///
/// What happens when no key is held depends on `idle`:
/// - `.action(i)`: play action `i` (MinAtar's `no-op`);
/// - `.repeatLast`: repeat the last action played (CartPole, which has no no-op and needs
///   a push every step);
/// - `.wait`: do not step at all (turn-based: GridWorld steps once per key press).
///
/// In every mode an episode starts with the player's first key press (`isReady`), so a
/// pole does not fall, nor a ball drop, while they find the keys.
///
/// `makeIdle(actionNames:)` picks: a `no-op` action if there is one, otherwise
/// `.repeatLast`; the command line chooses `.wait` for the grid worlds.
public final class KeyboardAdvisor: ActionAdvisor {
    public enum Idle: Equatable, Sendable {
        case action(Int)
        case repeatLast
        case wait
    }

    public let actionNames: [String]
    public let idle: Idle
    /// The action each mapped key plays.
    public let bindings: [PlayKey: Int]
    /// Mapped keys currently held, oldest first.
    public private(set) var held: [PlayKey] = []
    /// Key presses not yet played (for `.wait`, so that a quick tap is never lost).
    private var pendingPresses: [PlayKey] = []
    private var lastAction = 0
    /// A key has played an action in this episode.
    private var hasPlayedKey = false

    public init(actionNames: [String], idle: Idle? = nil) {
        self.actionNames = actionNames
        self.idle = idle ?? Self.makeIdle(actionNames: actionNames)
        var bindings: [PlayKey: Int] = [:]
        for key in PlayKey.allCases {
            if let index = actionNames.firstIndex(of: key.actionName) { bindings[key] = index }
        }
        self.bindings = bindings
    }

    /// `no-op` when the environment has it, otherwise repeat the last action.
    public static func makeIdle(actionNames: [String]) -> Idle {
        if let noop = actionNames.firstIndex(where: { $0 == "no-op" || $0 == "noop" }) { return .action(noop) }
        return .repeatLast
    }

    /// The key shown beside action `index` in the panel, if one plays it.
    public func keyLabel(for index: Int) -> String? {
        PlayKey.allCases.first { bindings[$0] == index }?.label
    }

    /// Whether `key` plays an action here (the viewer then does not use it for itself).
    public func claims(_ key: PlayKey) -> Bool { bindings[key] != nil }

    public func press(_ key: PlayKey) {
        guard claims(key) else { return }
        held.removeAll { $0 == key }
        held.append(key)
        pendingPresses.append(key)
    }

    public func release(_ key: PlayKey) {
        held.removeAll { $0 == key }
    }

    /// Whether `advise` has something to play: in `.wait` mode only after a key press not
    /// yet played; otherwise once a key has been pressed in this episode (every episode
    /// waits for the player's first key).
    public var isReady: Bool {
        switch idle {
        case .wait: !pendingPresses.isEmpty
        case .repeatLast, .action: hasPlayedKey || !pendingPresses.isEmpty || !held.isEmpty
        }
    }

    public func advise(_ observation: [Float]) -> Advice {
        let key: PlayKey?
        if idle == .wait {
            key = pendingPresses.isEmpty ? nil : pendingPresses.removeFirst()
        } else {
            // The key held last, else a tap pressed and released since the last step.
            key = held.last ?? pendingPresses.last
            pendingPresses.removeAll()
        }
        let action: Int
        if let key {
            action = bindings[key]!
            hasPlayedKey = true
        } else if case .action(let index) = idle {
            action = index
        } else {
            action = lastAction
        }
        lastAction = action
        return .choice(action)
    }

    public func episodeDidStart() {
        pendingPresses.removeAll()
        lastAction = 0
        hasPlayedKey = false
    }
}
