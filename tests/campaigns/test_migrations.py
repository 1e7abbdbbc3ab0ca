"""Migrations that move data: run against a database holding rows written by the older schema."""

import datetime as dt

import pytest

from tests.migrations import migrate

# Each migrates a new database from nothing: seconds to tens of seconds.
# no_cover: untraced, as tests/tracing.py says.
pytestmark = [pytest.mark.long, pytest.mark.no_cover]

BEFORE = [("campaigns", "0010_index_the_sends_going_out"), ("contacts", "0007_fewer_indexes_on_imported_rows")]
AFTER = [("campaigns", "0011_compliance_records_outlive_their_send")]


@pytest.mark.usefixtures("new_database")
def test_existing_compliance_records_are_named_by_their_send_and_then_outlive_it():
    old = migrate(BEFORE)
    contact = old.get_model("contacts", "Contact").objects.create(phone="+16175550111")
    campaign = old.get_model("campaigns", "Campaign").objects.create(name="Spring", template_a="Hi {first_name}")
    at = dt.datetime(2024, 1, 15, 15, 0, tzinfo=dt.UTC)
    send = old.get_model("campaigns", "CampaignSend").objects.create(
        campaign=campaign,
        contact=contact,
        variant="A",
        from_number="+16175550100",
        business_date=at.date(),
        scheduled_for=at,
    )
    old.get_model("campaigns", "ComplianceRecord").objects.create(
        send=send,
        zone_source="address",
        recipient_hours="08:00-20:00",
        allowed_from=at,
        allowed_until=at + dt.timedelta(hours=1),
        booked_at=at,
        slot=at,
        booking_checks={},
    )

    new = migrate(AFTER)
    record = new.get_model("campaigns", "ComplianceRecord").objects.get()
    assert (record.campaign_id, record.contact_id, record.send_id) == (campaign.pk, contact.pk, send.pk)

    new.get_model("campaigns", "CampaignSend").objects.filter(pk=send.pk).delete()
    record.refresh_from_db()
    assert record.send_id is None and record.campaign_id == campaign.pk


@pytest.mark.usefixtures("new_database")
def test_every_campaign_send_is_carried_over_to_one_message_that_holds_its_state():
    old = migrate(
        [
            ("campaigns", "0019_a_decision_keeps_its_member_counts"),
            ("messaging", "0010_webhook_events_wait_in_the_database"),
        ]
    )
    Contact, Campaign = old.get_model("contacts", "Contact"), old.get_model("campaigns", "Campaign")
    Send, Message = old.get_model("campaigns", "CampaignSend"), old.get_model("messaging", "Message")
    campaign = Campaign.objects.create(name="Spring", template_a="Hi {first_name}")
    booked, gone, stopped, retried = (Contact.objects.create(phone=f"+1617555012{n}") for n in range(4))
    at = dt.datetime(2024, 1, 15, 15, 0, tzinfo=dt.UTC)

    def send(contact, **fields):
        return Send.objects.create(campaign=campaign, contact=contact, variant="A", from_number="+16175550100",
                                   business_date=at.date(), scheduled_for=at, **fields)  # fmt: skip

    def text(send, **fields):
        return Message.objects.create(direction="outbound", kind="campaign", body="Hi", from_number="+16175550100",
                                      to_number=send.contact.phone, contact=send.contact, status_changed_at=at,
                                      created_at=at, campaign_send=send, **fields)  # fmt: skip

    waiting = send(booked)  # booked, not yet taken: no message
    sent = send(gone, status="sent", sent_at=at, delivered_at=at, attempts=1)
    text(sent, status="delivered", sent_at=at, attempts=1, external_id="ACgone")
    cancelled = send(stopped, status="cancelled", cancelled_reason="Opted out")  # before it was taken
    cancelled_on_retry = send(retried, status="cancelled", cancelled_reason="Campaign cancelled", attempts=1)
    text(cancelled_on_retry, status="failed", error="Not sent: Campaign cancelled", attempts=1)
    staff = Message.objects.create(direction="outbound", kind="staff", body="Hello", from_number="+16175550100",
                                   to_number=booked.phone, contact=booked, status="failed", status_changed_at=at,
                                   created_at=at, error="Not sent: the contact opted out")  # fmt: skip

    new = migrate([("campaigns", "0020_one_row_per_text"), ("messaging", "0012_one_live_campaign_text_per_member")])
    texts = new.get_model("messaging", "Message").objects
    by_send = {m.campaign_send_id: m for m in texts.filter(kind="campaign")}
    assert set(by_send) == {waiting.pk, sent.pk, cancelled.pk, cancelled_on_retry.pk}
    assert all(m.campaign_id == campaign.pk for m in by_send.values())
    first = by_send[waiting.pk]
    assert (first.status, first.body, first.next_attempt_at, first.to_number) == ("queued", "", at, booked.phone)
    assert (by_send[sent.pk].status, by_send[sent.pk].delivered_at) == ("delivered", at)
    assert (by_send[cancelled.pk].status, by_send[cancelled.pk].error) == ("cancelled", "Not sent: Opted out")
    assert by_send[cancelled_on_retry.pk].status == "cancelled"
    assert texts.get(pk=staff.pk).status == "cancelled"  # never went: cancelled, not failed

    back = migrate(
        [
            ("campaigns", "0019_a_decision_keeps_its_member_counts"),
            ("messaging", "0010_webhook_events_wait_in_the_database"),
        ]
    )
    sends = {s.pk: s for s in back.get_model("campaigns", "CampaignSend").objects.all()}
    assert [sends[s.pk].status for s in (waiting, sent, cancelled, cancelled_on_retry)] == [
        "queued", "sent", "cancelled", "cancelled"
    ]  # fmt: skip
    assert sends[cancelled.pk].cancelled_reason == "Opted out" and sends[sent.pk].delivered_at == at
    assert not back.get_model("messaging", "Message").objects.filter(campaign_send=waiting.pk).exists()


# What each writer of a member's reason wrote, in this version of the code and before it, and the
# reason it gives in the one vocabulary (contacts/not_texted.py).
WRITTEN_REASONS = [
    ("ineligible", "Opted out", "opted_out"),
    ("ineligible", "Campaign cancelled", "campaign_cancelled"),
    ("ineligible", "Text failed: OpenPhone refused the text (404 0200404): Not Found: Invalid 'to' number",
     "text_failed"),
    ("ineligible", "Not a mobile number (landline)", "landline"),
    ("ineligible", "A toll-free number, which a business number cannot text", "toll_free"),
    ("ineligible", "Not a US number (the Caribbean or Bermuda)", "foreign_number"),
    ("ineligible", "On the Massachusetts Do-Not-Call list (list of 2026-11-30); no written consent or recent "
                   "business relationship on record", "on_do_not_call_list"),
    ("pending", "The National Do-Not-Call Registry copy for area code 617 is of 2026-10-30, over 31 days old: "
                "load a newer one", "stale_do_not_call_copy"),
    ("ineligible", "In Connecticut a sales text needs written consent; none on record", "written_consent_required"),
    ("ineligible", "Their state is unknown and Connecticut's law may apply: a sales text needs written consent; "
                   "none on record", "written_consent_required"),
    ("ineligible", "An informational campaign texts only customers: no job, payment or delivery on record",
     "not_a_customer"),
    ("ineligible", "Has texted us before (campaign skips them)", "texted_us_before"),
    ("flagged", "Has texted us before: review before texting", "review_texted_us_before"),
    ("flagged", "Wrote something that may be an opt-out: waiting for a person to decide", "review_possible_opt_out"),
    ("pending", "Texted by another campaign in the last 30 days", "texted_by_another_campaign"),
    ("ineligible", "Texted by another campaign in the last 14 days", "texted_by_another_campaign"),  # once for good
    ("pending", "Over their state's cap of marketing texts", "state_cap"),
    ("pending", "Outside the hours they may be texted today", "outside_hours"),
    ("sent", "", ""),
]  # fmt: skip
BEFORE_REASON_CODES = [("campaigns", "0023_pause_reason"), ("contacts", "0011_lawful_basis_and_do_not_call_lists")]


def members_as_they_were(old, written: list[tuple[str, str, str]]) -> list:
    Contact, Campaign = old.get_model("contacts", "Contact"), old.get_model("campaigns", "Campaign")
    campaign = Campaign.objects.create(name="Spring", template_a="Hi {first_name}")
    return [
        old.get_model("campaigns", "CampaignContact").objects.create(
            campaign=campaign,
            contact=Contact.objects.create(phone=f"+1617555{n:04d}"),
            variant="A",
            queue_position=n,
            status=status,
            ineligible_reason=text,
        )
        for n, (status, text, _) in enumerate(written)
    ]


@pytest.mark.usefixtures("new_database")
def test_every_reason_a_member_was_given_in_words_is_classified_into_its_code():
    members = members_as_they_were(migrate(BEFORE_REASON_CODES), WRITTEN_REASONS)

    new = migrate([("campaigns", "0024_members_held_because")])

    stored = dict(new.get_model("campaigns", "CampaignContact").objects.values_list("pk", "held_because"))
    assert [stored[member.pk] for member in members] == [code for _, _, code in WRITTEN_REASONS]


@pytest.mark.usefixtures("new_database")
def test_a_reason_no_code_ever_wrote_stops_the_migration_rather_than_being_guessed():
    old = migrate(BEFORE_REASON_CODES)
    [odd] = members_as_they_were(old, [("ineligible", "Typed by hand", "")])

    with pytest.raises(RuntimeError, match=r"1 campaign members give a reason no code wrote: \['Typed by hand'\]"):
        migrate([("campaigns", "0024_members_held_because")])
