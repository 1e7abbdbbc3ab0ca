"""What came of a conversation: which campaign text an outcome is owed to, and how a correction or a
withdrawal keeps what was recorded. Replies arrive through webhook processing itself, so each one
is tied to a campaign text (or not) exactly as in production."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from campaigns import outcomes
from campaigns.models import Campaign, Outcome
from campaigns.outcomes import (
    OutcomeAlreadyCorrected,
    OutcomeRefused,
    correct_outcome,
    outcome_histories,
    record_conversation_outcome,
    withdraw_outcome,
)
from messaging.backends.base import HistoryRecord
from messaging.intent import ReplyIntent
from messaging.models import Message
from messaging.webhook_processing import apply_message_event
from tests.factories import SHOP_NUMBER, CampaignFactory, CampaignSendFactory, ContactFactory, MessageFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
MAR_1 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=NEW_YORK)


def at(days: float, hour: int = 10) -> dt.datetime:
    """``days`` after March 1st, 2024, at ``hour`` in New York."""
    return MAR_1.replace(hour=hour) + dt.timedelta(days=days)


def day(days: int) -> dt.date:
    return at(days).date()


def campaign_text(contact, campaign: Campaign, when: dt.datetime, variant: str = "A"):
    """A campaign text delivered to ``contact`` at ``when``."""
    return CampaignSendFactory(
        campaign=campaign,
        contact=contact,
        variant=variant,
        scheduled_for=when,
        status=Message.Status.DELIVERED,
        sent_at=when,
        delivered_at=when,
    )


def staff_text(contact, when: dt.datetime) -> Message:
    return MessageFactory(contact=contact, kind=Message.Kind.STAFF, created_at=when, body="Does Tuesday work?")


_ids = iter(range(1, 10_000))


def reply(contact, body: str, when: dt.datetime) -> Message:
    """A text from ``contact`` as OpenPhone's webhook brings it, processed as in production."""
    external_id = f"ACreply{next(_ids):026d}"
    record = HistoryRecord(
        external_id=external_id,
        status="received",
        to_numbers=(SHOP_NUMBER,),
        body=body,
        created_at=when,
        direction="incoming",
        from_number=contact.phone,
    )
    with freeze_time(when):
        apply_message_event("message.received", record, received_at=when)
    return Message.objects.get(external_id=external_id)


def record(contact, kind: str = "inspection_booked", on: dt.date | None = None, **fields) -> Outcome:
    return record_conversation_outcome(contact=contact, kind=kind, on=on or day(3), **fields)


@pytest.fixture
def mary():
    return ContactFactory(first_name="Mary")


@pytest.fixture(autouse=True)
def _march(settings):
    settings.BUSINESS_TIME_ZONE = "America/New_York"
    with freeze_time(at(120)):
        yield


def test_an_outcome_goes_to_the_campaign_and_variant_whose_text_they_answered(mary, staff_user):
    spring = CampaignFactory(name="Spring mailer")
    campaign_text(mary, spring, at(0), variant="B")
    answer = reply(mary, "Yes, how much for an inspection?", at(0, hour=14))

    outcome = record(mary, on=day(3), note="Tuesday 9am", by=staff_user)

    outcome.refresh_from_db()
    assert (outcome.campaign, outcome.variant, outcome.answered) == (spring, "B", answer)
    assert (outcome.kind, outcome.on, outcome.note, outcome.recorded_by) == (
        "inspection_booked",
        day(3),
        "Tuesday 9am",
        staff_user,
    )
    assert outcome.recorded_at == timezone.now()


def test_someone_who_never_answered_a_campaign_text_gives_it_nothing(mary):
    campaign_text(mary, CampaignFactory(), at(0))  # texted, never answered

    outcome = record(mary)

    assert (outcome.campaign, outcome.variant, outcome.answered) == (None, "", None)


def test_a_reply_to_an_old_campaign_keeps_it_after_a_newer_campaign_texted_them_unanswered(mary):
    spring, summer = CampaignFactory(name="Spring"), CampaignFactory(name="Summer")
    campaign_text(mary, spring, at(0), variant="B")
    answer = reply(mary, "Interested, call me", at(1))
    campaign_text(mary, summer, at(10), variant="A")  # no answer to this one

    outcome = record(mary, on=day(12))

    assert (outcome.campaign, outcome.variant, outcome.answered) == (spring, "B", answer)


def test_the_campaign_answered_last_wins_when_they_answered_both(mary):
    spring, summer = CampaignFactory(name="Spring"), CampaignFactory(name="Summer")
    campaign_text(mary, spring, at(0))
    reply(mary, "Maybe later", at(1))
    campaign_text(mary, summer, at(10), variant="B")
    answer = reply(mary, "OK now I'm interested", at(11))

    assert (record(mary, on=day(12)).campaign, record(mary, on=day(12)).answered) == (summer, answer)
    assert record(mary, on=day(5)).campaign == spring  # an outcome before the second answer


def test_a_staff_text_between_the_campaign_text_and_the_reply_changes_nothing(mary):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0), variant="B")
    staff_text(mary, at(0, hour=15))
    answer = reply(mary, "Yes please, what day?", at(1))  # within 72 hours of the campaign text

    outcome = record(mary, on=day(2))

    assert (outcome.campaign, outcome.variant, outcome.answered) == (spring, "B", answer)


def test_a_reply_to_a_staff_text_days_later_leaves_the_campaign_they_answered_before(mary):
    """The person answered the campaign, staff followed up a week later, and the person answered
    that days after: the last reply answers no campaign text (over 72 hours since it), so it
    cannot steal the outcome; the campaign answered before keeps it."""
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0), variant="B")
    answer = reply(mary, "How much?", at(1))
    staff_text(mary, at(8))
    later = reply(mary, "Thursday works", at(11))

    outcome = record(mary, on=day(12))

    assert later.in_reply_to_send is None
    assert (outcome.campaign, outcome.answered) == (spring, answer)


def test_a_reply_only_to_a_staff_text_earns_the_unanswered_campaign_nothing(mary):
    campaign_text(mary, CampaignFactory(), at(0))
    staff_text(mary, at(5))
    reply(mary, "Sure, come by", at(6))  # answers the staff text, six days after the campaign's

    assert record(mary, on=day(7)).campaign is None


def test_a_reply_more_than_90_days_before_the_outcome_earns_nothing(mary):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0))
    reply(mary, "Interested", at(0, hour=23))  # 11 pm in New York: already March 2nd in UTC

    assert record(mary, on=day(90)).campaign == spring  # the reply's day is 90 days before
    assert record(mary, on=day(91)).campaign is None


def test_a_reply_after_the_outcomes_day_does_not_earn_it(mary):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0, hour=9))
    reply(mary, "Interested", at(1, hour=0) - dt.timedelta(minutes=1))  # 11:59 pm

    assert record(mary, on=day(0)).campaign == spring
    assert record(mary, on=day(-1)).campaign is None


@pytest.mark.parametrize(
    "body",
    ["I'm driving right now - I'll get back to you later.", "STOP", "Please stop texting me"],
    ids=["automatic reply", "STOP", "an opt-out in words"],
)
def test_an_automatic_reply_or_an_opt_out_is_not_an_answer(mary, body):
    spring, summer = CampaignFactory(), CampaignFactory()
    campaign_text(mary, spring, at(0))
    answer = reply(mary, "How much for a crack?", at(1))
    campaign_text(mary, summer, at(10))
    not_an_answer = reply(mary, body, at(10, hour=11))

    outcome = record(mary, on=day(12))

    assert not_an_answer.in_reply_to_send is not None  # tied to Summer's text, but no person wrote it
    assert (outcome.campaign, outcome.answered) == (spring, answer)


def test_a_reply_staff_relabel_as_automatic_stops_counting_as_an_answer(mary):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0))
    answer = reply(mary, "Auto: I am away", at(1))
    assert record(mary).campaign == spring

    Message.objects.filter(pk=answer.pk).update(intent=ReplyIntent.AUTOMATIC)

    assert record(mary).campaign is None


# --- Corrections and withdrawals ----------------------------------------------------------------


def test_a_correction_replaces_the_outcome_and_keeps_its_attribution_when_the_day_stays(mary, staff_user):
    spring, summer = CampaignFactory(), CampaignFactory()
    campaign_text(mary, spring, at(0), variant="B")
    answer = reply(mary, "Yes", at(1))
    with freeze_time(at(3, hour=9)):
        booked = record(mary, on=day(3))
    # The same afternoon they answer another campaign: that cannot have led to the morning's booking.
    campaign_text(mary, summer, at(3, hour=11))
    reply(mary, "Yes to this too", at(3, hour=15))

    corrected = correct_outcome(
        outcome=booked, kind="job_won", on=day(3), amount=Decimal("12500.00"), note="Signed", by=staff_user
    )

    corrected.refresh_from_db()
    assert (corrected.campaign, corrected.variant, corrected.answered) == (spring, "B", answer)
    assert (corrected.kind, corrected.amount, corrected.replaces, corrected.recorded_by) == (
        "job_won",
        Decimal("12500.00"),
        booked,
        staff_user,
    )
    assert list(Outcome.objects.current()) == [corrected]
    booked.refresh_from_db()
    assert (booked.kind, booked.amount, booked.replaced_by) == ("inspection_booked", None, corrected)  # kept as was


def test_a_correction_that_moves_the_day_is_attributed_again(mary):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(5))
    reply(mary, "Yes", at(6))
    done = record(mary, kind="inspection_done", on=day(8))
    assert done.campaign == spring

    earlier = correct_outcome(outcome=done, kind="inspection_done", on=day(4))  # before they ever answered

    assert (earlier.campaign, earlier.variant, earlier.answered) == (None, "", None)
    assert correct_outcome(outcome=earlier, kind="inspection_done", on=day(7)).campaign == spring


def test_a_withdrawal_leaves_nothing_counted_and_keeps_what_was_recorded(mary, staff_user):
    spring = CampaignFactory()
    campaign_text(mary, spring, at(0))
    reply(mary, "Yes", at(1))
    won = record(mary, kind="job_won", amount=Decimal("8000"))

    withdrawal = withdraw_outcome(outcome=won, note="They cancelled before we started", by=staff_user)

    assert not Outcome.objects.current().exists()
    assert Outcome.objects.count() == 2
    assert (withdrawal.withdrawn, withdrawal.replaces, withdrawal.kind, withdrawal.amount, withdrawal.campaign) == (
        True,
        won,
        "job_won",
        Decimal("8000"),
        spring,
    )
    assert withdrawal.note == "They cancelled before we started"


def test_correcting_a_withdrawal_puts_the_outcome_back(mary):
    booked = record(mary)
    withdrawal = withdraw_outcome(outcome=booked)

    back = correct_outcome(outcome=withdrawal, kind="inspection_booked", on=day(4))

    assert list(Outcome.objects.current()) == [back]
    assert back.withdrawn is False


def test_only_the_latest_version_can_be_corrected_or_withdrawn(mary):
    booked = record(mary)
    correct_outcome(outcome=booked, kind="inspection_done", on=day(4))

    with pytest.raises(OutcomeAlreadyCorrected, match="already corrected") as refused:
        correct_outcome(outcome=booked, kind="lost", on=day(4))
    assert refused.value.status == 409
    with pytest.raises(OutcomeAlreadyCorrected):
        withdraw_outcome(outcome=booked)
    withdrawal = withdraw_outcome(outcome=Outcome.objects.current().get())
    with pytest.raises(OutcomeAlreadyCorrected, match="already withdrawn"):
        withdraw_outcome(outcome=withdrawal)
    assert Outcome.objects.count() == 3
    assert not Outcome.objects.current().exists()


def test_two_corrections_of_the_same_outcome_at_once_leave_one(mary):
    """The second correction waits for the first's lock, then finds it (the database's one-to-one
    would refuse it anyway)."""
    booked = record(mary)
    stale = Outcome.objects.get(pk=booked.pk)
    with transaction.atomic():
        correct_outcome(outcome=booked, kind="inspection_done", on=day(4))
    with pytest.raises(OutcomeAlreadyCorrected):
        correct_outcome(outcome=stale, kind="lost", on=day(4))
    assert Outcome.objects.current().get().kind == "inspection_done"


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "booked"}, "kind", "Say what came of it"),
        ({"kind": ""}, "kind", "Say what came of it"),
        ({"on": None}, "on", "Give the day"),
        ({"on": day(121)}, "on", "cannot be after today (Jun 29, 2024)"),
        ({"kind": "job_won"}, "amount", "needs its amount"),
        ({"kind": "job_won", "amount": Decimal("0")}, "amount", "needs its amount"),
        ({"kind": "job_won", "amount": Decimal("-5")}, "amount", "needs its amount"),
        ({"kind": "job_won", "amount": Decimal("12.345")}, "amount", "dollars and cents"),
        ({"kind": "job_won", "amount": Decimal("100000000")}, "amount", "dollars and cents"),
        ({"kind": "inspection_booked", "amount": Decimal("500")}, "amount", "Only a job won has an amount"),
        ({"kind": "lost", "amount": Decimal("1")}, "amount", "Only a job won has an amount"),
        ({"note": "x" * 2001}, "note", "under 2,000 characters"),
    ],
)
def test_what_cannot_be_recorded_is_refused_naming_the_field(mary, fields, field, words):
    values = {"kind": "inspection_booked", "on": day(3), **fields}
    booked = record(mary)

    with pytest.raises(OutcomeRefused, match=re.escape(words)) as refused:
        record_conversation_outcome(contact=mary, **values)
    assert (refused.value.status, refused.value.loc) == (422, ("body", field))
    with pytest.raises(OutcomeRefused, match=re.escape(words)):
        correct_outcome(outcome=booked, **values)
    assert list(Outcome.objects.all()) == [booked]


@pytest.mark.parametrize(("utc", "latest"), [("2024-03-05 04:30", day(3)), ("2024-03-05 05:30", day(4))])
def test_today_is_the_business_day_not_utcs(mary, utc, latest):
    """At 11:30 pm in New York on March 4th it is already March 5th in UTC."""
    with freeze_time(utc):
        with pytest.raises(OutcomeRefused, match="after today"):
            record(mary, on=latest + dt.timedelta(days=1))
        assert record(mary, on=latest).on == latest


def test_the_history_shows_each_outcome_as_it_stands_with_what_it_corrected(mary):
    booked = record(mary, on=day(3))
    done = correct_outcome(outcome=booked, kind="inspection_done", on=day(5))
    won = correct_outcome(outcome=done, kind="job_won", on=day(9), amount=Decimal("9000"))
    estimate = record(mary, kind="estimate_sent", on=day(6))
    lost = record(mary, kind="lost", on=day(20))
    withdrawal = withdraw_outcome(outcome=lost)

    histories = outcome_histories(outcomes.contact_outcomes(mary))

    assert [(history.latest, history.earlier, history.counts) for history in histories] == [
        (won, [done, booked], True),
        (estimate, [], True),
        (withdrawal, [lost], False),
    ]
