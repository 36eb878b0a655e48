// swift-tools-version:6.0
// AgentLab: reinforcement learning in Swift. See README.md for the module map.
import PackageDescription

let package = Package(
    name: "AgentLab",
    products: [
        .executable(name: "agentlab", targets: ["agentlab"]),
        .library(name: "Autodiff", targets: ["Autodiff"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Environments", targets: ["Environments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims: no Swift API of their own.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CSDL2", path: "Sources/CSDL2", pkgConfig: "sdl2",
            providers: [.apt(["libsdl2-dev"])]),

        // A seeded generator shared by weight initialisers and environments.
        .target(name: "SeededRandom"),

        .target(name: "Autodiff", dependencies: ["CBLAS", "SeededRandom"]),
        .target(name: "NeuralNet", dependencies: ["Autodiff", "SeededRandom"]),
        .target(name: "Environments", dependencies: ["SeededRandom"], path: "Environments"),
        .executableTarget(
            name: "agentlab",
            dependencies: [
                "Autodiff", "NeuralNet", "Environments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff"]),
        .testTarget(
            name: "NeuralNetTests", dependencies: ["NeuralNet", "Autodiff"],
            resources: [.copy("Reference")]),
        .testTarget(
            name: "EnvironmentsTests", dependencies: ["Environments"],
            resources: [.copy("Reference")]),
    ]
)
