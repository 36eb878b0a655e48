// The SDL viewer: see Viewer.swift once it lands.
import Environments
