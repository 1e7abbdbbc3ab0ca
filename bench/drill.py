"""`make drill`: the reliability drills. Each prints what was sent, lost and duplicated, and the
run fails if anything was lost or duplicated. A run of every drill rewrites docs/reliability.md.

    .venv/bin/python bench/drill.py [--contacts 200] [--only NAME]

1. worker SIGKILL during dispatch, against a flaky fake OpenPhone (429s, 503s, 500-after-accepting,
   answers that come after the client's timeout), killed twice mid-run and restarted;
2. webhook burst: 300 signed deliveries plus 100 repeats and 100 forgeries, 8 at a time, over HTTP;
3. PostgreSQL restarted mid-run;
4. Redis (broker and rate limit) restarted mid-run;
5. final refusals: OpenPhone refuses a tenth of one campaign's recipients for good, beside another campaign;
6. inbound, worker SIGKILL: 2,000 signed deliveries (half legacy, half current, 10% repeated, a tenth
   of the texts STOPs), the worker killed twice during the burst;
7. inbound, Redis flushed: 50 signed events (10 STOPs) handed to the broker, then the broker wiped
   before a worker takes them;
8. inbound, broker unreachable: 20 signed events (4 STOPs) arrive while the web process cannot
   reach the broker (the workers still can).

Each inbound drill counts events lost (delivered, never stored), processed twice (an opt-out or
its confirmation applied more than once), and left unprocessed five minutes after the last
disruption ended; every STOP must leave its contact opted out with their waiting text cancelled,
and every delivery must be answered 2xx.

Everything is real except OpenPhone: a fresh PostgreSQL database `attackacrack_drill`, Redis
database 12, Celery workers in their own processes; this process plays beat (a dispatch tick every
second). Sending hours and pacing are set through the environment production reads, timeouts and
retries in bench/drill_settings.py, so a drill takes a minute, not a day.
"""

import argparse
import base64
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from fake_openphone import FakeOpenPhone
from generated_docs import machine, write_reliability

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
VAR = PROJECT / "var" / "drill"
DATABASE = "attackacrack_drill"
SHOP = "+16175550100"
SIGNING_KEY = base64.b64encode(b"drill-webhook-key").decode()
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"drill-current-webhook-secret").decode()
SERVER = os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
REDIS = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/12"


def drill_environment(openphone_url: str) -> dict[str, str]:
    VAR.mkdir(parents=True, exist_ok=True)
    rules = VAR / "rules.json"
    rules.write_text(json.dumps({"default_hours": ["00:00", "23:59:59"], "state_hours": {}, "state_caps": {}}))
    return {
        "DJANGO_SETTINGS_MODULE": "bench.drill_settings",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": REDIS,
        "SMS_BACKEND": "messaging.backends.openphone.SMSBackend",
        "OPENPHONE_API_KEY": "drill-key",
        "OPENPHONE_API_URL": openphone_url,
        "OPENPHONE_FROM_NUMBER": SHOP,
        "OPENPHONE_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "OPENPHONE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BUSINESS_DAYS": "0,1,2,3,4,5,6",
        "BUSINESS_OPENS": "00:00",
        "BUSINESS_CLOSES": "23:59:59",
        "RECIPIENT_RULES_FILE": str(rules),
        "CAMPAIGN_PACE_BATCH": "1200",
        "CAMPAIGN_PACE_MINUTES": "1",
        "SMS_DAILY_LIMIT_PER_NUMBER": "6000",
        "LOG_LEVEL": "ERROR",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(SERVER.replace("postgres://", "postgresql://") + "/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")


class Worker:
    """A real Celery worker (prefork, 2 processes) in its own process group, so it can be killed whole."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = os.environ | env
        self.process: subprocess.Popen | None = None
        self.log = (VAR / "worker.log").open("ab")

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "attackacrack", "worker", "--concurrency", "2",
             "--loglevel", "ERROR", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=PROJECT, env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False)
    time.sleep(1)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                    "--save", "", "--appendonly", "no"], check=True)  # fmt: skip
    time.sleep(0.5)


def tick_safely(action) -> None:
    """Beat's tick survives the database or broker going away, as the real beat does."""
    from django.db import close_old_connections, connection

    try:
        close_old_connections()
        action()
    except Exception as error:
        print(f"    tick failed ({type(error).__name__}); next tick in a second", flush=True)
        connection.close()


def campaign_drill(name: str, contacts: int, disruptions: dict[float, callable], number_block: int) -> dict:
    from campaigns import audience, booking, services
    from campaigns.models import Campaign, CampaignSend
    from contacts.models import Contact
    from messaging import outbox
    from messaging.models import Message

    # Spec-conformant, and storing texts as OpenPhone's smart encoding may (curly apostrophes).
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=3, reencode=True)
    from django.conf import settings

    settings.OPENPHONE_API_URL = fake.url
    worker = Worker(drill_environment(fake.url))
    phones = [f"+1617{number_block}{n:06d}" for n in range(contacts)]
    Contact.objects.bulk_create(
        Contact(phone=phone, first_name="Pat", time_zone="America/New_York", time_zone_source="address")
        for phone in phones
    )
    campaign = services.create_campaign(
        name=f"Drill: {name}", template_a="Hi {name}, it's a drill text", from_number=SHOP, daily_limit=6000
    )
    audience.add_contacts_by_id(
        campaign=campaign, contact_ids=list(Contact.objects.filter(phone__in=phones).values_list("pk", flat=True))
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)
    booked = booking.execute_campaign(campaign_id=campaign.pk).sent
    worker.start()
    started = time.monotonic()
    pending_disruptions = sorted(disruptions.items())
    sends = CampaignSend.objects.filter(campaign=campaign)
    while time.monotonic() - started < 180:
        elapsed = time.monotonic() - started
        while pending_disruptions and elapsed >= pending_disruptions[0][0]:
            at, disrupt = pending_disruptions.pop(0)
            print(f"    t={elapsed:4.1f}s: {disrupt.__doc__}", flush=True)
            disrupt(worker)
        tick_safely(outbox.dispatch)
        done = False

        def settled() -> None:
            nonlocal done
            done = not sends.filter(message__status__in=["queued", "sending"]).exists()

        tick_safely(settled)
        if done:
            break
        time.sleep(1)
    seconds = time.monotonic() - started
    worker.kill()
    fake.stop()

    delivered = [message["to"][0] for message in fake.accepted]
    unique = set(delivered) & set(phones)
    db_sent = sends.filter(message__status__in=["sent", "delivered"]).count()
    db_ids = set(
        Message.objects.filter(campaign_send__campaign=campaign)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    return {
        "drill": name,
        "booked": booked,
        "sent": len(unique),
        "lost": len(set(phones) - unique),
        "duplicated": len(delivered) - len(unique),
        "recorded sent": db_sent,
        "unknown": sends.filter(message__status="unknown").count(),
        "ids match": db_ids == {m["id"] for m in fake.accepted},
        "provider outcomes": fake.outcomes,
        "seconds": round(seconds, 1),
    }


def refusal_drill(contacts: int) -> dict:
    """Two campaigns on one number; OpenPhone refuses a tenth of the first one's recipients for
    good. The campaign completes, each refused member shows why, the other campaign is not held up."""
    from campaigns import audience, booking, services
    from campaigns.models import Campaign, CampaignContact, CampaignSend
    from contacts.models import Contact
    from messaging import outbox

    phones = [f"+1617{5}{n:06d}" for n in range(contacts)]
    refused = frozenset(phones[::10])
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=3, reencode=True, refused_numbers=refused)
    from django.conf import settings

    settings.OPENPHONE_API_URL = fake.url
    worker = Worker(drill_environment(fake.url))
    Contact.objects.bulk_create(
        Contact(phone=phone, first_name="Pat", time_zone="America/New_York", time_zone_source="address")
        for phone in phones
    )
    half = contacts // 2
    campaigns = []
    for name, members in (("with refusals", phones[:half]), ("alongside", phones[half:])):
        campaign = services.create_campaign(
            name=f"Drill: {name}", template_a="Hi {name}, it's a drill text", from_number=SHOP, daily_limit=6000
        )
        audience.add_contacts_by_id(
            campaign=campaign,
            contact_ids=list(Contact.objects.filter(phone__in=members).values_list("pk", flat=True)),
        )
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)
        campaigns.append(campaign)
    booked = sum(booking.run_campaign(campaign_id=campaign.pk).sent for campaign in campaigns)
    worker.start()
    started = time.monotonic()
    sends = CampaignSend.objects.filter(campaign__in=campaigns)
    while time.monotonic() - started < 180 and sends.filter(message__status__in=["queued", "sending"]).exists():
        tick_safely(outbox.dispatch)
        time.sleep(1)
    tick_safely(booking.run_campaigns)  # the next run completes what has nobody left to text
    worker.kill()
    fake.stop()
    delivered = [message["to"][0] for message in fake.accepted]
    expected = set(phones) - refused
    unique = set(delivered) & expected
    refused_members = CampaignContact.objects.filter(
        campaign__in=campaigns, contact__phone__in=refused, status="ineligible", ineligible_reason__contains="Invalid"
    ).count()
    return {
        "drill": "final refusals",
        "booked": booked,
        "sent": len(unique),
        "lost": len(expected - unique),
        "duplicated": len(delivered) - len(set(delivered)),
        "refused": len(refused),
        "refused members showing why": refused_members,
        "campaigns completed": Campaign.objects.filter(pk__in=[c.pk for c in campaigns], status="completed").count(),
        "unknown": sends.filter(message__status="unknown").count(),
        "seconds": round(time.monotonic() - started, 1),
    }


def kill_worker(worker: Worker) -> None:
    """SIGKILL the worker (all its processes) mid-dispatch, restart it a second later"""
    worker.kill()
    time.sleep(1)
    worker.start()


def pg_restart(worker: Worker) -> None:
    """restart PostgreSQL under the running worker and beat"""
    restart_postgresql()


def redis_restart(worker: Worker) -> None:
    """restart Redis (the broker and the rate limit) under the running worker"""
    restart_redis()


def webhook_drill(unique: int = 300, repeats: int = 100, forgeries: int = 100) -> dict:
    from messaging.models import Message, WebhookEvent

    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=0, flaky=False)
    worker = Worker(drill_environment(fake.url))
    worker.start()

    def delivery(n: int, *, forged: bool = False) -> tuple[bytes, dict]:
        return signed_delivery(n, text="Yes, how much?", phone=f"+1781{n + 2000000:07d}", forged=forged)

    jobs = [delivery(n) for n in range(unique)]
    jobs += [delivery(n) for n in range(0, unique, max(1, unique // repeats))][:repeats]
    jobs += [delivery(unique + n, forged=True) for n in range(forgeries)]
    with WebhookServer() as url:
        codes = deliver_all(url, jobs)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and WebhookEvent.objects.filter(status="pending").exists():
            time.sleep(0.5)
    worker.kill()
    fake.stop()
    stored = WebhookEvent.objects.filter(event_id__startswith="EVdrill").count()
    messages = Message.objects.filter(external_id__startswith="ACdrill").count()
    return {
        "drill": "webhook burst",
        "deliveries": len(jobs),
        "answered": dict(sorted(Counter(map(str, codes)).items())),
        "sent": messages,
        "lost": unique - messages,
        "duplicated": max(0, stored - unique) + max(0, messages - unique),
        "forgeries stored": WebhookEvent.objects.filter(event_id__gte=f"EVdrill{unique:06d}").count(),
    }


# --- Inbound: what people tell us survives the broker and the workers ---------------------------

RECOVERY_LIMIT_SECONDS = 300


class WebhookServer:
    """The intake over HTTP in this process: runserver's threaded server, a thread per request."""

    def __enter__(self) -> str:
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args) -> None:
                pass

        self.server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
        self.server.set_app(get_wsgi_application())
        logging.getLogger("django.request").setLevel(logging.ERROR)  # forgeries' 401s are expected
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/webhooks/openphone"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()


def signed_delivery(n: int, *, text: str, phone: str, forged: bool = False) -> tuple[bytes, dict]:
    """Delivery n as OpenPhone signs it. Even n: the legacy format; odd n: the current one,
    signed by the reference Standard Webhooks library."""
    from messaging import webhook_payloads

    system = webhook_payloads.CURRENT if n % 2 else webhook_payloads.LEGACY
    now = dt.datetime.now(dt.UTC)
    payload = webhook_payloads.message_event(
        "message.received", system=system, sender=phone, recipient=SHOP, text=text, at=now,
        message_id=f"ACdrill{n:06d}", event_id=f"EVdrill{n:06d}",
    )  # fmt: skip
    body = json.dumps(payload).encode()
    key = WEBHOOK_SECRET if system == webhook_payloads.CURRENT else SIGNING_KEY
    if forged:
        key = "whsec_" + base64.b64encode(b"not-the-secret").decode() if n % 2 else base64.b64encode(b"no").decode()
    headers = webhook_payloads.signed_headers(body, system=system, key=key, at=now, webhook_id=f"msg_drill{n:06d}")
    return body, {**headers, "Content-Type": "application/json"}


def people_waiting_for_a_text(phones: list[str]) -> None:
    """Contacts with a campaign text booked for tomorrow and a place in the queue: a STOP from
    any of them must cancel both."""
    from campaigns import sends, services
    from campaigns.models import Campaign, CampaignContact
    from contacts.models import Contact

    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    contacts = Contact.objects.bulk_create(
        Contact(phone=phone, first_name="Pat", time_zone="America/New_York", time_zone_source="address")
        for phone in phones
    )
    campaign = services.create_campaign(name="Drill: waiting", template_a="Hi {name}", from_number=SHOP)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)
    CampaignContact.objects.bulk_create(
        CampaignContact(campaign=campaign, contact=contact, queue_position=contact.pk) for contact in contacts
    )
    sends.book(
        campaign=campaign,
        number=SHOP,
        today=tomorrow.date(),
        now=dt.datetime.now(dt.UTC),
        slots=[(contact.pk, "A", tomorrow) for contact in contacts],
    )


def inbound_burst(count: int, *, stops: int, repeats: int = 0, first: int = 0) -> tuple[list, list[str]]:
    """`count` distinct signed events (every tenth sender writes STOP, up to `stops`), then
    `repeats` of them delivered again, spread through the burst. Returns (jobs, STOP senders)."""
    every = max(1, count // stops) if stops else count + 1
    senders = [f"+1781{first + n + 2000000:07d}" for n in range(count)]
    stopping = [phone for n, phone in enumerate(senders) if n % every == 0][:stops]
    people_waiting_for_a_text(stopping)
    jobs = [
        signed_delivery(first + n, text="STOP" if phone in stopping else "Yes, how much?", phone=phone)
        for n, phone in enumerate(senders)
    ]
    for n in range(repeats):
        jobs.insert((n * len(jobs)) // max(1, repeats) + n, jobs[(n * 7) % count])
    return jobs, stopping


def deliver_all(url: str, jobs: list, *, threads: int = 8) -> list:
    session = requests.Session()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda job: deliver(session, url, *job), jobs))


def settle_inbound(*, expected: int) -> float:
    """Play beat's hand-over sweep (every second) until every event is processed or the recovery
    limit passes; returns the seconds it took."""
    from messaging import webhook_processing
    from messaging.models import WebhookEvent

    started = time.monotonic()
    done = False
    while time.monotonic() - started < RECOVERY_LIMIT_SECONDS:
        tick_safely(webhook_processing.hand_over_due_events)

        def all_processed() -> None:
            nonlocal done
            events = WebhookEvent.objects.filter(event_id__startswith="EVdrill")
            done = (
                events.filter(status="processed").count() >= expected
                and not events.exclude(status="processed").exists()
            )

        tick_safely(all_processed)
        if done:
            break
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def inbound_outcome(name: str, *, codes: list, expected: int, stopping: list[str], recovered_in: float) -> dict:
    """Lost, processed twice, unprocessed; and each STOP honoured (opted out, nothing left waiting)."""
    from django.conf import settings
    from django.db.models import Count, F

    from campaigns.models import CampaignContact, CampaignSend
    from contacts.models import Contact, OptOutEvent
    from messaging.models import Message, WebhookEvent

    events = WebhookEvent.objects.filter(event_id__startswith="EVdrill")
    stored = events.count()
    texts = Message.objects.filter(external_id__startswith="ACdrill").count()
    opt_outs = OptOutEvent.objects.filter(contact__phone__in=stopping, kind="opt_out").values("contact")
    confirmations = Message.objects.filter(kind=Message.Kind.OPT_OUT_CONFIRMATION, contact__phone__in=stopping)
    twice = sum(max(0, row["n"] - 1) for row in opt_outs.annotate(n=Count("id")))
    twice += sum(max(0, row["n"] - 1) for row in confirmations.values("contact").annotate(n=Count("id")))
    honoured = (
        Contact.objects.filter(phone__in=stopping, opted_out_at__isnull=False)
        .exclude(campaign_sends__message__status="queued")
        .exclude(campaign_memberships__status=CampaignContact.Status.PENDING)
        .count()
    )
    return {
        "drill": name,
        "deliveries": len(codes),
        "answered": dict(sorted(Counter(map(str, codes)).items())),
        "sent": texts,
        "lost": expected - min(stored, texts),
        "duplicated": twice + max(0, stored - expected) + max(0, texts - expected),
        "unprocessed": events.exclude(status="processed").count(),
        # Events a worker took only because the sweep handed them over again: what was lost in the broker.
        "handed over again": events.filter(
            enqueued_at__gte=F("received_at") + dt.timedelta(seconds=settings.WEBHOOK_HANDOVER_SECONDS)
        ).count(),
        "stops": len(stopping),
        "stops honoured": honoured,
        "texts left waiting": CampaignSend.objects.filter(
            contact__phone__in=stopping, message__status="queued"
        ).count(),
        "seconds to settle after recovery": recovered_in,
    }


@contextlib.contextmanager
def inbound_rig():
    """A worker process (not started) beside a fake OpenPhone, both gone when the drill ends."""
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=0, flaky=False)
    worker = Worker(drill_environment(fake.url))
    try:
        yield worker
    finally:
        worker.kill()
        fake.stop()


def inbound_kill_drill(unique: int = 1800, repeats: int = 200, stops: int = 180) -> dict:
    """2,000 signed deliveries (half legacy, half current, a tenth repeats), the worker SIGKILLed
    twice while they arrive and are processed."""
    jobs, stopping = inbound_burst(unique, stops=stops, repeats=repeats)
    with inbound_rig() as worker, WebhookServer() as url:
        worker.start()
        kills = threading.Thread(
            target=lambda: [time.sleep(2), kill_worker(worker), time.sleep(3), kill_worker(worker)]
        )
        kills.start()
        codes = deliver_all(url, jobs)
        kills.join()  # the last restart: recovery starts here
        recovered_in = settle_inbound(expected=unique)
    return inbound_outcome("inbound, worker SIGKILL", codes=codes, expected=unique, stopping=stopping,
                           recovered_in=recovered_in)  # fmt: skip


def inbound_flush_drill(count: int = 50, stops: int = 10) -> dict:
    """50 signed events (10 STOPs) handed to the broker; the broker wiped before any worker took them."""
    import redis

    jobs, stopping = inbound_burst(count, stops=stops)
    with inbound_rig() as worker, WebhookServer() as url:
        codes = deliver_all(url, jobs)
        broker = redis.Redis.from_url(REDIS)
        print(f"    {broker.dbsize()} keys in the broker's database, wiped", flush=True)
        broker.flushdb()
        worker.start()
        recovered_in = settle_inbound(expected=count)
    return inbound_outcome("inbound, Redis flushed", codes=codes, expected=count, stopping=stopping,
                           recovered_in=recovered_in)  # fmt: skip


def inbound_unreachable_drill(count: int = 20, stops: int = 4) -> dict:
    """20 signed events (4 STOPs) arrive while this web process cannot reach the broker; the
    workers can. Then the web process reaches it again."""
    from attackacrack.celery import app

    jobs, stopping = inbound_burst(count, stops=stops)

    def broker_at(url: str) -> None:
        os.environ["CELERY_BROKER_URL"] = url  # Celery reads the environment's before its settings
        app.conf["CELERY_BROKER_URL"] = url
        app._after_fork()  # as after a fork: the connection pools are built again from settings
        print(f"    the web process's broker: {app.conf.broker_url}", flush=True)

    with inbound_rig() as worker, WebhookServer() as url:
        worker.start()
        broker_at("redis://127.0.0.1:1/0")  # nothing listens there
        started = time.monotonic()
        codes = deliver_all(url, jobs, threads=4)
        print(f"    {len(jobs)} deliveries answered in {time.monotonic() - started:.1f} s", flush=True)
        broker_at(REDIS)
        recovered_in = settle_inbound(expected=count)
    return inbound_outcome("inbound, broker away", codes=codes, expected=count, stopping=stopping,
                           recovered_in=recovered_in)  # fmt: skip


def deliver(session, url: str, body: bytes, headers: dict) -> int:
    """POST one delivery as OpenPhone does: a 5xx or a timeout is retried (at most 5 tries)."""
    for attempt in range(5):
        try:
            code = session.post(url, data=body, headers=headers, timeout=10).status_code
        except (requests.ConnectionError, requests.Timeout) as error:
            code = type(error).__name__
        if code in (200, 401):
            return code
        time.sleep(0.2 * 2**attempt)
    return code


def passed(row: dict) -> bool:
    """Nothing lost, doubled or left unknown; every refusal shown, every event processed and answered 2xx."""
    failed = bool(row["lost"] or row["duplicated"] or row.get("unknown")) or row.get("ids match") is False
    if row["drill"] == "final refusals":
        failed |= row["refused members showing why"] != row["refused"] or row["campaigns completed"] != 2
    if row["drill"].startswith("inbound"):
        failed |= bool(row["unprocessed"]) or row["stops honoured"] != row["stops"]
        failed |= set(row["answered"]) != {"200"}
        failed |= row["seconds to settle after recovery"] >= RECOVERY_LIMIT_SECONDS
    return not failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument(
        "--only",
        choices=["kill", "webhooks", "postgres", "redis", "refusals", "inbound-kill", "inbound-flush", "inbound-away"],
    )
    args = parser.parse_args()
    os.environ.update(drill_environment("http://127.0.0.1:9"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    drills = {
        "kill": lambda: campaign_drill("worker SIGKILL", args.contacts, {3: kill_worker, 9: kill_worker}, 2),
        "webhooks": webhook_drill,
        "postgres": lambda: campaign_drill("PostgreSQL restart", args.contacts, {4: pg_restart}, 3),
        "redis": lambda: campaign_drill("Redis restart", args.contacts, {4: redis_restart}, 4),
        "refusals": lambda: refusal_drill(args.contacts),
        "inbound-kill": inbound_kill_drill,
        "inbound-flush": inbound_flush_drill,
        "inbound-away": inbound_unreachable_drill,
    }
    results = []
    for key, drill in drills.items():
        if args.only and key != args.only:
            continue
        print(f"--- drill: {key}", flush=True)
        # Each drill starts on an empty database, so one drill's leftovers never count in the next.
        connections.close_all()
        fresh_database()
        call_command("migrate", verbosity=0)
        results.append(drill())
        print("    " + json.dumps(results[-1]), flush=True)

    print(f"\n{'drill':<22}{'sent':>7}{'lost':>7}{'duplicated':>12}  details")
    for row in results:
        row["passed"] = passed(row)
        details = {k: v for k, v in row.items() if k not in ("drill", "sent", "lost", "duplicated")}
        print(f"{row['drill']:<22}{row['sent']:>7}{row['lost']:>7}{row['duplicated']:>12}  {details}")
    failed = not all(row["passed"] for row in results)
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(), "results": results}
    (VAR / "latest.json").write_text(json.dumps(report, indent=2))
    if not args.only:  # one drill alone is not the record of them all
        print(f"written to {write_reliability(report)}")
    print(
        "\nDRILLS FAILED: something was lost, duplicated, left unknown or unprocessed"
        if failed
        else "\nall drills: nothing lost, nothing duplicated, nothing unknown"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
