"""What a bench script measured, for `make bench` to collect: one JSON line per figure.

A script calls ``record(...)`` for each figure it prints. When BENCH_FIGURES names a file (as
`bench/run_all.py` does), the figures are appended there; run alone, nothing extra happens.
"""

import json
import os


def record(bench: str, figure: str, value: float, unit: str, *, target: str = "", met: bool | None = None) -> None:
    path = os.getenv("BENCH_FIGURES")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        row = {"bench": bench, "figure": figure, "value": round(value, 3), "unit": unit, "target": target, "met": met}
        out.write(json.dumps(row) + "\n")
