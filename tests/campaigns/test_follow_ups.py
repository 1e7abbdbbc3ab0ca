"""A campaign's follow-up step: who it texts again, when, and under which rules (issue 39).

Each test runs the real clock's work (`booking.run_campaigns`), the outbox (`outbox.deliver_message`,
the console backend) and replies as OpenPhone's webhook brings them (`webhook_processing`), with
the clock pinned: a campaign texts on Tuesday 16 January 2024, its follow-up 2 business days later.
"""

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from campaigns import audience, booking, errors, forecast, selectors, services, text_again
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend, Holiday
from contacts.models import Contact
from messaging import outbox, webhook_payloads, webhook_processing
from messaging.models import Message
from tests.campaigns.conftest import add_audience, eastern
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignSendFactory,
    ContactFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

TUESDAY = eastern(2024, 1, 16, 10, 0)


def a_campaign(name: str = "Spring", *, after_days: int | None = 2, **fields) -> tuple[Campaign, Campaign]:
    """A one-text campaign on the shop's number and its follow-up step."""
    campaign = services.create_campaign(
        name=name, template_a=f"{name}: Hi {{name}}, about your foundation", from_number=SHOP_NUMBER, **fields
    )
    follow_up = services.set_follow_up(
        campaign=campaign, template_a=f"{name} again: {{name}}, still thinking about it?", after_days=after_days
    )
    return campaign, follow_up


def clock_work(at: dt.datetime) -> None:
    """At ``at``: the clock's run of every campaign, then every text whose slot has come goes."""
    with freeze_time(at):
        the_clocks_tick()


def the_clocks_tick() -> None:
    booking.run_campaigns()
    send_what_is_due()


def send_what_is_due() -> None:
    for message_id in outbox.due_texts(now=timezone.now()).values_list("pk", flat=True):
        outbox.deliver_message(message_id)


def a_day_of_texts(day: dt.date, *, after: dt.datetime | None = None) -> None:
    """The clock through a business day (from ``after``): every five minutes while a text waits in
    the outbox (a day's slots, 72 s apart, go within the ten minutes' grace of their slot), and on
    the hour while none does, so that a run which books again when it should not is still seen.
    One frozen clock moved from tick to tick: starting one scans every loaded module (about 30 ms)."""
    moments = [
        eastern(day.year, day.month, day.day, hour, minute) for hour in range(9, 17) for minute in range(0, 60, 5)
    ]
    moments = [moment for moment in moments if after is None or moment > after]
    waiting = Message.objects.filter(direction="outbound", status="queued")
    with freeze_time(moments[0]) as clock:
        for index, moment in enumerate(moments):
            if index == 0 or moment.minute == 0 or waiting.exists():
                clock.move_to(moment)
                the_clocks_tick()


def they_write(contact: Contact, words: str, at: dt.datetime) -> Message:
    """A text from them, as OpenPhone's webhook brings it and a worker processes it."""
    payload = webhook_payloads.message_event(
        "message.received", system=webhook_payloads.LEGACY, sender=contact.phone, recipient=SHOP_NUMBER,
        text=words, at=at,
    )  # fmt: skip
    with freeze_time(at):
        webhook_processing.apply_message_event(
            "message.received", webhook_processing.message_event(payload), received_at=at
        )
    return Message.objects.filter(contact=contact, direction="inbound").latest("created_at")


def member_of(campaign: Campaign, contact: Contact) -> CampaignContact:
    return CampaignContact.objects.get(campaign=campaign, contact=contact)


def texts_to(contact: Contact, campaign: Campaign) -> list[str]:
    """The texts of this campaign that went to them (status and body)."""
    return list(
        Message.objects.filter(campaign=campaign, contact=contact, status__in=["sent", "delivered"]).values_list(
            "body", flat=True
        )
    )


def started(campaign: Campaign, contacts: int, at: dt.datetime = TUESDAY, **contact_fields) -> list[Contact]:
    people = add_audience(campaign, contacts, **contact_fields)
    with freeze_time(at):
        services.start_campaign(campaign=campaign)
    a_day_of_texts(at.date(), after=at)
    return people


# --- When: N business days ----------------------------------------------------------------


def test_the_follow_up_waits_its_business_days_then_texts_who_did_not_answer():
    campaign, follow_up = a_campaign()
    quiet, driving = started(campaign, 2)
    they_write(driving, "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
               eastern(2024, 1, 16, 10, 30))  # fmt: skip

    a_day_of_texts(dt.date(2024, 1, 17))  # Wednesday: one business day after
    assert not follow_up.memberships.exists()

    a_day_of_texts(dt.date(2024, 1, 18))  # Thursday: two

    # A phone answering by itself is no answer: both get the follow-up, on Thursday, once.
    for person in (quiet, driving):
        [text] = texts_to(person, follow_up)
        assert text.startswith("Spring again:")
        member = member_of(follow_up, person)
        assert member.status == "sent" and member.added_via == "follow_up"
        first = Message.objects.get(campaign=campaign, contact=person)
        assert member.quiet_since == first.sent_at
    sends = CampaignSend.objects.filter(campaign=follow_up)
    assert {send.business_date for send in sends} == {dt.date(2024, 1, 18)}
    follow_up.refresh_from_db()
    assert follow_up.followed_up_through == dt.date(2024, 1, 16)


def test_weekends_and_holidays_are_not_business_days_for_the_wait():
    campaign, follow_up = a_campaign()
    friday = eastern(2024, 1, 19, 10, 0)
    Holiday.objects.create(date=dt.date(2024, 1, 22), name="Shop closed")
    [person] = started(campaign, 1, at=friday)

    a_day_of_texts(dt.date(2024, 1, 23))  # Tuesday: the first business day after Friday
    assert not texts_to(person, follow_up)

    a_day_of_texts(dt.date(2024, 1, 24))  # Wednesday: the second
    assert len(texts_to(person, follow_up)) == 1
    assert CampaignSend.objects.get(campaign=follow_up).business_date == dt.date(2024, 1, 24)


# --- Who: never someone who answered or opted out ----------------------------------------


def test_who_answered_or_opted_out_before_joining_is_kept_out_with_the_reason():
    campaign, follow_up = a_campaign()
    answered, stopped, corrected = started(campaign, 3)
    they_write(answered, "Yes, how much?", eastern(2024, 1, 16, 14, 0))
    they_write(stopped, "STOP", eastern(2024, 1, 17, 9, 30))
    # Staff read a "possible" automatic reply as a person's words: it counts as an answer.
    reply = they_write(corrected, "I'm driving right now - I'll get back to you later.", eastern(2024, 1, 16, 15, 0))
    assert reply.intent == "automatic"
    reply.intent = "other"
    reply.save(update_fields=["intent"])

    a_day_of_texts(dt.date(2024, 1, 18))

    assert not Message.objects.filter(campaign=follow_up).exists()
    kept_out = dict(follow_up.memberships.values_list("contact_id", "held_because"))
    assert kept_out == {answered.pk: "replied", stopped.pk: "opted_out", corrected.pk: "replied"}
    assert set(follow_up.memberships.values_list("status", flat=True)) == {"ineligible"}
    record = campaign.compliance_records.first()
    assert "no_reply_yet" in record.booking_checks


def test_an_answer_after_joining_and_before_booking_keeps_them_out():
    campaign, follow_up = a_campaign()
    people = started(campaign, 3)
    # Thursday the follow-up is due, but the number is full until the last hour's first minute.
    with override_settings(SMS_DAILY_LIMIT_PER_NUMBER=1):
        clock_work(eastern(2024, 1, 18, 9, 0))
    assert follow_up.memberships.count() == 3
    waiting = follow_up.memberships.filter(status="pending").values_list("contact_id", flat=True)
    late = Contact.objects.get(pk=waiting[0])
    they_write(late, "Can you come Monday?", eastern(2024, 1, 18, 11, 0))

    a_day_of_texts(dt.date(2024, 1, 19))

    assert texts_to(late, follow_up) == []
    assert member_of(follow_up, late).held_because == "replied"
    assert sum(len(texts_to(person, follow_up)) for person in people) == 2


def test_an_answer_between_booking_and_its_slot_cancels_the_booked_follow_up_text():
    campaign, follow_up = a_campaign()
    started(campaign, 2)
    with freeze_time(eastern(2024, 1, 18, 9, 0)):
        booking.run_campaigns()
    first, second = Message.objects.filter(campaign=follow_up).order_by("campaign_send__scheduled_for")
    assert second.status == "queued" and second.campaign_send.scheduled_for > eastern(2024, 1, 18, 9, 0)
    they_write(second.contact, "Who is this?", eastern(2024, 1, 18, 9, 0, 30))

    with freeze_time(second.campaign_send.scheduled_for):
        assert outbox.deliver_message(first.pk) == "sent"
        assert outbox.deliver_message(second.pk) == "cancelled"

    second.refresh_from_db()
    assert second.status == "cancelled" and second.sent_at is None
    assert second.error == "Not sent: Wrote to us since the text before: no follow-up"
    member = member_of(follow_up, second.contact)
    assert (member.status, member.held_because) == ("ineligible", "replied")
    assert second.campaign_send.compliance.dispatch_checks["no_reply_yet"] is False
    a_day_of_texts(dt.date(2024, 1, 18), after=eastern(2024, 1, 18, 9, 5))
    assert len(texts_to(first.contact, follow_up)) == 1 and texts_to(second.contact, follow_up) == []


def test_a_stop_between_booking_and_its_slot_cancels_the_follow_up_text_at_once():
    campaign, follow_up = a_campaign()
    [person] = started(campaign, 1)
    with freeze_time(eastern(2024, 1, 18, 9, 0)):
        booking.run_campaigns()
    they_write(person, "Stop texting me", eastern(2024, 1, 18, 9, 0, 10))

    a_day_of_texts(dt.date(2024, 1, 18))

    assert texts_to(person, follow_up) == []
    assert Message.objects.get(campaign=follow_up).status == "cancelled"
    assert member_of(follow_up, person).held_because == "opted_out"


# --- Caps and the number's limit ----------------------------------------------------------


def test_the_first_text_is_not_another_campaigns_but_another_campaign_holds_the_follow_up():
    campaign, follow_up = a_campaign(frequency_cap_days=30)
    mine, theirs = started(campaign, 2)
    # Another campaign texted one of them on Wednesday, between the two steps.
    CampaignSendFactory(
        campaign=services.create_campaign(name="Gutters", template_a="Gutters?", from_number=SHOP_NUMBER),
        contact=theirs, status="sent", sent_at=eastern(2024, 1, 17, 11, 0), scheduled_for=eastern(2024, 1, 17, 11, 0),
    )  # fmt: skip

    a_day_of_texts(dt.date(2024, 1, 18))

    assert len(texts_to(mine, follow_up)) == 1
    held = member_of(follow_up, theirs)
    assert (held.status, held.held_because) == ("pending", "texted_by_another_campaign")
    assert "Gutters" in held.ineligible_reason
    assert held.not_before == eastern(2024, 1, 17, 11, 0) + dt.timedelta(days=30)


def test_a_follow_up_text_counts_against_another_campaigns_cap():
    campaign, follow_up = a_campaign()
    [person] = started(campaign, 1)
    a_day_of_texts(dt.date(2024, 1, 18))
    assert len(texts_to(person, follow_up)) == 1
    later = services.create_campaign(name="Later", template_a="Later: hi", from_number=SHOP_NUMBER,
                                      frequency_cap_days=10)  # fmt: skip
    audience.add_contacts_by_id(campaign=later, contact_ids=[person.pk])
    with freeze_time(eastern(2024, 1, 22, 10, 0)):
        services.start_campaign(campaign=later)

    held = member_of(later, person)
    assert (held.status, held.held_because) == ("pending", "texted_by_another_campaign")
    assert "Spring (follow-up)" in held.ineligible_reason


def test_the_state_cap_counts_every_campaigns_texts_and_holds_the_follow_up():
    campaign, follow_up = a_campaign(frequency_cap_days=0)
    [floridian] = started(campaign, 1, zip_code="33101", state="FL", time_zone="America/New_York")
    others = [services.create_campaign(name=f"O{n}", template_a="hi", from_number=SHOP_NUMBER) for n in range(2)]
    for n, other in enumerate(others):  # with Tuesday's first text, three in 24 hours: Florida's cap
        at = eastern(2024, 1, 18, 8, 0) - dt.timedelta(hours=n)
        CampaignSendFactory(campaign=other, contact=floridian, status="sent", sent_at=at, scheduled_for=at)
    with freeze_time(eastern(2024, 1, 17, 16, 0)):  # the first text, moved to 18 hours before
        Message.objects.filter(campaign=campaign).update(sent_at=eastern(2024, 1, 17, 16, 0))

    clock_work(eastern(2024, 1, 18, 10, 0))

    held = member_of(follow_up, floridian)
    assert (held.status, held.held_because) == ("pending", "state_cap")
    assert texts_to(floridian, follow_up) == []


@override_settings(SMS_DAILY_LIMIT_PER_NUMBER=5)
def test_the_follow_up_and_its_campaign_share_the_numbers_limit_the_follow_up_first():
    campaign, follow_up = a_campaign(daily_limit=125)
    add_audience(campaign, 20)
    with freeze_time(TUESDAY):
        services.start_campaign(campaign=campaign)
    for day in (16, 17, 18, 19, 22, 23, 24, 25):
        a_day_of_texts(dt.date(2024, 1, day), after=TUESDAY)

    per_day = {}
    for send in CampaignSend.objects.filter(message__status__in=["sent", "delivered"]):
        per_day.setdefault(send.business_date, []).append(send.campaign_id)
    assert all(len(ids) <= 5 for ids in per_day.values()), per_day
    # Thursday and Friday the follow-ups of Tuesday's and Wednesday's texts fill the number.
    assert per_day[dt.date(2024, 1, 18)] == [follow_up.pk] * 5
    assert per_day[dt.date(2024, 1, 19)] == [follow_up.pk] * 5
    assert per_day[dt.date(2024, 1, 22)] == [campaign.pk] * 5


@override_settings(SMS_DAILY_LIMIT_PER_NUMBER=5)
def test_the_forecast_leaves_room_on_the_number_for_the_follow_ups():
    campaign, follow_up = a_campaign(daily_limit=125)
    add_audience(campaign, 20)
    with freeze_time(TUESDAY):
        services.start_campaign(campaign=campaign)
    calendar = BusinessCalendar.from_settings()

    plans = forecast.number_plan(SHOP_NUMBER, now=TUESDAY, calendar=calendar)

    def days(plan):
        return [(planned.date.day, planned.texts) for planned in plan.days]

    assert days(plans[campaign.pk]) == [(17, 5), (22, 5), (23, 5)]
    assert days(plans[follow_up.pk]) == [(18, 5), (19, 5), (24, 5), (25, 5)]
    campaign.refresh_from_db()
    assert forecast.campaign_plan(campaign, now=TUESDAY, calendar=calendar).finishes_on == dt.date(2024, 1, 23)


# --- Text again on a day ------------------------------------------------------------------


def test_text_again_goes_on_that_day_not_before_through_the_rules():
    campaign, follow_up = a_campaign(after_days=None)
    [person] = started(campaign, 1)
    reply = they_write(person, "Not now, maybe in the spring", eastern(2024, 1, 16, 12, 0))
    staff = StaffUserFactory()

    with freeze_time(eastern(2024, 1, 16, 12, 5)):
        member = text_again.text_again(reply=reply, on=dt.date(2024, 3, 4), user=staff)

    assert (member.status, member.not_before) == ("pending", eastern(2024, 3, 4, 9, 0))
    assert (member.review_approved, member.text_again_by, member.text_again_reply) == (True, staff, reply)
    a_day_of_texts(dt.date(2024, 3, 1))
    assert texts_to(person, follow_up) == []
    a_day_of_texts(dt.date(2024, 3, 4))
    [text] = texts_to(person, follow_up)
    assert text.startswith("Spring again:")
    assert CampaignSend.objects.get(campaign=follow_up).business_date == dt.date(2024, 3, 4)


def test_a_day_chosen_for_someone_already_in_the_follow_up_replaces_their_turn_and_is_forecast():
    campaign, follow_up = a_campaign(after_days=2)
    [person] = started(campaign, 1)
    reply = they_write(person, "Not now, try me in March", eastern(2024, 1, 17, 12, 0))
    clock_work(eastern(2024, 1, 18, 9, 0))  # Thursday: they join the follow-up, held by their answer
    member = member_of(follow_up, person)

    with freeze_time(eastern(2024, 1, 18, 12, 0)):
        chosen = text_again.text_again(reply=reply, on=dt.date(2024, 3, 4), user=None)

    assert chosen.pk == member.pk  # the same member, not a second one
    assert (chosen.status, chosen.not_before) == ("pending", eastern(2024, 3, 4, 9, 0))
    calendar = BusinessCalendar.from_settings()
    plans = forecast.number_plan(SHOP_NUMBER, now=eastern(2024, 1, 18, 12, 5), calendar=calendar)
    assert [(day.date, day.texts) for day in plans[follow_up.pk].days] == [(dt.date(2024, 3, 4), 1)]
    a_day_of_texts(dt.date(2024, 1, 19))
    assert texts_to(person, follow_up) == []


@pytest.mark.parametrize(("words", "because"), [("STOP", "opted_out"), ("Actually, call me now", "replied")])
def test_a_stop_or_an_answer_after_the_day_was_chosen_stops_it(words, because):
    campaign, follow_up = a_campaign(after_days=None)
    [person] = started(campaign, 1)
    reply = they_write(person, "Not right now", eastern(2024, 1, 16, 12, 0))
    with freeze_time(eastern(2024, 1, 16, 12, 5)):
        text_again.text_again(reply=reply, on=dt.date(2024, 3, 4), user=None)
    they_write(person, words, eastern(2024, 2, 20, 10, 0))

    a_day_of_texts(dt.date(2024, 3, 4))

    assert texts_to(person, follow_up) == []
    assert member_of(follow_up, person).held_because == because


# --- Its lifecycle follows its campaign's -------------------------------------------------


def test_the_follow_up_starts_pauses_resumes_and_is_cancelled_with_its_campaign():
    campaign, follow_up = a_campaign()
    add_audience(campaign, 2)
    assert follow_up.status == "draft"
    with freeze_time(TUESDAY):
        services.start_campaign(campaign=campaign)
    statuses = []
    for act in (services.pause_campaign, services.resume_campaign, services.cancel_campaign):
        with freeze_time(TUESDAY):
            act(campaign=campaign)
        follow_up.refresh_from_db()
        statuses.append(follow_up.status)
    assert statuses == ["paused", "active", "cancelled"]


def test_a_cancel_stops_the_follow_ups_booked_texts():
    campaign, follow_up = a_campaign(daily_limit=1)  # one first text a day: it runs into Thursday
    add_audience(campaign, 4)
    with freeze_time(TUESDAY):
        services.start_campaign(campaign=campaign)
    a_day_of_texts(dt.date(2024, 1, 16), after=TUESDAY)
    a_day_of_texts(dt.date(2024, 1, 17))
    with freeze_time(eastern(2024, 1, 18, 9, 0)):
        booking.run_campaigns()
        [waiting] = Message.objects.filter(campaign=follow_up, status="queued")
        services.cancel_campaign(campaign=campaign)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.error) == ("cancelled", "Not sent: Campaign cancelled")
    assert member_of(follow_up, waiting.contact).held_because == "campaign_cancelled"
    assert Campaign.objects.get(pk=follow_up.pk).status == "cancelled"


def test_a_follow_up_is_not_started_alone_nor_given_contacts_of_its_own():
    campaign, follow_up = a_campaign()
    add_audience(campaign, 1)
    with pytest.raises(errors.CampaignLocked, match="starts with its campaign"):
        services.start_campaign(campaign=follow_up)
    with pytest.raises(errors.FollowUpTakesNoContacts):
        audience.add_contacts_by_id(campaign=follow_up, contact_ids=[ContactFactory().pk])
    with pytest.raises(errors.CampaignLocked, match="edited with its campaign"):
        services.update_campaign(campaign=follow_up, template_a="New words")
    assert Campaign.objects.get(pk=follow_up.pk).status == "draft"


def test_the_follow_up_completes_once_its_campaign_has_and_everyone_had_their_turn():
    campaign, follow_up = a_campaign()
    started(campaign, 2)
    campaign.refresh_from_db()
    assert campaign.status == "completed"  # Tuesday: everyone got the first text
    a_day_of_texts(dt.date(2024, 1, 17))
    follow_up.refresh_from_db()
    assert follow_up.status == "active"  # Tuesday's members are due Thursday

    a_day_of_texts(dt.date(2024, 1, 18))

    follow_up.refresh_from_db()
    assert follow_up.status == "completed"
    assert follow_up.sends.count() == 2


def test_editing_the_campaign_edits_what_its_follow_up_takes_from_it():
    campaign, follow_up = a_campaign()
    services.update_campaign(campaign=campaign, name="Summer", frequency_cap_days=7, from_number="+16175550188")
    follow_up.refresh_from_db()
    assert (follow_up.name, follow_up.frequency_cap_days, follow_up.from_number) == (
        "Summer (follow-up)", 7, "+16175550188",
    )  # fmt: skip
    again = services.set_follow_up(campaign=campaign, template_a="Again?", template_b="Still?", after_days=5)
    assert again.pk == follow_up.pk
    assert (again.template_b, again.follow_up_after_days) == ("Still?", 5)


@override_settings(SMS_DAILY_LIMIT_PER_NUMBER=5)
def test_the_launch_confirmation_counts_the_days_the_follow_ups_take(owner_pages):
    campaign, _ = a_campaign(daily_limit=125)
    add_audience(campaign, 20)
    calendar = BusinessCalendar.from_settings()

    plan = selectors.launch_plan(campaign, starts_at=TUESDAY, calendar=calendar)
    with freeze_time(TUESDAY):
        page = owner_pages.get(reverse("campaigns:start", args=[campaign.pk])).content.decode()

    # Tuesday 5, Wednesday 5, Thursday and Friday the follow-ups', Monday 5, Tuesday 5.
    assert (plan.first_day_texts, plan.rest, plan.rest_days) == (5, 15, 5)
    assert "after each first text, those who have not written back get the follow-up text" in page
    services.remove_follow_up(campaign=campaign)
    assert selectors.launch_plan(campaign, starts_at=TUESDAY, calendar=calendar).rest_days == 3


def test_a_follow_up_cancelled_alone_stays_as_it_ran_and_its_campaign_still_edits():
    campaign, follow_up = a_campaign()
    services.cancel_campaign(campaign=follow_up)

    services.update_campaign(campaign=campaign, name="Renamed")
    same = services.set_follow_up(campaign=campaign, template_a=follow_up.template_a, after_days=2)

    assert same.pk == follow_up.pk
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.name) == ("cancelled", "Spring (follow-up)")
    with pytest.raises(errors.CampaignLocked, match="cannot change"):
        services.set_follow_up(campaign=campaign, template_a="New words", after_days=2)
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_a_follow_up_given_to_a_campaign_that_texted_already_texts_only_those_not_yet_due():
    campaign = services.create_campaign(name="Spring", template_a="Spring: hi {name}", from_number=SHOP_NUMBER)
    Campaign.objects.filter(pk=campaign.pk).update(status="active")
    texted = {}
    for when in (eastern(2024, 1, 2, 10, 0), TUESDAY):  # two weeks ago, and Tuesday
        send = CampaignSendFactory(campaign=campaign, status="sent", sent_at=when, scheduled_for=when)
        CampaignContactFactory(campaign=campaign, contact=send.contact, status="sent")
        texted[when] = send.contact
    add_audience(campaign, 1)  # still to text: the campaign runs on

    with freeze_time(eastern(2024, 1, 17, 8, 0)):  # Wednesday, before the day's first run
        follow_up = services.set_follow_up(campaign=campaign, template_a="Spring again: {name}?", after_days=2)
    a_day_of_texts(dt.date(2024, 1, 17))
    a_day_of_texts(dt.date(2024, 1, 18))

    # Texted two weeks ago, their follow-up was due long before it existed: not out of the blue.
    assert texts_to(texted[eastern(2024, 1, 2, 10, 0)], follow_up) == []
    assert len(texts_to(texted[TUESDAY], follow_up)) == 1
