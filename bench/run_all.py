"""`make bench`: every bench script against PostgreSQL, one table of figure / target / status.

    .venv/bin/python bench/run_all.py [--quick]

Runs each script in its own process (each seeds its own database `attackacrack_bench`), collects
the figures they record (bench/figures.py), prints them as one table and writes them, with the
date and the machine, to var/bench/results-<timestamp>.json and var/bench/latest.json, and as
docs/performance.md (bench/generated_docs.py).
--quick uses smaller sizes (a 100,000-row import, a 5,000-member clock, 10,000 contacts/100,000 messages
for pages, 20 s of load on 20,000 contacts); the full run is issue 23's: a million rows, 5 campaigns of
100,000 members, and issue 40's minute of load on 400,000 contacts.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generated_docs

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "var" / "bench"


def scripts(quick: bool) -> list[list[str]]:
    return [
        ["import_contacts.py", "--rows", "100000" if quick else "1000000"],
        ["import_floor.py", "--rows", "100000" if quick else "1000000"],
        ["worker_throughput.py", "--tasks", "1000" if quick else "3000"],
        ["webhook_intake.py", "--requests", "500" if quick else "2000"],
        ["dispatch.py", "--texts", "100" if quick else "300"],
        ["catch_up.py", "--contacts", "200" if quick else "1000"],
        ["consent_corpus.py"],
        ["campaign_execution.py", "--audience", "5000" if quick else "100000"],
        ["campaign_execution.py", "--audience", "5000" if quick else "100000", "--listed", "0.5"],
        ["pages_and_api.py", *(["--contacts", "10000", "--messages", "100000"] if quick else [])],
        ["campaign_cost.py", *(["--members", "10000", "--messages", "100000"] if quick else [])],
        ["dnc_load.py", "--numbers", "100000" if quick else "1000000"],
        ["load.py", *(["--quick"] if quick else [])],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    figures_file = Path(tempfile.mkstemp(suffix=".jsonl")[1])
    env = os.environ | {"BENCH_FIGURES": str(figures_file), "LOG_LEVEL": "WARNING"}
    timings = {}
    for script, *arguments in scripts(args.quick):
        print(f"--- {script} {' '.join(arguments)}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(PROJECT / "bench" / script), *arguments], cwd=PROJECT, env=env)
        timings[script] = round(time.monotonic() - started, 1)
        if result.returncode != 0:
            print(f"!!! {script} failed with exit code {result.returncode}", flush=True)
    rows = [json.loads(line) for line in figures_file.read_text().splitlines() if line.strip()]
    figures_file.unlink()

    print(f"\n{'bench':<16}{'figure':<44}{'value':>14}  {'target':<40}status")
    for row in rows:
        status = {True: "met", False: "NOT MET", None: "-"}[row["met"]]
        value = f"{row['value']:,.1f} {row['unit']}"
        print(f"{row['bench']:<16}{row['figure']:<44}{value:>14}  {row['target']:<40}{status}")
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": generated_docs.machine(),
        "quick": args.quick,
        "seconds_per_script": timings,
        "figures": rows,
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (OUT / f"results-{stamp}.json", OUT / "latest.json"):
        path.write_text(json.dumps(report, indent=2))
    page = generated_docs.write_performance(report)
    missed = sum(1 for row in rows if row["met"] is False)
    print(f"\n{len(rows)} figures, {missed} target(s) not met; written to {OUT / 'latest.json'} and {page}")


if __name__ == "__main__":
    main()
