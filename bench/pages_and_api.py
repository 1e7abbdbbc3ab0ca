"""Server time and query count of every staff page and API list with 100,000 contacts and
1,000,000 messages.

    .venv/bin/python bench/pages_and_api.py [--contacts 100000] [--messages 1000000]

Seeds a fresh database `attackacrack_bench` on the DATABASE_URL server with set-based SQL, then
requests each page and API list through the whole Django stack in this process (middleware,
authentication, views, templates, serializers; no network) and prints the median and worst of 7
runs after a warm-up, with the queries each made. Targets: every page ≤ 150 ms; every API list
< 200 ms (the user's contract), with a query count that does not grow with the data.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_execution import setup_database
from figures import record

PAGE_TARGET_MS = 150
API_TARGET_MS = 200  # the user's contract: test_api_response_time


def seed(contacts: int, messages: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (phone, first_name, last_name, email, address, city, state, zip_code,
                source, line_type, time_zone, time_zone_source, opt_out_reason, created_at, updated_at)
            SELECT '+1617' || lpad((2000000 + g)::text, 7, '0'), 'Pat', 'Owner' || g, '', g || ' Elm St',
                   (ARRAY['Quincy', 'Braintree', 'Milton', 'Weymouth', 'Dedham'])[1 + g %% 5], 'MA', '02169',
                   'bench', 'unknown', 'America/New_York', 'address', '', now(), now()
            FROM generate_series(1, %s) AS g""",
            [contacts],
        )
        cursor.execute("SELECT min(id) FROM contacts_contact")
        first = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO messaging_message (direction, kind, body, from_number, to_number, contact_id, status,
                status_changed_at, external_id, error, error_code, handled_automatically, intent, created_at, sent_at,
                attempts, read_at)
            SELECT CASE WHEN g %% 3 = 0 THEN 'inbound' ELSE 'outbound' END,
                   CASE WHEN g %% 3 = 0 THEN 'reply' WHEN g %% 3 = 1 THEN 'campaign' ELSE 'staff' END,
                   'Text number ' || g || ' about the foundation crack by the back door',
                   '+16175550100', '+16175550100', %s + g %% %s,
                   CASE WHEN g %% 3 = 0 THEN 'received' ELSE 'sent' END,
                   now() - make_interval(secs => %s - g), 'AC' || g, '', '', false, '',
                   now() - make_interval(secs => %s - g), NULL, 1,
                   CASE WHEN g %% 3 = 0 AND g %% 500 <> 0 THEN now() END
            FROM generate_series(1, %s) AS g""",
            [first, contacts, messages, messages, messages],
        )
        cursor.execute("ANALYZE")


def seed_campaign() -> int:
    from campaigns import audience, booking, services
    from campaigns.models import Campaign

    campaign = services.create_campaign(
        name="Bench Promo", template_a="Hi {name}, A", template_b="Hi {name}, B", from_number="+16175550100"
    )
    # Everyone: the campaign page and its members' API show a 100,000-member queue's forecasts.
    audience.add_contacts_by_filter(campaign=campaign, filters={"state": "MA"})
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)
    import datetime as dt
    from zoneinfo import ZoneInfo

    booking.execute_campaign(
        campaign_id=campaign.pk, now=dt.datetime.now(ZoneInfo("America/New_York")).replace(hour=10, minute=0)
    )
    return campaign.pk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_database()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from contacts.models import Contact, ContactImport
    from tests.factories import StaffUserFactory

    settings.ALLOWED_HOSTS = ["testserver"]
    started = time.perf_counter()
    seed(args.contacts, args.messages)
    campaign_id = seed_campaign()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the audience and sends just written, as autovacuum would soon see them
    contact_id = Contact.objects.order_by("id").values_list("id", flat=True).first()
    import_id = ContactImport.objects.create(file_name="bench.csv", status="completed").pk
    print(f"seeded {args.contacts:,} contacts and {args.messages:,} messages in {time.perf_counter() - started:.0f} s")

    client = Client()
    client.force_login(StaffUserFactory(username="bench-owner"))
    pages = {
        "dashboard": "/",
        "campaigns": "/campaigns/",
        "campaign": f"/campaigns/{campaign_id}/",
        "campaign form": f"/campaigns/{campaign_id}/edit",
        "audience builder (city)": f"/campaigns/{campaign_id}/audience?city=Braintree",
        "schedule confirmation": f"/campaigns/{campaign_id}/start",
        "contacts": "/contacts/",
        "contact search (name)": "/contacts/?q=Owner4242",
        "contact search (phone)": "/contacts/?q=617-200-4242",
        "contact search (street)": "/contacts/?q=4242+Elm+St",
        "contact search (ZIP)": "/contacts/?q=02169",
        "contact": f"/contacts/{contact_id}/",
        "import": "/contacts/import",
        "import report": f"/contacts/imports/{import_id}/",
        "conversations": "/conversations/",
        "thread": f"/conversations/{contact_id}/",
    }
    token = Token.objects.create(user=StaffUserFactory(username="bench-api")).key
    api = Client(headers={"Authorization": f"Bearer {token}"})
    api_lists = {
        "GET /api/campaigns": "/api/campaigns",
        "GET /api/contacts": "/api/contacts",
        "GET /api/contacts?q= (name)": "/api/contacts?q=Owner4242",
        "GET /api/messages": "/api/messages",
        "GET /api/conversations": "/api/conversations",
        "GET /api/conversations (page 2)": api.get("/api/conversations").json()["next"],
        "GET /api/imports": "/api/imports",
        "GET /api/campaigns/{id}/members": f"/api/campaigns/{campaign_id}/members",
        "GET /api/campaigns/{id}/sends": f"/api/campaigns/{campaign_id}/sends",
        "GET /api/contacts/{id}/messages": f"/api/contacts/{contact_id}/messages",
    }
    slow = measure(client, pages, bench="pages", target_ms=PAGE_TARGET_MS)
    slow += measure(api, api_lists, bench="api", target_ms=API_TARGET_MS)
    print("everything within target" if not slow else f"{slow} over target")


def measure(client, urls: dict[str, str], *, bench: str, target_ms: float) -> int:
    """Median and worst of 7 requests after a warm-up; returns how many were over target."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n{bench:<34}{'median ms':>10}{'worst ms':>10}{'queries':>9}  target ≤ {target_ms} ms")
    slow = 0
    for name, url in urls.items():
        client.get(url)
        timings = []
        for _ in range(7):
            with CaptureQueriesContext(connection) as queries:
                begun = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(timings)
        met = median <= target_ms
        slow += not met
        print(f"{name:<34}{median:>10.1f}{max(timings):>10.1f}{len(queries):>9}  {'ok' if met else 'SLOW'}")
        record(bench, f"{name} (median)", median, "ms", target=f"≤ {target_ms} ms", met=met)
    return slow


if __name__ == "__main__":
    main()
