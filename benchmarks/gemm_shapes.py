#!/usr/bin/env python3
"""The GEMM benchmark shapes of issue #4 ("the GEMMs of the paper config within 10% of
PyTorch's"), the one list that mforce's GemmBench (through run-gpu.sh's -p shape=...), the PyTorch
peer (peers/gemm_peer.py) and the report joining them (gemm_report.py) all read; and the three
GEMMs of a linear layer (OPS, GemmBench's -p op=...), which GemmBench mirrors.

A shape "MxNxK" is a linear layer's forward c[m, n] = a[m, k] * b[n, k]^T in bf16 with fp32
accumulation: y = x * W^T (java/io/mforce/nn/Linear.java), x the m tokens of one branch's chunk,
W [out = n, in = k]. Its backward has two more GEMMs of the same work (2mnk FLOP), OPS "dx" and
"dw" (operands() gives each op's operands).
The sizes come from the paper config (java/resources/io/mforce/model/configs/paper.json): each
branch has its own weights, so the video branch's GEMMs have m = the chunk's video tokens (at
the paper's 480x768 and at ModelBench's other two resolutions) and the audio branch's m = its
audio codec tokens plus transcript tokens. Per chunk, layer and branch: 6 GEMMs of width x width
(self-attention q, k, v, o; cross-attention q, o), FFN fc1 (ffnWidth x width) and fc2 (width x
ffnWidth). Plus 8192^3, the square reference of shared/gpu/README.md's cuBLAS ceiling.
Not covered: the cross-attention k, v of the 512 condition tokens (once per stream, not per
chunk) and the F32-output time projection.

    python3 benchmarks/gemm_shapes.py     # the shapes as GemmBench's -p shape= value
"""
import json
import os

from attention_shapes import sets_covering

PAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "java", "resources", "io", "mforce",
                     "model", "configs", "paper.json")
# the video resolutions of ModelBench's streaming chunk (its videoTokens 66, 360, 880 at 32 px a token)
RESOLUTIONS = ((192, 336), None, (704, 1280))  # None: the config's own


def _shapes():
    with open(PAPER) as f:
        c = json.load(f)
    d, ffn, p = c["width"], c["ffnWidth"], c["videoPixelsPerToken"]
    branches = []
    for res in RESOLUTIONS:
        h, w = res or (c["videoHeight"], c["videoWidth"])
        branches.append((-(-h // p) * -(-w // p), f"video chunk {h}x{w}"))
    audio = c["audioTokensPerChunk"] + c["transcriptTokensPerChunk"]
    branches.append((audio, f"audio chunk ({c['audioTokensPerChunk']} codec + {c['transcriptTokensPerChunk']} "
                            "transcript tokens)"))
    shapes = {"8192x8192x8192": "square reference (README's cuBLAS ceiling)"}
    for m, what in branches:
        shapes[f"{m}x{d}x{d}"] = f"{what}: attention q, k, v, o; cross q, o"
        shapes[f"{m}x{ffn}x{d}"] = f"{what}: FFN fc1"
        shapes[f"{m}x{d}x{ffn}"] = f"{what}: FFN fc2"
    return shapes


# "MxNxK" -> what it is in the model, in benchmark order
SHAPES = _shapes()


def mnk(shape):
    """(m, n, k) of "MxNxK"."""
    m, n, k = (int(x) for x in shape.split("x"))
    return m, n, k


def flops(shape):
    m, n, k = mnk(shape)
    return 2 * m * n * k


# op -> what it computes for a layer of shape "MxNxK" (x [m, k], W [n, k], dy [m, n])
OPS = {
    "forward": "y = x W^T: c[m, n] = a[m, k] b[n, k]^T, bf16 out",
    "dx": "dx = dy W: c[m, k] = a[m, n] b[n, k], bf16 out",
    "dw": "dW += dy^T x: c[n, k] += a[m, n]^T b[m, k], into the fp32 gradient",
}


def operands(op, shape):
    """(a's shape, transpose a, b's shape, transpose b, c's shape, c in fp32) of `op` on a layer of
    `shape`: the matrices as stored, row-major; c is added to (beta 1) exactly when it is fp32.
    GemmBench.setUp builds the same."""
    m, n, k = mnk(shape)
    if op == "forward":
        return (m, k), False, (n, k), True, (m, n), False
    if op == "dx":
        return (m, n), False, (n, k), False, (m, k), False
    if op == "dw":
        return (m, n), True, (m, k), False, (n, k), True
    raise ValueError(f"op {op!r}: expected one of {', '.join(OPS)}")


def rotation_sets(op, shape):
    """How many problems (a, b, c) a call rotates through so that no call finds its inputs in L2
    (a and b in bf16, and an fp32 c that is added to): they add up to
    attention_shapes.ROTATION_BYTES (GemmBench counts the same)."""
    a, _, b, _, c, c32 = operands(op, shape)
    return sets_covering(2 * (a[0] * a[1] + b[0] * b[1]) + (4 * c[0] * c[1] if c32 else 0))


if __name__ == "__main__":
    print(",".join(SHAPES))
