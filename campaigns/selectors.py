"""Reads with business meaning for campaigns: what a text says, who is next, what is booked."""

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.timezone import localtime

from campaigns import texts
from campaigns.compliance import Recipient
from campaigns.models import Campaign, CampaignContact, CampaignSend, Variant
from contacts.models import Contact, Property, PropertyContact
from contacts.timezones import recipient_state
from messaging.models import Message


def daily_limit_per_day(campaign: Campaign) -> int:
    """Texts the campaign may book on one business day: its own limit within the number's."""
    return min(campaign.daily_limit, settings.SMS_DAILY_LIMIT_PER_NUMBER)


def is_first_text_to(contact: Contact) -> bool:
    if contact.pk is None:
        return True
    return not Message.objects.filter(contact=contact, direction=Message.Direction.OUTBOUND).exists()


@dataclass(frozen=True)
class Reader:
    """Whom a text is written for: the contact, the house it speaks of, and whether it is the
    contact's first text from us (which carries the opt-out footer when the campaign asks)."""

    contact: Contact
    home: Property | None
    first_text: bool
    is_sample: bool = False

    @classmethod
    def of(cls, contact: Contact) -> "Reader":
        return cls(contact=contact, home=contact.home, first_text=is_first_text_to(contact))


# Whom previews are written for while a campaign has no audience yet.
SAMPLE_READER = Reader(
    contact=Contact(first_name="Mary", last_name="Sullivan", city="Quincy", state="MA", address="12 Elm St"),
    home=Property(address="12 Elm St", city="Quincy", year_built=1954),
    first_text=True,
    is_sample=True,
)


def write_text(*, template: str, reader: Reader, include_opt_out_footer: bool) -> str:
    """A template filled in for its reader: the one place a campaign text is written."""
    text = texts.render(template, texts.contact_values(reader.contact, reader.home))
    return texts.with_opt_out_footer(text) if include_opt_out_footer and reader.first_text else text


def campaign_text(*, campaign: Campaign, contact: Contact, variant: str) -> str:
    """The exact text a contact gets from a campaign (after a declared winner, the winner's)."""
    return write_text(
        template=campaign.template_for(campaign.winner or variant),
        reader=Reader.of(contact),
        include_opt_out_footer=campaign.include_opt_out_footer,
    )


def preview_reader(campaign: Campaign | None) -> Reader:
    """Whom a campaign's previews are written for: its audience's first member, else the sample."""
    member = campaign.memberships.select_related("contact").order_by("id").first() if campaign else None
    return Reader.of(member.contact) if member else SAMPLE_READER


@dataclass(frozen=True)
class TextPreview:
    variant: str
    text: str
    cost: texts.SmsCost


def preview(*, variant: str, template: str, reader: Reader, include_opt_out_footer: bool) -> TextPreview:
    text = write_text(template=template, reader=reader, include_opt_out_footer=include_opt_out_footer)
    return TextPreview(variant=variant, text=text, cost=texts.sms_cost(text))


def text_previews(*, campaign: Campaign, reader: Reader) -> list[TextPreview]:
    """Each variant's text, as the reader would get it."""
    variants = [Variant.A, Variant.B] if campaign.template_b else [Variant.A]
    return [
        preview(
            variant=variant,
            template=campaign.template_for(variant),
            reader=reader,
            include_opt_out_footer=campaign.include_opt_out_footer,
        )
        for variant in variants
    ]


def member_list(*, campaign: Campaign, status: str | None = None) -> QuerySet[CampaignContact]:
    members = campaign.memberships.select_related("contact")
    if status:
        members = members.filter(status=status)
    return members


def recipient_of(contact: Contact) -> Recipient:
    """Whose rules apply to a text to this contact: their zone(s) and state."""
    house = contact.home
    return Recipient.of(contact.time_zone, recipient_state(contact.state, house.state if house else "", contact.phone))


class Waiting(NamedTuple):
    member_id: int
    contact_id: int
    variant: str
    recipient: Recipient


def waiting_members(campaign: Campaign) -> list[Waiting]:
    """Eligible members without a send, in the order they will be texted.

    One fixed order over the whole audience interleaves the variants in proportion to the split
    (a weighted round robin over members in the order they were added), so any day's batch, a
    prefix of what is left, is balanced between A and B; and a member whose booked send was
    released (a pause, a missed slot) keeps its place ahead of everyone not yet booked.
    """
    home_state = PropertyContact.objects.filter(contact_id=OuterRef("contact_id")).order_by(*PropertyContact.HOME_FIRST)
    rows = list(
        campaign.memberships.order_by("id")
        .annotate(home_state=Subquery(home_state.values("property__state")[:1]))
        .values_list(
            "id",
            "contact_id",
            "variant",
            "status",
            "contact__time_zone",
            "contact__state",
            "home_state",
            "contact__phone",
        )
    )
    if campaign.template_b:
        share = {Variant.A: campaign.split_percent_a / 100, Variant.B: 1 - campaign.split_percent_a / 100}
        seen = {Variant.A: 0, Variant.B: 0}
        keyed = []
        for index, row in enumerate(rows):
            variant = row[2]
            seen[variant] += 1
            # The k-th member of a variant with share s is due at position k / s.
            due = (seen[variant] - 0.5) / share[variant] if share[variant] else math.inf
            keyed.append((due, index, row))
        keyed.sort()
        rows = [row for _, _, row in keyed]
    waiting = {CampaignContact.Status.PENDING, CampaignContact.Status.QUEUED}
    return [
        Waiting(member_id, contact_id, variant, Recipient.of(zones, recipient_state(state, home, phone)))
        for member_id, contact_id, variant, status, zones, state, home, phone in rows
        if status in waiting
    ]


# --- A/B results --------------------------------------------------------------------------


def due_sends(*, now: dt.datetime) -> QuerySet[CampaignSend]:
    """Booked sends whose slot has come: of active campaigns only (a pause stops sending at once),
    and not later than the missed-slot grace (a late send is booked again, never sent late)."""
    late = now - dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    return CampaignSend.objects.filter(
        status=CampaignSend.Status.QUEUED,
        campaign__status=Campaign.Status.ACTIVE,
        scheduled_for__lte=now,
        scheduled_for__gte=late,
    ).order_by("scheduled_for", "id")


# --- The dashboard's questions ------------------------------------------------------------


@dataclass(frozen=True)
class NumberUsage:
    number: str
    booked: int  # sends counting against today's limit
    sent: int
    limit: int


def todays_usage(*, today: dt.date) -> list[NumberUsage]:
    """Per sending number: today's campaign sends against the daily limit."""
    rows = (
        CampaignSend.objects.filter(business_date=today)
        .exclude(status=CampaignSend.Status.CANCELLED)
        .values("from_number")
        .annotate(booked=Count("id"), sent=Count("id", filter=Q(status=CampaignSend.Status.SENT)))
        .order_by("from_number")
    )
    usage = [
        NumberUsage(row["from_number"], row["booked"], row["sent"], settings.SMS_DAILY_LIMIT_PER_NUMBER) for row in rows
    ]
    if not usage and settings.OPENPHONE_FROM_NUMBER:
        usage = [NumberUsage(settings.OPENPHONE_FROM_NUMBER, 0, 0, settings.SMS_DAILY_LIMIT_PER_NUMBER)]
    return usage


def upcoming_sends(*, now: dt.datetime, campaign: Campaign | None = None, limit: int = 10) -> QuerySet[CampaignSend]:
    sends = CampaignSend.objects.filter(status=CampaignSend.Status.QUEUED, scheduled_for__gte=now)
    if campaign is not None:
        sends = sends.filter(campaign=campaign)
    return sends.select_related("contact", "campaign").order_by("scheduled_for", "id")[:limit]


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    audience: int
    sent: int
    booked: int
    waiting: int
    ineligible: int

    @property
    def percent_sent(self) -> int:
        return round(100 * self.sent / self.audience) if self.audience else 0


def campaign_progress(campaigns: list[Campaign]) -> list[CampaignProgress]:
    """Audience, sent, booked, waiting and ineligible for each campaign, in two grouped queries."""
    ids = [campaign.pk for campaign in campaigns]
    members = {
        (row["campaign_id"], row["status"]): row["n"]
        for row in CampaignContact.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    sends = {
        (row["campaign_id"], row["status"]): row["n"]
        for row in CampaignSend.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    }

    def total(table: dict, campaign_id: int, *statuses: str) -> int:
        return sum(table.get((campaign_id, status), 0) for status in statuses)

    progress = []
    for campaign in campaigns:
        progress.append(
            CampaignProgress(
                campaign=campaign,
                audience=total(members, campaign.pk, *CampaignContact.Status.values),
                sent=total(sends, campaign.pk, CampaignSend.Status.SENT),
                booked=total(sends, campaign.pk, CampaignSend.Status.QUEUED, CampaignSend.Status.SENDING),
                waiting=total(members, campaign.pk, CampaignContact.Status.PENDING, CampaignContact.Status.QUEUED),
                ineligible=total(
                    members, campaign.pk, CampaignContact.Status.INELIGIBLE, CampaignContact.Status.FLAGGED
                ),
            )
        )
    return progress


def run_failure_alerts() -> list:
    """A Today alert for each campaign whose last run failed unexpectedly, naming it and why."""
    from messaging.selectors import Alert  # messaging's selectors read campaigns': imported here

    return [
        Alert(
            "error",
            f"The run of campaign {campaign.name!r} failed at {localtime(campaign.last_run_failed_at):%Y-%m-%d %H:%M} "
            f"({campaign.last_run_error[:200]}). Other campaigns ran; the clock tries it again every minute.",
            reverse("campaigns:detail", args=[campaign.pk]),
        )
        for campaign in Campaign.objects.filter(last_run_failed_at__isnull=False).order_by("-last_run_failed_at")
    ]
