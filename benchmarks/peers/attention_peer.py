#!/usr/bin/env python3
"""Peer timings for mforce's CUDA attention (benchmarks/jmh/.../AttentionCudaBench.java): PyTorch
SDPA with the flash backend (FlashAttention-2) and the cuDNN backend on the shapes of
benchmarks/attention_shapes.py, bf16. Layout as mforce's: q, k, v, dO and (as SDPA allocates it
to match q) o are [B, S, H, D] in memory, passed to SDPA as [B, H, S, D] views (transposes, no
copies), the layout of a model's projections.

Run on the GPU machine with its own python3 + torch:  python3 benchmarks/peers/attention_peer.py
benchmarks/attention_report.py joins this output with AttentionCudaBench's JMH JSON.

Masking: both backends get the same mask on every shape, SDPA's is_causal where the shape is
masked (flash takes no mask tensor, so a block-causal mask cannot be given to both). Where
mforce computes a block-causal mask (shape e, 512-token chunks) the peers thus do 8/9 of its
visible pairs: the time ratio there favours the peers.

Timing, the same as AttentionCudaBench: after a warm-up, one repeat enqueues --calls calls back
to back between two CUDA events and synchronizes once; a call's time is the elapsed time over
--calls; the figure is the median of --runs repeats. The calls rotate through as many input sets
as attention_shapes.rotation_sets gives (at least 256 MB in all, several times L2), so that no
call finds its inputs in L2. Random normal inputs, never zeros.

FLOPs: attention_shapes.flops for the mask computed (4*B*H*D*visible pairs; x3.5 with the
backward), the convention of every row of the attention table.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from attention_shapes import PEER_SHAPES, SHAPES, flops, rotation_sets  # noqa: E402
from cuda_timing import time_ms  # noqa: E402

BACKENDS = (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION))


def bench(name, backend, with_backward, args):
    shape = SHAPES[name]
    b, h, sq, sk, d = shape.batch, shape.heads, shape.queries, shape.keys, shape.head_dim
    # [B, S, H, D] memory seen as [B, H, S, D], as AttentionCudaBench's [batch, tokens, heads, d]
    gen = lambda n: torch.randn(b, n, h, d, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
    sets = rotation_sets(shape, with_backward)
    data = [(gen(sq).requires_grad_(with_backward), gen(sk).requires_grad_(with_backward),
             gen(sk).requires_grad_(with_backward), gen(sq)) for _ in range(sets)]
    causal = shape.peer_mask != "none"

    def call(i):
        q, k, v, do = data[i]
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        if with_backward:
            torch.autograd.grad(o, (q, k, v), do)

    # the backend is chosen once, outside the timed calls: entering sdpa_kernel costs host time
    # that a model's loop does not pay, and at shape (d) the calls are only microseconds long
    with sdpa_kernel([backend]):
        ms = time_ms(call, sets, args.calls, args.runs, args.warmup)
    return ms, flops(shape, shape.peer_mask, with_backward) / ms / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20, help="timed repeats (the median is reported)")
    ap.add_argument("--calls", type=int, default=16, help="calls per repeat, one synchronization")
    ap.add_argument("--warmup", type=int, default=10, help="untimed calls first")
    ap.add_argument("--shapes", default=",".join(PEER_SHAPES), help="comma-separated names of attention_shapes")
    args = ap.parse_args()
    # FLASH_ATTENTION is FlashAttention-2 unless FA3 or FA4 was activated (opt-in, by a call or an
    # environment variable; torch.nn.attention.current_flash_attention_impl names it where it exists)
    impl = getattr(torch.nn.attention, "current_flash_attention_impl", lambda: None)() or "FA2"
    print(f"# {torch.cuda.get_device_name()}  torch {torch.__version__}  cuDNN {torch.backends.cudnn.version()}"
          f"  flash impl {impl}")
    print(f"{'shape':5} {'pass':8} {'backend':7} {'ms':>9} {'TFLOP/s':>8}  note")
    for name in args.shapes.split(","):
        for with_backward in (False, True):
            if with_backward and not SHAPES[name].backward:
                continue
            pas = "fwd+bwd" if with_backward else "fwd"
            for label, backend in BACKENDS:
                try:
                    ms, tflops = bench(name, backend, with_backward, args)
                    print(f"{name:5} {pas:8} {label:7} {ms:9.3f} {tflops:8.1f}  {SHAPES[name].note}")
                except RuntimeError as e:  # the backend refuses the shape
                    print(f"{name:5} {pas:8} {label:7} {'n/a':>9} {'n/a':>8}  {str(e).splitlines()[0][:80]}")
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
