#!/usr/bin/env python3
"""Reads a safetensors file (e.g. an mforce checkpoint) with Python's safetensors package and
prints its tensors and metadata; checks the data's SHA-256 against the metadata's "sha256"
(written by mforce) when present. Exit status 0 when the file loads and the checksum matches.

    python3 tools/check_safetensors.py FILE [--max N]

Needs the safetensors package (pip install safetensors); reads tensors with torch when it is
installed, numpy otherwise (numpy cannot hold BF16: such tensors are only listed).
"""
import argparse
import hashlib
import json
import struct
import sys

from safetensors import safe_open


def framework():
    try:
        import torch  # noqa: F401
        return "pt"
    except ImportError:
        return "numpy"


def data_sha256(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        f.seek(8 + n)
        digest = hashlib.sha256()
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest(), n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--max", type=int, default=20, help="tensors to list (default 20)")
    args = parser.parse_args()

    fw = framework()
    with safe_open(args.file, framework=fw, device="cpu") as f:
        metadata = f.metadata() or {}
        keys = list(f.keys())
        print(f"{args.file}: {len(keys)} tensors (read with safetensors, framework {fw})")
        total = 0
        for i, name in enumerate(keys):
            piece = f.get_slice(name)  # shape and dtype without loading (numpy has no bfloat16)
            shape = [int(s) for s in piece.get_shape()]
            n = 1
            for s in shape:
                n *= s
            total += n
            if i < args.max:
                print(f"  {name}: shape {shape} dtype {piece.get_dtype()}")
        if keys and (fw == "pt" or piece.get_dtype() != "BF16"):
            f.get_tensor(keys[-1])  # one full read through the package
        if len(keys) > args.max:
            print(f"  ... and {len(keys) - args.max} more")
        print(f"elements: {total}")
    print(f"metadata keys: {sorted(metadata)}")
    if "config" in metadata:
        print(f"config: {json.loads(metadata['config'])}")

    ok = True
    digest, header = data_sha256(args.file)
    print(f"header: {header} bytes (8-byte aligned data: {(8 + header) % 8 == 0})")
    if "sha256" in metadata:
        ok = digest == metadata["sha256"]
        print(f"sha256 of the data: {digest} ({'matches' if ok else 'DOES NOT MATCH'} the metadata)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
