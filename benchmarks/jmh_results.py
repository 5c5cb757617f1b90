"""What the benchmark reports of this folder share: reading a JMH JSON result file
(`-rf json -rff FILE`) and writing a Markdown table.

A JMH JSON file is a list of runs, one per benchmark method and parameter combination:
    [{"benchmark": "io.mforce.bench.FlowBench.euler", "mode": "avgt",
      "params": {"device": "cuda", ...},
      "primaryMetric": {"score": 12.3, "scoreError": 0.4, "scoreUnit": "us/op"}, ...}, ...]
"""
import json
from dataclasses import dataclass

# seconds per unit of a JMH time unit, as it appears in scoreUnit ("us/op", "ms/op", ...)
_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class Run:
    method: str    # the benchmark method ("euler"), without its class
    bench: str     # the benchmark class' simple name ("FlowBench")
    params: dict   # @Param values, as strings
    seconds: float  # score per operation, in seconds
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
        runs.append(Run(method, bench, dict(r.get("params") or {}), metric["score"] * scale,
                        float("nan") if error in (None, "NaN") else float(error) * scale))
    return runs


def markdown_table(header, rows):
    """Lines of a Markdown table: `header` a list of column titles, `rows` lists of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
