"""An outcome's own invariants, held by the database whatever writes it."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Outcome
from tests.factories import CampaignFactory, ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 3, 4)


def outcome(**fields) -> Outcome:
    fields.setdefault("contact", ContactFactory())
    return Outcome.objects.create(on=DAY, recorded_at=timezone.now(), **fields)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [("job_won", None), ("job_won", 0), ("job_won", -100), ("inspection_booked", 500), ("lost", 1)],
)
def test_only_a_job_won_has_an_amount_and_it_is_above_zero(kind, amount):
    with pytest.raises(IntegrityError, match="outcome_amount_only_for_a_job_won"), transaction.atomic():
        outcome(kind=kind, amount=amount)
    assert not Outcome.objects.exists()


def test_an_attributed_outcome_names_its_variant_and_the_reply_it_rests_on():
    contact = ContactFactory()
    campaign = CampaignFactory()
    reply = InboundMessageFactory(contact=contact)

    with pytest.raises(IntegrityError, match="outcome_variant_with_its_campaign"), transaction.atomic():
        outcome(contact=contact, kind="inspection_booked", campaign=campaign, answered=reply)
    with pytest.raises(IntegrityError, match="outcome_attribution_rests_on_a_reply"), transaction.atomic():
        outcome(contact=contact, kind="inspection_booked", campaign=campaign, variant="A")
    with pytest.raises(IntegrityError, match="outcome_variant_with_its_campaign"), transaction.atomic():
        outcome(contact=contact, kind="inspection_booked", variant="B")

    kept = outcome(contact=contact, kind="job_won", amount="12500.00", campaign=campaign, variant="B", answered=reply)
    assert Outcome.objects.current().get() == kept


def test_a_correction_replaces_the_outcome_and_a_withdrawal_leaves_nothing_counted():
    booked = outcome(kind="inspection_booked")
    corrected = outcome(contact=booked.contact, kind="inspection_done", replaces=booked)
    assert list(Outcome.objects.current()) == [corrected]

    withdrawn = outcome(contact=booked.contact, kind="inspection_done", replaces=corrected, withdrawn=True)
    assert not Outcome.objects.current().exists()
    assert Outcome.objects.count() == 3  # what was recorded stays
    with pytest.raises(IntegrityError), transaction.atomic():
        outcome(contact=booked.contact, kind="lost", replaces=booked)  # one correction each
    assert withdrawn.replaces.replaces == booked
