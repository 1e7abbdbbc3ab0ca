"""Migrations that move data: run against a database holding rows written by the older schema."""

import pytest
from django.utils import timezone

from tests.migrations import migrate, migrate_to_latest

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
