"""execute_campaign: the daily limit, business hours, pacing, queueing and A/B balance."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from freezegun import freeze_time

from campaigns import audience, booking, errors, services
from campaigns.models import Campaign, CampaignContact, CampaignSend, Holiday
from messaging import outbox
from tests.campaigns.conftest import EASTERN, add_audience, eastern, expected_at, texts_went_out
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db

PACE_GAP = dt.timedelta(minutes=30) / 25  # 25 every 30 minutes: one every 72 seconds


def test_two_hundred_eligible_inside_hours_books_125_and_queues_75(active_campaign):
    add_audience(active_campaign, 200)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):  # a Monday, 10:00 ET
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (125, 75)
    sends = CampaignSend.objects.filter(campaign=active_campaign).order_by("scheduled_for")
    assert sends.count() == 125
    assert {send.business_date for send in sends} == {dt.date(2024, 1, 15)}
    assert {send.message.status for send in sends} == {"queued"}
    assert {send.from_number for send in sends} == {SHOP_NUMBER}
    # Paced from now, one every 72 s, never a burst: the last is booked at 12:28:48 ET.
    slots = [send.scheduled_for for send in sends]
    assert slots[0] == eastern(2024, 1, 15, 10, 0)
    assert all(later - earlier == PACE_GAP for earlier, later in zip(slots, slots[1:], strict=False))
    assert slots[-1].astimezone(EASTERN) == eastern(2024, 1, 15, 12, 28, 48)
    queued = expected_at(active_campaign, eastern(2024, 1, 15, 10, 0))
    assert len(queued) == 75
    assert set(queued.values()) == {eastern(2024, 1, 16, 9, 0)}
    assert CampaignContact.objects.filter(campaign=active_campaign, status="scheduled").count() == 125


def test_running_again_the_same_day_books_nothing_more(active_campaign):
    add_audience(active_campaign, 200)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)
    with freeze_time(eastern(2024, 1, 15, 10, 5)):
        again = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (again.sent, again.queued, again.booked_today) == (0, 75, 125)
    assert CampaignSend.objects.filter(campaign=active_campaign).count() == 125


def test_after_hours_books_nothing_and_queues_everyone_for_9am_next_business_day(active_campaign):
    add_audience(active_campaign, 40)

    with freeze_time(eastern(2024, 1, 15, 20, 0)):  # Monday 20:00 ET (01:00 UTC Tuesday)
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (0, 40)
    assert not CampaignSend.objects.exists()
    members = CampaignContact.objects.filter(campaign=active_campaign)
    assert {member.status for member in members} == {CampaignContact.Status.PENDING}
    expected = expected_at(active_campaign, eastern(2024, 1, 15, 20, 0))
    assert len(expected) == 40
    assert {moment.astimezone(EASTERN) for moment in expected.values()} == {eastern(2024, 1, 16, 9, 0)}


def test_saturday_queues_for_monday_and_a_big_audience_spills_over_days_at_the_limit(active_campaign):
    add_audience(active_campaign, 300)

    with freeze_time(eastern(2024, 1, 20, 11, 0)):  # Saturday
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (0, 300)
    by_day = Counter(expected_at(active_campaign, eastern(2024, 1, 20, 11, 0)).values())
    assert {when.astimezone(EASTERN): n for when, n in by_day.items()} == {
        eastern(2024, 1, 22, 9, 0): 125,  # Monday
        eastern(2024, 1, 23, 9, 0): 125,
        eastern(2024, 1, 24, 9, 0): 50,
    }


def test_before_opening_on_a_business_day_books_from_nine(active_campaign):
    add_audience(active_campaign, 10)

    with freeze_time(eastern(2024, 1, 16, 7, 30)):
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert result.sent == 10
    first = CampaignSend.objects.order_by("scheduled_for").first()
    assert first.scheduled_for == eastern(2024, 1, 16, 9, 0)


def test_the_next_morning_books_the_queue_from_nine(active_campaign):
    add_audience(active_campaign, 200)
    with freeze_time(eastern(2024, 1, 15, 20, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)

    with freeze_time(eastern(2024, 1, 16, 9, 0)):
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (125, 75)
    assert CampaignSend.objects.filter(business_date=dt.date(2024, 1, 16)).count() == 125


def test_holidays_are_skipped(active_campaign):
    Holiday.objects.create(date=dt.date(2024, 12, 25), name="Christmas Day")
    add_audience(active_campaign, 5)

    with freeze_time(eastern(2024, 12, 24, 19, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)

    assert set(expected_at(active_campaign, eastern(2024, 12, 24, 19, 0)).values()) == {eastern(2024, 12, 26, 9, 0)}


def test_the_window_follows_new_york_across_the_dst_change(active_campaign):
    add_audience(active_campaign, 5)

    with freeze_time(eastern(2024, 3, 9, 12, 0)):  # Saturday before DST starts (EST, UTC-5)
        booking.execute_campaign(campaign_id=active_campaign.pk)
    # Monday 09:00 EDT is 13:00 UTC, not the 14:00 UTC it was the week before.
    expected = expected_at(active_campaign, eastern(2024, 3, 9, 12, 0))
    assert set(expected.values()) == {dt.datetime(2024, 3, 11, 13, 0, tzinfo=dt.UTC)}

    with freeze_time(dt.datetime(2024, 3, 11, 12, 59, tzinfo=dt.UTC)):  # 08:59 EDT
        booking.execute_campaign(campaign_id=active_campaign.pk)
    assert CampaignSend.objects.order_by("scheduled_for").first().scheduled_for == eastern(2024, 3, 11, 9, 0)


def test_late_in_the_day_books_only_what_fits_before_closing(active_campaign):
    add_audience(active_campaign, 200)

    with freeze_time(eastern(2024, 1, 15, 17, 0)):  # one hour left: 50 slots at 72 s
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (50, 150)
    last = CampaignSend.objects.order_by("-scheduled_for").first().scheduled_for
    assert last < eastern(2024, 1, 15, 18, 0)


def test_the_limit_is_per_number_per_local_day_shared_by_campaigns(active_campaign):
    other = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=125)
    add_audience(active_campaign, 100)
    add_audience(other, 100)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        first = booking.execute_campaign(campaign_id=active_campaign.pk)
        second = booking.execute_campaign(campaign_id=other.pk)

    assert (first.sent, second.sent) == (100, 25)
    assert CampaignSend.objects.filter(from_number=SHOP_NUMBER, business_date=dt.date(2024, 1, 15)).count() == 125
    # The second campaign is paced after the first on the same number: no double speed.
    first_last = CampaignSend.objects.filter(campaign=active_campaign).order_by("-scheduled_for")[0].scheduled_for
    second_first = CampaignSend.objects.filter(campaign=other).order_by("scheduled_for")[0].scheduled_for
    assert second_first == first_last + PACE_GAP


def test_a_campaign_limit_below_the_number_limit_holds(active_campaign):
    active_campaign.daily_limit = 30
    active_campaign.save()
    add_audience(active_campaign, 100)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert (result.sent, result.queued) == (30, 70)
    queued_days = Counter(expected_at(active_campaign, eastern(2024, 1, 15, 10, 0)).values())
    assert sorted(queued_days.values()) == [10, 30, 30]  # on the next three business days


def test_evening_utc_midnight_does_not_reset_the_limit(active_campaign, settings):
    settings.BUSINESS_CLOSES = dt.time(21, 0)
    add_audience(active_campaign, 200, state="NH", zip_code="03101")  # federal hours: texts until 21:00

    with freeze_time(eastern(2024, 1, 15, 18, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)
    texts_went_out(CampaignSend.objects.all(), eastern(2024, 1, 15, 18, 0))
    # 19:30 ET is 00:30 UTC on the 16th: a UTC "day" would give a fresh 125.
    with freeze_time(eastern(2024, 1, 15, 19, 30)):
        later = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert later.sent == 0
    assert CampaignSend.objects.count() == 125


def test_each_days_batch_is_balanced_between_variants(active_campaign):
    add_audience(active_campaign, 400)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)

    variants = list(CampaignSend.objects.values_list("variant", flat=True))
    assert abs(variants.count("A") - variants.count("B")) <= 1


def test_a_70_30_split_holds_within_the_batch(active_campaign):
    active_campaign.split_percent_a = 70
    active_campaign.save()
    add_audience(active_campaign, 400)

    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)

    variants = list(CampaignSend.objects.values_list("variant", flat=True))
    assert abs(variants.count("A") - round(125 * 0.7)) <= 1


def test_variant_assignment_is_stable_for_the_same_contact_and_campaign(active_campaign):
    contacts = add_audience(active_campaign, 50)
    before = dict(CampaignContact.objects.values_list("contact_id", "variant"))

    CampaignContact.objects.all().delete()
    audience.add_contacts_by_id(campaign=active_campaign, contact_ids=[c.pk for c in reversed(contacts)])

    assert dict(CampaignContact.objects.values_list("contact_id", "variant")) == before
    assert set(before.values()) == {"A", "B"}


def test_only_an_active_campaign_runs(active_campaign):
    active_campaign.status = Campaign.Status.PAUSED
    active_campaign.save()

    with pytest.raises(errors.CampaignNotRunnable, match="paused"):
        booking.execute_campaign(campaign_id=active_campaign.pk)


def test_a_campaign_without_a_sending_number_does_not_run(active_campaign, settings):
    settings.OPENPHONE_FROM_NUMBER = ""
    active_campaign.from_number = ""
    active_campaign.save()

    with pytest.raises(errors.CampaignNotRunnable, match="OPENPHONE_FROM_NUMBER"):
        booking.execute_campaign(campaign_id=active_campaign.pk)


def test_the_campaign_completes_when_its_audience_is_exhausted(active_campaign):
    add_audience(active_campaign, 3)
    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)
    texts_went_out(CampaignSend.objects.all(), eastern(2024, 1, 15, 10, 1))
    CampaignContact.objects.update(status=CampaignContact.Status.SENT)

    with freeze_time(eastern(2024, 1, 15, 10, 5)):
        result = booking.execute_campaign(campaign_id=active_campaign.pk)

    assert result.status == Campaign.Status.COMPLETED
    active_campaign.refresh_from_db()
    assert active_campaign.status == Campaign.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_at_once_never_exceed_the_limit_or_double_book():
    campaigns = [
        CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=125) for _ in range(2)
    ]
    for campaign in campaigns:
        add_audience(campaign, 150)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(campaign_id: int) -> None:
        try:
            start.wait()
            # The clock is passed in: freezegun's patched clock is not safe across threads.
            booking.execute_campaign(campaign_id=campaign_id, now=eastern(2024, 1, 15, 10, 0))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # Four runs at once: the same campaign twice, and a second campaign on the same number.
    threads = [threading.Thread(target=run, args=(c.pk,)) for c in [*campaigns, *campaigns]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert CampaignSend.objects.filter(from_number=SHOP_NUMBER).count() == 125
    contact_bookings = CampaignSend.objects.values_list("campaign_id", "contact_id")
    assert len(set(contact_bookings)) == 125


def test_due_texts_are_only_those_of_active_campaigns_whose_slot_came(active_campaign):
    add_audience(active_campaign, 5)
    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        booking.execute_campaign(campaign_id=active_campaign.pk)

    at = eastern(2024, 1, 15, 10, 3)  # slots 10:00:00, 10:01:12, 10:02:24 have come
    assert outbox.due_texts(now=at).count() == 3
    # Not later than the missed-slot grace: the 10:00 text is booked again, never sent late.
    assert outbox.due_texts(now=eastern(2024, 1, 15, 10, 11)).count() == 4
    services.pause_campaign(campaign=active_campaign)
    assert outbox.due_texts(now=at).count() == 0
