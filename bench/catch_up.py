"""What a catch-up from OpenPhone costs for 1,000 recent contacts, and what it leaves for sending.

    .venv/bin/python bench/catch_up.py [--contacts 1000] [--texts 60]

Seeds N contacts texted an hour ago (their texts are in the local fake of OpenPhone,
bench/fake_openphone.py, as OpenPhone's history), a few of whom replied or wrote STOP without a
webhook telling us. Then runs one catch-up (`messaging.catch_up.run_catch_up`) while staff texts
are being sent in another thread, through the same Redis rate limit. Prints the requests per
catch-up, its duration, the texts it found, the send rate alone and during the catch-up, and the
busiest second at OpenPhone (OpenPhone allows 10 requests a second per key).
"""

import argparse
import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_execution import setup_database
from dispatch import busiest_second
from fake_openphone import FakeOpenPhone, message_resource
from figures import record

SHOP = "+16175550100"
REDIS = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/13"


def send_texts(count: int, offset: int) -> float:
    """Write and send ``count`` staff texts one after another in this thread; texts/s."""
    from django.db import connection

    from contacts.models import Contact
    from messaging import outbox
    from messaging.models import Message

    contacts = list(Contact.objects.order_by("id")[offset : offset + count])
    started = time.monotonic()
    for contact in contacts:
        message = outbox.queue_text(contact=contact, body="Checking in about the estimate", kind=Message.Kind.STAFF)
        outbox.deliver_message(message.pk)
    seconds = time.monotonic() - started
    connection.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--texts", type=int, default=60)
    args = parser.parse_args()
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=0, flaky=False)
    os.environ.update(
        {
            "REDIS_URL": REDIS,
            "CELERY_BROKER_URL": REDIS,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "SMS_BACKEND": "messaging.backends.openphone.SMSBackend",
            "OPENPHONE_API_KEY": "bench-key",
            "OPENPHONE_API_URL": fake.url,
            "OPENPHONE_FROM_NUMBER": SHOP,
        }
    )
    setup_database()
    import redis
    from django.utils import timezone

    from contacts.models import Contact
    from messaging import catch_up
    from messaging.models import Message

    redis.Redis.from_url(REDIS).flushdb()
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    Contact.objects.bulk_create(
        Contact(phone=f"+1617{4000000 + n:07d}", first_name="Pat", time_zone="America/New_York")
        for n in range(args.contacts)
    )
    texts = []
    for n, contact in enumerate(Contact.objects.order_by("id")):
        resource = message_resource(
            message_id=f"ACbench{n:07d}",
            from_number=SHOP,
            to_number=contact.phone,
            text="Hi Pat, about your foundation",
            created_at=an_hour_ago,
            status="delivered",
        )
        fake.accepted.append(resource)
        texts.append(
            Message(
                direction="outbound",
                kind="campaign",
                body=resource["text"],
                from_number=SHOP,
                to_number=contact.phone,
                contact=contact,
                status="sent",
                status_changed_at=an_hour_ago,
                created_at=an_hour_ago,
                sent_at=an_hour_ago,
                external_id=resource["id"],
            )
        )
    Message.objects.bulk_create(texts, batch_size=2000)
    for n, contact in enumerate(Contact.objects.order_by("id")[: args.contacts // 50]):
        fake.receive(sender=contact.phone, text="STOP" if n % 4 == 0 else "Yes, how much for an inspection?")
    # Staff texts go to contacts of their own, so they do not add to what the catch-up reads.
    Contact.objects.bulk_create(
        Contact(phone=f"+1617{6000000 + n:07d}", first_name="Sam", time_zone="America/New_York")
        for n in range(2 * args.texts)
    )

    alone = send_texts(args.texts, args.contacts)
    fake.posted_at.clear()
    result = {}

    def run() -> None:
        from django.db import connection

        started = time.monotonic()
        result["run"] = catch_up.run_catch_up(trigger="bench")
        result["seconds"] = time.monotonic() - started
        connection.close()

    catching_up = threading.Thread(target=run)
    catching_up.start()
    during = send_texts(args.texts, args.contacts + args.texts)
    catching_up.join()
    fake.stop()

    run_record, seconds = result["run"], result["seconds"]
    busiest = busiest_second([*fake.posted_at, *fake.listed_at])
    from django.conf import settings

    limit = settings.OPENPHONE_RATE_LIMIT_PER_SECOND
    print(
        f"catch-up for {args.contacts} recent contacts: {run_record.requests} requests "
        f"({run_record.requests / args.contacts:.2f} a contact) in {seconds:.1f} s, {run_record.status}"
    )
    print(
        f"found {run_record.replies_found} missed replies, {len(run_record.missed_opt_outs)} missed STOPs, "
        f"{run_record.reports_found} missed delivery reports"
    )
    print(
        f"staff texts: {alone:.1f}/s alone, {during:.1f}/s during the catch-up; busiest second at OpenPhone: {busiest}"
    )
    record("catch_up", "requests per catch-up, 1,000 recent contacts", run_record.requests, "requests")
    record("catch_up", "catch-up duration, 1,000 recent contacts", seconds, "s")
    record(
        "catch_up",
        "busiest second at OpenPhone during it",
        busiest,
        "requests",
        target=f"≤ {limit}",
        met=busiest <= limit,
    )
    record(
        "catch_up",
        "send rate during a catch-up",
        during,
        "texts/s",
        target="≥ 5/s (a day's 125 texts are paced minutes apart)",
        met=during >= 5,
    )


if __name__ == "__main__":
    main()
