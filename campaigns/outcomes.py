"""What came of a conversation (``campaigns.models.Outcome``): recording it, correcting it,
withdrawing it, and the one rule that says which campaign text it is owed to.

**Attribution.** An outcome goes to the campaign, and the variant, of the campaign text the person
last answered: their latest reply from a person (``Message.objects.from_people()``: not STOP,
START or HELP, nor another opt-out, nor a phone answering by itself) that answers a campaign text
(``in_reply_to_send``: webhook processing ties a reply to the latest campaign text sent to them
within the 72 hours before it, ``messaging.webhook_processing.REPLY_ATTRIBUTION_WINDOW``), received
on or before the outcome's day (in business time) and at most ``ATTRIBUTION_WINDOW_DAYS`` (90)
days before it. Without such a reply it goes to no campaign. So:

- a newer campaign that texted them without an answer takes nothing from the one they answered;
- staff texts in between change nothing: a reply within 72 hours of a campaign text answers that
  text even if staff wrote since, and a reply that answers only a staff text (more than 72 hours
  after any campaign text) is no campaign's answer, so the campaign answered before keeps it;
- the variant is the one the answered text was booked and sent as.

**Corrections keep history.** Nothing is edited in place: a correction is a new outcome that
replaces the old one (which stays, no longer counted), and a withdrawal ("it did not happen") is
a correction marked ``withdrawn``. A correction that keeps the day keeps the attribution it was
recorded with: a reply that arrived after it was recorded cannot have led to it. One that moves
the day is attributed again by the same rule, from the replies on or before the new day.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from attackacrack.errors import ApplicationError
from campaigns.calendar import business_today
from campaigns.models import Outcome
from contacts.models import Contact
from messaging.models import Message

# How far back a reply still earns a campaign the outcome: an inspection is usually booked within
# days of the conversation, and a job won within weeks of the estimate.
ATTRIBUTION_WINDOW_DAYS = 90
MAX_AMOUNT = Decimal("100000000")  # the column holds ten digits, two of them cents
MAX_NOTE_LENGTH = 2000


class OutcomeRefused(ApplicationError):
    """What was said of an outcome cannot be recorded; ``loc`` names the field at fault."""

    status = 422
    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.loc = ("body", field)


class OutcomeAlreadyCorrected(ApplicationError):
    """Only the latest version of an outcome can be corrected or withdrawn."""

    code = "outcome_replaced"


def answered_campaign_text(*, contact_id: int, on: dt.date) -> Message | None:
    """The reply an outcome on ``on`` rests on (see the module's rule), with its campaign text's
    booking and campaign; None when there is none."""
    zone = ZoneInfo(settings.BUSINESS_TIME_ZONE)
    window_opens = dt.datetime.combine(on - dt.timedelta(days=ATTRIBUTION_WINDOW_DAYS), dt.time(), tzinfo=zone)
    day_ends = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return (
        Message.objects.from_people()
        .filter(
            contact_id=contact_id,
            direction=Message.Direction.INBOUND,
            in_reply_to_send__isnull=False,
            created_at__gte=window_opens,
            created_at__lt=day_ends,
        )
        .select_related("in_reply_to_send__campaign")
        .order_by("-created_at", "-id")
        .first()
    )


def _attributed(outcome: Outcome, reply: Message | None) -> Outcome:
    send = reply.in_reply_to_send if reply is not None else None
    outcome.answered = reply if send is not None else None
    outcome.campaign = send.campaign if send is not None else None
    outcome.variant = send.variant if send is not None else ""
    return outcome


def _checked(*, kind: str, on: dt.date | None, amount: Decimal | None, note: str) -> None:
    """Refuse what cannot be recorded, naming the field, before the database would."""
    if kind not in Outcome.Kind.values:
        names = ", ".join(label.lower() for label in Outcome.Kind.labels)
        raise OutcomeRefused("kind", f"Say what came of it: one of {names}.")
    if on is None:
        raise OutcomeRefused("on", "Give the day it happened.")
    today = business_today()
    if on > today:
        raise OutcomeRefused("on", f"The day it happened cannot be after today ({today:%b %-d, %Y}).")
    if kind == Outcome.Kind.JOB_WON:
        if amount is None or amount <= 0:
            raise OutcomeRefused("amount", "A job won needs its amount in dollars, above $0.")
        if amount >= MAX_AMOUNT or amount.as_tuple().exponent < -2:
            raise OutcomeRefused("amount", "Give the amount in dollars and cents, under $100,000,000.")
    elif amount is not None:
        label = Outcome.Kind(kind).label.lower()
        raise OutcomeRefused("amount", f"Only a job won has an amount, not “{label}”: leave the amount out.")
    if len(note) > MAX_NOTE_LENGTH:
        raise OutcomeRefused("note", f"Keep the note under {MAX_NOTE_LENGTH:,} characters.")


def record_conversation_outcome(
    *,
    contact: Contact,
    kind: str,
    on: dt.date | None,
    amount: Decimal | None = None,
    note: str = "",
    by: AbstractBaseUser | None = None,
) -> Outcome:
    """Record what came of a conversation with ``contact``, attributed by the module's rule."""
    _checked(kind=kind, on=on, amount=amount, note=note)
    outcome = Outcome(
        contact=contact, kind=kind, on=on, amount=amount, note=note, recorded_by=by, recorded_at=timezone.now()
    )
    _attributed(outcome, answered_campaign_text(contact_id=contact.pk, on=on))
    outcome.save()
    return outcome


def _latest(outcome: Outcome) -> Outcome:
    """The outcome locked, refused unless nothing has replaced it yet (two people correcting the
    same outcome at once: the second finds the first's correction)."""
    locked = Outcome.objects.select_for_update().get(pk=outcome.pk)
    corrected = Outcome.objects.filter(replaces=locked).first()
    if corrected is not None:
        what = "withdrawn" if corrected.withdrawn else "corrected"
        raise OutcomeAlreadyCorrected(
            f"This outcome was already {what} ({timezone.localtime(corrected.recorded_at):%b %-d, %Y %-I:%M %p}): "
            "correct the latest version."
        )
    return locked


@transaction.atomic
def correct_outcome(
    *,
    outcome: Outcome,
    kind: str,
    on: dt.date | None,
    amount: Decimal | None = None,
    note: str = "",
    by: AbstractBaseUser | None = None,
) -> Outcome:
    """Say what really came of it: a new outcome replaces ``outcome``, which stays on record and no
    longer counts. The day kept, the attribution is kept; a new day is attributed again. Correcting
    a withdrawal puts the outcome back."""
    _checked(kind=kind, on=on, amount=amount, note=note)
    old = _latest(outcome)
    correction = Outcome(
        contact_id=old.contact_id,
        kind=kind,
        on=on,
        amount=amount,
        note=note,
        replaces=old,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    if on == old.on:
        correction.campaign_id, correction.answered_id = old.campaign_id, old.answered_id
        correction.variant = old.variant
    else:
        _attributed(correction, answered_campaign_text(contact_id=old.contact_id, on=on))
    correction.save()
    return correction


@transaction.atomic
def withdraw_outcome(*, outcome: Outcome, note: str = "", by: AbstractBaseUser | None = None) -> Outcome:
    """It did not happen: a withdrawal replaces ``outcome`` (both stay on record) and nothing of it
    counts any more."""
    if len(note) > MAX_NOTE_LENGTH:
        raise OutcomeRefused("note", f"Keep the note under {MAX_NOTE_LENGTH:,} characters.")
    old = _latest(outcome)
    if old.withdrawn:
        raise OutcomeAlreadyCorrected("This outcome is already withdrawn.")
    return Outcome.objects.create(
        contact_id=old.contact_id,
        kind=old.kind,
        on=old.on,
        amount=old.amount,
        note=note,
        campaign_id=old.campaign_id,
        variant=old.variant,
        answered_id=old.answered_id,
        replaces=old,
        withdrawn=True,
        recorded_by=by,
        recorded_at=timezone.now(),
    )


# --- Reading ----------------------------------------------------------------------------------


@dataclass
class OutcomeHistory:
    """One outcome as it stands (``latest``: counted, or a withdrawal) and the versions it
    corrected, newest first."""

    latest: Outcome
    earlier: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> bool:
        return not self.latest.withdrawn

    @property
    def versions(self) -> list[tuple[str, Outcome]]:
        """Every version, the first recorded first, each with what it did."""
        chain = [*reversed(self.earlier), self.latest]
        return [
            (_what_it_did(before, outcome), outcome) for before, outcome in zip([None, *chain[:-1]], chain, strict=True)
        ]


def _what_it_did(before: Outcome | None, outcome: Outcome) -> str:
    if before is None:
        return "Recorded"
    if outcome.withdrawn:
        return "Withdrawn"
    return "Put back" if before.withdrawn else "Corrected"


def contact_outcomes(contact: Contact) -> list[Outcome]:
    """Every outcome recorded for ``contact``, corrections and withdrawals included, the latest
    recorded first, with what the pages and the API show of each (one query)."""
    return list(
        Outcome.objects.filter(contact=contact)
        .select_related("campaign", "answered", "recorded_by", "replaced_by")
        .order_by("-recorded_at", "-id")
    )


def outcome_histories(outcomes: list[Outcome]) -> list[OutcomeHistory]:
    """``contact_outcomes`` as each outcome's history: those that count first, by their day, the
    newest first; then the withdrawn."""
    by_id = {outcome.pk: outcome for outcome in outcomes}
    histories = []
    for outcome in outcomes:
        if replacement(outcome) is not None:
            continue
        history = OutcomeHistory(latest=outcome)
        earlier = by_id.get(outcome.replaces_id)
        while earlier is not None:
            history.earlier.append(earlier)
            earlier = by_id.get(earlier.replaces_id)
        histories.append(history)
    histories.sort(key=lambda history: (history.latest.on, history.latest.recorded_at), reverse=True)
    histories.sort(key=lambda history: not history.counts)
    return histories


def counts(outcome: Outcome) -> bool:
    """Whether it counts: neither corrected nor withdrawn (as ``Outcome.objects.current()``)."""
    return not outcome.withdrawn and replacement(outcome) is None


def replacement(outcome: Outcome) -> Outcome | None:
    """The correction or withdrawal that replaced ``outcome``, or None (no query for the outcomes
    ``contact_outcomes`` read)."""
    try:
        return outcome.replaced_by
    except Outcome.DoesNotExist:
        return None
