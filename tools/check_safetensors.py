#!/usr/bin/env python3
"""Checks a safetensors file (e.g. an mforce checkpoint) from Python and prints its tensors and
metadata; verifies the "sha256" metadata value mforce writes (the SHA-256 of the whole file with
that value's 64 hex digits read as '0's) when present. Exit status 0 when the file reads and the
checksum matches, 1 otherwise.

    python3 tools/check_safetensors.py FILE [--max N] [--pure]

With Python's safetensors package installed the file is opened through it and every tensor is
read (with torch when installed, numpy otherwise; numpy cannot hold BF16, so such tensors are only
listed) and compared with the bytes the header places it at.
Without it (or with --pure) the file is checked by this script alone against the format: the
header's JSON, every tensor's dtype, shape and byte range, the tensors covering the data section
back to back; nothing beyond the standard library is needed then.
"""
import argparse
import hashlib
import json
import struct
import sys

ELEMENT_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                 "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def read_header(path):
    """(header bytes, parsed header, data section size) of a file, checked against the format."""
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise ValueError("shorter than the 8-byte header size")
        (n,) = struct.unpack("<Q", prefix)
        raw = f.read(n)
        if len(raw) != n:
            raise ValueError(f"header size {n} is larger than the file")
        f.seek(0, 2)
        data_bytes = f.tell() - 8 - n
    return raw, json.loads(raw.decode("utf-8")), data_bytes


def check_layout(header, data_bytes):
    """The tensors' (name, dtype, shape) in file order; raises ValueError where the format is broken."""
    tensors = []
    for name, info in header.items():
        if name == "__metadata__":
            if not all(isinstance(v, str) for v in info.values()):
                raise ValueError("__metadata__ values must be strings")
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in ELEMENT_BYTES:
            raise ValueError(f"tensor '{name}' has unknown dtype {dtype}")
        numel = 1
        for s in shape:
            numel *= s
        if end - begin != numel * ELEMENT_BYTES[dtype]:
            raise ValueError(f"tensor '{name}': data_offsets [{begin}, {end}] do not hold {numel} {dtype}")
        tensors.append((begin, end, name, dtype, shape))
    tensors.sort()
    expected = 0
    for begin, end, name, _, _ in tensors:
        if begin != expected:
            raise ValueError(f"tensor '{name}' starts at byte {begin}; expected {expected} (back to back)")
        expected = end
    if expected != data_bytes:
        raise ValueError(f"the tensors cover {expected} bytes but the data section has {data_bytes}")
    return [(name, dtype, shape) for _, _, name, dtype, shape in tensors]


def file_sha256(path, raw, recorded):
    """SHA-256 of the whole file with the recorded value's 64 digits read as '0's (mforce's rule)."""
    problem = f"sha256 value '{recorded}' is not 64 hex digits found once in the header"
    # checked before encoding: a non-ASCII value would otherwise fail as an encoding error
    if len(recorded) != 64 or any(c not in "0123456789abcdef" for c in recorded):
        raise ValueError(problem)
    quoted = b'"' + recorded.encode("ascii") + b'"'
    at = raw.find(quoted)
    if at < 0 or raw.find(quoted, at + 1) >= 0:
        raise ValueError(problem)
    zeroed = raw[:at + 1] + b"0" * 64 + raw[at + 65:]
    digest = hashlib.sha256(struct.pack("<Q", len(raw)) + zeroed)
    with open(path, "rb") as f:
        f.seek(8 + len(raw))
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


class Mismatch(Exception):
    """The package read a tensor other than the file holds."""


def list_with_package(path, raw):
    """Opens the file with the safetensors package and reads every tensor through it that the
    framework can hold (numpy has no bfloat16: those are only listed), checking its bytes against
    the file's own; returns the (name, dtype, shape) list."""
    from safetensors import safe_open
    try:
        import torch
        fw = "pt"
    except ImportError:
        torch = None
        fw = "numpy"
    header = json.loads(raw.decode("utf-8"))
    out, compared = [], 0
    with safe_open(path, framework=fw, device="cpu") as f, open(path, "rb") as data:
        for name in f.keys():
            piece = f.get_slice(name)  # shape and dtype without loading
            dtype, shape = piece.get_dtype(), [int(s) for s in piece.get_shape()]
            out.append((name, dtype, shape))
            if fw == "numpy" and dtype == "BF16":
                continue
            tensor = f.get_tensor(name)
            got = tensor.contiguous().view(torch.uint8).numpy().tobytes() if torch else tensor.tobytes()
            begin, end = header[name]["data_offsets"]
            data.seek(8 + len(raw) + begin)
            if got != data.read(end - begin):
                raise Mismatch(f"tensor '{name}' as the package reads it differs from the file's bytes")
            compared += 1
    print(f"read with the safetensors package (framework {fw}): {compared} of {len(out)} tensors read through it "
          f"and equal to the file's bytes")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--max", type=int, default=20, help="tensors to list (default 20)")
    parser.add_argument("--pure", action="store_true", help="do not use the safetensors package")
    args = parser.parse_args()

    try:
        raw, header, data_bytes = read_header(args.file)
        tensors = check_layout(header, data_bytes)
    except OSError as e:
        print(f"{args.file}: cannot read it: {e.strerror or e}")
        return 1
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        print(f"{args.file}: not a valid safetensors file: {e}")
        return 1
    if not args.pure:
        try:
            tensors = list_with_package(args.file, raw)
        except ImportError:
            print("the safetensors package is not installed: checked by this script alone")
        except Mismatch as e:
            print(f"{args.file}: not valid: {e}")
            return 1
        except Exception as e:  # the package's own error types differ between its versions
            print(f"{args.file}: not valid: the safetensors package cannot read it: {type(e).__name__}: {e}")
            return 1
    else:
        print("checked by this script alone (--pure)")
    metadata = header.get("__metadata__", {})
    print(f"{args.file}: {len(tensors)} tensors, {sum(_numel(s) for _, _, s in tensors)} elements")
    for name, dtype, shape in tensors[:args.max]:
        print(f"  {name}: shape {shape} dtype {dtype}")
    if len(tensors) > args.max:
        print(f"  ... and {len(tensors) - args.max} more")
    print(f"metadata keys: {sorted(metadata)}")
    if "config" in metadata:
        print(f"config: {json.loads(metadata['config'])}")
    print(f"header: {len(raw)} bytes (8-byte aligned data: {(8 + len(raw)) % 8 == 0})")
    if "sha256" not in metadata:
        print("no sha256 in the metadata: nothing to verify")
        return 0
    try:
        digest = file_sha256(args.file, raw, metadata["sha256"])
    except ValueError as e:
        print(f"{args.file}: not valid: {e}")
        return 1
    ok = digest == metadata["sha256"]
    print(f"sha256 of the file: {digest} ({'matches' if ok else 'DOES NOT MATCH'} the metadata)")
    return 0 if ok else 1


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


if __name__ == "__main__":
    sys.exit(main())
