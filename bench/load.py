"""Webhook intake and the API under load at once, as deployed (issue 40).

    .venv/bin/python bench/load.py [--contacts 400000] [--messages 3000000] [--seconds 60]
        [--clients 20] [--webhooks 2000] [--quick] [--reseed]

1. Seeds `attackacrack_load_seed` on the DATABASE_URL server as bench/pages_and_api.py seeds its
   pages (contacts with their houses, messages), with a campaign whose members are every contact.
   That database is kept and copied for each run (`attackacrack_load`), and seeded again only for
   other sizes or with --reseed.
2. Runs the `Procfile`'s `release`, then starts every other process with the command the Procfile
   gives it (gunicorn's `web`, `webhooks` when there is one, the Celery worker, beat), DEBUG off,
   on that database and Redis database 11 (flushed), and the webhook keys of the environment
   (OPENPHONE_WEBHOOK_SIGNING_KEY, OPENPHONE_WEBHOOK_SECRET; made for the run when unset). This
   process plays the proxy of docs/operating.md: a path under /api/webhooks/ goes to the
   `webhooks` process's port (WEBHOOKS_PORT) when the Procfile has one, everything else to `web`'s.
   WEB_CONCURRENCY, WEBHOOKS_CONCURRENCY and WORKER_CONCURRENCY are passed on when set.
3. For --seconds, --clients API clients (a token each) ask back to back for a random list (the
   contacts, a search by name, street or phone, conversations, messages, a contact's messages, a
   campaign's members) while --webhooks signed OpenPhone deliveries (texts received and delivery
   reports, legacy and current formats, one in ten a retry of an earlier event) arrive evenly
   spread over the same seconds, from another process: real HTTP, real signatures. The same load
   runs 5 s first, not counted (its errors are printed): processes just started open their
   database connections on their first requests, as after a deploy.
4. Prints the acknowledgements' and each kind of API call's percentiles, errors by kind, and
   requests/s; then, once the worker has drained, the distinct events sent against those stored
   and processed, each text received stored once and each report applied.

Targets (issue 40): webhook acknowledgement p99 ≤ 100 ms, API p99 ≤ 300 ms, no errors, every
distinct event stored and processed once. The machine's load is printed before and after: on a
shared machine a figure is only as good as the quiet around it. Process logs and each request's
timing: var/load/.
"""

import argparse
import base64
import contextlib
import json
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import redis
import requests
from figures import record
from load_clients import deliveries, run_api_clients, run_webhooks
from procfile import Processes, procfile

PROJECT = Path(__file__).resolve().parents[1]
VAR = PROJECT / "var" / "load"
SERVER = os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/attackacrack").rsplit("/", 1)[0]
DATABASE, TEMPLATE = "attackacrack_load", "attackacrack_load_seed"
REDIS = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/11"
PORTS = {"PORT": 8140, "WEBHOOKS_PORT": 8141}
WEBHOOK_PATH = "/api/webhooks/openphone"
ACK_TARGET_MS, API_TARGET_MS = 100, 300
CONCURRENCY = ("WEB_CONCURRENCY", "WEBHOOKS_CONCURRENCY", "WORKER_CONCURRENCY")
# Processes just started open their database connections and import lazily on their first
# requests, as they do once after a deploy: the same load runs this long first, not counted.
WARMUP_SECONDS = 5


def server(database: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(SERVER.replace("postgres://", "postgresql://") + f"/{database}", autocommit=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fresh_copy(contacts: int, messages: int, reseed: bool) -> bool:
    """`attackacrack_load` as a copy of the seeded template; False when the template must be seeded first."""
    sizes = f"contacts={contacts} messages={messages}"
    with server() as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        row = db.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [TEMPLATE]
        ).fetchone()
        if row and row[0] == sizes and not reseed:
            db.execute(f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}")
            return True
        db.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")
        return False


def keep_as_template(contacts: int, messages: int) -> None:
    from django.db import connections

    connections.close_all()
    with server() as db:
        db.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE {DATABASE}")
        db.execute(f"COMMENT ON DATABASE {TEMPLATE} IS 'contacts={contacts:d} messages={messages:d}'")


def seed(contacts: int, messages: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from pages_and_api import seed as seed_contacts_and_messages

    from campaigns import audience, services

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    seed_contacts_and_messages(contacts, messages)
    campaign = services.create_campaign(name="Load members", template_a="Hi {name}", from_number="+16175550100")
    audience.add_contacts_by_filter(campaign=campaign, filters={"state": "MA"})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {contacts:,} contacts and {messages:,} messages in {time.monotonic() - started:.0f} s", flush=True)


def api_tokens(count: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from attackacrack import roles

    tokens = []
    for n in range(count):
        user = get_user_model().objects.create(username=f"load-api-{n}", is_staff=True)
        roles.assign_role(user, roles.STAFF)
        tokens.append(Token.objects.create(user=user).key)
    return tokens


def environment(keys: dict[str, str]) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if key in ("HOME", "LANG", "PATH")},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **{name: str(port) for name, port in PORTS.items()},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BEHIND_HTTPS_PROXY": "true",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "REDIS_URL": REDIS,
        "VAR_DIR": str(VAR),
        "XDG_RUNTIME_DIR": str(VAR),
        "OPENPHONE_WEBHOOK_SIGNING_KEY": keys["legacy"],
        "OPENPHONE_WEBHOOK_SECRET": keys["current"],
        "LOG_LEVEL": "WARNING",
        # The operator's process counts (docs/operating.md), to measure others than the defaults.
        **{name: os.environ[name] for name in CONCURRENCY if name in os.environ},
    }


def wait_until_ready(processes: Processes, urls: list[str]) -> None:
    """Until every URL answers /healthz and the worker says it is ready."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if exited := processes.exited():
            raise SystemExit(exited)
        if all(answers(url) for url in urls) and " ready." in processes.log("worker"):
            return
        time.sleep(0.5)
    raise SystemExit("the processes did not get ready within 120 s (var/load/*.log)")


def answers(url: str) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    return False


def percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings) or [0.0]

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


def report_timings(title: str, results: list[tuple]) -> dict[str, float]:
    """A line of percentiles per kind and one for all; returns all's."""
    print(f"\n{title:<28}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  errors")
    kinds = sorted({row[0] for row in results})
    for kind in [*kinds, "all"]:
        rows = [row for row in results if kind in ("all", row[0])]
        figures = percentiles([row[2] for row in rows])
        errors = Counter(str(row[3]) for row in rows if not (isinstance(row[3], int) and 200 <= row[3] < 300))
        shown = ", ".join(f"{outcome} × {count}" for outcome, count in sorted(errors.items())) or "none"
        print(f"{kind:<28}{len(rows):>7}" + "".join(f"{value:>9.1f}" for value in figures.values()) + f"  {shown}")
    return figures


def errors_of(results: list[tuple]) -> int:
    return sum(1 for row in results if not (isinstance(row[3], int) and 200 <= row[3] < 300))


def drained(planned: list[dict], seconds: float = 300) -> dict[str, int]:
    """Waits for every event sent to be processed (the worker, and beat's sweep for any the
    broker lost), then counts what was stored and what it did."""
    from django.db.models import Count

    from messaging.models import Message, WebhookEvent

    event_ids = {delivery["event_id"] for delivery in planned}
    events = WebhookEvent.objects.filter(event_id__in=event_ids)
    started = time.monotonic()
    while events.filter(status="pending").exists() and time.monotonic() - started < seconds:
        time.sleep(1)
    waited = time.monotonic() - started
    received = {d["message_id"] for d in planned if d["type"] == "message.received"}
    reported = {d["message_id"] for d in planned if d["type"] == "message.delivered"}
    inbound = Message.objects.filter(external_id__in=received, direction="inbound")
    statuses = Counter(dict(events.order_by().values_list("status").annotate(n=Count("id"))))
    return {
        "distinct events sent": len(event_ids),
        "events stored": events.count(),
        "processed": statuses["processed"],
        "pending": statuses["pending"],
        "failed": statuses["failed"],
        "tried more than once": events.filter(attempts__gt=1).count(),
        "texts received sent": len(received),
        "texts received stored": inbound.count(),
        "texts stored twice": inbound.count() - inbound.values("external_id").distinct().count(),
        "delivery reports sent": len(reported),
        "texts marked delivered": Message.objects.filter(external_id__in=reported, status="delivered").count(),
        "seconds to drain": round(waited),
    }


def webhook_keys() -> dict[str, str]:
    made = base64.b64encode(secrets.token_bytes(32)).decode()
    return {
        "legacy": os.getenv("OPENPHONE_WEBHOOK_SIGNING_KEY", "").split(",")[0] or made,
        "current": os.getenv("OPENPHONE_WEBHOOK_SECRET", "").split(",")[0] or "whsec_" + made,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=400_000)
    parser.add_argument("--messages", type=int, default=3_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="20,000 contacts, 200,000 messages, 20 s, 600 webhooks")
    parser.add_argument("--reseed", action="store_true", help="Seed the template again even if its sizes match")
    args = parser.parse_args()
    if args.quick:
        args.contacts, args.messages, args.seconds, args.webhooks = 20_000, 200_000, 20, 600
    warmup_webhooks = round(args.webhooks * WARMUP_SECONDS / args.seconds)
    VAR.mkdir(parents=True, exist_ok=True)
    copied = fresh_copy(args.contacts, args.messages, args.reseed)
    os.environ |= {"DATABASE_URL": f"{SERVER}/{DATABASE}", "REDIS_URL": REDIS, "LOG_LEVEL": "WARNING"}
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    from django.db import connections

    from campaigns.models import Campaign
    from contacts.models import Contact

    if not copied:
        seed(args.contacts, args.messages)
        keep_as_template(args.contacts, args.messages)
    tokens = api_tokens(args.clients)
    first_contact_id = Contact.objects.order_by("id").values_list("id", flat=True).first()
    campaign_id = Campaign.objects.get(name="Load members").pk
    rng = random.Random(3)  # the seed's outbound texts are those whose number is not a multiple of 3
    outbound_ids = [f"AC{3 * rng.randrange(args.messages // 3) + 1}" for _ in range(warmup_webhooks + args.webhooks)]
    keys = webhook_keys()
    planned = deliveries(
        count=warmup_webhooks + args.webhooks, contacts=args.contacts, outbound_ids=outbound_ids, run="load"
    )
    connections.close_all()
    redis.Redis.from_url(REDIS).flushdb()

    commands = procfile()
    release = subprocess.run(["/bin/sh", "-c", commands.pop("release")], cwd=PROJECT, env=environment(keys),
                             capture_output=True, text=True)  # fmt: skip
    if release.returncode:
        raise SystemExit(f"the release step failed:\n{release.stdout}{release.stderr}")
    web = f"http://127.0.0.1:{PORTS['PORT']}"
    intake = f"http://127.0.0.1:{PORTS['WEBHOOKS_PORT']}" if "webhooks" in commands else web
    processes = Processes(environment(keys), VAR)
    print(f"Procfile: {', '.join(commands)}; webhooks to {intake}, the rest to {web}", flush=True)
    try:
        for name, command in commands.items():
            processes.start(name, command)
        wait_until_ready(processes, sorted({web, intake}))
        before = load_average()
        print(f"load average before: {before}; {args.clients} API clients and {args.webhooks} webhooks "
              f"for {args.seconds:.0f} s, after {WARMUP_SECONDS} s of the same", flush=True)  # fmt: skip
        start_at = time.time() + 1
        context = multiprocessing.get_context("fork")
        with context.Pool(2) as pool:
            api = pool.apply_async(
                run_api_clients,
                kwds={"base_url": web, "tokens": tokens, "seconds": WARMUP_SECONDS + args.seconds, "start_at": start_at,
                      "contacts": args.contacts, "first_contact_id": first_contact_id, "campaign_id": campaign_id},
            )  # fmt: skip
            hooks = pool.apply_async(
                run_webhooks,
                kwds={"url": intake + WEBHOOK_PATH, "planned": planned, "keys": keys,
                      "seconds": WARMUP_SECONDS + args.seconds,
                      "start_at": start_at},
            )  # fmt: skip
            api_results, webhook_results = api.get(), hooks.get()
        after = load_average()
        (VAR / "results.json").write_text(json.dumps({"api": api_results, "webhooks": webhook_results}))
        outcome = drained(planned)
    finally:
        processes.stop()
    show(args, api_results, webhook_results, outcome, before, after)


def show(args, api_results: list[tuple], webhook_results: list[tuple], outcome: dict, before: str, after: str) -> None:
    warm = [row for row in api_results + webhook_results if row[1] < WARMUP_SECONDS]
    print(f"\nwarm-up ({WARMUP_SECONDS} s, not counted below): {len(warm)} requests, {errors_of(warm)} errors")
    api_results = [row for row in api_results if row[1] >= WARMUP_SECONDS]
    webhook_results = [row for row in webhook_results if row[1] >= WARMUP_SECONDS]
    acks = report_timings("webhook acknowledgements", webhook_results)
    late = max(row[4] for row in webhook_results) * 1000
    print(f"(the latest delivery left {late:.0f} ms after its moment)")
    api = report_timings("API calls", api_results)
    rate = len(api_results) / args.seconds
    print(f"\n{rate:.1f} API requests/s; load average before {before}, after {after}")
    print("\n" + "\n".join(f"{name:<28}{value:>7,}" for name, value in outcome.items()))
    ack_errors, api_errors = errors_of(webhook_results), errors_of(api_results)
    once = (
        outcome["events stored"] == outcome["processed"] == outcome["distinct events sent"]
        and outcome["texts received stored"] == outcome["texts received sent"]
        and outcome["texts marked delivered"] == outcome["delivery reports sent"]
        and not outcome["texts stored twice"]
    )
    verdicts = {
        f"acknowledgement p99 ≤ {ACK_TARGET_MS} ms": acks["p99"] <= ACK_TARGET_MS,
        f"API p99 ≤ {API_TARGET_MS} ms": api["p99"] <= API_TARGET_MS,
        "no errors": not (ack_errors or api_errors),
        "every distinct event stored and processed once": once,
    }
    print("\n" + "\n".join(f"{'met' if met else 'NOT MET':<8} {target}" for target, met in verdicts.items()))
    size = f"{args.clients} API clients, {args.webhooks:,} webhooks, {args.contacts:,} contacts"
    record("load", f"webhook acknowledgement p99 ({size})", acks["p99"], "ms", target=f"≤ {ACK_TARGET_MS} ms",
           met=acks["p99"] <= ACK_TARGET_MS)  # fmt: skip
    record("load", "webhook acknowledgement p50", acks["p50"], "ms")
    record("load", f"API p99 ({size})", api["p99"], "ms", target=f"≤ {API_TARGET_MS} ms",
           met=api["p99"] <= API_TARGET_MS)  # fmt: skip
    record("load", "API p50", api["p50"], "ms")
    record("load", "API requests/s", rate, "requests/s")
    record("load", "errors (webhooks and API)", ack_errors + api_errors, "errors", target="0",
           met=not (ack_errors or api_errors))  # fmt: skip
    record("load", "distinct events stored and processed once", outcome["processed"], "events",
           target=f"{outcome['distinct events sent']:,} (every one sent)", met=once)  # fmt: skip
    record("load", "machine load average (1 min) after the run", float(after.split()[0]), "")


if __name__ == "__main__":
    main()
