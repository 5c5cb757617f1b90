#!/usr/bin/env python3
"""Turns a JMH JSON result of FlowBench into a Markdown table of achieved bandwidth.

Each kernel's bytes per call = streams x elements x dtype bytes (streams: arrays read plus
written, the fewest a correct kernel must move); the ratio column compares with the device
copy (read n + write n) measured in the same run.

    python3 benchmarks/flow_report.py flow.json > flow.md
"""
import sys

from jmh_results import load, markdown_table

STREAMS = {  # reads + writes of n elements per call
    "copy": 2, "noise": 4, "euler": 3, "x0": 3, "renoise": 3, "cfg": 3, "mse": 3, "dmdTarget": 4,
    "shortcutTarget": 3, "noisePhiloxFused": 3, "cfgEulerFused": 4, "dmdRenoiseFused": 4,
}
DTYPE_BYTES = {"F32": 4, "BF16": 2}


def main(path):
    results = {}
    for r in load(path):
        p = r.params
        us = r.score("us")
        key = (p["device"], p["dtype"], int(p["elements"]))
        gbs = STREAMS[r.method] * int(p["elements"]) * DTYPE_BYTES[p["dtype"]] / r.seconds / 1e9
        results.setdefault(key, {})[r.method] = (us, gbs)
    rows = []
    for key in sorted(results):
        copy_gbs = results[key].get("copy", (0, 0))[1]
        for name, (us, gbs) in sorted(results[key].items()):
            ratio = f"{gbs / copy_gbs:.2f}" if copy_gbs else "n/a"
            rows.append([key[0], key[1], key[2], name, f"{us:.1f}", f"{gbs:.0f}", ratio])
    print(markdown_table(["device", "dtype", "elements", "kernel", "us/call", "GB/s", "vs copy"], rows))


if __name__ == "__main__":
    main(sys.argv[1])
