#!/usr/bin/env python3
"""Peer timings for mforce's CUDA attention (benchmarks/jmh/.../AttentionCudaBench.java): PyTorch
SDPA with the flash backend (FlashAttention-2) and the cuDNN backend on the same shapes, bf16.

Run on the GPU machine with its own python3 + torch:  python3 benchmarks/peers/attention_peer.py
CUDA-event timing after a warm-up, median of --runs calls, inputs drawn fresh (several sets,
rotated, so that no call reuses the previous call's data in cache). FLOPs: forward
4*B*H*Sq*Sk*D times the fraction of visible (query, key) pairs (1/2 for causal,
(n+1)/2n for n equal chunks); backward counted as 2.5x forward.
"""
import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

# name: (batch, heads, queries, keys, head_dim, mask, note); mask: "none", "causal" or ("block", tokens)
SHAPES = {
    "a": (1, 12, 8192, 8192, 128, "causal", "causal, one token per chunk"),
    "b": (1, 12, 1560, 10920, 128, "none", "last chunk over 7 chunks of 1560 (all visible)"),
    "c": (1, 12, 1560, 32760, 128, "none", "last chunk over 21 chunks of 1560 (all visible)"),
    "d": (1, 32, 70, 2100, 128, "none", "66 video + 4 audio queries over a 30-chunk cache"),
    "e": (8, 16, 4096, 4096, 64, ("block", 512), "training, 512-token chunks (block causal)"),
}
BACKWARD = {"a", "e"}


def visible_fraction(sq, sk, mask):
    if mask == "none":
        return 1.0
    if mask == "causal":
        return 0.5  # the convention of shared/gpu/README.md
    chunks = sq // mask[1]
    return (chunks + 1) / (2 * chunks)


def block_causal_mask(tokens, per, device):
    c = torch.arange(tokens, device=device) // per
    return c[:, None] >= c[None, :]  # True: attend


def time_ms(fn, runs, warmup):
    for _ in range(warmup):
        fn(0)
    torch.cuda.synchronize()
    times = []
    for i in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn(i)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def bench(name, backend, with_backward, runs, warmup, sets=3):
    b, h, sq, sk, d, mask, _ = SHAPES[name]
    dev = "cuda"
    gen = lambda n: torch.randn(b, h, n, d, device=dev, dtype=torch.bfloat16, requires_grad=with_backward)
    data = [(gen(sq), gen(sk), gen(sk), torch.randn(b, h, sq, d, device=dev, dtype=torch.bfloat16)) for _ in range(sets)]
    kwargs = {}
    if mask == "causal":
        kwargs["is_causal"] = True
    elif mask != "none":
        if backend == SDPBackend.FLASH_ATTENTION:
            kwargs["is_causal"] = True  # flash takes no mask: token-causal, the nearest peer
        else:
            kwargs["attn_mask"] = block_causal_mask(sq, mask[1], dev)

    def call(i):
        q, k, v, do = data[i % sets]
        with sdpa_kernel([backend]):
            o = F.scaled_dot_product_attention(q, k, v, **kwargs)
            if with_backward:
                torch.autograd.grad(o, (q, k, v), do)

    ms = time_ms(call, runs, warmup)
    frac = visible_fraction(sq, sk, "causal" if kwargs.get("is_causal") else mask)
    flops = 4 * b * h * sq * sk * d * frac * (3.5 if with_backward else 1.0)
    return ms, flops / ms / 1e9, kwargs.get("is_causal", False) and mask != "causal"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--shapes", default="abcde")
    args = ap.parse_args()
    print(f"# {torch.cuda.get_device_name()}  torch {torch.__version__}  cuDNN {torch.backends.cudnn.version()}")
    print(f"{'shape':5} {'pass':8} {'backend':7} {'ms':>9} {'TFLOP/s':>8}  note")
    for name in args.shapes:
        for with_backward in (False, True):
            if with_backward and name not in BACKWARD:
                continue
            for label, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                pas = "fwd+bwd" if with_backward else "fwd"
                try:
                    ms, tflops, proxy = bench(name, backend, with_backward, args.runs, args.warmup)
                    note = SHAPES[name][6] + ("; token-causal proxy" if proxy else "")
                    print(f"{name:5} {pas:8} {label:7} {ms:9.3f} {tflops:8.1f}  {note}")
                except RuntimeError as e:  # backend refuses the shape or mask
                    print(f"{name:5} {pas:8} {label:7} {'n/a':>9} {'':>8}  {str(e).splitlines()[0][:80]}")
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
