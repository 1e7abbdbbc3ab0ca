"""docs/performance.md and docs/reliability.md, written whole from a run's results.

`make bench` (bench/run_all.py) writes the first, `make drill` (bench/drill.py) the second: the
figures are never typed by hand, each page says when and on what machine they were measured, and
the few paragraphs a reader needs around them are kept here, beside the code that writes them.
"""

import datetime as dt
import os
import platform
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATED = "<!-- Written by `{command}` ({writer}); edit bench/generated_docs.py, not this file. -->"

PERFORMANCE_HEADER = """\
# Performance

What the project claims about speed, measured. `make bench` runs every script under `bench/` against
PostgreSQL and Redis (`DATABASE_URL`, `REDIS_URL`, else the local servers) in a database of its own,
`attackacrack_bench`, prints one table and rewrites this page; the same figures, with each script's
time, are kept in `var/bench/latest.json`. A full run takes about 20 minutes on a 2-core
machine; `BENCH_ARGS=--quick make bench` runs smaller sizes (a 100,000-row import, a 5,000-member
clock, 10,000 contacts and 100,000 messages for the pages) to try a change, and says so below: the
targets are set for the full sizes.

A figure's target comes from the user's contract or the issue that set it; "reference" figures
have none and are there to compare. Figures move by 5–20% from run to run on one machine, and by
2–3× from day to day on a shared one: a figure not met once is run again before anything is
changed for it. What each speed trick guards is in [architecture.md](architecture.md#where-the-speed-comes-from)."""

# What each script measures: the last section of performance.md.
SCRIPTS = (
    ("import_contacts.py", "a contact import's time, rows/s and peak memory: 5,000 rows, a million and its "
     "re-import, beside django-import-export on the same file"),
    ("import_floor.py", "where a million-row import's time goes, and what moving its staging into PostgreSQL "
     "would cost"),
    ("worker_throughput.py", "Celery tasks/s with our connection-keeping fixup against Celery's stock one, and "
     "the PostgreSQL backends each opens"),
    ("webhook_intake.py", "how fast a signed webhook is acknowledged through the whole Django stack"),
    ("dispatch.py", "texts/s from the outbox through a real worker to a fake OpenPhone, and the busiest second "
     "OpenPhone saw"),
    ("catch_up.py", "a catch-up from OpenPhone's history: its requests and time, and the send rate beside it"),
    ("consent_corpus.py", "what inbound texts mean for consent: clear opt-outs missed and others sent for review, "
     "on the labelled corpus and the held-out texts"),
    ("campaign_execution.py", "what the campaign clock costs with large audiences (also with half the numbers on "
     "a Do-Not-Call list)"),
    ("pages_and_api.py", "every staff page's and API list's server time with many contacts and messages, the "
     "contact search among them (a name, a surname one contact in a hundred has, a phone, a street, a house's "
     "street, a ZIP; `--contacts 1000000 --messages 10000000` for issue 40, `--reuse` to keep a database seeded to "
     "those sizes), a launched and a draft campaign of every contact, and a campaign's results with every contact "
     "texted and 5,000 outcomes"),
    ("campaign_cost.py", "what telling a campaign's cost before it is sent adds to the launch confirmation and "
     "the campaign page, with 100,000 members"),
    ("dnc_load.py", "loading a Do-Not-Call registry file, and its peak memory"),
    ("load.py", "the webhooks and the API under load together, as the `Procfile` runs them: 20 API clients "
     "back to back beside 2,000 signed webhooks in 60 s (400,000 contacts; `--quick`: 20,000, 600 webhooks in "
     "20 s), the acknowledgements' and API calls' percentiles, errors, and every event stored and processed once"),
)  # fmt: skip
PERFORMANCE_SCRIPTS = "\n".join(
    [
        "## What each script measures",
        "",
        "Each can be run alone with `.venv/bin/python bench/NAME.py` (`--help` lists its sizes).",
        "",
        "| script | measures |",
        "|---|---|",
        *(f"| `{script}` | {measures} |" for script, measures in SCRIPTS),
    ]
)

RELIABILITY_HEADER = """\
# Reliability

What happens to texts and webhook events when a worker, PostgreSQL or Redis fails mid-run, measured.
`make drill` (`bench/drill.py`) runs each drill on a fresh database, `attackacrack_drill`, with real
Celery workers in their own processes and a fake OpenPhone (`bench/fake_openphone.py`) that answers
in the shapes of OpenPhone's published API file and stores texts re-encoded as OpenPhone's smart
encoding may (curly apostrophes). It fails if any text or event was lost, sent or applied twice,
left unknown or unprocessed, then rewrites this page. **It restarts the machine's PostgreSQL and
Redis: run it on a development machine only**, never beside anything that matters.
`DRILL_ARGS="--only redis" make drill` runs one drill (and leaves this page as it is).

- The campaign drills send through a fake that answers 10% of requests with 429, 5% with a 500
  before accepting, 5% with a 500 *after* accepting the text and 5% only after the client's
  timeout (also after accepting it): a lost text and a double send are both easy to cause, and
  the texts accepted without an answer can only be settled by asking OpenPhone. "Sent" counts
  distinct recipients OpenPhone accepted, "duplicated" any recipient it accepted twice, "unknown"
  texts nobody could settle.
- The inbound drills sign their deliveries as OpenPhone does (half legacy, half current format),
  a tenth of the texts STOPs from contacts with a campaign text booked. "Lost" counts events
  delivered and never applied, "duplicated" an opt-out or its confirmation applied twice,
  "unprocessed" events not processed five minutes after the last disruption ended, "handed over
  again" events a worker took only because the sweep found them (what the broker lost). They run
  with `bench/drill_settings.py`'s 5-second hand-over grace (production's is 60 s).

How the send path and webhook intake are built to pass these is in
[architecture.md](architecture.md#the-outbox-what-holds-at-each-step)."""

RELIABILITY_COLUMNS = ("drill", "sent", "lost", "duplicated", "passed")


def machine() -> dict[str, str]:
    """What the figures were measured on: the processor, memory, and the servers' versions."""
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "system": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "postgresql": _postgresql_version(),
        "redis": _redis_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _postgresql_version() -> str:
    try:
        import psycopg

        # The server's own database: the one DATABASE_URL names may not exist (the benches make their own).
        server = os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
        with psycopg.connect(f"{server}/postgres", connect_timeout=5) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # the page still says what it could not learn
        return f"unknown ({type(error).__name__})"


def _redis_version() -> str:
    try:
        import redis

        url = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15")
        return redis.Redis.from_url(url, socket_timeout=5).info("server")["redis_version"]
    except Exception as error:
        return f"unknown ({type(error).__name__})"


def _when(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _machine_rows(report: dict) -> list[str]:
    box = report["machine"]
    return [
        f"| date | {_when(report['date'])} |",
        f"| machine | {box['cpu']}, {box['cores']} cores, {box['memory']} memory, {box['system']} |",
        f"| software | Python {box['python']}, PostgreSQL {box['postgresql']}, Redis {box['redis']} |",
    ]


def _number(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def performance_page(report: dict) -> str:
    """The page for one `bench/run_all.py` report (as written to var/bench/latest.json)."""
    figures = report["figures"]
    targeted = [row for row in figures if row["met"] is not None]
    missed = [row for row in targeted if row["met"] is False]
    sizes = "quick (`--quick`: smaller sizes than the targets are set for)" if report["quick"] else "full"
    minutes = sum(report.get("seconds_per_script", {}).values()) / 60
    lines = [
        GENERATED.format(command="make bench", writer="bench/run_all.py"),
        PERFORMANCE_HEADER,
        "",
        "## The latest run",
        "",
        "| | |",
        "|---|---|",
        *_machine_rows(report),
        f"| sizes | {sizes} |",
        *([f"| took | {minutes:.1f} minutes |"] if minutes else []),
        *([f"| note | {_cell(report['note'])} |"] if report.get("note") else []),
        "",
        f"{len(figures)} figures, {len(targeted) - len(missed)} of {len(targeted)} targets met"
        + (f"; not met: {'; '.join(_cell(row['bench'] + ', ' + row['figure']) for row in missed)}." if missed else "."),
        "",
        "## Figures",
        "",
        "| bench | figure | value | target | status |",
        "|---|---|---:|---|---|",
    ]
    for row in figures:
        status = {True: "met", False: "**not met**", None: "—"}[row["met"]]
        value = f"{_number(row['value'])} {row['unit']}"
        target = _cell(row["target"]) or "—"
        lines.append(f"| {row['bench']} | {_cell(row['figure'])} | {value} | {target} | {status} |")
    return "\n".join([*lines, "", PERFORMANCE_SCRIPTS, ""])


def reliability_page(report: dict) -> str:
    """The page for one full `bench/drill.py` run (as written to var/drill/latest.json)."""
    results = report["results"]
    failed = [row["drill"] for row in results if not row["passed"]]
    lines = [
        GENERATED.format(command="make drill", writer="bench/drill.py"),
        RELIABILITY_HEADER,
        "",
        "## The latest run",
        "",
        "| | |",
        "|---|---|",
        *_machine_rows(report),
        *([f"| note | {_cell(report['note'])} |"] if report.get("note") else []),
        "",
        f"{len(results)} drills, {len(results) - len(failed)} passed"
        + (f"; failed: {', '.join(failed)}." if failed else ": nothing lost, nothing duplicated, nothing unknown."),
        "",
        "## Drills",
        "",
        "| drill | what happened | sent | lost | duplicated | passed |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in results:
        details = "; ".join(f"{key}: {_detail(value)}" for key, value in row.items() if key not in RELIABILITY_COLUMNS)
        verdict = "yes" if row["passed"] else "**no**"
        lines.append(
            f"| {row['drill']} | {_cell(details)} | {row['sent']:,} | {row['lost']:,} | {row['duplicated']:,} "
            f"| {verdict} |"
        )
    return "\n".join([*lines, ""])


def _detail(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} × {_number(count)}" for key, count in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _number(value) if isinstance(value, int | float) else str(value)


def write_performance(report: dict, docs: Path = DOCS) -> Path:
    path = docs / "performance.md"
    path.write_text(performance_page(report))
    return path


def write_reliability(report: dict, docs: Path = DOCS) -> Path:
    path = docs / "reliability.md"
    path.write_text(reliability_page(report))
    return path
