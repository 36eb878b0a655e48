#!/usr/bin/env python3
"""Checkpoint fuzzer: seeded mutations of a real run folder's checkpoint, each loaded by the
release binary under a memory cap. Every case must end with exit status 0, 1 or 2 (2 with a
message on stderr): never a signal, a hang or an allocation failure.

usage: scripts/reliability/fuzz_checkpoints.py AGENTLAB [CASES] [SEED]

Mutated: the header length, bytes of the JSON header, data offsets, dtypes, shapes (huge,
negative, overflowing), tensor names (renamed, duplicated), tensor values (NaN, infinities,
huge), the metadata fields AgentLab reads (step, seed, episodes, configuration, session,
environments and its hash, metrics), bytes of the body, and checkpoint.json. Every tenth
case is also resumed (`train --resume`), the rest evaluated (`eval`).
"""
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

MEMORY_CAP = 4 << 30  # bytes of address space per case


def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    return n, json.loads(data[8:8 + n]), data[8 + n:]


def write(path, header, body, header_length=None):
    text = json.dumps(header).encode()
    n = len(text) if header_length is None else header_length
    open(path, "wb").write(struct.pack("<Q", n) + text + body)


def mutate(rng, folder):
    path = os.path.join(folder, "checkpoint.safetensors")
    n, header, body = read(path)
    tensors = [k for k in header if k != "__metadata__"]
    meta = header.get("__metadata__", {})
    kind = rng.randrange(14)
    name = rng.choice(tensors)
    huge = rng.choice([2**62, 2**63 - 1, 2**64, -1, 10**30, 4611686018427387904, 0])
    if kind == 0:  # header length
        raw = open(path, "rb").read()
        length = rng.choice([0, 1, n - 1, n + 1, len(raw), 2**63 - 1, 2**64 - 1, rng.randrange(2**64)])
        open(path, "wb").write(struct.pack("<Q", length) + raw[8:])
        return "header length %d" % length
    if kind == 1:  # bytes of the JSON header
        raw = bytearray(open(path, "rb").read())
        for _ in range(rng.randrange(1, 6)):
            raw[8 + rng.randrange(n)] = rng.randrange(256)
        open(path, "wb").write(bytes(raw))
        return "header bytes"
    if kind == 2:  # offsets
        start, end = header[name]["data_offsets"]
        header[name]["data_offsets"] = rng.choice([[end, start], [start + 2, end + 2], [start, end + 4], [0, end - start],
                                                   [huge, huge], [start, huge], [-4, end], [start, "x"], [start]])
        write(path, header, body)
        return "offsets of %s: %s" % (name, header[name]["data_offsets"])
    if kind == 3:  # dtype
        header[name]["dtype"] = rng.choice(["F16", "F64", "I64", "BOOL", "", 7, None])
        write(path, header, body)
        return "dtype of %s" % name
    if kind == 4:  # shape
        shape = header[name]["shape"]
        header[name]["shape"] = rng.choice([[huge], [huge, huge], [2**32, 2**32], [-1] + shape[1:], shape + [1],
                                            shape[:-1], [3.5], ["a"], [], [0], list(reversed(shape)), [1] * 40])
        write(path, header, body)
        return "shape of %s: %s" % (name, header[name]["shape"])
    if kind == 5:  # names
        other = rng.choice(tensors)
        if rng.random() < 0.5:
            header["renamed." + name] = header.pop(name)
            write(path, header, body)
            return "renamed %s" % name
        text = json.dumps(header)
        entry = json.dumps(header[other])
        text = text[:-1] + ', "%s": %s}' % (name, entry)  # a duplicate key
        open(path, "wb").write(struct.pack("<Q", len(text)) + text.encode() + body)
        return "duplicate %s" % name
    if kind == 6:  # values
        start, end = header[name]["data_offsets"]
        value = rng.choice([float("nan"), float("inf"), -float("inf"), 1e30, -1e38, 3.4e38])
        position = start + 4 * rng.randrange(max(1, (end - start) // 4))
        body = body[:position] + struct.pack("<f", value) + body[position + 4:]
        write(path, header, body)
        return "value %r in %s" % (value, name)
    if kind == 7:  # body bytes, truncation, trailing bytes
        choice = rng.randrange(3)
        if choice == 0:
            body = body[:rng.randrange(len(body))]
        elif choice == 1:
            body = body + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        else:
            raw = bytearray(body)
            for _ in range(8):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            body = bytes(raw)
        write(path, header, body)
        return "body (%d)" % choice
    if kind in (8, 9, 10, 11):  # metadata fields
        key = rng.choice(sorted(meta))
        if kind == 8:
            meta[key] = rng.choice(["-1", str(2**63 - 1), str(2**64), "1e30", "nan", "", "x" * 5000, "0", "[]", "{}"])
        elif kind == 9:
            meta.pop(key)
        elif kind == 10:
            for counter in ["agentlab.step", "agentlab.episodes", "optimizer.steps", "global_step", "vector_steps",
                            "rollout.position", "replay.count", "replay.position"]:
                if counter in meta:
                    meta[counter] = rng.choice(["-1", str(2**63 - 1), "99999999999999999999", "3.5"])
            key = "counters"
        else:
            value = meta.get(key, "")
            if value:
                raw = bytearray(value.encode())
                for _ in range(rng.randrange(1, 4)):
                    raw[rng.randrange(len(raw))] = rng.randrange(32, 127)
                meta[key] = raw.decode(errors="replace")
        header["__metadata__"] = meta
        write(path, header, body)
        return "metadata %s" % key
    if kind == 12:  # the configuration inside the checkpoint
        config = json.loads(meta["agentlab.configuration"])
        config[rng.choice(sorted(config))] = rng.choice([-1, 2**63, 1e300, "x", None, [], {"a": 1}])
        meta["agentlab.configuration"] = json.dumps(config)
        write(path, header, body)
        return "configuration"
    info_path = os.path.join(folder, "checkpoint.json")  # checkpoint.json (a summary nothing reads)
    info = json.load(open(info_path))
    info[rng.choice(sorted(info))] = rng.choice([-1, 2**63, "x", None, [], 1e300])
    json.dump(info, open(info_path, "w"))
    return "checkpoint.json"


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def main():
    agentlab = os.path.abspath(sys.argv[1])
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    work = tempfile.mkdtemp()
    try:
        runs = []
        for algo, flags in [("ppo", []), ("dqn", ["--save-replay"]), ("reinforce", [])]:
            folder = os.path.join(work, "base-" + algo)
            subprocess.run([agentlab, "train", "--env", "GridWorld-v0", "--algo", algo, "--steps", "2000",
                            "--seed", "1", "--out", folder] + flags, check=True, stdout=subprocess.DEVNULL)
            runs.append(folder)
        counts = {0: 0, 1: 0, 2: 0}
        for case in range(cases):
            folder = os.path.join(work, "case")
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(runs[case % len(runs)], folder)
            what = mutate(rng, folder)
            command = ([agentlab, "train", "--resume", folder, "--steps", "2200"] if case % 10 == 0
                       else [agentlab, "eval", folder, "--episodes", "2"])
            try:
                result = subprocess.run(command, capture_output=True, timeout=60, preexec_fn=limit_memory)
            except subprocess.TimeoutExpired:
                print("FAIL case %d (%s): %s hung" % (case, what, command[1]))
                return 1
            status = result.returncode
            if status not in counts or (status == 2 and not result.stderr.strip()):
                print("FAIL case %d (%s): %s exited %d\n%s" % (case, what, command[1], status, result.stderr.decode()[-2000:]))
                return 1
            counts[status] += 1
        print("checkpoint fuzzer: %d cases, exit 0: %d, 1: %d, 2: %d, never a signal or a hang"
              % (cases, counts[0], counts[1], counts[2]))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
