// swift-tools-version:6.0
// A program of its own that trains AgentLab's PPO on a game AgentLab does not ship.
import PackageDescription

let package = Package(
    name: "CustomEnvironment",
    dependencies: [.package(name: "AgentLab", path: "../..")],
    targets: [
        .executableTarget(
            name: "CustomEnvironment",
            dependencies: [
                .product(name: "Environments", package: "AgentLab"),
                .product(name: "SeededRandom", package: "AgentLab"),
                .product(name: "Training", package: "AgentLab"),
            ],
            path: "Sources"),
    ]
)
