// Agents: see Agent.swift.
import NeuralNet
import Environments
