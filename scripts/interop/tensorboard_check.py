#!/usr/bin/env python3
"""TensorBoard interoperability check: AgentLab's event files, read by TensorBoard's own reader.

usage: scripts/interop/tensorboard_check.py RUN_FOLDER [RUN_FOLDER...]
       scripts/interop/tensorboard_check.py --truncated EVENT_FILE
       scripts/interop/tensorboard_check.py --sweep SWEEP_FOLDER

RUN_FOLDER mode: every record of every event file in the folder must pass both CRC-32C checks
(with TensorBoard's own CRC code), and TensorBoard's EventAccumulator, loading the folder, must
show each column of metrics.csv except `step` as a scalar tag with exactly the rows' steps (a
row with an empty cell has no point for that tag) and values equal to float32(the CSV's value)
(NaN matches NaN). The tag `charts/SPS` must exist. Prints one line per run.

--truncated mode: copies the event file into a temporary folder cut at several places inside
its last record (its first byte, inside the length's CRC, the middle of the data, one byte
short of the end) and loads each copy with TensorBoard's reader: each must load without an
exception and give exactly the scalars of the same file cut just before its last record.

--sweep mode: TensorBoard's EventMultiplexer, pointed at a sweep folder as `tensorboard
--logdir SWEEP_FOLDER` would be, must find one run per trial folder (each folder under it that
holds a metrics.csv), side by side, each with `charts/episodic_return`; each trial is then
checked as in RUN_FOLDER mode.

Exit status: 0 all good, 1 a mismatch (the message says which), 2 a usage error.
Needs the `tensorboard` package (tested with 2.21.0; it needs no TensorFlow).
"""
import csv
import logging
import math
import os
import shutil
import struct
import sys
import tempfile

USAGE = ("usage: tensorboard_check.py RUN_FOLDER [RUN_FOLDER...]\n       tensorboard_check.py --truncated EVENT_FILE\n"
         "       tensorboard_check.py --sweep SWEEP_FOLDER")


class Mismatch(Exception):
    """What the check found wrong, as one message."""


def event_files(folder):
    """The event files of a run folder, in the order TensorBoard reads them (by name)."""
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if "tfevents" in name and os.path.isfile(os.path.join(folder, name)))


def record_spans(data, path):
    """(start, end) of each whole record in `data`, checked with TensorBoard's own masked
    CRC-32C; raises Mismatch at the first record that is cut short or fails a CRC."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    spans, offset = [], 0
    while offset < len(data):
        if len(data) - offset < 16:
            raise Mismatch("%s: record %d at byte %d is cut short (%d bytes left)" % (path, len(spans), offset, len(data) - offset))
        length_bytes = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        if length_crc != masked_crc32c(length_bytes):
            raise Mismatch("%s: record %d at byte %d fails its length CRC" % (path, len(spans), offset))
        end = offset + 12 + length + 4
        if end > len(data):
            raise Mismatch("%s: record %d at byte %d claims %d bytes of data; only %d remain" % (path, len(spans), offset, length, len(data) - offset - 16))
        (data_crc,) = struct.unpack("<I", data[end - 4:end])
        if data_crc != masked_crc32c(data[offset + 12:end - 4]):
            raise Mismatch("%s: record %d at byte %d fails its data CRC" % (path, len(spans), offset))
        spans.append((offset, end))
        offset = end
    return spans


def load_scalars(folder):
    """{tag: [(step, value), ...]} as TensorBoard's EventAccumulator reads `folder`."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(folder, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return {tag: [(point.step, point.value) for point in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()[event_accumulator.SCALARS]}


def same_value(expected, actual):
    return expected == actual or (math.isnan(expected) and math.isnan(actual))


def same_scalars(a, b):
    """Whether two load_scalars results hold the same points (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(
        len(a[tag]) == len(b[tag]) and all(s == t and same_value(u, v) for (s, u), (t, v) in zip(a[tag], b[tag]))
        for tag in a)


def check_run(folder):
    """Checks one run folder; returns its report line."""
    import numpy as np

    files = event_files(folder)
    if not files:
        raise Mismatch("%s holds no event file (events.out.tfevents.*)" % folder)
    records = 0
    for path in files:
        with open(path, "rb") as file:
            records += len(record_spans(file.read(), path))

    with open(os.path.join(folder, "metrics.csv"), newline="") as file:
        reader = csv.DictReader(file)
        columns = [column for column in reader.fieldnames or [] if column != "step"]
        if "step" not in (reader.fieldnames or []):
            raise Mismatch("%s/metrics.csv has no `step` column" % folder)
        expected = {column: [] for column in columns}
        for line, row in enumerate(reader, start=2):
            try:
                step = int(row["step"])
            except (TypeError, ValueError):
                raise Mismatch("%s/metrics.csv line %d: step %r is not an integer" % (folder, line, row["step"]))
            for column in columns:
                cell = row.get(column) or ""
                if cell != "":
                    with np.errstate(over="ignore"):
                        expected[column].append((step, float(np.float32(float(cell)))))

    scalars = load_scalars(folder)
    points = 0
    for tag in columns:
        want, got = expected[tag], scalars.get(tag, [])
        want_steps, got_steps = [s for s, _ in want], [s for s, _ in got]
        if want_steps != got_steps:
            missing = sorted(set(want_steps) - set(got_steps))[:5]
            extra = sorted(set(got_steps) - set(want_steps))[:5]
            raise Mismatch("%s: tag %s has %d points in TensorBoard, %d in metrics.csv (steps only in the CSV: %s; only in TensorBoard: %s; or a different order or repeats)"
                           % (folder, tag, len(got_steps), len(want_steps), missing, extra))
        for (step, value), (_, shown) in zip(want, got):
            if not same_value(value, shown):
                raise Mismatch("%s: tag %s at step %d: TensorBoard shows %r, metrics.csv gives %r as a float32"
                               % (folder, tag, step, shown, value))
        points += len(want)
    if not scalars.get("charts/SPS"):
        raise Mismatch("%s: TensorBoard shows no charts/SPS points" % folder)
    others = sorted(set(scalars) - set(columns))
    return "%s: %d event file(s), %d records; %d tags, %d points match metrics.csv; also %s" % (
        folder, len(files), records, len(columns), points,
        ", ".join("%s (%d points)" % (tag, len(scalars[tag])) for tag in others))


def check_truncated(path):
    """Cuts a copy of `path` inside its last record at several places; returns the report line."""
    from tensorboard.backend.event_processing import event_file_loader

    with open(path, "rb") as file:
        data = file.read()
    spans = record_spans(data, path)
    if len(spans) < 2:
        raise Mismatch("%s has %d record(s); the truncation check needs at least 2" % (path, len(spans)))
    start, end = spans[-1]
    cuts = [start + 1, start + 10, (start + end) // 2, end - 1]
    name = os.path.basename(path)
    with tempfile.TemporaryDirectory() as root:

        def load(cut, label):
            folder = os.path.join(root, label)
            os.mkdir(folder)
            copy = os.path.join(folder, name)
            with open(copy, "wb") as file:
                file.write(data[:cut])
            events = sum(1 for _ in event_file_loader.RawEventFileLoader(copy).Load())
            return events, load_scalars(folder)

        whole_events, whole = load(start, "whole")
        if whole_events != len(spans) - 1:
            raise Mismatch("%s cut before its last record: TensorBoard reads %d records of %d" % (path, whole_events, len(spans) - 1))
        for cut in cuts:
            try:
                events, scalars = load(cut, "cut-%d" % cut)
            except Exception as error:  # the point of the check: no exception escapes the reader
                raise Mismatch("%s cut at byte %d: TensorBoard's reader raised %s: %s" % (path, cut, type(error).__name__, error))
            if events != whole_events or not same_scalars(scalars, whole):
                raise Mismatch("%s cut at byte %d (inside its last record, bytes %d..<%d): TensorBoard reads %d records and %d points, not the %d records and %d points before it"
                               % (path, cut, start, end, events, sum(map(len, scalars.values())), whole_events, sum(map(len, whole.values()))))
    return "%s: %d records; cut at bytes %s of the last record (%d..<%d), TensorBoard reads the %d whole records before it (%d scalar points, %d tags) without an exception" % (
        path, len(spans), ", ".join(str(c - start) for c in cuts), start, end, whole_events,
        sum(map(len, whole.values())), len(whole))


def trial_folders(sweep):
    found = []
    for root, _, files in os.walk(sweep):
        if "metrics.csv" in files:
            found.append(root)
    return sorted(found)


def check_sweep(sweep):
    from tensorboard.backend.event_processing import event_multiplexer

    trials = trial_folders(sweep)
    if not trials:
        raise Mismatch("%s holds no trial folder with a metrics.csv" % sweep)
    multiplexer = event_multiplexer.EventMultiplexer(size_guidance={"scalars": 0})
    multiplexer.AddRunsFromDirectory(sweep)
    multiplexer.Reload()
    runs = multiplexer.Runs()
    expected = sorted(os.path.relpath(t, sweep) for t in trials)
    if sorted(runs) != expected:
        raise Mismatch("TensorBoard sees the runs %s in %s, the sweep has the trials %s" % (sorted(runs), sweep, expected))
    for run in runs:
        if "charts/episodic_return" not in multiplexer.Runs()[run].get("scalars", []):
            raise Mismatch("run %s has no charts/episodic_return in TensorBoard" % run)
    lines = [check_run(t) for t in trials]
    return "%s: TensorBoard shows %d runs side by side\n%s" % (sweep, len(runs), "\n".join(lines))


def main(arguments):
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    if arguments[0] == "--truncated":
        if len(arguments) != 2 or not os.path.isfile(arguments[1]):
            print(USAGE + "\n--truncated needs one event file", file=sys.stderr)
            return 2
    elif arguments[0] == "--sweep":
        if len(arguments) != 2 or not os.path.isdir(arguments[1]):
            print(USAGE + "\n--sweep needs one sweep folder", file=sys.stderr)
            return 2
    else:
        for folder in arguments:
            if not os.path.isfile(os.path.join(folder, "metrics.csv")):
                print("%s is not a run folder (it has no metrics.csv)\n%s" % (folder, USAGE), file=sys.stderr)
                return 2
    try:
        import tensorboard
    except ImportError:
        print("the tensorboard package is not installed: pip install tensorboard==2.21.0", file=sys.stderr)
        return 2
    logging.getLogger("tensorboard").setLevel(logging.ERROR)  # purges and cut records are expected here

    try:
        if arguments[0] == "--truncated":
            print(check_truncated(arguments[1]))
        elif arguments[0] == "--sweep":
            print(check_sweep(arguments[1]))
        else:
            for folder in arguments:
                print(check_run(folder))
    except Mismatch as mismatch:
        print("tensorboard check failed (tensorboard %s): %s" % (tensorboard.__version__, mismatch), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
