#!/usr/bin/env python3
"""PyTorch peer for GemmBench: a linear layer's three GEMMs in bf16 (fp32 accumulation, PyTorch's
defaults) on the shapes of benchmarks/gemm_shapes.py, the list GemmBench is run with; same card,
same job. forward c = a @ b.T and dx c = a @ b write bf16, as mforce's do; for dw PyTorch does what
its autograd does for an fp32 master weight under autocast: the bf16 product a.T @ b, then added
into the fp32 gradient (two kernels, where mforce's one GEMM adds into the fp32 c).

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
from gemm_shapes import OPS, SHAPES, flops, operands, rotation_sets  # noqa: E402

CALLS = 10  # GemmBench.REPEAT


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50, help="timed repeats (the median is reported)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed calls first")
    ap.add_argument("--ops", default=",".join(OPS), help="which of the layer's GEMMs (default: all)")
    args = ap.parse_args()
    print(f"# {torch.cuda.get_device_name()}  torch {torch.__version__}  bf16 reduced-precision reduction "
          f"{torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction}")
    print(f"{'shape':16} {'op':8} {'us':>10} {'TFLOP/s':>8}  in the model")
    for op in args.ops.split(","):
        for shape, note in SHAPES.items():
            a_shape, ta, b_shape, tb, c_shape, c32 = operands(op, shape)
            sets = rotation_sets(op, shape)
            data = [(torch.randn(*a_shape, device="cuda", dtype=torch.bfloat16),
                     torch.randn(*b_shape, device="cuda", dtype=torch.bfloat16),
                     torch.empty(*c_shape, device="cuda", dtype=torch.bfloat16),
                     torch.zeros(*c_shape, device="cuda", dtype=torch.float32) if c32 else None)
                    for _ in range(sets)]

            def call(i):
                a, b, c, grad = data[i]
                torch.matmul(a.T if ta else a, b.T if tb else b, out=c)
                if grad is not None:
                    grad.add_(c)

            us = 1e3 * time_ms(call, sets, CALLS, args.runs, args.warmup)
            print(f"{shape:16} {op:8} {us:10.2f} {flops(shape) / us / 1e6:8.1f}  {note}")
            del data
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
