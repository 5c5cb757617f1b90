"""The one timing loop of the PyTorch peers, the same as mforce's JMH benchmarks: after `warmup`
calls, one repeat enqueues `calls` calls back to back between two CUDA events and synchronizes
once, so that no figure holds one launch gap per call; a call's time is the elapsed time over
`calls`; the figure is the median of `runs` repeats. Call i gets input set i % sets."""
import statistics

import torch


def time_ms(fn, sets, calls, runs, warmup):
    """Median over `runs` repeats of the time per call, in ms, of `calls` back-to-back calls fn(set)."""
    for i in range(warmup):
        fn(i % sets)
    torch.cuda.synchronize()
    times, n = [], 0
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn(n % sets)
            n += 1
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / calls)
    return statistics.median(times)
