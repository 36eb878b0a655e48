"""AgentLab's Gymnasium worker: steps Gymnasium environments for the `agentlab` binary.

Run as `python3 -m agentlab_gymnasium --parent-pid PID` with requests on file
descriptor 3 and replies on descriptor 4; docs/gymnasium-bridge.md gives the protocol.
"""
