#!/usr/bin/env python3
"""PyTorch peer for GemmBench: c = a @ b.T in bf16 on the same shapes, same card, same job.

CUDA-event timing after a warm-up: each run times CALLS calls back to back, as GemmBench does
(REPEAT), so that neither side's figure holds one launch gap per call; the median of many runs.
    python3 benchmarks/peers/gemm_peer.py > gemm_peer.md
"""
import statistics
import torch

SHAPES = [(8192, 8192, 8192), (70, 4096, 4096), (70, 14336, 4096), (70, 4096, 14336), (364, 4096, 4096),
          (364, 14336, 4096), (364, 4096, 14336), (884, 4096, 4096), (884, 14336, 4096), (884, 4096, 14336)]


CALLS = 10  # GemmBench.REPEAT


def time_ms(fn, runs=50, warmup=10):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(CALLS):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / CALLS)
    return statistics.median(times)


def main():
    print(f"# PyTorch {torch.__version__} on {torch.cuda.get_device_name()}")
    print("| m,n,k | ms | TFLOP/s |")
    print("|---|---|---|")
    for m, n, k in SHAPES:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        ms = time_ms(lambda: a @ b.T)
        print(f"| {m},{n},{k} | {ms:.4f} | {2 * m * n * k / ms / 1e9:.0f} |")


if __name__ == "__main__":
    main()
