"""Migrations that move data: run against a database holding rows written by the older schema."""

import pytest
from django.utils import timezone

from tests.migrations import migrate, migrate_to_latest

# Each migrates the database back and forth: tens of seconds.
pytestmark = pytest.mark.long

BEFORE = [("messaging", "0009_index_what_the_silence_reads")]
AFTER = [("messaging", "0010_webhook_events_wait_in_the_database")]


@pytest.mark.django_db(transaction=True)
def test_events_stored_before_the_upgrade_are_processed_or_due_now():
    old = migrate(BEFORE)
    events = old.get_model("messaging", "WebhookEvent").objects

    def event(event_id: str, **fields):
        return events.create(event_id=event_id, event_type="message.received", signature_scheme="legacy",
                             raw_body=b"{}", payload={}, **fields)  # fmt: skip

    processed = event("EVdone", processed_at=timezone.now(), attempts=1)
    waiting = event("EVwaiting")  # its task lost before the upgrade: never processed
    failed = event("EVfailed", attempts=6, error="NotYetKnown: No outgoing message has id AC1 yet")

    new = migrate(AFTER)

    events = new.get_model("messaging", "WebhookEvent").objects
    processed, waiting, failed = (events.get(pk=e.pk) for e in (processed, waiting, failed))
    assert (processed.status, processed.next_attempt_at) == ("processed", None)
    assert (waiting.status, waiting.next_attempt_at) == ("pending", waiting.received_at)
    assert (failed.status, failed.next_attempt_at) == ("pending", failed.received_at)  # decided again
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_holds_stored_before_the_upgrade_name_the_cause_they_recorded():
    old = migrate([("messaging", "0012_one_live_campaign_text_per_member")])
    holds = old.get_model("messaging", "OutboxHold").objects
    now = timezone.now()
    no_key = holds.create(reason="OPENPHONE_API_KEY is not set.", started_at=now, released_at=now)
    refused = holds.create(
        code="0200401", reason="OpenPhone refused the text (401 0200401): Unauthorized", started_at=now, released_at=now
    )
    credits = holds.create(code="0200402", reason="OpenPhone refused the text (402 0200402): credits", started_at=now)

    new = migrate([("messaging", "0013_a_hold_records_its_cause")])

    holds = new.get_model("messaging", "OutboxHold").objects
    assert [holds.get(pk=hold.pk).cause for hold in (no_key, refused, credits)] == [
        "no_api_key",
        "key_refused",
        "account",
    ]
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_texts_written_before_the_upgrade_are_counted_in_segments():
    old = migrate([("messaging", "0014_help_is_answered_whatever_the_contacts_state")])
    contact = old.get_model("contacts", "Contact").objects.create(phone="+16175550111")
    messages = old.get_model("messaging", "Message").objects
    now = timezone.now()

    def text(body: str, direction: str = "outbound", status: str = "sent"):
        return messages.create(direction=direction, kind="staff" if direction == "outbound" else "reply", body=body,
                               from_number="+16175550100", to_number=contact.phone, contact=contact, status=status,
                               status_changed_at=now, created_at=now)  # fmt: skip

    plain, curly = text("Hi " * 60), text("It’s " * 20)
    reply = text("Yes", direction="inbound", status="received")

    new = migrate([("messaging", "0015_segments_billed")])

    segments = dict(new.get_model("messaging", "Message").objects.values_list("pk", "segments"))
    assert [segments[m.pk] for m in (plain, curly, reply)] == [2, 2, None]  # 180 GSM-7 characters; 100 UCS-2
    migrate_to_latest()
