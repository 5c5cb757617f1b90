#!/usr/bin/env python3
"""The GEMM benchmark shapes of issue #4 ("the GEMMs of the paper config within 10% of
PyTorch's"), the one list that mforce's GemmBench (through run-gpu.sh's -p shape=...), the PyTorch
peer (peers/gemm_peer.py) and the report joining them (gemm_report.py) all read.

A shape "MxNxK" is c[m, n] = a[m, k] * b[n, k]^T in bf16 with fp32 accumulation: Linear's forward
y = x * W^T (java/io/mforce/nn/Linear.java), x the m tokens of one branch's chunk, W [out, in].
The sizes come from the paper config (java/resources/io/mforce/model/configs/paper.json): each
branch has its own weights, so the video branch's GEMMs have m = the chunk's video tokens (at
the paper's 480x768 and at ModelBench's other two resolutions) and the audio branch's m = its
audio codec tokens plus transcript tokens. Per chunk, layer and branch: 6 GEMMs of width x width
(self-attention q, k, v, o; cross-attention q, o), FFN fc1 (ffnWidth x width) and fc2 (width x
ffnWidth). Plus 8192^3, the square reference of shared/gpu/README.md's cuBLAS ceiling.
Not covered: the backward's two GEMMs (dx = dy * W, dW += dy^T * x in fp32; GemmBench times the
forward only), the cross-attention k, v of the 512 condition tokens (once per stream, not per
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


def rotation_sets(shape):
    """How many problems (a, b, c) a call rotates through so that a and b of no call sit in L2:
    their inputs add up to attention_shapes.ROTATION_BYTES (GemmBench counts the same)."""
    m, n, k = mnk(shape)
    return sets_covering(2 * (m * k + n * k))


if __name__ == "__main__":
    print(",".join(SHAPES))
