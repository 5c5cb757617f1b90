#!/usr/bin/env python3
"""Prints one Markdown table from several score files of `mforce generate --eval` (or `mforce
eval --json`): a row per file (named by the file, less "-eval.json"), and per time window the
lip-sync confidence (LSE-C), transcript error rate (TER), video Frechet distance (FD-video) and
identity drift (ID): the paper's Table 3 layout. The windows are the first file's, "overall" left
out when there are others, and so is a window no stream reaches. Standard library only.

    python3 tools/eval_table.py runs/table3/*-eval.json
"""
import json
import os
import sys


def cell(value, fmt):
    return "–" if value is None else fmt % value


def main(paths):
    if not paths:
        sys.exit("usage: eval_table.py FILE-eval.json ...")
    reports = []
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                reports.append((os.path.basename(p).removesuffix(".json").removesuffix("-eval"), json.load(f)))
        except (OSError, ValueError) as e:
            sys.exit(f"{p}: cannot read a score file ({e}); expected the JSON of mforce generate --eval")
    windows = [w["name"] for w in reports[0][1]["windows"]]
    # a window no stream reaches (clips shorter than its start) has no numbers: left out
    windows = [w for w in windows
               if any(r["metrics"]["generated"].get(w, {}).get("lipSyncConfidence") is not None
                      or r["metrics"]["generated"].get(w, {}).get("fdVideo") is not None for _, r in reports)]
    if len(windows) > 1:
        windows = [w for w in windows if w != "overall"]
    if not windows:
        sys.exit("no window of these files has numbers")
    head = "| run | " + " | ".join(f"{w} LSE-C ↑ | {w} TER ↓ | {w} FD-video ↓ | {w} ID ↓" for w in windows) + " |"
    print(head)
    print("|---" * (1 + 4 * len(windows)) + "|")
    for name, r in reports:
        cells = []
        for w in windows:
            m = r["metrics"]["generated"].get(w)
            if m is None:
                sys.exit(f"{name}: no window '{w}'; expected the same windows in every file")
            ter = m["transcriptErrorRate"]
            cells += [cell(m["lipSyncConfidence"], "%.3f"), cell(None if ter is None else 100 * ter, "%.0f%%"),
                      cell(m["fdVideo"], "%.3f"), cell(m["idDrift"], "%.4f")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    ref = reports[0][1]["metrics"]["reference"]
    cells = []
    for w in windows:
        m = ref[w]
        ter = m["transcriptErrorRate"]
        cells += [cell(m["lipSyncConfidence"], "%.3f"), cell(None if ter is None else 100 * ter, "%.0f%%"), "–",
                  cell(m["idDrift"], "%.4f")]
    print("| reference clips | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
