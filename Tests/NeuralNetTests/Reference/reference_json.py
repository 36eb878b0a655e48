"""Shared helpers for the reference-data scripts in this folder.

Floats are written as the shortest decimal that reads back as the same float64, and every
value stored here is first rounded to float32, so parsing the decimal as Double and
converting to Float gives back the exact Float32 value that PyTorch held.
"""

import json
import math

import numpy as np


def f32(x):
    """One float32 value as a Python float (exact, so `repr` round-trips)."""
    return float(np.float32(x))


def f32_list(array):
    """A float32 array flattened in row-major order, as a list of Python floats."""
    return np.asarray(array, dtype=np.float32).reshape(-1).tolist()


def tensor(array):
    """A tensor as {"shape": [...], "values": [row-major float32 values]}."""
    array = np.asarray(array)
    return {"shape": list(array.shape), "values": f32_list(array)}


def _is_flat(value):
    return isinstance(value, list) and all(
        isinstance(item, (int, float, bool, str)) for item in value)


def _dump(value, indent, level):
    pad = " " * (indent * level)
    inner = " " * (indent * (level + 1))
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(key)}: {_dump(item, indent, level + 1)}"
                 for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if _is_flat(value):
            return "[" + ", ".join(_dump(item, indent, level) for item in value) + "]"
        items = [inner + _dump(item, indent, level + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be written as JSON")
        return repr(value)
    return json.dumps(value)


def write_json(path, document):
    """Writes `document` with dictionaries indented and lists of scalars on one line."""
    text = _dump(document, 1, 0) + "\n"
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    with open(path, encoding="utf-8") as file:
        reread = json.load(file)
    if reread != json.loads(json.dumps(document)):
        raise AssertionError(f"{path} does not read back as written")
    return len(text.encode("utf-8"))
