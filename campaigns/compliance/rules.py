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
a new rule is one entry. What a rule is lives in ``rule``; the lawful-basis rules' forms in ``lawful``.
"""

import datetime as dt

from django.conf import settings
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from campaigns.calendar import BusinessCalendar
from campaigns.compliance import lawful
from campaigns.compliance.recipients import (
    Recipient,
    may_send_at,
    over_state_cap,
    recipient_of,
    texted_bookings,
)
from campaigns.compliance.rule import BookingDay, MemberCheck, Refusal, Rule, Slot, Text, contact_matches
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts import dnc
from contacts.models import Contact
from contacts.not_texted import NUMBER_REASONS, Reason
from messaging import quiet
from messaging.intent import ReplyIntent
from messaging.models import ConsentReview, Message


def texts_by_other_campaigns(campaign: Campaign):
    """Other campaigns' texts that count to the member (``OuterRef("contact_id")``), each with the
    moment the frequency cap counts it from (sent, else booked for). A follow-up's own first text
    is no other campaign's (``Campaign.step_ids``)."""
    return (
        texted_bookings()
        .filter(contact_id=OuterRef("contact_id"))
        .exclude(campaign_id__in=campaign.step_ids)
        .annotate(texted_at=Coalesce("message__sent_at", "scheduled_for"))
    )


def wrote_since_quiet():
    """A follow-up member (``OuterRef``) wrote to us after ``quiet_since``: any inbound text but a
    phone answering by itself (its label, staff's correction when there is one). A STOP counts too,
    and opts them out besides."""
    return Exists(
        Message.objects.filter(
            contact_id=OuterRef("contact_id"),
            direction=Message.Direction.INBOUND,
            created_at__gt=OuterRef("quiet_since"),
        ).exclude(intent=ReplyIntent.AUTOMATIC)
    )


def _texted_elsewhere(campaign: Campaign, row: dict, day: BookingDay) -> str:
    texted_on = day.calendar.local_date(row["last_text_elsewhere"])
    return (
        f"Texted by another campaign (“{row['last_campaign_elsewhere']}”) on {texted_on:%b %-d, %Y}; "
        f"this one waits {campaign.frequency_cap_days} days after another's text"
    )


def _texted_us(campaign: Campaign):
    texts = Message.objects.filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.INBOUND)
    if campaign.is_follow_up:
        # What they wrote before their first text went was judged with it (its approval comes
        # along); what they wrote since is ``no_reply_yet``'s, where a phone's automatic reply is no answer.
        texts = texts.filter(created_at__lte=OuterRef("quiet_since"))
    return Q(Exists(texts), review_approved=False)


def _frequency_cap_since(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=campaign.frequency_cap_days)


def _last_text_elsewhere(campaign: Campaign, now: dt.datetime) -> dict:
    """When another campaign last texted the member inside the cap, and which."""
    if not campaign.frequency_cap_days:
        return {}
    texts = (
        texts_by_other_campaigns(campaign)
        .filter(texted_at__gte=_frequency_cap_since(campaign, now))
        .order_by("-texted_at", "-pk")
    )
    return {
        "last_text_elsewhere": Subquery(texts.values("texted_at")[:1], output_field=DateTimeField()),
        "last_campaign_elsewhere": Subquery(texts.values("campaign__name")[:1], output_field=CharField()),
    }


NOT_OPTED_OUT = MemberCheck(
    violated=lambda campaign, now: contact_matches(Q(opted_out_at__isnull=False)),
    refusal=lambda campaign, row, day: Refusal(Reason.OPTED_OUT, "Opted out"),
)
MOBILE_NUMBER = MemberCheck(
    violated=lambda campaign, now: contact_matches(~Q(not_textable_because="")),
    refusal=lambda campaign, row, day: Refusal(Reason(row["not_textable_because"]), row["not_textable_reason"]),
    annotations=lambda campaign, now: {
        field: Coalesce(f"contact__{field}", Value("")) for field in ("not_textable_because", "not_textable_reason")
    },
)
CONSENT_CLEAR = MemberCheck(
    violated=lambda campaign, now: Exists(ConsentReview.objects.filter(contact_id=OuterRef("contact_id"), decision="")),
    refusal=lambda campaign, row, day: Refusal(
        Reason.REVIEW_POSSIBLE_OPT_OUT, "Wrote something that may be an opt-out: waiting for a person to decide"
    ),
)
FREQUENCY_CAP = MemberCheck(
    violated=lambda campaign, now: Q(last_text_elsewhere__isnull=False),
    refusal=lambda campaign, row, day: Refusal(
        Reason.TEXTED_BY_ANOTHER_CAMPAIGN,
        _texted_elsewhere(campaign, row, day),
        until=max(row["last_text_elsewhere"] + dt.timedelta(days=campaign.frequency_cap_days), day.tomorrow),
    ),
    annotations=_last_text_elsewhere,
    applies=lambda campaign: bool(campaign.frequency_cap_days),
)
NO_REPLY_YET = MemberCheck(
    violated=lambda campaign, now: wrote_since_quiet(),
    refusal=lambda campaign, row, day: Refusal(Reason.REPLIED, "Wrote to us since the text before"),
    applies=lambda campaign: campaign.is_follow_up,
)
PRIOR_CONTACT = MemberCheck(
    violated=lambda campaign, now: _texted_us(campaign),
    refusal=lambda campaign, row, day: (
        Refusal(Reason.TEXTED_US_BEFORE, "Has texted us before (campaign skips them)")
        if campaign.prior_contact_policy == Campaign.PriorContactPolicy.SKIP
        else Refusal(Reason.REVIEW_TEXTED_US_BEFORE, "Has texted us before: review before texting")
    ),
)


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
        .exclude(campaign_id__in=text.send.campaign.step_ids)
        .exists()
    )


def _wrote_since_quiet_now(text: Text) -> bool:
    """A follow-up's text whose member wrote to us since it joined (or since staff set its day)."""
    if not text.send.campaign.is_follow_up:
        return False
    member = CampaignContact.objects.filter(campaign_id=text.send.campaign_id, contact_id=text.send.contact_id)
    return member.filter(wrote_since_quiet()).exists()


def _over_state_cap_now(text: Text) -> bool:
    over = over_state_cap(
        {text.send.contact_id: text.recipient}, start=text.now, end=text.now, exclude_send_id=text.send.pk
    )
    return text.send.contact_id in over


RULES: tuple[Rule, ...] = (
    Rule(
        "not_opted_out",
        "the contact has not opted out",
        (Reason.OPTED_OUT,),
        member=NOT_OPTED_OUT,
        text=lambda text: not text.send.contact.is_opted_out,
        # The confirmation of an opt-out goes to the person who just opted out, and HELP is answered
        # whatever their state (CTIA: carriers expect every HELP answered); nothing else reaches them.
        conversation=lambda contact, kind: (
            not contact.is_opted_out or kind in (Message.Kind.OPT_OUT_CONFIRMATION, Message.Kind.HELP_REPLY)
        ),
        refused_in_conversation="the contact opted out",
    ),
    Rule(
        "mobile_number",
        "a number we can text",
        NUMBER_REASONS,
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
        (Reason.REVIEW_POSSIBLE_OPT_OUT,),
        member=CONSENT_CLEAR,
        text=lambda text: not ConsentReview.objects.filter(contact_id=text.send.contact_id, decision="").exists(),
    ),
    Rule(
        "frequency_cap",
        "no other campaign texted them lately",
        (Reason.TEXTED_BY_ANOTHER_CAMPAIGN,),
        member=FREQUENCY_CAP,
        # Checked again as the text goes: another campaign's text may have gone since booking.
        text=lambda text: not _texted_elsewhere_lately(text),
    ),
    Rule(
        "no_reply_yet",
        "a follow-up: they have not written to us since the text before (a phone's automatic reply aside)",
        (Reason.REPLIED,),
        member=NO_REPLY_YET,
        # Checked again as it goes: a reply between booking and its slot cancels the follow-up.
        text=lambda text: not _wrote_since_quiet_now(text),
    ),
    Rule(
        "prior_contact_policy",
        "never texted us, or staff approved",
        (Reason.TEXTED_US_BEFORE, Reason.REVIEW_TEXTED_US_BEFORE),
        member=PRIOR_CONTACT,
    ),
    Rule(
        "not_on_do_not_call_list",
        "a marketing text: no Do-Not-Call list holds the number, or written consent or a business "
        "relationship in its window is on record",
        (Reason.ON_DO_NOT_CALL_LIST,),
        member=lawful.NOT_ON_DO_NOT_CALL_LIST,
        text=lambda text: not lawful.listed_without_basis(text),
    ),
    Rule(
        "do_not_call_copy_current",
        f"a marketing text: every list's copy for the area code is at most {dnc.MAX_AGE_DAYS} days old",
        (Reason.STALE_DO_NOT_CALL_COPY,),
        member=lawful.DO_NOT_CALL_COPY_CURRENT,
        text=lambda text: not lawful.copy_stale(text),
    ),
    Rule(
        "written_consent_where_required",
        "a marketing text to a state that requires it (Connecticut): written consent on record",
        (Reason.WRITTEN_CONSENT_REQUIRED,),
        member=lawful.WRITTEN_CONSENT_WHERE_REQUIRED,
        text=lambda text: not lawful.lacks_written_consent(text),
    ),
    Rule(
        "informational_to_customers",
        "an informational text: the contact is a customer",
        (Reason.NOT_A_CUSTOMER,),
        member=lawful.INFORMATIONAL_TO_CUSTOMERS,
        text=lambda text: not lawful.informational_to_non_customer(text),
    ),
    Rule(
        "daily_limit",
        "within the number's and the campaign's limit for the day",
        (Reason.DAILY_LIMIT_FULL,),
        slot=lambda slot: (
            slot.used_on_number + slot.index < slot.number_limit
            and slot.used_by_campaign + slot.index < slot.campaign_limit
        ),
    ),
    Rule(
        "campaign_active",
        "the campaign is active",
        (Reason.CAMPAIGN_CANCELLED,),
        text=lambda text: text.send.campaign.status == Campaign.Status.ACTIVE,
    ),
    Rule(
        "business_window",
        "inside business hours",
        (Reason.OUTSIDE_HOURS,),
        slot=lambda slot: slot.at in slot.business,
        text=lambda text: text.calendar.is_open(text.now),
    ),
    Rule(
        "recipient_window",
        "inside the recipient's legal hours",
        (Reason.OUTSIDE_HOURS,),
        slot=lambda slot: may_send_at(slot.day.calendar, slot.at, slot.recipient),
        text=lambda text: may_send_at(text.calendar, text.now, text.recipient),
    ),
    Rule(
        "on_time",
        "no more than CAMPAIGN_MISSED_SLOT_MINUTES after its slot",
        (Reason.MISSED_SLOT,),
        text=lambda text: not _late(text),
    ),
    Rule(
        "state_cap",
        "under the recipient state's cap of marketing texts",
        (Reason.STATE_CAP,),
        slot=lambda slot: not slot.over_state_cap,
        text=lambda text: not _over_state_cap_now(text),
    ),
    Rule(
        "catch_up_current",
        "webhooks heard, or their silence caught up",
        (Reason.REPLIES_UNHEARD,),
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
