"""Migrations that move data: run against a database holding rows written by the older schema."""

import datetime as dt

import pytest

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("campaigns", "0010_index_the_sends_going_out"), ("contacts", "0007_fewer_indexes_on_imported_rows")]
AFTER = [("campaigns", "0011_compliance_records_outlive_their_send")]


@pytest.mark.django_db(transaction=True)
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
    migrate_to_latest()
