"""Who may be texted, and when: every rule in one table, each with its own evaluations.

A rule is one entry of ``RULES``, named as the compliance record names it, with the forms it is
evaluated in:

- ``member``: booking's form, over the members at the head of the queue in one statement: an
  expression true when the rule refuses a member, and what becomes of such a member (kept out for
  good, or passed over, keeping its place, until it may pass);
- ``slot``: booking's form for a rule the slot decides (a window, the day's limit), for each
  member at the slot it is given;
- ``text``: dispatch's form, for one campaign text just before it goes, first attempt or retry;
- ``conversation``: what a staff or automatic text must pass, when it is written and again when
  it goes. Those answer a person, so the marketing rules (caps, hours) do not apply to them.

Booking (`campaigns.booking`), dispatch and staff texts (`messaging.outbox`) loop over the table:
a new rule is one entry.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from campaigns.calendar import BusinessCalendar, Window
from campaigns.compliance.recipients import (
    Recipient,
    may_send_at,
    needs_written_consent,
    over_state_cap,
    recipient_of,
    texted_bookings,
)
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts import dnc, lawful_basis
from contacts.models import ConsentBasis, Contact, DoNotCallCoverage, DoNotCallList, DoNotCallNumber
from messaging import quiet
from messaging.models import ConsentReview, Message


@dataclass(frozen=True)
class Refusal:
    """What booking does with a member a rule refuses: keeps it out for good (``ineligible``,
    ``flagged`` for a person to review), or passes it over (``pending``) until ``until``, when it
    may pass: it keeps its place in the queue."""

    status: str
    reason: str
    until: dt.datetime | None = None


@dataclass(frozen=True)
class BookingDay:
    """What a run knows of the day it books: the calendar, today, the moment, the next opening."""

    calendar: BusinessCalendar
    today: dt.date
    now: dt.datetime

    @property
    def tomorrow(self) -> dt.datetime:
        return self.calendar.next_opening(self.calendar.window(self.today).closes)


@dataclass(frozen=True)
class MemberCheck:
    """A rule's form for booking over the members at the head of the queue: ``violated`` is an
    expression on a CampaignContact row, true when the rule refuses it, or ``violated_for`` a test
    of the row and whose rules apply to a text to it (the recipient); ``refusal`` says what becomes
    of such a member (given the row with what ``annotations`` adds, by name). A rule that does not
    ``apply`` to a campaign is not read for it."""

    refusal: Callable[[Campaign, dict, BookingDay], Refusal]
    violated: Callable[[Campaign, dt.datetime], object] | None = None
    violated_for: Callable[[Campaign, dict, Recipient, BookingDay], bool] | None = None
    annotations: Callable[[Campaign, dt.datetime], dict] = lambda campaign, now: {}
    applies: Callable[[Campaign], bool] = lambda campaign: True


@dataclass(frozen=True)
class Slot:
    """A member at the slot booking gives it: what the slot-bound rules read."""

    recipient: Recipient
    at: dt.datetime
    index: int  # its place among this run's bookings, from 0
    day: BookingDay
    business: Window
    used_on_number: int  # the day's bookings on the number before this run's
    number_limit: int
    used_by_campaign: int
    campaign_limit: int
    over_state_cap: bool


@dataclass(frozen=True)
class Text:
    """A campaign text at the moment it would go: what dispatch's rules read."""

    send: CampaignSend  # with its campaign and contact
    recipient: Recipient
    now: dt.datetime
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Rule:
    name: str
    passes_when: str
    member: MemberCheck | None = None
    slot: Callable[[Slot], bool] | None = None
    text: Callable[[Text], bool] | None = None
    conversation: Callable[[Contact, str], bool] | None = None
    refused_in_conversation: str = ""  # what a staff text is told; {reason} is the number's

    @property
    def at_booking(self) -> bool:
        return self.member is not None or self.slot is not None

    @property
    def at_dispatch(self) -> bool:
        return self.text is not None

    @property
    def in_conversation(self) -> bool:
        return self.conversation is not None


def texts_by_other_campaigns(campaign: Campaign):
    """Other campaigns' texts that count to the member (``OuterRef("contact_id")``), each with the
    moment the frequency cap counts it from (sent, else booked for)."""
    return (
        texted_bookings()
        .filter(contact_id=OuterRef("contact_id"))
        .exclude(campaign_id=campaign.pk)
        .annotate(texted_at=Coalesce("message__sent_at", "scheduled_for"))
    )


def frequency_cap_reason(campaign: Campaign) -> str:
    return f"Texted by another campaign in the last {campaign.frequency_cap_days} days"


def _contact(field_filter: Q):
    return Exists(Contact.objects.filter(field_filter, pk=OuterRef("contact_id")))


def _texted_us():
    return Q(
        Exists(Message.objects.filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.INBOUND)),
        review_approved=False,
    )


def _frequency_cap_since(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=campaign.frequency_cap_days)


def _last_text_elsewhere(campaign: Campaign, now: dt.datetime) -> dict:
    if not campaign.frequency_cap_days:
        return {}
    texts = texts_by_other_campaigns(campaign).filter(texted_at__gte=_frequency_cap_since(campaign, now))
    return {"last_text_elsewhere": texts.order_by().values("contact_id").annotate(at=Max("texted_at")).values("at")}


NOT_OPTED_OUT = MemberCheck(
    violated=lambda campaign, now: _contact(Q(opted_out_at__isnull=False)),
    refusal=lambda campaign, row, day: Refusal(CampaignContact.Status.INELIGIBLE, "Opted out"),
)
MOBILE_NUMBER = MemberCheck(
    violated=lambda campaign, now: _contact(~Q(not_textable_reason="")),
    refusal=lambda campaign, row, day: Refusal(CampaignContact.Status.INELIGIBLE, row["not_textable_reason"]),
    annotations=lambda campaign, now: {"not_textable_reason": Coalesce("contact__not_textable_reason", Value(""))},
)
CONSENT_CLEAR = MemberCheck(
    violated=lambda campaign, now: Exists(ConsentReview.objects.filter(contact_id=OuterRef("contact_id"), decision="")),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.FLAGGED, "Wrote something that may be an opt-out: waiting for a person to decide"
    ),
)
FREQUENCY_CAP = MemberCheck(
    violated=lambda campaign, now: Q(last_text_elsewhere__isnull=False),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.PENDING,
        frequency_cap_reason(campaign),
        until=max(row["last_text_elsewhere"] + dt.timedelta(days=campaign.frequency_cap_days), day.tomorrow),
    ),
    annotations=lambda campaign, now: {
        key: Subquery(texts, output_field=DateTimeField()) for key, texts in _last_text_elsewhere(campaign, now).items()
    },
    applies=lambda campaign: bool(campaign.frequency_cap_days),
)
PRIOR_CONTACT = MemberCheck(
    violated=lambda campaign, now: _texted_us(),
    refusal=lambda campaign, row, day: (
        Refusal(CampaignContact.Status.INELIGIBLE, "Has texted us before (campaign skips them)")
        if campaign.prior_contact_policy == Campaign.PriorContactPolicy.SKIP
        else Refusal(CampaignContact.Status.FLAGGED, "Has texted us before: review before texting")
    ),
)


def _marketing(campaign: Campaign) -> bool:
    return campaign.purpose == Campaign.Purpose.MARKETING


def _on_a_list() -> Exists:
    """The contact's number is on a Do-Not-Call list (inside a filter on contacts)."""
    return Exists(DoNotCallNumber.objects.filter(number=dnc.number_of(OuterRef("phone"))))


def _first_listing(field: str) -> Subquery:
    """Of the first list holding the member's number: its name, or its copy's date for the area code."""
    area_code = Substr(OuterRef(OuterRef("contact__phone")), 3, 3)
    listings = DoNotCallNumber.objects.filter(number=dnc.number_of(OuterRef("contact__phone"))).annotate(
        as_of=Subquery(DoNotCallCoverage.objects.filter(list=OuterRef("list"), area_code=area_code).values("as_of")[:1])
    )
    return Subquery(listings.order_by("list").values(field)[:1])


def _stale_copies(today: dt.date):
    return DoNotCallCoverage.objects.filter(as_of__lt=dnc.stale_before(today))


def _listed_reason(list_name: str, as_of) -> str:
    return (
        f"On the {DoNotCallList(list_name).label} (list of {as_of}); "
        "no written consent or recent business relationship on record"
    )


def _stale_reason(list_name: str, area_code: str, as_of) -> str:
    return (
        f"The {DoNotCallList(list_name).label} copy for area code {area_code} is of {as_of}, "
        f"over {dnc.MAX_AGE_DAYS} days old: load a newer one"
    )


def _written_consent_reason(state: str) -> str:
    where = "In Connecticut" if state else "Their state is unknown and Connecticut's law may apply:"
    return f"{where} a sales text needs written consent; none on record"


NOT_ON_DO_NOT_CALL_LIST = MemberCheck(
    violated=lambda campaign, now: _contact(Q(_on_a_list()) & ~lawful_basis.in_force_q(now)),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.INELIGIBLE, _listed_reason(row["dnc_list"], row["dnc_as_of"])
    ),
    annotations=lambda campaign, now: {"dnc_list": _first_listing("list"), "dnc_as_of": _first_listing("as_of")},
    applies=_marketing,
)
DO_NOT_CALL_COPY_CURRENT = MemberCheck(
    violated=lambda campaign, now: Exists(
        _stale_copies(timezone.localdate(now)).filter(area_code=Substr(OuterRef("contact__phone"), 3, 3))
    ),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.PENDING,
        _stale_reason(row["stale_list"], row["contact__phone"][2:5], row["stale_as_of"]),
        until=day.tomorrow,
    ),
    annotations=lambda campaign, now: {
        f"stale_{field}": Subquery(
            _stale_copies(timezone.localdate(now))
            .filter(area_code=Substr(OuterRef("contact__phone"), 3, 3))
            .order_by("as_of")
            .values(field)[:1]
        )
        for field in ("list", "as_of")
    },
    applies=_marketing,
)
WRITTEN_CONSENT_WHERE_REQUIRED = MemberCheck(
    violated_for=lambda campaign, row, recipient, day: (
        needs_written_consent(recipient.state, day.today) and row["consent_basis"] != ConsentBasis.EXPRESS_WRITTEN
    ),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.INELIGIBLE, _written_consent_reason(row["recipient_state"])
    ),
    applies=_marketing,
)
INFORMATIONAL_TO_CUSTOMERS = MemberCheck(
    violated=lambda campaign, now: _contact(~Q(consent_basis=ConsentBasis.CUSTOMER)),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.INELIGIBLE,
        "An informational campaign texts only customers: no job, payment or delivery on record",
    ),
    applies=lambda campaign: not _marketing(campaign),
)


def _listed_without_basis(text: Text) -> bool:
    contact = text.send.contact
    return (
        _marketing(text.send.campaign)
        and DoNotCallNumber.objects.filter(number=int(contact.phone[1:])).exists()
        and not lawful_basis.in_force(contact.consent_basis, contact.consent_at, text.now)
    )


def _copy_stale(text: Text) -> bool:
    phone = text.send.contact.phone
    today = text.calendar.local_date(text.now)
    return _marketing(text.send.campaign) and _stale_copies(today).filter(area_code=phone[2:5]).exists()


def _lacks_written_consent(text: Text) -> bool:
    return (
        _marketing(text.send.campaign)
        and needs_written_consent(text.recipient.state, text.calendar.local_date(text.now))
        and text.send.contact.consent_basis != ConsentBasis.EXPRESS_WRITTEN
    )


def _informational_to_non_customer(text: Text) -> bool:
    return not _marketing(text.send.campaign) and text.send.contact.consent_basis != ConsentBasis.CUSTOMER


def _late(text: Text) -> bool:
    return text.send.scheduled_for < text.now - dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)


def _texted_elsewhere_lately(text: Text) -> bool:
    """Another campaign's text went to this contact within this campaign's frequency cap."""
    days = text.send.campaign.frequency_cap_days
    if not days:
        return False
    return (
        texted_bookings()
        .filter(contact_id=text.send.contact_id, message__sent_at__gt=text.now - dt.timedelta(days=days))
        .exclude(campaign_id=text.send.campaign_id)
        .exists()
    )


def _over_state_cap_now(text: Text) -> bool:
    over = over_state_cap(
        {text.send.contact_id: text.recipient}, start=text.now, end=text.now, exclude_send_id=text.send.pk
    )
    return text.send.contact_id in over


RULES: tuple[Rule, ...] = (
    Rule(
        "not_opted_out",
        "the contact has not opted out",
        member=NOT_OPTED_OUT,
        text=lambda text: not text.send.contact.is_opted_out,
        # The confirmation of an opt-out goes to the person who just opted out.
        conversation=lambda contact, kind: not contact.is_opted_out or kind == Message.Kind.OPT_OUT_CONFIRMATION,
        refused_in_conversation="the contact opted out",
    ),
    Rule(
        "mobile_number",
        "a number we can text",
        member=MOBILE_NUMBER,
        text=lambda text: not text.send.contact.not_textable_reason,
        # A number that has texted us receives texts, whatever a list said of its line.
        conversation=lambda contact, kind: (
            not contact.not_textable_reason or contact.messages.filter(direction=Message.Direction.INBOUND).exists()
        ),
        refused_in_conversation="the number cannot receive texts: {reason}",
    ),
    Rule(
        "consent_clear",
        "no text of theirs that may be an opt-out is waiting",
        member=CONSENT_CLEAR,
        text=lambda text: not ConsentReview.objects.filter(contact_id=text.send.contact_id, decision="").exists(),
    ),
    Rule(
        "frequency_cap",
        "no other campaign texted them lately",
        member=FREQUENCY_CAP,
        # Checked again as the text goes: another campaign's text may have gone since booking.
        text=lambda text: not _texted_elsewhere_lately(text),
    ),
    Rule("prior_contact_policy", "never texted us, or staff approved", member=PRIOR_CONTACT),
    Rule(
        "not_on_do_not_call_list",
        "a marketing text: no Do-Not-Call list holds the number, or written consent or a business "
        "relationship in its window is on record",
        member=NOT_ON_DO_NOT_CALL_LIST,
        text=lambda text: not _listed_without_basis(text),
    ),
    Rule(
        "do_not_call_copy_current",
        f"a marketing text: every list's copy for the area code is at most {dnc.MAX_AGE_DAYS} days old",
        member=DO_NOT_CALL_COPY_CURRENT,
        text=lambda text: not _copy_stale(text),
    ),
    Rule(
        "written_consent_where_required",
        "a marketing text to a state that requires it (Connecticut): written consent on record",
        member=WRITTEN_CONSENT_WHERE_REQUIRED,
        text=lambda text: not _lacks_written_consent(text),
    ),
    Rule(
        "informational_to_customers",
        "an informational text: the contact is a customer",
        member=INFORMATIONAL_TO_CUSTOMERS,
        text=lambda text: not _informational_to_non_customer(text),
    ),
    Rule(
        "daily_limit",
        "within the number's and the campaign's limit for the day",
        slot=lambda slot: (
            slot.used_on_number + slot.index < slot.number_limit
            and slot.used_by_campaign + slot.index < slot.campaign_limit
        ),
    ),
    Rule(
        "campaign_active",
        "the campaign is active",
        text=lambda text: text.send.campaign.status == Campaign.Status.ACTIVE,
    ),
    Rule(
        "business_window",
        "inside business hours",
        slot=lambda slot: slot.at in slot.business,
        text=lambda text: text.calendar.is_open(text.now),
    ),
    Rule(
        "recipient_window",
        "inside the recipient's legal hours",
        slot=lambda slot: may_send_at(slot.day.calendar, slot.at, slot.recipient),
        text=lambda text: may_send_at(text.calendar, text.now, text.recipient),
    ),
    Rule("on_time", "no more than CAMPAIGN_MISSED_SLOT_MINUTES after its slot", text=lambda text: not _late(text)),
    Rule(
        "state_cap",
        "under the recipient state's cap of marketing texts",
        slot=lambda slot: not slot.over_state_cap,
        text=lambda text: not _over_state_cap_now(text),
    ),
    Rule(
        "catch_up_current",
        "webhooks heard, or their silence caught up",
        text=lambda text: quiet.may_text_while_quiet(text.send.contact, now=text.now),
    ),
)
BOOKING_RULES = tuple(rule.name for rule in RULES if rule.at_booking)
DISPATCH_RULES = tuple(rule.name for rule in RULES if rule.at_dispatch)
CONVERSATION_RULES = tuple(rule.name for rule in RULES if rule.in_conversation)
MEMBER_RULES = tuple(rule for rule in RULES if rule.member is not None)


def judge_members(
    campaign: Campaign, recipients: dict[int, Recipient], day: BookingDay
) -> dict[int, tuple[dict, list]]:
    """The member rules of the table for these members (``recipients``: member id → whose rules
    apply to a text to them), in one statement: for each member, its row (its contact, and what
    the rules annotate) and the rules it breaks, in the table's order."""
    rules = [rule for rule in MEMBER_RULES if rule.member.applies(campaign)]
    annotations: dict = {"consent_basis": F("contact__consent_basis")}
    for rule in rules:
        annotations.update(rule.member.annotations(campaign, day.now))
    rows = CampaignContact.objects.filter(pk__in=list(recipients)).annotate(**annotations)
    breaks = {
        rule.name: ExpressionWrapper(rule.member.violated(campaign, day.now), output_field=BooleanField())
        for rule in rules
        if rule.member.violated is not None
    }
    judged = {}
    for row in rows.annotate(**{f"breaks_{name}": check for name, check in breaks.items()}).values(
        "pk", "contact_id", "contact__phone", *annotations, *[f"breaks_{name}" for name in breaks]
    ):
        recipient = recipients[row["pk"]]
        row["recipient_state"] = recipient.state
        for rule in rules:
            if rule.member.violated_for is not None:
                row[f"breaks_{rule.name}"] = rule.member.violated_for(campaign, row, recipient, day)
        judged[row["pk"]] = (row, [rule for rule in rules if row.get(f"breaks_{rule.name}")])
    return judged


def refusal_of(campaign: Campaign, row: dict, broken: list[Rule], day: BookingDay) -> Refusal | None:
    """What the first rule a member breaks does with it (a lasting refusal before a passing one)."""
    refusals = [rule.member.refusal(campaign, row, day) for rule in broken]
    lasting = [refusal for refusal in refusals if refusal.until is None]
    return (lasting or refusals or [None])[0]


def booking_checks(row: dict, slot: Slot) -> dict[str, bool]:
    """Every booking rule of the table for a member booked at ``slot``, ``row`` being what
    `judge_members` read of it: what its compliance record keeps."""
    return {
        rule.name: not row.get(f"breaks_{rule.name}", False) if rule.member else bool(rule.slot(slot))
        for rule in RULES
        if rule.at_booking
    }


def dispatch_checks(send: CampaignSend, *, now: dt.datetime, calendar: BusinessCalendar) -> dict[str, bool]:
    """Every dispatch rule of the table for this campaign text at this moment, first attempt or
    retry: what the compliance record keeps, and what decides whether it goes."""
    text = Text(send=send, recipient=recipient_of(send.contact), now=now, calendar=calendar)
    return {rule.name: bool(rule.text(text)) for rule in RULES if rule.at_dispatch}


def conversation_checks(contact: Contact, kind: str) -> dict[str, bool]:
    """The rules of the table a staff or automatic text must pass."""
    return {rule.name: bool(rule.conversation(contact, kind)) for rule in RULES if rule.in_conversation}


def conversation_refusal(contact: Contact, kind: str) -> str:
    """Why this staff or automatic text may not go, or "" when it may."""
    failed = {name for name, passed in conversation_checks(contact, kind).items() if not passed}
    reason = contact.not_textable_reason[:1].lower() + contact.not_textable_reason[1:]
    return "; ".join(rule.refused_in_conversation.format(reason=reason) for rule in RULES if rule.name in failed)
