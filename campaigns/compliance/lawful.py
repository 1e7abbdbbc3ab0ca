"""The rules of lawful basis for a campaign text (issue 37), each a form of a rule of the table:
a marketing text goes to a number on a Do-Not-Call list only with written consent or a business
relationship inside its window, never by a list copy over 31 days old, to Connecticut (or an
unknown state) only with written consent; an informational text only to a customer."""

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.utils import timezone

from campaigns.compliance.recipients import needs_written_consent
from campaigns.compliance.rule import MemberCheck, Refusal, Text, contact_matches
from campaigns.models import Campaign, CampaignContact
from contacts import dnc, lawful_basis
from contacts.models import (
    ConsentBasis,
    Contact,
    DoNotCallCoverage,
    DoNotCallList,
    DoNotCallNumber,
    PropertyContact,
)
from contacts.not_texted import NotTexted, Reason
from contacts.timezones import recipient_state


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
    violated=lambda campaign, now: contact_matches(Q(_on_a_list()) & ~lawful_basis.in_force_q(now)),
    refusal=lambda campaign, row, day: Refusal(
        Reason.ON_DO_NOT_CALL_LIST, _listed_reason(row["dnc_list"], row["dnc_as_of"])
    ),
    annotations=lambda campaign, now: {"dnc_list": _first_listing("list"), "dnc_as_of": _first_listing("as_of")},
    applies=_marketing,
)
DO_NOT_CALL_COPY_CURRENT = MemberCheck(
    violated=lambda campaign, now: Exists(
        dnc.stale_coverage(timezone.localdate(now)).filter(area_code=Substr(OuterRef("contact__phone"), 3, 3))
    ),
    refusal=lambda campaign, row, day: Refusal(
        Reason.STALE_DO_NOT_CALL_COPY,
        _stale_reason(row["stale_list"], row["contact__phone"][2:5], row["stale_as_of"]),
        until=day.tomorrow,
    ),
    annotations=lambda campaign, now: {
        f"stale_{field}": Subquery(
            dnc.stale_coverage(timezone.localdate(now))
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
        Reason.WRITTEN_CONSENT_REQUIRED, _written_consent_reason(row["recipient_state"])
    ),
    applies=_marketing,
)
INFORMATIONAL_TO_CUSTOMERS = MemberCheck(
    violated=lambda campaign, now: contact_matches(~Q(consent_basis=ConsentBasis.CUSTOMER)),
    refusal=lambda campaign, row, day: Refusal(
        Reason.NOT_A_CUSTOMER,
        "An informational campaign texts only customers: no job, payment or delivery on record",
    ),
    applies=lambda campaign: not _marketing(campaign),
)


def listed_without_basis(text: Text) -> bool:
    contact = text.send.contact
    return (
        _marketing(text.send.campaign)
        and DoNotCallNumber.objects.filter(number=int(contact.phone[1:])).exists()
        and not lawful_basis.in_force(contact.consent_basis, contact.consent_at, text.now)
    )


def copy_stale(text: Text) -> bool:
    phone = text.send.contact.phone
    today = text.calendar.local_date(text.now)
    return _marketing(text.send.campaign) and dnc.stale_coverage(today).filter(area_code=phone[2:5]).exists()


def lacks_written_consent(text: Text) -> bool:
    return (
        _marketing(text.send.campaign)
        and needs_written_consent(text.recipient.state, text.calendar.local_date(text.now))
        and text.send.contact.consent_basis != ConsentBasis.EXPRESS_WRITTEN
    )


def informational_to_non_customer(text: Text) -> bool:
    return not _marketing(text.send.campaign) and text.send.contact.consent_basis != ConsentBasis.CUSTOMER


# A member still to be texted: waiting their turn or a review, or booked.
TO_BE_TEXTED = (CampaignContact.Status.PENDING, CampaignContact.Status.FLAGGED, CampaignContact.Status.SCHEDULED)


# Members read per campaign to say who nothing checked: past this, "more than 1,000", with the area
# codes found among them. Reading all of a million-member audience took 3.6 s a view of Today.
UNCHECKED_READ_UP_TO = 1_000


@dataclass
class Unchecked:
    """Members of a marketing campaign whose numbers no Do-Not-Call list was checked against."""

    campaign_id: int
    campaign_name: str
    campaign_status: str
    members: int = 0
    area_codes: list[str] = field(default_factory=list)
    # More than UNCHECKED_READ_UP_TO members: ``members`` is that bound, ``area_codes`` those of the
    # members read (others may have more).
    more: bool = False


def unchecked_by_the_registry(campaigns: Sequence[Campaign], *, now: dt.datetime) -> list[Unchecked]:
    """Per marketing campaign of ``campaigns``: the members still to be texted, with no consent or
    business relationship in force at ``now``, whose area code no copy of the National
    Do-Not-Call Registry covers. No rule stops their texts (only a copy over 31 days old does), so
    nothing has checked their numbers: Today and the start confirmation say so. One read a
    campaign, of no more than ``UNCHECKED_READ_UP_TO`` + 1 members."""
    marketing = {campaign.pk: campaign for campaign in campaigns if campaign.purpose == Campaign.Purpose.MARKETING}
    reads = [
        campaign.memberships.filter(
            status__in=TO_BE_TEXTED, contact__opted_out_at__isnull=True, contact__not_textable_because=""
        )
        .exclude(lawful_basis.in_force_q(now, prefix="contact__"))
        .exclude(dnc.registry_loaded_for("contact__phone"))
        .order_by()
        .values_list("campaign_id", Substr("contact__phone", 3, 3))[: UNCHECKED_READ_UP_TO + 1]
        for campaign in marketing.values()
    ]
    if len(reads) > 1 and connection.features.supports_slicing_ordering_in_compound:
        rows = reads[0].union(*reads[1:], all=True)  # one statement (SQLite reads them one by one)
    else:
        rows = itertools.chain.from_iterable(reads)
    area_codes: dict[int, list[str]] = {}
    for campaign_id, area_code in rows:
        area_codes.setdefault(campaign_id, []).append(area_code)
    found = []
    for campaign_id, codes in area_codes.items():
        campaign, more = marketing[campaign_id], len(codes) > UNCHECKED_READ_UP_TO
        found.append(
            Unchecked(
                campaign.pk,
                campaign.name,
                campaign.status,
                members=UNCHECKED_READ_UP_TO if more else len(codes),
                area_codes=sorted(set(codes)),
                more=more,
            )
        )
    return sorted(found, key=lambda unchecked: unchecked.campaign_id)


def why_not_texted(contacts: Sequence[Contact], *, now: dt.datetime) -> dict[int, NotTexted | None]:
    """What the contact pages and the API say of each contact: why nobody may text them (their
    opt-out, their number), else why no marketing text may reach them whatever the campaign
    (written consent where the law asks it, a Do-Not-Call list without a basis in force: the
    rules above, for the person rather than a member), else None. A few queries for them all."""
    homes: dict[int, str] = {}
    for contact_id, state in (
        PropertyContact.objects.filter(contact_id__in=[contact.pk for contact in contacts])
        .order_by("contact_id", *PropertyContact.HOME_FIRST)
        .values_list("contact_id", "property__state")
    ):
        homes.setdefault(contact_id, state)
    listings = dnc.listings(contact.phone for contact in contacts)
    today = timezone.localdate(now)
    said: dict[int, NotTexted | None] = {}
    for contact in contacts:
        said[contact.pk] = contact.not_texted
        if said[contact.pk]:
            continue
        state = recipient_state(contact.state, homes.get(contact.pk), contact.phone)
        if needs_written_consent(state, today) and contact.consent_basis != ConsentBasis.EXPRESS_WRITTEN:
            said[contact.pk] = NotTexted(
                Reason.WRITTEN_CONSENT_REQUIRED, _written_consent_reason(state), marketing_only=True
            )
        elif not lawful_basis.in_force(contact.consent_basis, contact.consent_at, now) and (
            listed := [listing for listing in listings[contact.phone] if listing.listed]
        ):
            reason = _listed_reason(listed[0].list, listed[0].as_of)
            said[contact.pk] = NotTexted(Reason.ON_DO_NOT_CALL_LIST, reason, marketing_only=True)
    return said
