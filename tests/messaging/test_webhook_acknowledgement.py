"""What the intake does before it answers OpenPhone: verify, store in one statement, hand over.
Under load every round trip to the database waits its turn for the CPU (bench/load.py), so a
new event costs one statement and a repeat two, and two deliveries of one event at once are
settled by the database, on PostgreSQL and on SQLite alike."""

import base64
import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import webhook_payloads
from messaging.models import WebhookEvent
from tests.sqlite import on_sqlite

SECRET = "whsec_" + base64.b64encode(b"acknowledgement-test-secret").decode()
URL = "/api/webhooks/openphone"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.OPENPHONE_WEBHOOK_SECRET = SECRET


def delivery(event_id: str, *, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    payload = webhook_payloads.message_event(
        "message.received", system=webhook_payloads.CURRENT, sender="+16175550123", recipient="+16175550100",
        text="Yes", at=timezone.now(), message_id=f"AC{event_id}", event_id=event_id,
    )  # fmt: skip
    raw = json.dumps(payload).encode()
    headers = webhook_payloads.signed_headers(
        raw, system=webhook_payloads.CURRENT, key=SECRET, at=timezone.now(), webhook_id=webhook_id
    )
    return raw, webhook_payloads.as_wsgi(headers)


def post(client: Client, raw: bytes, headers: dict[str, str]):
    return client.post(URL, raw, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_new_event_is_stored_by_one_statement_before_the_answer(client):
    raw, headers = delivery("EVnew", webhook_id="msg_new")

    with CaptureQueriesContext(connection) as queries:
        response = post(client, raw, headers)

    assert response.status_code == 200 and response.json()["duplicate"] is False
    [statement] = [query["sql"] for query in queries.captured_queries]
    assert statement.startswith('INSERT INTO "messaging_webhookevent"') and "ON CONFLICT DO NOTHING" in statement
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.delivery_id, event.status, bytes(event.raw_body)) == (
        "EVnew", "msg_new", "pending", raw,
    )  # fmt: skip
    assert event.next_attempt_at == event.enqueued_at and event.payload["id"] == "EVnew"


@pytest.mark.django_db
def test_a_repeated_delivery_inserts_nothing_and_is_answered_as_the_stored_event(client):
    raw, headers = delivery("EVtwice", webhook_id="msg_twice")
    post(client, raw, headers)
    stored = WebhookEvent.objects.get()

    with CaptureQueriesContext(connection) as queries:
        again = post(client, raw, headers)

    assert again.status_code == 200
    assert again.json() == {"received": True, "event_id": "EVtwice", "duplicate": True}
    assert len(queries.captured_queries) == 2  # the insert that conflicted, and the look-up
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [stored.pk]


@pytest.mark.django_db
def test_a_new_event_id_under_a_delivery_id_already_stored_is_that_delivery(client):
    post(client, *delivery("EVfirst", webhook_id="msg_same"))

    response = post(client, *delivery("EVsecond", webhook_id="msg_same"))

    assert response.json() == {"received": True, "event_id": "EVfirst", "duplicate": True}
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["EVfirst"]


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_once_store_it_once_and_both_are_answered():
    raw, headers = delivery("EVrace", webhook_id="msg_race")
    start = threading.Barrier(2)
    answers = []

    def deliver() -> None:
        start.wait()
        try:
            answers.append(post(Client(), raw, headers).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer["duplicate"] for answer in answers) == [False, True]
    assert {answer["event_id"] for answer in answers} == {"EVrace"}
    assert WebhookEvent.objects.count() == 1


SQLITE_SCRIPT = """
import base64, datetime as dt, json
from messaging import webhook_payloads, webhooks
from messaging.models import WebhookEvent
key = base64.b64encode(b"sqlite-signing-key").decode()
from django.conf import settings
settings.OPENPHONE_WEBHOOK_SIGNING_KEY = key
now = dt.datetime.now(dt.UTC)
body = json.dumps(webhook_payloads.message_event("message.received", system="legacy", sender="+16175550123",
    recipient="+16175550100", text="Yes", at=now, event_id="EVlocal")).encode()
headers = webhook_payloads.signed_headers(body, system="legacy", key=key, at=now)
first, created = webhooks.record(headers=headers, body=body)
again, again_created = webhooks.record(headers=headers, body=body)
print("created", created, again_created, "same", first.pk == again.pk, "rows", WebhookEvent.objects.count())
print("payload", WebhookEvent.objects.get().payload["id"], bytes(WebhookEvent.objects.get().raw_body) == body)
"""


def test_the_intake_stores_an_event_once_on_sqlite_as_make_run_uses(sqlite_database):
    as_make_run = {"DJANGO_SETTINGS_MODULE": "attackacrack.settings", "REDIS_URL": ""}

    out = on_sqlite(sqlite_database, "manage.py", "shell", "-c", SQLITE_SCRIPT, env=as_make_run)

    assert "created True False same True rows 1" in out
    assert "payload EVlocal True" in out
