"""Writes python_written.safetensors with the `safetensors` package, and python_written.json
listing what it holds, so the Swift loader is tested on a file that Python wrote.

Tensors (float32, row-major):
    dense.weight  shape [2, 3]  [[0.5, -1.25, 2.0], [0.1, -0.3, 3.75]]
    dense.bias    shape [3]     [0.0, -0.5, 1.5]
The header carries the metadata {"format": "pt"}, as files written from PyTorch do.

Run: python3 make_safetensors_reference.py
"""

import os

import numpy as np
import safetensors
from safetensors.numpy import load_file, save_file

from reference_json import tensor, write_json

TENSORS = {
    "dense.weight": np.array([[0.5, -1.25, 2.0], [0.1, -0.3, 3.75]], dtype=np.float32),
    "dense.bias": np.array([0.0, -0.5, 1.5], dtype=np.float32),
}
METADATA = {"format": "pt"}


def main():
    folder = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(folder, "python_written.safetensors")
    save_file(TENSORS, path, metadata=METADATA)

    reread = load_file(path)
    assert sorted(reread) == sorted(TENSORS)
    for name, array in TENSORS.items():
        assert reread[name].dtype == np.float32 and np.array_equal(reread[name], array)

    with open(path, "rb") as file:
        data = file.read()
    header_length = int.from_bytes(data[:8], "little")
    header = data[8:8 + header_length].decode("utf-8")

    document = {
        "description": "Contents of python_written.safetensors, written by"
                       " make_safetensors_reference.py with safetensors.numpy.save_file.",
        "safetensors_version": safetensors.__version__,
        "numpy_version": np.__version__,
        "file": "python_written.safetensors",
        "file_size": len(data),
        "header_length": header_length,
        "header": header,
        "metadata": METADATA,
        "tensors": {name: dict(dtype="F32", **tensor(array)) for name, array in TENSORS.items()},
    }
    size = write_json(os.path.join(folder, "python_written.json"), document)
    print(f"wrote {path} ({len(data)} bytes) and python_written.json ({size} bytes)")
    print(f"header: {header!r}")


if __name__ == "__main__":
    main()
