""" "What came of it" on the thread and the contact page: recording an outcome, seeing where it went,
correcting and withdrawing it with the history kept, and what the pages refuse."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from freezegun import freeze_time

from campaigns.models import Outcome
from campaigns.outcomes import correct_outcome, record_conversation_outcome, withdraw_outcome
from tests.factories import CampaignFactory, CampaignSendFactory, ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MAR_4 = dt.date(2024, 3, 4)


@pytest.fixture(autouse=True)
def _monday_march_4th():
    with freeze_time("2024-03-04 15:00:00"):  # 10 am in Boston
        yield


@pytest.fixture
def mary():
    """Mary got the Spring mailer's text B on March 1st and answered it."""
    mary = ContactFactory(first_name="Mary", last_name="Walsh")
    sent = dt.datetime(2024, 3, 1, 15, tzinfo=dt.UTC)
    send = CampaignSendFactory(
        campaign=CampaignFactory(name="Spring mailer"),
        contact=mary,
        variant="B",
        scheduled_for=sent,
        status="delivered",
        sent_at=sent,
    )
    InboundMessageFactory(
        contact=mary, body="Yes, how much?", created_at=sent + dt.timedelta(hours=1), in_reply_to_send=send
    )
    return mary


def thread_url(contact) -> str:
    return reverse("messaging:thread", args=[contact.pk])


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def text_of(response) -> str:
    """The page's words: each tag a space, each run of white space one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_an_outcome_recorded_from_the_thread_shows_where_it_went(staff_client, mary, staff_user):
    response = staff_client.post(
        reverse("record-outcome", args=[mary.pk]),
        {"outcome-kind": "inspection_booked", "outcome-on": "2024-03-04", "next": thread_url(mary)},
    )

    assert response.status_code == 302
    assert response["Location"] == thread_url(mary) + "#outcomes"
    outcome = Outcome.objects.get()
    assert (outcome.kind, outcome.on, outcome.campaign.name, outcome.variant, outcome.recorded_by) == (
        "inspection_booked",
        MAR_4,
        "Spring mailer",
        "B",
        staff_user,
    )
    assert said(response) == ["Recorded: Inspection booked on Mar 4, 2024, from Spring mailer, text B."]
    page = text_of(staff_client.get(thread_url(mary)))
    assert "Inspection booked, Mar 4, 2024 — from Spring mailer, text B: Mary answered it on Mar 1" in page


def test_the_contact_page_shows_the_history_of_a_corrected_and_a_withdrawn_outcome(staff_client, mary, staff_user):
    booked = record_conversation_outcome(contact=mary, kind="inspection_booked", on=dt.date(2024, 3, 2), by=staff_user)
    correct_outcome(outcome=booked, kind="job_won", on=dt.date(2024, 3, 2), amount=Decimal("12500"), by=staff_user)
    lost = record_conversation_outcome(contact=mary, kind="lost", on=dt.date(2024, 3, 3))
    withdraw_outcome(outcome=lost, note="Wrong contact", by=staff_user)

    page = text_of(staff_client.get(reverse("contacts:detail", args=[mary.pk])))

    assert "Job won, $12,500.00, Mar 2, 2024 — from Spring mailer, text B: Mary answered it on Mar 1" in page
    assert f"Recorded Mar 4, 2024 10:00 AM by {staff_user}: Inspection booked, Mar 2, 2024 Corrected" in page
    assert f"Corrected Mar 4, 2024 10:00 AM by {staff_user} Correct or withdraw" in page
    assert "Withdrawn Lost, Mar 3, 2024" in page
    assert f"Withdrawn Mar 4, 2024 10:00 AM by {staff_user} · “Wrong contact”" in page
    assert page.index("Job won, $12,500.00") < page.index("Withdrawn Lost")  # what counts comes first


def test_a_correction_that_moved_the_day_keeps_where_the_old_version_went_in_its_history(staff_client, mary):
    booked = record_conversation_outcome(contact=mary, kind="inspection_booked", on=MAR_4)
    correct_outcome(outcome=booked, kind="inspection_booked", on=dt.date(2024, 2, 28))  # before she answered

    page = text_of(staff_client.get(thread_url(mary)))

    assert "Inspection booked, Feb 28, 2024 — from no campaign" in page
    assert (
        "Inspection booked, Mar 4, 2024 — from Spring mailer, text B: Mary answered it on Mar 1 Corrected Mar 4, 2024"
        in page
    )


def test_an_outcome_with_no_campaign_answer_says_so(staff_client):
    contact = ContactFactory(first_name="Ivy")
    record_conversation_outcome(contact=contact, kind="estimate_sent", on=MAR_4)

    page = text_of(staff_client.get(thread_url(contact)))

    assert "Estimate sent, Mar 4, 2024 — from no campaign: no answer to a campaign text in the 90 days before" in page


def test_a_correction_and_a_withdrawal_from_the_page(staff_client, mary):
    booked = record_conversation_outcome(contact=mary, kind="inspection_booked", on=MAR_4)
    prefix = f"outcome-{booked.pk}"

    corrected = staff_client.post(
        reverse("correct-outcome", args=[mary.pk, booked.pk]),
        {
            f"{prefix}-kind": "job_won",
            f"{prefix}-on": "2024-03-04",
            f"{prefix}-amount": "9800",
            "next": thread_url(mary),
        },
    )
    correction = Outcome.objects.current().get()
    withdrawn = staff_client.post(
        reverse("withdraw-outcome", args=[mary.pk, correction.pk]),
        {f"outcome-{correction.pk}-note": "They backed out", "next": thread_url(mary)},
    )

    assert corrected.status_code == withdrawn.status_code == 302
    assert said(corrected) == [
        "Corrected: Job won ($9,800.00) on Mar 4, 2024, from Spring mailer, text B. "
        "What it replaced stays in the history."
    ]
    assert (correction.kind, correction.amount, correction.replaces) == ("job_won", Decimal("9800"), booked)
    assert not Outcome.objects.current().exists()
    assert Outcome.objects.filter(withdrawn=True, replaces=correction, note="They backed out").exists()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"outcome-kind": "job_won", "outcome-on": "2024-03-04"}, "A job won needs its amount"),
        (
            {"outcome-kind": "lost", "outcome-on": "2024-03-04", "outcome-amount": "50"},
            "Only a job won has an amount",
        ),
        ({"outcome-kind": "lost", "outcome-on": "2024-03-05"}, "cannot be after today (Mar 4, 2024)"),
        ({"outcome-kind": "booked", "outcome-on": "2024-03-04"}, "Outcome: Select a valid choice."),
        ({"outcome-kind": "lost", "outcome-on": "soon"}, "On: Enter a valid date."),
        (
            {"outcome-kind": "job_won", "outcome-on": "2024-03-04", "outcome-amount": "lots"},
            "Amount ($): Enter a number.",
        ),
    ],
)
def test_what_cannot_be_recorded_is_said_on_the_page_and_nothing_is_stored(staff_client, mary, fields, words):
    response = staff_client.post(reverse("record-outcome", args=[mary.pk]), {**fields, "next": thread_url(mary)})

    assert response.status_code == 302
    [message] = said(response)
    assert words in message
    assert not Outcome.objects.exists()


def test_correcting_an_outcome_already_corrected_is_refused_on_the_page(staff_client, mary):
    booked = record_conversation_outcome(contact=mary, kind="inspection_booked", on=MAR_4)
    correct_outcome(outcome=booked, kind="inspection_done", on=MAR_4)
    prefix = f"outcome-{booked.pk}"

    response = staff_client.post(
        reverse("correct-outcome", args=[mary.pk, booked.pk]), {f"{prefix}-kind": "lost", f"{prefix}-on": "2024-03-04"}
    )

    assert "already corrected" in said(response)[0]
    assert Outcome.objects.count() == 2
    assert Outcome.objects.current().get().kind == "inspection_done"


def test_a_next_address_on_another_site_goes_back_to_the_contact_page(staff_client, mary):
    response = staff_client.post(
        reverse("record-outcome", args=[mary.pk]),
        {"outcome-kind": "lost", "outcome-on": "2024-03-04", "next": "https://evil.example.com/"},
    )

    assert response["Location"] == reverse("contacts:detail", args=[mary.pk]) + "#outcomes"


def test_the_form_asks_for_today_in_business_time(staff_client, mary):
    with freeze_time("2024-03-05 03:30:00"):  # 10:30 pm on March 4th in Boston
        form = staff_client.get(thread_url(mary)).context["outcome_form"]

    assert form["on"].value() == MAR_4
    assert 'max="2024-03-04"' in str(form["on"])


def test_only_staff_record_outcomes(client, mary):
    response = client.post(
        reverse("record-outcome", args=[mary.pk]), {"outcome-kind": "lost", "outcome-on": "2024-03-04"}
    )

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Outcome.objects.exists()


@pytest.mark.parametrize("page", ["messaging:thread", "contacts:detail"])
def test_the_pages_cost_the_same_queries_however_many_outcomes(staff_client, django_assert_max_num_queries, page):
    def contact_with(outcomes: int):
        contact = ContactFactory()
        for n in range(outcomes):
            booked = record_conversation_outcome(contact=contact, kind="inspection_booked", on=MAR_4)
            won = correct_outcome(outcome=booked, kind="job_won", on=MAR_4, amount=Decimal(1000 + n))
            if n % 2:
                withdraw_outcome(outcome=won)
        return contact

    few, many = contact_with(1), contact_with(12)
    with django_assert_max_num_queries(20) as queries:
        staff_client.get(reverse(page, args=[few.pk]))
    with django_assert_max_num_queries(len(queries)):
        response = staff_client.get(reverse(page, args=[many.pk]))

    assert len(response.context["outcome_histories"]) == 12
