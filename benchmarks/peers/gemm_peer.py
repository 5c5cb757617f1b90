#!/usr/bin/env python3
"""PyTorch peer for GemmBench: c = a @ b.T in bf16 (fp32 accumulation, PyTorch's defaults) on the
shapes of benchmarks/gemm_shapes.py, the list GemmBench is run with; same card, same job.

Timing, the same as GemmBench: after a warm-up, one repeat enqueues CALLS calls back to back
between two CUDA events and synchronizes once (GemmBench.REPEAT calls per invocation), so that
neither side's figure holds one launch gap per call; a call's time is the elapsed time over CALLS;
the figure is the median of --runs repeats. The calls rotate through gemm_shapes.rotation_sets
problems (a, b, c), as GemmBench's do, so that no call finds its weight matrix in L2. Random
normal inputs, never zeros.

    python3 benchmarks/peers/gemm_peer.py > gemm_peer.md
benchmarks/gemm_report.py joins this output with GemmBench's JMH JSON.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cuda_timing import time_ms  # noqa: E402
from gemm_shapes import SHAPES, flops, mnk, rotation_sets  # noqa: E402

CALLS = 10  # GemmBench.REPEAT


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50, help="timed repeats (the median is reported)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed calls first")
    args = ap.parse_args()
    print(f"# {torch.cuda.get_device_name()}  torch {torch.__version__}  bf16 reduced-precision reduction "
          f"{torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction}")
    print(f"{'shape':16} {'us':>10} {'TFLOP/s':>8}  in the model")
    for shape, note in SHAPES.items():
        m, n, k = mnk(shape)
        sets = rotation_sets(shape)
        data = [(torch.randn(m, k, device="cuda", dtype=torch.bfloat16),
                 torch.randn(n, k, device="cuda", dtype=torch.bfloat16),
                 torch.empty(m, n, device="cuda", dtype=torch.bfloat16)) for _ in range(sets)]

        def call(i):
            a, b, c = data[i]
            torch.matmul(a, b.T, out=c)

        us = 1e3 * time_ms(call, sets, CALLS, args.runs, args.warmup)
        print(f"{shape:16} {us:10.2f} {flops(shape) / us / 1e6:8.1f}  {note}")
        del data
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
