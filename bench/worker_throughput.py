"""Celery worker throughput on PostgreSQL + Redis, with our Django fixup and with Celery's stock one.

Celery's stock fixup closes the database connection around every task, so each task pays for a
new PostgreSQL backend. Ours keeps the connection within CONN_MAX_AGE. Each variant runs in its
own interpreter (fixup signals are process-global), with a real worker consuming from Redis.

    .venv/bin/python bench/worker_throughput.py [--tasks 2000]

Uses DATABASE_URL (default: the local server's `postgres` database; no tables are touched) and
REDIS_URL (default: redis://127.0.0.1:6379/14, flushed before each run).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))
from figures import record  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def run_variant(variant: str, tasks: int) -> dict:
    sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")
    import django

    django.setup()
    import redis
    from celery.contrib.testing.worker import start_worker
    from celery.fixups.django import DjangoWorkerFixup
    from django.conf import settings
    from django.db import connection

    from attackacrack.celery import app

    if variant == "stock":
        app._fixups[0]._worker_fixup = DjangoWorkerFixup(app)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()

    pids: set[int] = set()
    done = threading.Event()
    count = 0

    @app.task(name="bench.touch_database")
    def touch_database() -> None:
        nonlocal count
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.add(cursor.fetchone()[0])
        count += 1
        if count == tasks:
            done.set()

    for _ in range(tasks):
        touch_database.delay()
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="ERROR"):
        started = time.perf_counter()
        if not done.wait(timeout=300):
            raise SystemExit(f"only {count} of {tasks} tasks ran: is the database reachable?")
        elapsed = time.perf_counter() - started
    return {"variant": variant, "tasks": count, "seconds": round(elapsed, 2),
            "tasks_per_second": round(count / elapsed), "postgres_backends": len(pids)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--variant", choices=["ours", "stock"])
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.tasks)))
        return

    env = {
        **os.environ,
        # The server DATABASE_URL names, its always-present `postgres` database: the tasks only read.
        "DATABASE_URL": os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x").rsplit("/", 1)[0]
        + "/postgres",
        "REDIS_URL": os.getenv("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "CELERY_BROKER_URL": os.getenv("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "LOG_LEVEL": "WARNING",
    }
    rows = []
    for variant in ["stock", "ours"]:
        out = subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--tasks", str(args.tasks)],
            env=env, capture_output=True, text=True, check=True, cwd=PROJECT,
        )  # fmt: skip
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'fixup':<8}{'tasks':>8}{'seconds':>10}{'tasks/s':>10}{'PG backends':>13}")
    for row in rows:
        print(f"{row['variant']:<8}{row['tasks']:>8}{row['seconds']:>10}{row['tasks_per_second']:>10}"
              f"{row['postgres_backends']:>13}")  # fmt: skip
    ratio = rows[1]["tasks_per_second"] / rows[0]["tasks_per_second"]
    print(f"ratio ours/stock: {ratio:.1f}x")
    record("worker", "tasks/s, our fixup", rows[1]["tasks_per_second"], "tasks/s", target="reference: stock fixup")
    record("worker", "ours / stock fixup", ratio, "x", target="> 1", met=ratio > 1)
    record(
        "worker",
        "PG backends, our fixup",
        rows[1]["postgres_backends"],
        "backends",
        target="1",
        met=rows[1]["postgres_backends"] <= 2,
    )


if __name__ == "__main__":
    main()
