"""Developer check (not run in CI): reads a .safetensors file with the Python package.

Usage: python3 check_safetensors.py FILE
Prints the metadata and each tensor's name, dtype, shape and values, and exits with a
non-zero status if the `safetensors` package cannot read the file.
"""

import sys

import numpy as np


def main(arguments):
    if len(arguments) != 2:
        print("usage: python3 check_safetensors.py FILE", file=sys.stderr)
        return 2
    path = arguments[1]
    try:
        from safetensors import safe_open
        from safetensors.numpy import load_file

        tensors = load_file(path)
        with safe_open(path, framework="numpy") as file:
            metadata = file.metadata()
    except Exception as error:  # any failure to read is the answer this check gives
        print(f"cannot read {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1

    print(f"{path}: {len(tensors)} tensor(s), metadata {metadata}")
    with np.printoptions(precision=9, threshold=64, linewidth=100):
        for name in sorted(tensors):
            array = tensors[name]
            print(f"{name}  dtype {array.dtype}  shape {list(array.shape)}")
            print(f"  {array}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
