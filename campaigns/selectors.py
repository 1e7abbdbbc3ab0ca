"""Reads with business meaning for campaigns: what a text says, who is next, what is booked."""

import datetime as dt
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.timezone import localtime

from attackacrack.alerts import Alert
from campaigns import forecast, sends, texts
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import Recipient
from campaigns.errors import NoSendingNumber
from campaigns.models import Campaign, CampaignContact, CampaignSend, Variant
from contacts.models import Contact, Property
from contacts.selectors import contact_filter, home_links
from contacts.timezones import recipient_state
from messaging.models import Message


def daily_limit_per_day(campaign: Campaign) -> int:
    """Texts the campaign may book on one business day: its own limit within the number's."""
    return min(campaign.daily_limit, settings.SMS_DAILY_LIMIT_PER_NUMBER)


@dataclass(frozen=True)
class DailyLimit:
    """What a campaign may still send on a business day, and why: the one count of it, for the
    booking and the pages."""

    campaign_limit: int  # the campaign's own setting
    number: str  # the number it sends from ("" when none is set)
    number_limit: int  # what one number may send in a day (SMS_DAILY_LIMIT_PER_NUMBER)
    booked_on_number: int  # the day's texts every campaign booked on the number (cancelled ones aside)
    booked_by_campaign: int  # of those, this campaign's
    per_day: int  # min(own, the number's)

    @property
    def used_by_others_today(self) -> int:
        return self.booked_on_number - self.booked_by_campaign

    @property
    def today(self) -> int:
        """What is left for the campaign on the day."""
        return max(0, min(self.campaign_limit - self.booked_by_campaign, self.number_limit - self.booked_on_number))

    @property
    def capped_by_number(self) -> bool:
        return self.campaign_limit > self.number_limit


def daily_limit(campaign: Campaign, *, today: dt.date) -> DailyLimit:
    try:
        number = campaign.sending_number
    except NoSendingNumber:
        number = ""
    booked = (
        sends.counting_against_the_limit()
        .filter(from_number=number, business_date=today)
        .aggregate(on_number=Count("id"), by_campaign=Count("id", filter=Q(campaign_id=campaign.pk)))
    )
    return DailyLimit(
        campaign_limit=campaign.daily_limit,
        number=number,
        number_limit=settings.SMS_DAILY_LIMIT_PER_NUMBER,
        booked_on_number=booked["on_number"],
        booked_by_campaign=booked["by_campaign"],
        per_day=daily_limit_per_day(campaign),
    )


@dataclass(frozen=True)
class LaunchPlan:
    """What starting a campaign at a moment will do, in the words the confirmation uses."""

    starts_at: dt.datetime
    first_day: dt.date
    first_opening: dt.datetime
    number: str
    textable: int  # members who can be texted as things stand (the run decides again)
    not_textable: int  # opted out, or a number the business cannot text
    first_day_texts: int
    rest: int
    rest_days: int  # business days after the first the rest take, sharing the number's limit


def launch_plan(campaign: Campaign, *, starts_at: dt.datetime, calendar: BusinessCalendar) -> LaunchPlan:
    """What starting the campaign at ``starts_at`` would send, and when, beside the other campaigns
    sharing its number's daily limit."""
    waiting = campaign.memberships.filter(status__in=[CampaignContact.Status.PENDING, CampaignContact.Status.FLAGGED])
    textable = waiting.filter(contact__opted_out_at__isnull=True, contact__not_textable_reason="").count()
    plan = forecast.launch_plan(campaign, starts_at=starts_at, waiting=textable, calendar=calendar)
    opening = calendar.next_opening(starts_at)
    first = plan.days[0] if plan.days else None
    first_day = first.date if first else calendar.local_date(opening)
    rest = textable - (first.texts if first else 0)
    rest_days = 0
    if first and plan.finishes_on > first_day:
        days = calendar.business_days_after(first_day)
        rest_days = 1 + sum(1 for _ in itertools.takewhile(lambda day: day < plan.finishes_on, days))
    return LaunchPlan(
        starts_at=starts_at,
        first_day=first_day,
        first_opening=max(opening, first.opens) if first else opening,
        number=forecast.sending_number(campaign),
        textable=textable,
        not_textable=waiting.count() - textable,
        first_day_texts=first.texts if first else 0,
        rest=rest,
        rest_days=rest_days,
    )


def is_first_text_to(contact: Contact) -> bool:
    if contact.pk is None:
        return True
    # A campaign text booked but not yet written is no text they have had (its own included).
    return not Message.objects.written().filter(contact=contact, direction=Message.Direction.OUTBOUND).exists()


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
class PreviewedMember:
    """One audience member a preview is written for, with the members before and after it."""

    member: CampaignContact
    reader: Reader
    position: int  # 1-based, in the order members were added
    count: int
    previous_id: int | None
    next_id: int | None


def previewed_member(campaign: Campaign, member_id: int | None = None) -> PreviewedMember | None:
    """The member ``member_id`` (else the first), to step through the audience a text at a time."""
    members = campaign.memberships.select_related("contact")
    member = (members.filter(pk=member_id).first() if member_id else None) or members.order_by("id").first()
    if member is None:
        return None
    around = campaign.memberships.aggregate(
        before=Count("id", filter=Q(id__lt=member.pk)),
        count=Count("id"),
        previous_id=Max("id", filter=Q(id__lt=member.pk)),
        next_id=Min("id", filter=Q(id__gt=member.pk)),
    )
    return PreviewedMember(
        member=member,
        reader=Reader.of(member.contact),
        position=around["before"] + 1,
        count=around["count"],
        previous_id=around["previous_id"],
        next_id=around["next_id"],
    )


@dataclass(frozen=True)
class MissingValue:
    """Members whose text lacks a token's value, and what they read in its place."""

    token: str
    members: int
    fallback: str
    example: "TextPreview | None"  # the text one of them gets


def _has_value(token: str) -> Q:
    """The members who have a value for ``token``, read from the fields the token reads
    (texts.TOKEN_FIELDS: the contact's, else its home's): an expression on memberships annotated
    with their home's values as ``home_<field>``."""
    if token == "year_built":
        return Q(home_year_built__isnull=False) & ~Q(home_year_built=0)
    has_value = Q(pk__in=[])
    for model, field in texts.TOKEN_FIELDS[token]:
        has_value |= ~Q(**{f"contact__{field}" if model == "contacts.Contact" else f"home_{field}": ""})
    return has_value


def missing_values(campaign: Campaign) -> list[MissingValue]:
    """For each token the campaign's templates use, how many members lack its value (by the same
    rule the text is written with), and the text one of them gets instead."""
    tokens: dict[str, str] = {}
    for template in filter(None, [campaign.template_a, campaign.template_b]):
        for piece in texts.parse_template(template):
            if isinstance(piece, texts.Token):
                tokens.setdefault(piece.name, piece.fallback)
    if not tokens:
        return []
    # Only the house values the templates read: each is a subquery per member.
    house_fields = {"year_built"} if "year_built" in tokens else set()
    house_fields |= {
        field for token in tokens for model, field in texts.TOKEN_FIELDS.get(token, ()) if model == "contacts.Property"
    }

    def home_value(field: str) -> Subquery | Coalesce:
        value = Subquery(home_links().values(f"property__{field}")[:1])
        return value if field == "year_built" else Coalesce(value, Value(""))  # no house: blank, not NULL

    members = campaign.memberships.annotate(**{f"home_{field}": home_value(field) for field in house_fields})
    counts = members.aggregate(**{token: Count("id", filter=~_has_value(token)) for token in tokens})
    missing = []
    for token, fallback in tokens.items():
        if not counts[token]:
            continue
        example = members.filter(~_has_value(token)).select_related("contact").order_by("id").first()
        previews = text_previews(campaign=campaign, reader=Reader.of(example.contact))
        theirs = next((preview for preview in previews if preview.variant == example.variant), None)
        missing.append(MissingValue(token=token, members=counts[token], fallback=fallback, example=theirs))
    return missing


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


@dataclass(frozen=True)
class AudienceAddition:
    """What adding the contacts a filter selects would do, before it is done."""

    matching: int  # contacts the filter selects
    already: int  # of them, already in the audience
    opted_out: int  # of the rest, opted out: never added
    to_add: int
    not_textable: list[tuple[str, int]]  # of those added, numbers the business cannot text, by reason


def audience_addition(campaign: Campaign, *, filters: dict) -> AudienceAddition:
    """Counts for adding ``contact_filter(**filters)`` to the audience (opted-out contacts are left
    out), in two passes over the matching contacts."""
    matching = contact_filter(**filters)
    member = Exists(CampaignContact.objects.filter(campaign_id=campaign.pk, contact_id=OuterRef("pk")))
    opted_out = Q(opted_out_at__isnull=False)
    added = ~Q(member) & ~opted_out
    counts = matching.aggregate(
        matching=Count("id"),
        already=Count("id", filter=Q(member)),
        opted_out=Count("id", filter=~Q(member) & opted_out),
        to_add=Count("id", filter=added),
    )
    reasons = (
        matching.filter(added)
        .exclude(not_textable_reason="")
        .values("not_textable_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "not_textable_reason")
    )
    return AudienceAddition(**counts, not_textable=[(row["not_textable_reason"], row["n"]) for row in reasons])


# --- The dashboard's questions ------------------------------------------------------------


# A campaign text that went: taken by OpenPhone, whatever the delivery report says since.
SENT_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED)


@dataclass(frozen=True)
class NumberUsage:
    number: str
    booked: int  # sends counting against today's limit, whether they went out yet or not
    sent: int  # handed to OpenPhone
    delivered: int  # OpenPhone reported them delivered
    limit: int


def todays_usage(*, today: dt.date) -> list[NumberUsage]:
    """Per sending number: today's campaign sends against the daily limit."""
    rows = (
        sends.counting_against_the_limit()
        .filter(business_date=today)
        .values("from_number")
        .annotate(
            booked=Count("id"),
            sent=Count("id", filter=Q(message__status__in=SENT_STATUSES)),
            delivered=Count("id", filter=Q(message__delivered_at__isnull=False)),
        )
        .order_by("from_number")
    )
    limit = settings.SMS_DAILY_LIMIT_PER_NUMBER
    usage = [NumberUsage(row["from_number"], row["booked"], row["sent"], row["delivered"], limit) for row in rows]
    if not usage and settings.OPENPHONE_FROM_NUMBER:
        usage = [NumberUsage(settings.OPENPHONE_FROM_NUMBER, 0, 0, 0, limit)]
    return usage


def upcoming_sends(*, now: dt.datetime, campaign: Campaign | None = None, limit: int = 10) -> QuerySet[CampaignSend]:
    """Booked texts that will go out: a paused campaign's wait, and are not upcoming."""
    upcoming = sends.waiting().filter(scheduled_for__gte=now, campaign__status=Campaign.Status.ACTIVE)
    if campaign is not None:
        upcoming = upcoming.filter(campaign=campaign)
    return upcoming.select_related("contact", "campaign").order_by("scheduled_for", "id")[:limit]


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    audience: int
    sent: int
    delivered: int
    booked: int
    waiting: int
    ineligible: int
    flagged: int

    @property
    def percent_sent(self) -> int:
        return round(100 * self.sent / self.audience) if self.audience else 0


def campaign_progress(campaigns: list[Campaign]) -> list[CampaignProgress]:
    """Audience, sent, delivered, booked, waiting, ineligible and flagged for each campaign, in three
    grouped queries."""
    ids = [campaign.pk for campaign in campaigns]
    members = {
        (row["campaign_id"], row["status"]): row["n"]
        for row in CampaignContact.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    by_status = {
        (row["campaign_id"], row["message__status"]): row["n"]
        for row in CampaignSend.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "message__status")
        .annotate(n=Count("id"))
        .order_by()
    }
    delivered = dict(
        CampaignSend.objects.filter(campaign_id__in=ids, message__delivered_at__isnull=False)
        .values("campaign_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("campaign_id", "n")
    )

    def total(table: dict, campaign_id: int, *statuses: str) -> int:
        return sum(table.get((campaign_id, status), 0) for status in statuses)

    progress = []
    for campaign in campaigns:
        progress.append(
            CampaignProgress(
                campaign=campaign,
                audience=total(members, campaign.pk, *CampaignContact.Status.values),
                sent=total(by_status, campaign.pk, *SENT_STATUSES),
                delivered=delivered.get(campaign.pk, 0),
                booked=total(by_status, campaign.pk, Message.Status.QUEUED, Message.Status.SENDING),
                waiting=total(members, campaign.pk, CampaignContact.Status.PENDING),
                ineligible=total(members, campaign.pk, CampaignContact.Status.INELIGIBLE),
                flagged=total(members, campaign.pk, CampaignContact.Status.FLAGGED),
            )
        )
    return progress


def run_failure_alerts() -> list[Alert]:
    """A Today alert for each campaign whose last run failed unexpectedly, naming it and why."""
    return [
        Alert(
            "error",
            f"The run of campaign {campaign.name!r} failed at {localtime(campaign.last_run_failed_at):%Y-%m-%d %H:%M} "
            f"({campaign.last_run_error[:200]}). Other campaigns ran; the clock tries it again every minute.",
            reverse("campaigns:detail", args=[campaign.pk]),
        )
        for campaign in Campaign.objects.filter(last_run_failed_at__isnull=False).order_by("-last_run_failed_at")
    ]
