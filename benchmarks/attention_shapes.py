"""The attention benchmark shapes of issue #3 and the one FLOP-counting convention that every
row of the attention table uses: mforce (benchmarks/jmh/.../AttentionCudaBench.java), the
PyTorch peers (peers/attention_peer.py) and the report joining them (attention_report.py).

Masks: "none" (every key visible), or ("block", t): the chunk mask of mforce/attention.h over
Sq = Sk tokens cut into chunks of t tokens (full inside a chunk, causal across chunks);
("block", 1) is token-causal, what SDPA's is_causal computes.

FLOPs = 4 * B * H * D * (visible (query, key) pairs), times 3.5 with the backward (backward
counted as 2.5x the forward, as shared/gpu/README.md does). The visible pairs are counted
exactly for the mask the row really computes: n chunks of t tokens give t^2 n (n + 1) / 2 pairs,
a fraction (n + 1) / 2n of Sq * Sk; token-causal gives (S + 1) / 2S, which differs from the
README's "halved when causal" by 1/2S (0.006% at S = 8192).
"""
from dataclasses import dataclass

# Every benchmark call reads its inputs from one of several sets, used in turn, so that a call
# never finds its inputs in L2 (50 MB on the H100, 60 MB on the H200): the sets together hold at
# least this many bytes. AttentionCudaBench uses the same figure.
ROTATION_BYTES = 256 << 20


@dataclass(frozen=True)
class Shape:
    batch: int
    heads: int
    queries: int
    keys: int
    head_dim: int
    mask: object       # what mforce computes: "none" or ("block", t)
    peer_mask: object  # what the PyTorch peers compute: "none" or ("block", 1) (is_causal)
    backward: bool     # benchmarked forward + backward too
    note: str


SHAPES = {
    "a": Shape(1, 12, 8192, 8192, 128, ("block", 1), ("block", 1), True, "causal, one token per chunk"),
    "a64": Shape(1, 12, 8192, 8192, 128, ("block", 64), ("block", 1), False,
                 "(a) with 64-token chunks; peers token-causal (64/65 of the pairs)"),
    "b": Shape(1, 12, 1560, 10920, 128, "none", "none", False, "last chunk over 7 chunks of 1560 (all visible)"),
    "c": Shape(1, 12, 1560, 32760, 128, "none", "none", False, "last chunk over 21 chunks of 1560 (all visible)"),
    "d": Shape(1, 32, 70, 2100, 128, "none", "none", False, "66 video + 4 audio queries over a 30-chunk cache"),
    "e": Shape(8, 16, 4096, 4096, 64, ("block", 512), ("block", 1), True,
               "training, 512-token chunks; peers token-causal (8/9 of the pairs)"),
}

# The shapes the peers run; a64 differs from a only in mforce's chunk size and is compared with a.
PEER_SHAPES = ("a", "b", "c", "d", "e")
_PEER_OF = {"a64": "a"}


def peer_of(name):
    """The peer shape an mforce shape is compared with."""
    return _PEER_OF.get(name, name)


def visible_pairs(shape, mask):
    """(query, key) pairs that `mask` lets through on `shape`."""
    if mask == "none":
        return shape.queries * shape.keys
    kind, t = mask
    if kind != "block" or shape.queries != shape.keys or shape.queries % t:
        raise ValueError(f"mask {mask!r} needs Sq = Sk, a multiple of the chunk size")
    n = shape.queries // t
    return t * t * n * (n + 1) // 2


def flops(shape, mask, with_backward):
    """The FLOPs a call is counted as doing (see the module comment)."""
    forward = 4 * shape.batch * shape.heads * shape.head_dim * visible_pairs(shape, mask)
    return forward * (3.5 if with_backward else 1.0)


def input_bytes(shape, with_backward, element_bytes=2):
    """Bytes one call reads: q, k, v (bf16), with the backward also dO and o."""
    q = shape.batch * shape.queries * shape.heads * shape.head_dim * element_bytes
    kv = shape.batch * shape.keys * shape.heads * shape.head_dim * element_bytes
    return q + 2 * kv + (2 * q if with_backward else 0)


def sets_covering(per_set):
    """How many input sets of `per_set` bytes a benchmark rotates through (at least 2) to cover
    ROTATION_BYTES (the GEMM benchmarks too: gemm_shapes.py)."""
    return max(2, -(-ROTATION_BYTES // per_set))


def rotation_sets(shape, with_backward):
    """How many input sets an attention benchmark of `shape` rotates through."""
    return sets_covering(input_bytes(shape, with_backward))
