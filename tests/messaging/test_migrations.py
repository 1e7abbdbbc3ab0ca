"""Migrations that move data: run against a database holding rows written by the older schema."""

import pytest
from django.utils import timezone

from tests.migrations import migrate

# Each migrates a new database from nothing: seconds to tens of seconds.
# no_cover: untraced, as tests/tracing.py says.
pytestmark = [pytest.mark.long, pytest.mark.no_cover]

BEFORE = [("messaging", "0009_index_what_the_silence_reads")]
AFTER = [("messaging", "0010_webhook_events_wait_in_the_database")]


@pytest.mark.usefixtures("new_database")
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


@pytest.mark.usefixtures("new_database")
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


@pytest.mark.usefixtures("new_database")
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


def replies_as_they_were(old, *bodies: str, **fields) -> list:
    contact = old.get_model("contacts", "Contact").objects.create(phone="+16175550111")
    now = timezone.now()
    return [
        old.get_model("messaging", "Message").objects.create(
            direction="inbound",
            kind="reply",
            body=body,
            from_number=contact.phone,
            to_number="+16175550100",
            contact=contact,
            status="received",
            status_changed_at=now,
            created_at=now,
            **fields,
        )
        for body in bodies
    ]


@pytest.mark.usefixtures("new_database")
def test_replies_stored_before_labels_get_theirs_when_the_migration_runs():
    [reply] = replies_as_they_were(migrate([("messaging", "0007_possible_opt_outs_wait_for_a_person")]), "No thank you")

    new = migrate([("messaging", "0008_replies_labelled_by_what_they_say")])

    assert new.get_model("messaging", "Message").objects.get(pk=reply.pk).intent == "not_interested"


@pytest.mark.usefixtures("new_database")
def test_replies_labelled_before_not_now_existed_are_read_again_unless_staff_chose():
    old = migrate([("messaging", "0015_segments_billed")])
    later, chosen, refused = replies_as_they_were(
        old, "Not right now, maybe in the spring", "not right now", "No thank you", intent="not_interested"
    )
    old.get_model("messaging", "IntentCorrection").objects.create(
        message=chosen,
        from_intent="other",
        to_intent="not_interested",
        corrected_by=old.get_model("auth", "User").objects.create(username="staff"),
        corrected_at=chosen.created_at,
    )

    new = migrate([("messaging", "0016_not_now_is_a_reply_label")])

    intents = dict(new.get_model("messaging", "Message").objects.values_list("pk", "intent"))
    assert intents == {later.pk: "not_now", chosen.pk: "not_interested", refused.pk: "not_interested"}
