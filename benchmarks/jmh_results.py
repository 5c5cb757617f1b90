"""What the benchmark reports of this folder share: reading a JMH JSON result file
(`-rf json -rff FILE`) and a peer script's output, writing a Markdown table, the command line.

A JMH JSON file is a list of runs, one per benchmark method and parameter combination:
    [{"benchmark": "io.mforce.bench.FlowBench.euler", "mode": "avgt",
      "params": {"device": "cuda", ...},
      "primaryMetric": {"score": 12.3, "scoreError": 0.4, "scoreUnit": "us/op",
                        "rawData": [[12.1, 12.3, 12.5]]}, ...}, ...]
A run's figure here is the median of its measurement iterations (rawData, every fork's; each
iteration a mean over its calls), as the peers report the median of their repeats; JMH's score,
their mean, where a file has no rawData.
"""
import argparse
import json
import os
from statistics import median
from dataclasses import dataclass

# seconds per unit of a JMH time unit, as it appears in scoreUnit ("us/op", "ms/op", ...)
_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class Run:
    method: str    # the benchmark method ("euler"), without its class
    bench: str     # the benchmark class' simple name ("FlowBench")
    params: dict   # @Param values, as strings
    seconds: float  # time per operation, in seconds: the median of the iterations
    error: float    # JMH's 99.9% half-interval, in seconds (nan when JMH gave none)

    def score(self, unit):
        """The score in `unit` ("ns", "us", "ms" or "s") per operation."""
        return self.seconds / _SECONDS[unit]


def load(path):
    """The runs of one JMH JSON file. Only time-per-operation modes (avgt, sample, ss) are accepted."""
    with open(path) as f:
        rows = json.load(f)
    runs = []
    for r in rows:
        metric = r["primaryMetric"]
        unit = metric["scoreUnit"]
        if not unit.endswith("/op") or unit[:-3] not in _SECONDS:
            raise ValueError(f"{path}: {r['benchmark']}: score unit {unit!r} is not a time per operation")
        scale = _SECONDS[unit[:-3]]
        error = metric.get("scoreError")
        bench, method = r["benchmark"].rsplit(".", 2)[-2:]
        iterations = [float(x) for fork in metric.get("rawData") or [] for x in fork]
        score = median(iterations) if iterations else metric["score"]
        runs.append(Run(method, bench, dict(r.get("params") or {}), score * scale,
                        float("nan") if error in (None, "NaN") else float(error) * scale))
    return runs


def peer_fields(path, least):
    """The fields of each result line of a peers/*_peer.py output (not its '#' lines nor its
    header line, which starts with 'shape') that has at least `least` fields; none when the file
    is missing."""
    if not os.path.isfile(path):
        return
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= least and not line.startswith("#") and fields[0] != "shape":
                yield fields


def markdown_table(header, rows):
    """Lines of a Markdown table: `header` a list of column titles, `rows` lists of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report_main(doc, bench, peer, report, self_test):
    """The command line of a report joining `bench`'s JMH JSON with the output of peers/`peer`:
    print report(jmh, peer), or run self_test() with --self-test."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jmh", nargs="?", help=f"{bench} JMH JSON (-rf json)")
    ap.add_argument("peer", nargs="?", help=f"output of peers/{peer}")
    ap.add_argument("--self-test", action="store_true", help="check the report on built-in fake inputs")
    args = ap.parse_args()
    if args.self_test:
        self_test()
    elif args.jmh and args.peer:
        print(report(args.jmh, args.peer))
    else:
        ap.error("give the JMH JSON and the peer output, or --self-test")
