#!/usr/bin/env python3
"""Turns a JMH JSON result of FlowBench into a Markdown table of achieved bandwidth.

Each kernel's bytes per call = streams x elements x dtype bytes (streams: arrays read plus
written, the fewest a correct kernel must move); the ratio column compares with the device
copy (read n + write n) measured in the same run.

    python3 benchmarks/flow_report.py flow.json > flow.md
"""
import json
import sys

STREAMS = {  # reads + writes of n elements per call
    "copy": 2, "noise": 4, "euler": 3, "x0": 3, "renoise": 3, "cfg": 3, "mse": 3, "dmdTarget": 4,
    "shortcutTarget": 3, "noisePhiloxFused": 3, "cfgEulerFused": 4, "dmdRenoiseFused": 4,
}
DTYPE_BYTES = {"F32": 4, "BF16": 2}


def main(path):
    rows = json.load(open(path))
    results = {}
    for r in rows:
        name = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        us = r["primaryMetric"]["score"]  # microseconds per call
        key = (p["device"], p["dtype"], int(p["elements"]))
        gbs = STREAMS[name] * int(p["elements"]) * DTYPE_BYTES[p["dtype"]] / (us * 1e-6) / 1e9
        results.setdefault(key, {})[name] = (us, gbs)
    print("| device | dtype | elements | kernel | us/call | GB/s | vs copy |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(results):
        copy_gbs = results[key].get("copy", (0, 0))[1]
        for name, (us, gbs) in sorted(results[key].items()):
            ratio = f"{gbs / copy_gbs:.2f}" if copy_gbs else "n/a"
            print(f"| {key[0]} | {key[1]} | {key[2]} | {name} | {us:.1f} | {gbs:.0f} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
