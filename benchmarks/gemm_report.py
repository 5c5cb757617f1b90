#!/usr/bin/env python3
"""Joins GemmBench's JMH JSON with peers/gemm_peer.py's output into the GEMM table of RESULTS.md
(issue #4: "the GEMMs of the paper config within 10% of PyTorch's"): per shape of gemm_shapes.py,
mforce's and PyTorch's time per call and TFLOP/s (2*m*n*k), the ratio peer time / mforce time
(above 1: mforce faster) and whether mforce is within 10% of PyTorch (ratio >= 0.9).

    python3 benchmarks/gemm_report.py GemmBench.json gemm_peer.md > gemm.md

Run by benchmarks/run-gpu.sh after its gemm and peers stages. Self-test, no GPU needed:
    python3 benchmarks/gemm_report.py --self-test
"""
import json
import os
import tempfile

from gemm_shapes import SHAPES, flops, mnk
from jmh_results import load, markdown_table, peer_fields, report_main

WITHIN = 0.9  # the least ratio peer time / mforce time that is "within 10%"


def read_peer(path):
    """{shape: us} from gemm_peer.py's output; {} when the file is missing."""
    return {fields[0]: float(fields[1]) for fields in peer_fields(path, 2)}


def read_mforce(jmh_path):
    """{shape: us} of the GemmBench runs of a JMH JSON file; {} when the file is missing or empty."""
    if not os.path.isfile(jmh_path) or os.path.getsize(jmh_path) == 0:
        return {}
    return {r.params["shape"]: r.score("us") for r in load(jmh_path) if r.bench == "GemmBench"}


def rows(mforce, peer):
    """A row per shape of gemm_shapes.py, then any other shape either side ran; n/a where a side has none."""
    out = []
    for shape in list(SHAPES) + sorted((mforce.keys() | peer.keys()) - SHAPES.keys(), key=mnk):
        ours, theirs = mforce.get(shape), peer.get(shape)
        ratio = theirs / ours if ours and theirs else None
        cells = [shape.replace("x", " x "), SHAPES.get(shape, "(not in gemm_shapes.py)")]
        cells += [f"{t:.1f}" if t else "n/a" for t in (ours, theirs)]
        cells.append(f"{ratio:.2f}x" if ratio else "n/a")
        cells += [f"{flops(shape) / t / 1e6:.0f}" if t else "n/a" for t in (ours, theirs)]
        cells.append("n/a" if ratio is None else "yes" if ratio >= WITHIN else "**no**")
        out.append(cells)
    return out


def report(jmh_path, peer_path):
    """The table and a verdict line, or lines saying which side is missing: a stage that failed,
    timed out or was skipped leaves its file absent or empty (its log, beside it, says why)."""
    mforce, peer = read_mforce(jmh_path), read_peer(peer_path)
    lines = []
    if not mforce:
        lines.append(f"gemm: no mforce result ({jmh_path} missing or empty; see GemmBench.txt)")
    if not peer:
        lines.append(f"gemm: no peer result ({peer_path} missing or empty; see gemm_peer.err)")
    if not mforce and not peer:
        return "\n".join(lines)
    header = ["m x n x k", "in the model", "mforce us", "PyTorch us", "PyTorch / mforce", "mforce TFLOP/s",
              "PyTorch TFLOP/s", "within 10%"]
    table = rows(mforce, peer)
    if mforce and peer:
        verdicts = [r[-1] for r in table]
        judged = len(verdicts) - verdicts.count("n/a")
        lines.append(f"gemm: {verdicts.count('yes')} of {judged} shapes with both sides within 10% of PyTorch"
                     f" ({len(verdicts) - judged} not compared)")
    return "\n".join([markdown_table(header, table)] + lines)


def self_test():
    """Runs the report on hand-made files shaped like JMH's -rf json and gemm_peer.py's output;
    raises on a wrong table."""
    def run(shape, score, unit):  # one entry of JMH's -rf json output, as GemmBench's look
        return {"jmhVersion": "1.37", "benchmark": "io.mforce.bench.GemmBench.matmulTransB", "mode": "avgt",
                "threads": 1, "forks": 1, "params": {"device": "cuda", "dtype": "BF16", "shape": shape},
                "primaryMetric": {"score": score, "scoreError": "NaN", "scoreConfidence": ["NaN", "NaN"],
                                  "scorePercentiles": {"0.0": score, "50.0": score, "100.0": score},
                                  "scoreUnit": unit, "rawData": [[score]]},
                "secondaryMetrics": {}}

    jmh = json.dumps([run("8192x8192x8192", 1500.0, "us/op"), run("360x4096x4096", 40.0, "us/op"),
                      run("2x2x2", 0.004, "ms/op")], indent=4)
    peer = """# NVIDIA H100 80GB HBM3  torch 2.11.0+cu130  bf16 reduced-precision reduction True
shape                    us  TFLOP/s  in the model
8192x8192x8192      1470.00    748.0  square reference (README's cuBLAS ceiling)
360x4096x4096         30.00    402.7  video chunk 480x768: attention q, k, v, o; cross q, o
5x4096x4096           20.00      8.4  audio chunk (4 codec + 1 transcript tokens): attention q, k, v, o; cross q, o
"""
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, "GemmBench.json"), os.path.join(d, "gemm_peer.md")]
        for path, text in zip(paths, (jmh, peer)):
            with open(path, "w") as f:
                f.write(text)
        got = {r[0]: r[2:] for r in rows(read_mforce(paths[0]), read_peer(paths[1]))}
        both = report(*paths).splitlines()
        # a stage that failed or was skipped: a line naming the missing side, no traceback
        missing = os.path.join(d, "missing")
        only_peer = report(missing, paths[1]).splitlines()
        only_mforce = report(paths[0], missing).splitlines()
        neither = report(missing, missing).splitlines()
    want = {
        # 8192^3: 1.0995e12 FLOP in 1500 us = 733 TFLOP/s; peer 1470 us -> 0.98x, within 10%
        "8192 x 8192 x 8192": ["1500.0", "1470.0", "0.98x", "733", "748", "yes"],
        # 360x4096x4096: 12.08 GFLOP in 40 us = 302 TFLOP/s; peer 30 us -> 0.75x, not within 10%
        "360 x 4096 x 4096": ["40.0", "30.0", "0.75x", "302", "403", "**no**"],
        # the peer alone ran it
        "5 x 4096 x 4096": ["n/a", "20.0", "n/a", "n/a", "8", "n/a"],
        # a shape only the JMH file has (4 ns given in ms/op): listed after the others
        "2 x 2 x 2": ["4.0", "n/a", "n/a", "0", "n/a", "n/a"],
        "66 x 4096 x 4096": ["n/a"] * 6,
    }
    for shape, cells in want.items():
        assert got[shape] == cells, f"self-test: {shape}: got {got[shape]}, want {cells}"
    assert list(got)[-1] == "2 x 2 x 2" and len(got) == len(SHAPES) + 1, list(got)
    assert both[-1] == f"gemm: 1 of 2 shapes with both sides within 10% of PyTorch ({len(SHAPES) - 1} not compared)"
    assert only_peer[-1].startswith("gemm: no mforce result") and only_peer[0].startswith("| m x n x k"), only_peer
    assert only_mforce[-1].startswith("gemm: no peer result") and only_mforce[0].startswith("| m x n x k")
    assert len(neither) == 2 and neither[1].startswith("gemm: no peer result"), neither
    print("gemm_report self-test: ok")


if __name__ == "__main__":
    report_main(__doc__, "GemmBench", "gemm_peer.py", report, self_test)
