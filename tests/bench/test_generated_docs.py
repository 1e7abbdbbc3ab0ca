"""docs/performance.md and docs/reliability.md are written by `make bench` and `make drill` from a
run's results: dated, with the machine, each figure beside its target. Tested from recorded results."""

import json
import re
from pathlib import Path

from bench import generated_docs

DATA = Path(__file__).resolve().parents[1] / "data"


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def table_row(page: str, first_cells: str) -> str:
    return next(line for line in page.splitlines() if line.startswith(f"| {first_cells} |"))


def test_the_performance_page_says_when_on_what_and_each_figure_against_its_target(tmp_path):
    report = recorded("bench_results.json")
    box = report["machine"]

    path = generated_docs.write_performance(report, docs=tmp_path)

    page = path.read_text()
    assert path == tmp_path / "performance.md"
    assert page.startswith("<!-- Written by `make bench`")
    assert generated_docs.PERFORMANCE_HEADER in page
    assert table_row(page, "date") == f"| date | {report['date'][:10]} {report['date'][11:16]} UTC |"
    machine = table_row(page, "machine")
    assert box["cpu"] in machine and f"{box['cores']} cores" in machine and box["memory"] in machine
    software = table_row(page, "software")
    assert f"Python {box['python']}" in software
    assert f"PostgreSQL {box['postgresql']}" in software and f"Redis {box['redis']}" in software
    for figure in report["figures"]:
        row = table_row(page, f"{figure['bench']} | {figure['figure']}")
        status = {True: "met", False: "**not met**", None: "—"}[figure["met"]]
        assert row.endswith(f"| {figure['target'] or '—'} | {status} |"), row
        assert f" {figure['unit']} |" in row
    missed = [figure["figure"] for figure in report["figures"] if figure["met"] is False]
    targeted = [figure for figure in report["figures"] if figure["met"] is not None]
    summary = f"{len(report['figures'])} figures, {len(targeted) - len(missed)} of {len(targeted)} targets met"
    assert summary in page


def test_a_quick_run_says_its_sizes_are_not_the_targets():
    report = recorded("bench_results.json") | {"quick": True}

    assert "| sizes | quick (`--quick`: smaller sizes than the targets are set for) |" in (
        generated_docs.performance_page(report)
    )
    assert "| sizes | full |" in generated_docs.performance_page(report | {"quick": False})


def test_values_keep_the_digits_that_matter():
    figure = {"bench": "import", "figure": "5,000 rows", "unit": "s", "target": "≤ 0.3 s", "met": True}
    report = recorded("bench_results.json") | {"figures": [figure | {"value": 0.294}]}

    page = generated_docs.performance_page(report)

    assert "| import | 5,000 rows | 0.29 s | ≤ 0.3 s | met |" in page
    for value, shown in ((46.21, "46.2"), (1061.0, "1,061"), (143.64, "143.6"), (2550.4, "2,550"), (10.0, "10")):
        assert f"| {shown} s |" in generated_docs.performance_page(report | {"figures": [figure | {"value": value}]})


def test_the_reliability_page_lists_every_drill_and_whether_it_passed(tmp_path):
    report = recorded("drill_results.json")
    report["results"][1] = report["results"][1] | {"lost": 3, "passed": False}

    page = generated_docs.write_reliability(report, docs=tmp_path).read_text()

    assert page.startswith("<!-- Written by `make drill`")
    assert generated_docs.RELIABILITY_HEADER in page
    assert f"| note | {report['note']} |" in page
    assert "8 drills, 7 passed; failed: webhook burst." in page
    for drill in report["results"]:
        row = table_row(page, drill["drill"])
        verdict = "yes" if drill["passed"] else "**no**"
        assert row.endswith(f"| {drill['sent']:,} | {drill['lost']:,} | {drill['duplicated']:,} | {verdict} |"), row
    assert "answered: 200 × 400, 401 × 100" in table_row(page, "webhook burst")
    assert "stops honoured: 180" in table_row(page, "inbound, worker SIGKILL")


def test_the_machine_is_read_from_this_machine_and_its_servers():
    box = generated_docs.machine()

    assert int(box["cores"]) >= 1
    assert re.fullmatch(r"[\d.]+ GB", box["memory"])
    assert re.match(r"\d+(\.\d+)?", box["postgresql"]), box["postgresql"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", box["redis"]), box["redis"]
