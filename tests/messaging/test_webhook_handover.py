"""A stored webhook event is processed exactly once, whatever happens to the broker or the worker:
the database is the record and the broker only a nudge."""

import datetime as dt
import hmac
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from attackacrack.celery import app as celery_app
from campaigns.models import CampaignContact
from messaging import webhook_payloads, webhook_processing
from messaging.models import Message, WebhookEvent
from tests.campaigns.conftest import text_of
from tests.factories import (
    CampaignContactFactory,
    CampaignSendFactory,
    ContactFactory,
    MessageFactory,
    StaffUserFactory,
)
from tests.messaging.test_webhook_intake import (
    LEGACY_KEY,
    PERSON,
    SECRET,
    SHOP,
    deliver,
    delivered_or_failed,
    incoming,
)
from tests.workers import real_worker

pytestmark = pytest.mark.django_db

GRACE = dt.timedelta(seconds=61)  # just past WEBHOOK_HANDOVER_SECONDS


@pytest.fixture(autouse=True)
def _webhook_keys(settings):
    settings.OPENPHONE_WEBHOOK_SECRET = SECRET
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = LEGACY_KEY
    settings.OPENPHONE_FROM_NUMBER = SHOP


@pytest.fixture
def staff_browser():
    browser = Client()
    browser.force_login(StaffUserFactory())
    return browser


def waiting_member():
    """A contact with a booked campaign text and a place in the queue: what a STOP must cancel."""
    contact = ContactFactory(phone=PERSON)
    send = CampaignSendFactory(contact=contact)
    member = CampaignContactFactory(contact=contact, status=CampaignContact.Status.PENDING)
    return contact, send, member


def assert_stop_honoured(contact, send, member) -> None:
    contact.refresh_from_db()
    member.refresh_from_db()
    assert contact.is_opted_out
    assert (text_of(send).status, member.status) == ("cancelled", CampaignContact.Status.INELIGIBLE)


def test_a_stop_whose_hand_over_was_lost_is_found_by_the_sweep_and_honoured(client, eager_tasks):
    person = waiting_member()
    # The on-commit hand-over never runs here (the test's transaction never commits): the task is lost.
    response = deliver(client, incoming("STOP"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING and not Message.objects.filter(direction="inbound").exists()
    # Within the grace the event may still be in a worker's queue: the sweep leaves it alone.
    assert webhook_processing.hand_over_due_events(now=timezone.now() + GRACE / 2) == 0

    assert webhook_processing.hand_over_due_events(now=timezone.now() + GRACE) == 1

    event.refresh_from_db()
    assert (event.status, event.error, event.attempts) == (WebhookEvent.Status.PROCESSED, "", 1)
    assert_stop_honoured(*person)
    assert webhook_processing.hand_over_due_events(now=timezone.now() + 10 * GRACE) == 0  # never again


def test_a_redelivery_of_an_event_stored_but_never_processed_is_processed(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    person = waiting_member()
    deliver(client, incoming("STOP"), webhook_id="msg_stop")  # stored; its hand-over lost

    with django_capture_on_commit_callbacks(execute=True):
        again = deliver(client, incoming("STOP"), webhook_id="msg_stop")

    assert again.status_code == 200 and again.json()["duplicate"] is True
    event = WebhookEvent.objects.get()
    assert (event.status, event.error) == (WebhookEvent.Status.PROCESSED, "")
    assert_stop_honoured(*person)


def test_every_delivery_of_one_text_is_processed_without_error_and_applied_once(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, incoming("Yes please", event_id="EV1"), webhook_id="msg_1")
        second = deliver(client, incoming("Yes please", event_id="EV1"), webhook_id="msg_2")  # the event again
        deliver(client, incoming("Yes please", event_id="EV2"), webhook_id="msg_3")  # the text, in a new event

    assert second.json()["duplicate"] is True
    events = WebhookEvent.objects.order_by("id")
    assert [(e.event_id, e.status, e.error, e.attempts) for e in events] == [
        ("EV1", WebhookEvent.Status.PROCESSED, "", 1),
        ("EV2", WebhookEvent.Status.PROCESSED, "", 1),
    ]
    assert list(Message.objects.values_list("body", flat=True)) == ["Yes please"]


def test_the_intake_answers_200_while_the_broker_is_unreachable_and_the_sweep_processes_it_after(
    client, broker_away, celery_settings, django_capture_on_commit_callbacks
):
    person = waiting_member()

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, incoming("STOP"))
        again = deliver(client, incoming("STOP", event_id="EVcur2", message_id="ACin2"), webhook_id="msg_2")

    assert (response.status_code, again.status_code) == (200, 200)
    assert response.json()["duplicate"] is False
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PENDING}

    broker_back = broker_away
    broker_back()
    celery_settings(task_always_eager=True)
    assert webhook_processing.hand_over_due_events(now=timezone.now() + GRACE) == 2

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert_stop_honoured(*person)


def test_a_report_ahead_of_our_record_is_tried_again_by_the_database_until_it_applies(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, delivered_or_failed("message.delivered", "ACahead"))

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PENDING, 1)
    assert "ACahead" in event.error
    first_retry = event.next_attempt_at
    assert first_retry > event.received_at
    text = MessageFactory(external_id="ACahead", status=Message.Status.SENT)

    webhook_processing.hand_over_due_events(now=first_retry + GRACE)

    event.refresh_from_db()
    text.refresh_from_db()
    assert (event.status, event.error, event.attempts) == (WebhookEvent.Status.PROCESSED, "", 2)
    assert text.status == Message.Status.DELIVERED


def test_a_report_that_never_applies_is_tried_on_its_backoff_then_failed_and_shown(
    client, eager_tasks, staff_browser, django_capture_on_commit_callbacks
):
    with freeze_time("2026-03-02 15:00:00") as clock:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, delivered_or_failed("message.delivered", "ACnever"))  # attempt 1, at intake
        event = WebhookEvent.objects.get()
        waits = []
        while event.status == WebhookEvent.Status.PENDING and len(waits) < 20:
            waits.append((event.next_attempt_at - timezone.now()).total_seconds())
            clock.move_to(event.next_attempt_at)  # the sweep's tick the moment the retry is due
            assert webhook_processing.hand_over_due_events() == 1
            event.refresh_from_db()

    assert waits == [5, 10, 20, 40, 80, 160, 320]
    assert (event.status, event.attempts) == (WebhookEvent.Status.FAILED, webhook_processing.MAX_ATTEMPTS)
    assert event.next_attempt_at is None and "ACnever" in event.error
    assert webhook_processing.hand_over_due_events(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert "1 webhook event(s) failed to process" in staff_browser.get(reverse("dashboard")).content.decode()


def test_a_start_processed_after_a_later_stop_leaves_the_person_opted_out(client, eager_tasks):
    """Processed out of order (a START's hand-over lost, then swept after their STOP), the person's
    last word still decides: they wrote STOP after START."""
    person = waiting_member()
    now = timezone.now()

    def written(text: str, minutes_ago: int) -> dict:
        return webhook_payloads.message_event(
            "message.received", system=webhook_payloads.CURRENT, sender=PERSON, recipient=SHOP, text=text,
            at=now - dt.timedelta(minutes=minutes_ago), message_id=f"AC{text}", event_id=f"EV{text.lower()}",
        )  # fmt: skip

    start, stop = written("START", 3), written("STOP", 2)
    deliver(client, start, webhook_id="msg_start")  # its hand-over lost
    deliver(client, stop, webhook_id="msg_stop")
    webhook_processing.process_event(WebhookEvent.objects.get(event_id="EVstop").pk)

    webhook_processing.hand_over_due_events(now=timezone.now() + GRACE)

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert_stop_honoured(*person)
    automatic = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND)
        .exclude(kind=Message.Kind.CAMPAIGN)
        .values_list("kind", flat=True)
    )
    assert list(automatic) == [Message.Kind.OPT_OUT_CONFIRMATION]  # no "you're subscribed again"


def test_an_event_handed_over_again_after_it_was_processed_is_not_applied_again(eager_tasks, client):
    person = waiting_member()
    deliver(client, incoming("STOP"))
    event = WebhookEvent.objects.get()
    outcomes = [webhook_processing.process_event(event.pk), webhook_processing.process_event(event.pk)]

    assert outcomes == [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.PROCESSED]
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert Message.objects.filter(kind=Message.Kind.OPT_OUT_CONFIRMATION).count() == 1
    assert_stop_honoured(*person)


@pytest.mark.django_db(transaction=True)
def test_events_racing_in_two_threads_are_each_applied_once():
    contact = ContactFactory(phone=PERSON)
    events = [
        WebhookEvent.objects.create(
            event_id=f"EVrace{n}",
            event_type="message.received",
            signature_scheme=WebhookEvent.SignatureScheme.STANDARD,
            raw_body=b"{}",
            payload=incoming(f"Reply {n}", message_id=f"ACrace{n}", event_id=f"EVrace{n}"),
            next_attempt_at=timezone.now(),
        )
        for n in range(20)
    ]
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        for event in events:
            webhook_processing.process_event(event.pk)
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {(WebhookEvent.Status.PROCESSED, 1)}
    assert contact.messages.count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_task_the_broker_lost_is_handed_to_a_real_worker_again(client):
    """The broker wiped between intake and worker, as Redis restarted without persistence."""
    person = waiting_member()
    deliver(client, incoming("STOP"))  # committed: the hand-over reached the broker
    with celery_app.connection_for_write() as broker:
        assert broker.default_channel.queue_purge(celery_app.conf.task_default_queue) >= 1  # ... and is wiped

    with real_worker():
        time.sleep(1)
        assert WebhookEvent.objects.get().status == WebhookEvent.Status.PENDING  # nothing left to take
        webhook_processing.hand_over_due_events(now=timezone.now() + GRACE)
        deadline = time.monotonic() + 20
        while WebhookEvent.objects.get().status != WebhookEvent.Status.PROCESSED and time.monotonic() < deadline:
            time.sleep(0.1)

    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert_stop_honoured(*person)


# --- What is waiting is visible ---------------------------------------------------------------


def test_healthz_and_today_show_events_no_worker_took_and_today_processes_them(client, staff_browser):
    person = waiting_member()
    deliver(client, incoming("STOP"))  # its hand-over lost
    WebhookEvent.objects.update(next_attempt_at=timezone.now() - GRACE)

    health = client.get("/healthz").json()
    today = staff_browser.get(reverse("dashboard")).content.decode()

    assert (health["status"], health["webhook_events"], health["webhook_events_waiting"]) == ("ok", "waiting", 1)
    assert "1 webhook event(s) from OpenPhone have waited more than 60 seconds" in today
    assert "Process them now" in today

    response = staff_browser.post(reverse("process-waiting-events"), follow=True)

    assert "1 waiting webhook event(s) processed" in response.content.decode()
    assert_stop_honoured(*person)
    assert client.get("/healthz").json()["webhook_events"] == "ok"


# --- The signature check -----------------------------------------------------------------------


@pytest.mark.parametrize("system", ["current", "legacy"])
def test_the_signature_decision_is_a_constant_time_comparison(client, monkeypatch, system):
    """A comparison that stops at the first differing byte tells a forger how much of a guess was
    right; every accept or refuse must come from hmac.compare_digest."""
    from tests.messaging.test_webhooks import deliver as deliver_legacy
    from tests.messaging.test_webhooks import received

    compared = []
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or False)
    send = deliver if system == "current" else deliver_legacy
    payload = incoming("Hi") if system == "current" else received("Hi")

    response = send(client, payload)  # correctly signed, but the comparison says no

    assert response.status_code == 401 and not WebhookEvent.objects.exists()
    assert any(expected == given for expected, given in compared)  # the right signature was compared, and refused
