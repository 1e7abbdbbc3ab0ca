"""Why a person is not texted: the one vocabulary every page, the API and the exports speak.

A reason is a code (stored where it is decided: ``CampaignContact.held_because``,
``Contact.not_textable_because``, each checked by the database) and a label, what every page
and export says of it; beside the code each row keeps the detail of its case (which list, which
campaign, the provider's words). Pages read labels from here, never spell a reason themselves.

Who gives which: a contact's own number and opt-out (`Contact.not_texted`); the rules of the
table, each naming the reasons its refusals give (`campaigns.compliance.rules`); booking's
refusals by the slot (`campaigns.booking`); what became of a text (`campaigns.sends`).

A reason holds a campaign member one of three ways: out for good (a failed text staff may try
again), until a person decides, or until a time, keeping their place in the queue.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.db.models import Case, F, Value, When

# The numbers a registered US business number cannot text, which the database tells from the
# number and its line type (``Contact.not_textable_because``).
NOT_A_MOBILE_NUMBER = "Not a mobile number"


class Reason(models.TextChoices):
    OPTED_OUT = "opted_out", "Opted out"
    LANDLINE = "landline", f"{NOT_A_MOBILE_NUMBER}: landline"
    TOLL_FREE = "toll_free", f"{NOT_A_MOBILE_NUMBER}: toll-free"
    FOREIGN_NUMBER = "foreign_number", f"{NOT_A_MOBILE_NUMBER}: foreign"
    ON_DO_NOT_CALL_LIST = "on_do_not_call_list", "On a Do-Not-Call list"
    WRITTEN_CONSENT_REQUIRED = "written_consent_required", "Written consent required"
    NOT_A_CUSTOMER = "not_a_customer", "Not a customer (informational texts)"
    TEXTED_US_BEFORE = "texted_us_before", "Texted us before: this campaign skips them"
    TEXT_FAILED = "text_failed", "Text failed"
    CAMPAIGN_CANCELLED = "campaign_cancelled", "Campaign cancelled"
    REPLIED = "replied", "Wrote to us since the text before: no follow-up"
    FOLLOW_UP_CANCELLED = "follow_up_cancelled", "Follow-up cancelled by staff"
    REVIEW_TEXTED_US_BEFORE = "review_texted_us_before", "Waiting for a person to decide: texted us before"
    REVIEW_POSSIBLE_OPT_OUT = "review_possible_opt_out", "Waiting for a person to decide: a possible opt-out"
    TEXTED_BY_ANOTHER_CAMPAIGN = "texted_by_another_campaign", "Waiting: texted by another campaign lately"
    OUTSIDE_HOURS = "outside_hours", "Waiting: outside the hours they may be texted"
    STATE_CAP = "state_cap", "Waiting: their state's cap of texts is reached"
    DAILY_LIMIT_FULL = "daily_limit_full", "Waiting: the day's limit is full"
    STALE_DO_NOT_CALL_COPY = "stale_do_not_call_copy", "Waiting: a Do-Not-Call list copy is out of date"
    MISSED_SLOT = "missed_slot", "Waiting to be booked again: its slot went by"
    REPLIES_UNHEARD = "replies_unheard", "Waiting: their replies may not have reached us"


class Holds(StrEnum):
    """How a reason holds a campaign member."""

    FOR_GOOD = "for good"
    FOR_A_PERSON = "for a person"
    UNTIL_A_TIME = "until a time"


HOLDS: dict[Reason, Holds] = {
    Reason.OPTED_OUT: Holds.FOR_GOOD,
    Reason.LANDLINE: Holds.FOR_GOOD,
    Reason.TOLL_FREE: Holds.FOR_GOOD,
    Reason.FOREIGN_NUMBER: Holds.FOR_GOOD,
    Reason.ON_DO_NOT_CALL_LIST: Holds.FOR_GOOD,
    Reason.WRITTEN_CONSENT_REQUIRED: Holds.FOR_GOOD,
    Reason.NOT_A_CUSTOMER: Holds.FOR_GOOD,
    Reason.TEXTED_US_BEFORE: Holds.FOR_GOOD,
    Reason.TEXT_FAILED: Holds.FOR_GOOD,
    Reason.CAMPAIGN_CANCELLED: Holds.FOR_GOOD,
    Reason.REPLIED: Holds.FOR_GOOD,
    Reason.FOLLOW_UP_CANCELLED: Holds.FOR_GOOD,
    Reason.REVIEW_TEXTED_US_BEFORE: Holds.FOR_A_PERSON,
    Reason.REVIEW_POSSIBLE_OPT_OUT: Holds.FOR_A_PERSON,
    Reason.TEXTED_BY_ANOTHER_CAMPAIGN: Holds.UNTIL_A_TIME,
    Reason.OUTSIDE_HOURS: Holds.UNTIL_A_TIME,
    Reason.STATE_CAP: Holds.UNTIL_A_TIME,
    Reason.DAILY_LIMIT_FULL: Holds.UNTIL_A_TIME,
    Reason.STALE_DO_NOT_CALL_COPY: Holds.UNTIL_A_TIME,
    Reason.MISSED_SLOT: Holds.UNTIL_A_TIME,
    Reason.REPLIES_UNHEARD: Holds.UNTIL_A_TIME,
}

NUMBER_REASONS = (Reason.LANDLINE, Reason.TOLL_FREE, Reason.FOREIGN_NUMBER)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9-]+", text.lower()))


@dataclass(frozen=True)
class NotTexted:
    """Why one person is not texted: the reason, and the detail of their case."""

    because: Reason
    detail: str = ""
    # Said of a contact rather than a campaign member: the reason holds marketing texts only
    # (a Do-Not-Call list, written consent), and a reply or an informational text may still go.
    marketing_only: bool = False

    @property
    def label(self) -> str:
        if self.marketing_only:
            label = self.because.label
            return f"No marketing texts: {label[0].lower()}{label[1:]}"
        return self.because.label

    @property
    def holds(self) -> Holds:
        return HOLDS[self.because]

    @property
    def detail_shown(self) -> str:
        """The detail, unless it only says the label again ("Opted out" beside "Opted out")."""
        return "" if _words(self.detail) == _words(self.label) else self.detail


def of_contact(
    *, opted_out: bool, opt_out_reason: str, not_textable_because: str, not_textable_reason: str
) -> NotTexted | None:
    """Why nobody may text this contact at all, whatever the campaign: their opt-out first, then
    their number; None when they may be texted."""
    if opted_out:
        return NotTexted(Reason.OPTED_OUT, opt_out_reason)
    if not_textable_because:
        return NotTexted(Reason(not_textable_because), not_textable_reason)
    return None


def contact_reason(prefix: str = "") -> tuple[Case, Case]:
    """`of_contact` in SQL, on contacts (or on rows reaching a contact through ``prefix``, e.g.
    ``contact__``): its code ("" when none) and its detail."""
    opted_out = When(**{f"{prefix}opted_out_at__isnull": False}, then=Value(Reason.OPTED_OUT.value))
    code = Case(opted_out, default=F(f"{prefix}not_textable_because"), output_field=models.CharField())
    detail = Case(
        When(**{f"{prefix}opted_out_at__isnull": False}, then=F(f"{prefix}opt_out_reason")),
        default=F(f"{prefix}not_textable_reason"),
        output_field=models.CharField(),
    )
    return code, detail


def counted(counts: dict[str, int]) -> list[tuple[Reason, int]]:
    """Counts by reason code, in the vocabulary's order (kept out, then waiting), none left out."""
    return [(reason, counts[reason.value]) for reason in Reason if counts.get(reason.value)]
