#!/usr/bin/env python3
"""Joins AttentionCudaBench's JMH JSON with peers/attention_peer.py's output into the attention
table of RESULTS.md: per shape and pass, mforce's time and TFLOP/s, the PyTorch SDPA flash and
cuDNN backends' times, and the speed ratios peer time / mforce time (above 1: mforce faster).
Forward + backward has a row per backward mode of mforce: "atomic dQ" (the default, dq added
with fp32 atomics, as FlashAttention-2) and "deterministic" (Mforce.setDeterministic(true));
both are compared with the same peer times.
Every TFLOP/s figure follows attention_shapes.py's one convention (4*B*H*D*visible pairs of the
mask that row computes, x3.5 with the backward).

    python3 benchmarks/attention_report.py AttentionCudaBench.json attention_peer.md > attention.md

Run by benchmarks/run-gpu.sh after its attention and peers stages. Self-test, no GPU needed:
    python3 benchmarks/attention_report.py --self-test
"""
import os
import tempfile

from attention_shapes import SHAPES, flops, peer_of
from jmh_results import load, markdown_table, peer_fields, report_main

BACKENDS = ("flash", "cudnn")


def read_peer(path):
    """{(shape, pass, backend): ms or None} from attention_peer.py's output (None: refused); {} when
    the file is missing."""
    times = {}
    for fields in peer_fields(path, 4):
        shape, pas, backend, ms = fields[:4]
        times[(shape, pas, backend)] = None if ms == "n/a" else float(ms)
    return times


# AttentionCudaBench's methods: the pass each times
PASSES = {"forward": "fwd", "forwardBackward": "fwd+bwd"}
# its forwardBackward's "deterministic" parameter: the label of each backward mode
MODES = {"false": "atomic dQ", "true": "deterministic"}


def mforce_runs(jmh_path):
    """The AttentionCudaBench runs of a JMH JSON file; none when the file is missing or empty."""
    if not os.path.isfile(jmh_path) or os.path.getsize(jmh_path) == 0:
        return []
    return [r for r in load(jmh_path) if r.bench == "AttentionCudaBench"]


def rows(jmh_path, peer_path):
    peer = read_peer(peer_path)
    out = []
    runs = mforce_runs(jmh_path)
    for r in runs:
        if r.method not in PASSES:
            raise ValueError(f"{jmh_path}: unknown AttentionCudaBench method {r.method!r}")
    order = list(SHAPES)
    runs.sort(key=lambda r: (order.index(r.params["shape"]), list(PASSES).index(r.method),
                             list(MODES).index(r.params.get("deterministic", "false"))))
    for r in runs:
        name = r.params["shape"]
        backward = r.method == "forwardBackward"
        shape, pas = SHAPES[name], PASSES[r.method]
        ms = r.score("ms")
        label = f"{pas} ({MODES[r.params['deterministic']]})" if backward else pas
        cells = [name, label, f"{ms:.3f}", f"{flops(shape, shape.mask, backward) / ms / 1e9:.0f}"]
        peers = [peer.get((peer_of(name), pas, b)) for b in BACKENDS]
        cells += [f"{p:.3f}" if p else "n/a" for p in peers]
        cells += [f"{p / ms:.2f}x" if p else "n/a" for p in peers]
        out.append(cells + [shape.note])
    return out


def report(jmh_path, peer_path):
    """The table, or a line saying which side is missing: a stage that failed, timed out or was
    skipped leaves its file absent or empty (its log, beside it, says why)."""
    if not mforce_runs(jmh_path):
        return f"attention: no mforce result ({jmh_path} missing or empty; see AttentionCudaBench.txt)"
    header = ["shape", "pass", "mforce ms", "mforce TFLOP/s", "flash ms", "cuDNN ms", "vs flash", "vs cuDNN", "note"]
    table = markdown_table(header, rows(jmh_path, peer_path))
    if not read_peer(peer_path):
        table += f"\nattention: no peer result ({peer_path} missing or empty; see attention_peer.err)"
    return table


def self_test():
    """Runs the report on a tiny hand-made JMH file and peer output; raises on a wrong table."""
    jmh = """[
      {"benchmark": "io.mforce.bench.AttentionCudaBench.forwardBackward", "mode": "avgt",
       "params": {"shape": "e", "deterministic": "true"},
       "primaryMetric": {"score": 2.5, "scoreError": 0.1, "scoreUnit": "ms/op"}},
      {"benchmark": "io.mforce.bench.AttentionCudaBench.forwardBackward", "mode": "avgt",
       "params": {"shape": "e", "deterministic": "false"},
       "primaryMetric": {"score": 2.0, "scoreError": 0.1, "scoreUnit": "ms/op"}},
      {"benchmark": "io.mforce.bench.AttentionCudaBench.forward", "mode": "avgt", "params": {"shape": "a"},
       "primaryMetric": {"score": 560.0, "scoreError": 5, "scoreUnit": "us/op", "rawData": [[480.0, 700.0, 500.0]]}},
      {"benchmark": "io.mforce.bench.AttentionCudaBench.forward", "mode": "avgt", "params": {"shape": "a64"},
       "primaryMetric": {"score": 0.4, "scoreError": "NaN", "scoreUnit": "ms/op"}}]"""
    peer = """# NVIDIA H200  torch 2.11  cuDNN 91400
shape pass     backend        ms  TFLOP/s  note
a     fwd      flash       1.000    206.2  causal, one token per chunk
a     fwd      cudnn       0.400    515.5  causal, one token per chunk
e     fwd+bwd  flash       3.000    320.8  training
e     fwd+bwd  cudnn         n/a      n/a  No available kernel
"""
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, "jmh.json"), os.path.join(d, "peer.md")]
        for path, text in zip(paths, (jmh, peer)):
            with open(path, "w") as f:
                f.write(text)
        got = rows(*paths)
        # a stage that failed or was skipped: a line naming the missing side, no traceback
        missing = os.path.join(d, "missing")
        assert report(missing, paths[1]).startswith("attention: no mforce result"), report(missing, paths[1])
        assert report(paths[0], missing).splitlines()[-1].startswith("attention: no peer result")
    want = [
        # a: the median iteration, 0.5 ms (not the mean, 0.56): 206.18 GFLOP in 0.5 ms = 412 TFLOP/s;
        # flash 1.0 ms -> 2.00x, cuDNN 0.4 ms -> 0.80x
        ["a", "fwd", "0.500", "412", "1.000", "0.400", "2.00x", "0.80x"],
        # a64 is compared with the peers of a; 207.77 GFLOP in 0.4 ms = 519 TFLOP/s
        ["a64", "fwd", "0.400", "519", "1.000", "0.400", "2.50x", "1.00x"],
        # e fwd+bwd, atomic dQ first: 309.24 GFLOP x 3.5 in 2 ms = 541 TFLOP/s; cuDNN refused
        ["e", "fwd+bwd (atomic dQ)", "2.000", "541", "3.000", "n/a", "1.50x", "n/a"],
        # deterministic, against the same peer times: in 2.5 ms = 433 TFLOP/s, flash 3.0 ms -> 1.20x
        ["e", "fwd+bwd (deterministic)", "2.500", "433", "3.000", "n/a", "1.20x", "n/a"],
    ]
    assert [r[:8] for r in got] == want, f"self-test: got\n{got}\nwant\n{want}"
    print("attention_report self-test: ok")


if __name__ == "__main__":
    report_main(__doc__, "AttentionCudaBench", "attention_peer.py", report, self_test)
