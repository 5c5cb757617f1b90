#!/usr/bin/env python3
"""Joins GemmBench's JMH JSON with peers/gemm_peer.py's output into the GEMM table of RESULTS.md
(issue #4: "the GEMMs of the paper config within 10% of PyTorch's"): per op (gemm_shapes.OPS: a
linear layer's forward, dx, dw) and shape of gemm_shapes.py, mforce's and PyTorch's time per call
and TFLOP/s (2*m*n*k), the ratio peer time / mforce time (above 1: mforce faster) and whether
mforce is within 10% of PyTorch (ratio >= 0.9).

    python3 benchmarks/gemm_report.py GemmBench.json[,GemmBackwardBench.json] gemm_peer.md > gemm.md

Run by benchmarks/run-gpu.sh after its gemm, gemm_backward and peers stages (several JMH files
joined by commas). Self-test, no GPU needed:
    python3 benchmarks/gemm_report.py --self-test
"""
import json
import os
import tempfile

from gemm_shapes import OPS, SHAPES, flops, mnk
from jmh_results import load, markdown_table, peer_fields, report_main

WITHIN = 0.9  # the least ratio peer time / mforce time that is "within 10%"


def read_peer(path):
    """{(op, shape): us} from gemm_peer.py's output; {} when the file is missing."""
    return {(fields[1], fields[0]): float(fields[2]) for fields in peer_fields(path, 3)}


def read_mforce(jmh_paths):
    """{(op, shape): us} of the GemmBench runs of JMH JSON files (paths joined by commas); those
    missing or empty give none."""
    out = {}
    for path in jmh_paths.split(","):
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            out.update({(r.params.get("op", "forward"), r.params["shape"]): r.score("us") for r in load(path)
                        if r.bench == "GemmBench"})
    return out


def _order(key):
    op, shape = key
    return list(OPS).index(op) if op in OPS else len(OPS), op, mnk(shape)


def rows(mforce, peer):
    """For each op of OPS that either side ran, a row per shape of gemm_shapes.py in its order; then
    any other op or shape either side ran; n/a where a side has none."""
    keys = mforce.keys() | peer.keys()
    ran = {op for op, _ in keys}
    listed = [(op, shape) for op in OPS if op in ran for shape in SHAPES]
    out = []
    for key in listed + sorted(keys - set(listed), key=_order):
        op, shape = key
        ours, theirs = mforce.get(key), peer.get(key)
        ratio = theirs / ours if ours and theirs else None
        cells = [op, shape.replace("x", " x "), SHAPES.get(shape, "(not in gemm_shapes.py)")]
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
    header = ["op", "m x n x k", "in the model", "mforce us", "PyTorch us", "PyTorch / mforce", "mforce TFLOP/s",
              "PyTorch TFLOP/s", "within 10%"]
    table = rows(mforce, peer)
    if mforce and peer:
        for op in dict.fromkeys(r[0] for r in table):
            verdicts = [r[-1] for r in table if r[0] == op]
            judged = len(verdicts) - verdicts.count("n/a")
            lines.append(f"gemm {op}: {verdicts.count('yes')} of {judged} shapes with both sides within 10% of "
                         f"PyTorch ({len(verdicts) - judged} not compared)")
    return "\n".join([markdown_table(header, table)] + lines)


def self_test():
    """Runs the report on hand-made files shaped like JMH's -rf json and gemm_peer.py's output;
    raises on a wrong table."""
    def run(op, shape, score, unit):  # one entry of JMH's -rf json output, as GemmBench's look
        return {"jmhVersion": "1.37", "benchmark": "io.mforce.bench.GemmBench.gemm", "mode": "avgt",
                "threads": 1, "forks": 1, "params": {"device": "cuda", "dtype": "BF16", "op": op, "shape": shape},
                "primaryMetric": {"score": score, "scoreError": "NaN", "scoreConfidence": ["NaN", "NaN"],
                                  "scorePercentiles": {"0.0": score, "50.0": score, "100.0": score},
                                  "scoreUnit": unit, "rawData": [[score]]},
                "secondaryMetrics": {}}

    forward = json.dumps([run("forward", "8192x8192x8192", 1500.0, "us/op"),
                          run("forward", "360x4096x4096", 40.0, "us/op"), run("forward", "2x2x2", 0.004, "ms/op")])
    backward = json.dumps([run("dw", "360x4096x4096", 50.0, "us/op")])
    peer = """# NVIDIA H100 80GB HBM3  torch 2.11.0+cu130  bf16 reduced-precision reduction True
shape            op               us  TFLOP/s  in the model
8192x8192x8192   forward     1470.00    748.0  square reference (README's cuBLAS ceiling)
360x4096x4096    forward       30.00    402.7  video chunk 480x768: attention q, k, v, o; cross q, o
5x4096x4096      forward       20.00      8.4  audio chunk (4 codec + 1 transcript tokens): attention q, k, v, o; cross q, o
360x4096x4096    dw            60.00    201.3  video chunk 480x768: attention q, k, v, o; cross q, o
"""
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, name) for name in ("GemmBench.json", "GemmBackwardBench.json", "gemm_peer.md")]
        for path, text in zip(paths, (forward, backward, peer)):
            with open(path, "w") as f:
                f.write(text)
        jmh = ",".join(paths[:2])
        got = {(r[0], r[1]): r[3:] for r in rows(read_mforce(jmh), read_peer(paths[2]))}
        both = report(jmh, paths[2]).splitlines()
        # a stage that failed or was skipped: a line naming the missing side, no traceback
        missing = os.path.join(d, "missing")
        only_peer = report(missing, paths[2]).splitlines()
        only_mforce = report(paths[0] + "," + missing, missing).splitlines()
        neither = report(missing, missing).splitlines()
    want = {
        # 8192^3: 1.0995e12 FLOP in 1500 us = 733 TFLOP/s; peer 1470 us -> 0.98x, within 10%
        ("forward", "8192 x 8192 x 8192"): ["1500.0", "1470.0", "0.98x", "733", "748", "yes"],
        # 360x4096x4096: 12.08 GFLOP in 40 us = 302 TFLOP/s; peer 30 us -> 0.75x, not within 10%
        ("forward", "360 x 4096 x 4096"): ["40.0", "30.0", "0.75x", "302", "403", "**no**"],
        # the peer alone ran it
        ("forward", "5 x 4096 x 4096"): ["n/a", "20.0", "n/a", "n/a", "8", "n/a"],
        # a shape only the JMH file has (4 ns given in ms/op): listed after the others
        ("forward", "2 x 2 x 2"): ["4.0", "n/a", "n/a", "0", "n/a", "n/a"],
        ("forward", "66 x 4096 x 4096"): ["n/a"] * 6,
        # from the second JMH file: 12.08 GFLOP in 50 us = 242 TFLOP/s; peer 60 us -> 1.20x
        ("dw", "360 x 4096 x 4096"): ["50.0", "60.0", "1.20x", "242", "201", "yes"],
        ("dw", "66 x 4096 x 4096"): ["n/a"] * 6,
    }
    for key, cells in want.items():
        assert got[key] == cells, f"self-test: {key}: got {got[key]}, want {cells}"
    keys = list(got)
    # forward's shapes, then dw's (dx ran on neither side: no rows), then the unlisted shape
    assert [op for op, _ in keys[:2 * len(SHAPES)]] == ["forward"] * len(SHAPES) + ["dw"] * len(SHAPES), keys
    assert keys[-1] == ("forward", "2 x 2 x 2") and len(keys) == 2 * len(SHAPES) + 1, keys
    assert both[-2:] == [f"gemm forward: 1 of 2 shapes with both sides within 10% of PyTorch "
                         f"({len(SHAPES) - 1} not compared)",
                         f"gemm dw: 1 of 1 shapes with both sides within 10% of PyTorch ({len(SHAPES) - 1} not compared)"], \
        both[-2:]
    assert only_peer[-1].startswith("gemm: no mforce result") and only_peer[0].startswith("| op | m x n x k"), only_peer
    assert only_mforce[-1].startswith("gemm: no peer result") and only_mforce[0].startswith("| op | m x n x k")
    assert len(neither) == 2 and neither[1].startswith("gemm: no peer result"), neither
    print("gemm_report self-test: ok")


if __name__ == "__main__":
    report_main(__doc__, "GemmBench", "gemm_peer.py", report, self_test)
