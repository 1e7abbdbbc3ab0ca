"""Texts/s from the outbox to OpenPhone through a real Celery worker, against OpenPhone's limit.

    .venv/bin/python bench/dispatch.py [--texts 300]

Queues staff texts to N contacts the way the API does (each handed to the worker on commit),
with a real Celery worker (prefork, 2 processes) on Redis and the dispatcher ticking every 5 s as
beat does, against a local fake of OpenPhone's send endpoint (bench/fake_openphone.py, never
flaky here). OpenPhone allows 10 requests per second per key, so that is the ceiling: the figures
are texts/s end to end as a share of it, and the most requests OpenPhone saw in any one second
(the shared rate limit must keep it at 10 or under, however many worker processes send).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_execution import PROJECT, setup_database
from fake_openphone import FakeOpenPhone
from figures import record

SHOP = "+16175550100"
BEAT_SECONDS = 5
REDIS = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/13"


def busiest_second(times: list[float]) -> int:
    """The most requests inside any window of one second."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=300)
    args = parser.parse_args()
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=0, flaky=False)
    sending = {
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": REDIS,
        "SMS_BACKEND": "messaging.backends.openphone.SMSBackend",
        "OPENPHONE_API_KEY": "bench-key",
        "OPENPHONE_API_URL": fake.url,
        "OPENPHONE_FROM_NUMBER": SHOP,
    }
    os.environ.update(sending)
    setup_database()
    import redis

    from contacts.models import Contact
    from messaging import outbox, services
    from messaging.models import Message

    redis.Redis.from_url(REDIS).flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "attackacrack", "worker", "--concurrency", "2",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=PROJECT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        Contact.objects.bulk_create(
            Contact(phone=f"+1617{3000000 + n:07d}", first_name="Pat", time_zone="America/New_York")
            for n in range(args.texts)
        )
        time.sleep(3)  # the worker is up
        started = time.monotonic()
        for contact in Contact.objects.order_by("id"):
            services.send_staff_text(contact=contact, body="Checking in about the estimate")
        next_tick = started
        while Message.objects.filter(status__in=["queued", "sending"]).exists():
            if time.monotonic() >= next_tick:
                outbox.dispatch()
                next_tick += BEAT_SECONDS
            if time.monotonic() - started > args.texts:  # far beyond 10/s: something is wrong
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        fake.stop()

    sent = Message.objects.filter(status="sent").count()
    delivered = [message["to"][0] for message in fake.accepted]
    rate = sent / seconds
    from django.conf import settings

    limit = settings.OPENPHONE_RATE_LIMIT_PER_SECOND
    busiest = busiest_second(fake.posted_at)
    print(f"{args.texts} staff texts through a real worker: {sent} sent in {seconds:.1f} s = {rate:.1f} texts/s")
    print(f"OpenPhone's limit {limit}/s: {rate / limit:.0%} of it used; busiest second at OpenPhone: {busiest}")
    print(f"accepted by the fake: {len(delivered)}, distinct recipients {len(set(delivered))}")
    record("dispatch", "texts/s to OpenPhone, real worker", rate, "texts/s", target=f"reference: OpenPhone {limit}/s")
    record(
        "dispatch",
        "share of OpenPhone's limit used",
        100 * rate / limit,
        "%",
        target="≥ 80 % (the limit is the bottleneck)",
        met=rate / limit >= 0.8,
    )
    record("dispatch", "busiest second at OpenPhone", busiest, "requests", target=f"≤ {limit}", met=busiest <= limit)
    record(
        "dispatch",
        "texts lost or sent twice",
        (args.texts - len(set(delivered))) + (len(delivered) - len(set(delivered))),
        "texts",
        target="0",
        met=sent == args.texts == len(delivered) == len(set(delivered)),
    )


if __name__ == "__main__":
    main()
