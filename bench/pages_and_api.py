"""Server time and query count of every staff page and API list with 100,000 contacts and
1,000,000 messages (issue 40: a million and ten million); and a campaign's results with 100,000
members texted and 5,000 outcomes.

    .venv/bin/python bench/pages_and_api.py [--contacts 100000] [--messages 1000000] [--runs 7]
        [--only TEXT] [--outcomes 5000] [--texted 100000] [--reuse]

Seeds a fresh database `attackacrack_bench` (or BENCH_DATABASE) on the DATABASE_URL server with
set-based SQL: the contacts and messages, a launched campaign of every contact, a draft one of
every contact, and a campaign that texted --texted of them, a tenth of them replying, with
--outcomes outcomes of those conversations (bookings, inspections, estimates, jobs won, losses).
With --reuse, a bench database seeded to the end with the same sizes is kept as it is (its sizes
are in its table bench_seed; new migrations are applied), so a change is re-measured in seconds.

Then requests each page and API list (or those whose name contains --only) through the whole
Django stack in this process (middleware, authentication, views, templates, serializers; no
network) and prints the median, 95th percentile and worst of --runs runs after a warm-up, with the
queries each made. Targets (issue 40, at 1,000,000 contacts and 10,000,000 messages), on the 95th
percentile: every staff page ≤ 200 ms, every API list and search ≤ 100 ms, with a query count that
does not grow with the data. The results campaign's page and GET /api/campaigns/{id}/results are
timed 40 times each (issue 39), against the same targets, and the results read alone ≤ 150 ms.
"""

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_execution import DATABASE, database_server, setup_database
from figures import record

PAGE_TARGET_MS = 200  # issue 40: every staff page's 95th percentile at 1,000,000 contacts
API_TARGET_MS = 100  # issue 40: every API list's and search's 95th percentile
RESULTS_TARGET_MS = 150  # issue 39: what results add to the campaign page


def seed(contacts: int, messages: int) -> None:
    from django.db import connection

    from contacts.search_text import houses_sql

    # Who lives where: contact n in house n, and every tenth contact in a second house too, as a
    # PropertyRadar list links them (houses and contacts by number, g in the series below).
    lives = f"""SELECT h.g AS house, CASE WHEN h.g <= {contacts:d} THEN h.g ELSE (h.g - {contacts:d}) * 10 END AS person
        FROM generate_series(1, {contacts + contacts // 10:d}) AS h(g)"""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_property (property_type, address, city, state, zip_code, address_key, subdivision,
                apn, owner, mail_address, mail_city, mail_state, mail_zip_code, listing_status, created_at, updated_at)
            SELECT 'Single Family', g || ' Hancock St', 'Quincy', 'MA', '02171', g || ' HANCOCK ST', '', 'B' || g,
                   '', '', '', '', '', '', now(), now()
            FROM generate_series(1, %s) AS g""",
            [contacts + contacts // 10],
        )
        # Every hundredth contact an O'Connor, the rest a name of their own; a mailing address on
        # one of ten ZIPs; its houses' part of the search text written with it, as the import does.
        houses = houses_sql("x.person", f"({lives}) AS x JOIN contacts_property p ON p.apn = 'B' || x.house")
        cursor.execute(
            f"""
            INSERT INTO contacts_contact (phone, first_name, last_name, email, address, city, state, zip_code,
                source, line_type, time_zone, time_zone_source, opt_out_reason, created_at, updated_at,
                house_addresses, house_zip_codes)
            SELECT '+1617' || lpad((2000000 + g)::text, 7, '0'),
                   (ARRAY['Pat', 'Mary', 'Sean', 'Nora', 'Brendan'])[1 + g %% 5],
                   CASE WHEN g %% 100 = 0 THEN 'O''Connor' ELSE 'Owner' || g END, '', g || ' Elm St',
                   (ARRAY['Quincy', 'Braintree', 'Milton', 'Weymouth', 'Dedham'])[1 + g %% 5], 'MA',
                   (ARRAY['02169', '02170', '02171', '02184', '02186', '02188', '02189', '02190', '02191', '02026'])
                   [1 + g %% 10], 'bench', 'unknown', 'America/New_York', 'address', '', now(), now(),
                   houses.addresses, houses.zip_codes
            FROM generate_series(1, %s) AS g JOIN ({houses}) AS houses ON houses.key = g ORDER BY g""",
            [contacts],
        )
        cursor.execute(
            f"""
            INSERT INTO contacts_propertycontact (property_id, contact_id, role, created_at)
            SELECT p.id, c.id, CASE WHEN x.house = x.person THEN 'primary' ELSE 'secondary' END, now()
            FROM ({lives}) AS x
            JOIN contacts_property p ON p.apn = 'B' || x.house
            JOIN contacts_contact c ON c.phone = '+1617' || lpad((2000000 + x.person)::text, 7, '0')"""
        )
        cursor.execute("SELECT min(id) FROM contacts_contact")
        first = cursor.fetchone()[0]
        # Ten million rows load faster into a table without its indexes, built again after.
        cursor.execute(
            """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messaging_message'
               AND indexname NOT IN (SELECT conname FROM pg_constraint)"""
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            """
            INSERT INTO messaging_message (direction, kind, body, from_number, to_number, contact_id, status,
                status_changed_at, external_id, error, error_code, handled_automatically, intent, created_at, sent_at,
                attempts, read_at)
            SELECT CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END,
                   CASE WHEN inbound THEN 'reply' WHEN g %% 3 = 1 THEN 'campaign' ELSE 'staff' END,
                   'Text number ' || g || ' about the foundation crack by the back door',
                   '+16175550100', '+16175550100', %s + g %% %s,
                   CASE WHEN inbound THEN 'received' ELSE 'sent' END,
                   now() - make_interval(secs => %s - g), 'AC' || g, '', '', false, '',
                   now() - make_interval(secs => %s - g), NULL, 1,
                   CASE WHEN inbound AND g %% 500 <> 0 THEN now() END
            -- Every other contact has written to us; the rest only heard from us, so that a
            -- campaign of everyone has half of them waiting to be texted.
            FROM generate_series(1, %s) AS g, LATERAL (SELECT g %% 3 = 0 AND g %% %s %% 2 = 0 AS inbound) AS x""",
            [first, contacts, messages, messages, messages, contacts],
        )
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")


def seed_campaign() -> int:
    from campaigns import audience, booking, services
    from campaigns.models import Campaign

    campaign = services.create_campaign(
        name="Bench Promo", template_a="Hi {name}, A", template_b="Hi {name}, B", from_number="+16175550100"
    )
    # Everyone: the campaign page and its members' API show a whole list's queue and its forecasts.
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
    parser.add_argument("--outcomes", type=int, default=5_000)
    parser.add_argument(
        "--texted", type=int, default=100_000, help="Members the results campaign texted (at most --contacts)"
    )
    parser.add_argument("--runs", type=int, default=7, help="Requests timed per page, after a warm-up")
    parser.add_argument("--only", default="", help="Time only the pages and lists whose name contains this")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the bench database if it was seeded with these sizes"
    )
    args = parser.parse_args()
    sizes = {"contacts": args.contacts, "messages": args.messages, "outcomes": args.outcomes, "texted": args.texted}
    seeded = stored_seed(sizes) if args.reuse else None
    setup_database(keep=seeded is not None)
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tests.factories import StaffUserFactory

    settings.ALLOWED_HOSTS = ["testserver"]
    if seeded is None:
        started = time.perf_counter()
        seeded = seed_all(sizes)
        took = time.perf_counter() - started
        print(f"seeded {args.contacts:,} contacts and {args.messages:,} messages in {took:.0f} s")
    else:
        print(f"reusing {DATABASE}: {args.contacts:,} contacts and {args.messages:,} messages, seeded before")
    campaign_id, contact_id, import_id = seeded["campaign"], seeded["contact"], seeded["import"]

    client = Client()
    client.force_login(StaffUserFactory(username="bench-owner") if not seeded["reused"] else user("bench-owner"))
    pages = {
        "dashboard": "/",
        "campaigns": "/campaigns/",
        "campaign": f"/campaigns/{campaign_id}/",
        "campaign (draft)": f"/campaigns/{seeded['draft']}/",
        "campaign form": f"/campaigns/{campaign_id}/edit",
        "audience builder (city)": f"/campaigns/{campaign_id}/audience?city=Braintree",
        "schedule confirmation": f"/campaigns/{campaign_id}/start",
        "schedule confirmation (draft)": f"/campaigns/{seeded['draft']}/start",
        "contacts": "/contacts/",
        "contact search (name)": "/contacts/?q=Owner4242",
        "contact search (common name)": "/contacts/?q=O%27Connor",
        "contact search (phone)": "/contacts/?q=617-200-4242",
        "contact search (street)": "/contacts/?q=4242+Elm+St",
        "contact search (house street)": "/contacts/?q=4242+Hancock",
        "contact search (ZIP)": "/contacts/?q=02169",
        "contact": f"/contacts/{contact_id}/",
        "import": "/contacts/import",
        "import report": f"/contacts/imports/{import_id}/",
        "conversations": "/conversations/",
        "thread": f"/conversations/{contact_id}/",
    }
    api_user = StaffUserFactory(username="bench-api") if not seeded["reused"] else user("bench-api")
    token = Token.objects.get_or_create(user=api_user)[0].key
    api = Client(headers={"Authorization": f"Bearer {token}"})
    api_lists = {
        "GET /api/campaigns": "/api/campaigns",
        "GET /api/contacts": "/api/contacts",
        "GET /api/contacts?q= (name)": "/api/contacts?q=Owner4242",
        "GET /api/contacts?q= (common name)": "/api/contacts?q=O%27Connor",
        "GET /api/contacts?q= (phone)": "/api/contacts?q=617-200-4242",
        "GET /api/contacts?q= (street)": "/api/contacts?q=4242+Elm+St",
        "GET /api/contacts?q= (house street)": "/api/contacts?q=4242+Hancock",
        "GET /api/contacts?q= (ZIP)": "/api/contacts?q=02169",
        "GET /api/messages": "/api/messages",
        "GET /api/conversations": "/api/conversations",
        "GET /api/conversations (page 2)": api.get("/api/conversations").json()["next"],
        "GET /api/imports": "/api/imports",
        "GET /api/campaigns/{id}/members": f"/api/campaigns/{campaign_id}/members",
        "GET /api/campaigns/{id}/sends": f"/api/campaigns/{campaign_id}/sends",
        "GET /api/contacts/{id}/messages": f"/api/contacts/{contact_id}/messages",
    }
    pages = {name: url for name, url in pages.items() if args.only in name}
    api_lists = {name: url for name, url in api_lists.items() if args.only in name}
    print(f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    slow = measure(client, pages, bench="pages", target_ms=PAGE_TARGET_MS, runs=args.runs)
    slow += measure(api, api_lists, bench="api", target_ms=API_TARGET_MS, runs=args.runs)
    if not args.only or args.only in "results":
        results_id = seeded["results"]
        slow += measure_results(
            {
                "campaign page (results)": (client, f"/campaigns/{results_id}/", PAGE_TARGET_MS),
                "GET /api/campaigns/{id}/results": (api, f"/api/campaigns/{results_id}/results", API_TARGET_MS),
                "results read (the page's share)": (None, results_id, RESULTS_TARGET_MS),
            }
        )
    print(f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print("everything within target" if not slow else f"{slow} over target")


def user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def stored_seed(sizes: dict[str, int]) -> dict | None:
    """What an earlier run seeded in the bench database, if it holds exactly these sizes."""
    import psycopg

    url = f"{database_server()}/{DATABASE}".replace("postgres://", "postgresql://")
    try:
        with psycopg.connect(url) as db:
            row = db.execute("SELECT seed FROM bench_seed").fetchone()
    except psycopg.Error:  # no such database, or not seeded to the end
        return None
    if row is None or {key: row[0].get(key) for key in sizes} != sizes:
        return None
    return row[0] | {"reused": True}


def seed_all(sizes: dict[str, int]) -> dict:
    """Seeds everything the pages read and notes it, with the sizes, in the table bench_seed (the
    last write: a run stopped half-way leaves nothing to reuse)."""
    import json

    from django.db import connection

    from contacts.models import Contact, ContactImport

    seed(sizes["contacts"], sizes["messages"])
    seeded = {
        "campaign": seed_campaign(),
        "draft": seed_draft_campaign(),
        "results": seed_results_campaign(texted=sizes["texted"], outcomes=sizes["outcomes"]),
        "contact": Contact.objects.order_by("id").values_list("id", flat=True).first(),
        "import": ContactImport.objects.create(file_name="bench.csv", status="completed").pk,
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_seed (seed jsonb NOT NULL)")
        cursor.execute("INSERT INTO bench_seed VALUES (%s)", [json.dumps(sizes | seeded)])
    return seeded | {"reused": False}


def seed_draft_campaign() -> int:
    """A draft A/B campaign of every contact, not launched: its page and launch confirmation
    foresee who would be texted when, and what it would cost."""
    from campaigns import audience, services

    campaign = services.create_campaign(
        name="Bench Draft",
        template_a="Hi {name}, is your home in {city} showing cracks? Free inspections this week.",
        template_b="Hello {first_name|neighbor}, we fix foundations in {city|your town}. Want a free look?",
        from_number="+16175550100",
    )
    audience.add_contacts_by_filter(campaign=campaign, filters={"state": "MA"})
    return campaign.pk


def seed_results_campaign(*, texted: int, outcomes: int) -> int:
    """An A/B campaign that texted the first ``texted`` contacts (125 a business day, the last
    yesterday: a verdict's looks and all; 100,000 is three years of one number's texts), a tenth of
    them replying, and ``outcomes`` outcomes of those replies attributed to it: half bookings,
    then inspections done, estimates, jobs won and losses."""
    from django.db import connection

    from campaigns import services
    from campaigns.models import Campaign

    campaign = services.create_campaign(
        name="Bench Results", template_a="Hi {name}, A", template_b="Hi {name}, B", from_number="+16175550100"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMPORARY TABLE bench_member AS
            SELECT id AS contact_id, phone, row_number() OVER (ORDER BY id) AS n FROM contacts_contact
            ORDER BY id LIMIT %(texted)s;
            INSERT INTO campaigns_campaigncontact (campaign_id, contact_id, variant, queue_position, status,
                held_because, ineligible_reason, review_approved, added_via, added_at, updated_at)
            SELECT %(campaign)s, contact_id, CASE WHEN n %% 2 = 0 THEN 'A' ELSE 'B' END, n, 'sent', '', '', false,
                   'filter', now(), now()
            FROM bench_member;
            INSERT INTO campaigns_campaignsend (campaign_id, contact_id, variant, from_number, business_date,
                scheduled_for, created_at)
            SELECT %(campaign)s, contact_id, CASE WHEN n %% 2 = 0 THEN 'A' ELSE 'B' END, '+16175550100', day,
                   (day + time '10:00' + make_interval(secs => 72 * ((n - 1) %% 125))) AT TIME ZONE 'America/New_York',
                   now()
            FROM (SELECT *, current_date - 1 - ((SELECT count(*) FROM bench_member) - n)::int / 125 AS day
                  FROM bench_member) AS member;
            INSERT INTO messaging_message (direction, kind, body, segments, from_number, to_number, contact_id,
                status, status_changed_at, external_id, error, error_code, campaign_id, campaign_send_id,
                handled_automatically, intent, created_at, sent_at, delivered_at, attempts)
            SELECT 'outbound', 'campaign', 'Hi Pat, ' || send.variant || '. Reply STOP to unsubscribe',
                   1 + send.id %% 3 / 2,
                   '+16175550100', member.phone, send.contact_id, 'delivered', scheduled_for, 'BR' || send.id, '',
                   '', %(campaign)s, send.id, false, '', scheduled_for, scheduled_for, scheduled_for, 1
            FROM campaigns_campaignsend AS send JOIN bench_member AS member USING (contact_id)
            WHERE send.campaign_id = %(campaign)s;
            INSERT INTO messaging_message (direction, kind, body, from_number, to_number, contact_id, status,
                status_changed_at, external_id, error, error_code, in_reply_to_send_id, handled_automatically,
                intent, created_at, attempts, read_at)
            SELECT 'inbound', 'reply', 'Yes, how much for the crack?', member.phone, '+16175550100', send.contact_id,
                   'received', scheduled_for + interval '30 minutes', 'BQ' || send.id, '', '', send.id, false,
                   (ARRAY['interested', 'question', 'not_interested'])[1 + send.id %% 3],
                   scheduled_for + interval '30 minutes', 0, now()
            FROM campaigns_campaignsend AS send JOIN bench_member AS member USING (contact_id)
            WHERE send.campaign_id = %(campaign)s AND member.n %% 20 IN (0, 5);
            INSERT INTO campaigns_outcome (contact_id, kind, "on", amount, note, campaign_id, variant, answered_id,
                withdrawn, recorded_at)
            SELECT reply.contact_id, outcome, send.business_date + 2,
                   CASE WHEN outcome = 'job_won' THEN 4000 + 1000 * (reply.id %% 9) END, '', %(campaign)s, send.variant,
                   reply.id, false, send.scheduled_for + interval '2 days'
            FROM (SELECT *, (ARRAY['inspection_booked', 'inspection_booked', 'inspection_booked', 'inspection_booked',
                                   'inspection_booked', 'inspection_done', 'inspection_done', 'estimate_sent',
                                   'job_won', 'lost'])[1 + row_number() OVER (ORDER BY id) %% 10] AS outcome
                  FROM messaging_message WHERE external_id LIKE 'BQ%%' ORDER BY id LIMIT %(outcomes)s) AS reply
            JOIN campaigns_campaignsend AS send ON send.id = reply.in_reply_to_send_id;
            DROP TABLE bench_member;
            """,
            {"campaign": campaign.pk, "outcomes": outcomes, "texted": texted},
        )
        # As autovacuum soon would: the visibility map lets the results read the texts' index alone.
        cursor.execute("VACUUM ANALYZE")
    members = campaign.memberships.count()
    print(f"\nseeded the results campaign: {members:,} members texted, {outcomes:,} outcomes "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return campaign.pk


def measure_results(urls: dict[str, tuple]) -> int:
    """The median and 95th percentile of 40 requests after a warm-up, each (client, url, target in
    ms); returns how many 95th percentiles were over target. An entry without a client times the
    results read the campaign page makes (the A/B results and the results in money), for the
    campaign of that id: what results add to the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import money, results
    from campaigns.models import Campaign

    def read_results(campaign_id: int) -> None:
        campaign = Campaign.objects.get(pk=campaign_id)
        money.results_in_money(campaign, results.ab_results(campaign)[0])

    print(f"\n{'results':<34}{'median ms':>10}{'p95 ms':>10}{'queries':>9}  target (p95)")
    slow = 0
    for name, (client, url, target_ms) in urls.items():
        request = partial(read_results, url) if client is None else partial(client.get, url)
        request()
        timings = []
        for _ in range(40):
            with CaptureQueriesContext(connection) as queries:
                begun = time.perf_counter()
                response = request()
                timings.append((time.perf_counter() - begun) * 1000)
            assert response is None or response.status_code == 200, (url, response.status_code)
        median, p95 = statistics.median(timings), statistics.quantiles(timings, n=20)[-1]
        met = p95 <= target_ms
        slow += not met
        print(f"{name:<34}{median:>10.1f}{p95:>10.1f}{len(queries):>9}  ≤ {target_ms} ms {'ok' if met else 'SLOW'}")
        record("results", f"{name} (median)", median, "ms")
        record("results", f"{name} (p95)", p95, "ms", target=f"≤ {target_ms} ms", met=met)
    return slow


def measure(client, urls: dict[str, str], *, bench: str, target_ms: float, runs: int) -> int:
    """Median, 95th percentile and worst of ``runs`` requests after a warm-up; returns how many
    95th percentiles were over target."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n{bench:<38}{'median ms':>10}{'p95 ms':>10}{'worst ms':>10}{'queries':>9}  target p95 ≤ {target_ms} ms")
    slow = 0
    for name, url in urls.items():
        client.get(url)
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                begun = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20, method="inclusive")[18] if runs > 1 else median
        met = p95 <= target_ms
        slow += not met
        print(f"{name:<38}{median:>10.1f}{p95:>10.1f}{max(timings):>10.1f}{len(queries):>9}  {'ok' if met else 'SLOW'}")
        record(bench, f"{name} (median)", median, "ms")
        record(bench, f"{name} (p95)", p95, "ms", target=f"≤ {target_ms} ms", met=met)
    return slow


if __name__ == "__main__":
    main()
