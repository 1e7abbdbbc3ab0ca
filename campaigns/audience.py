"""Who is in a campaign's audience: adding contacts (by a query, by ids, by filters), and the
two decisions staff take about a member (approve a flagged one, retry a failed text).

A closed campaign takes no members whoever asks (``require_open``, checked by ``add_members``), and a
follow-up step only its own (`campaigns.follow_ups`, `campaigns.text_again`)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.errors import CampaignClosed, CampaignLocked, FollowUpTakesNoContacts
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from contacts.not_texted import Reason
from contacts.selectors import contact_filter
from messaging.models import Message

# How members join a follow-up step (`campaigns.follow_ups`, `campaigns.text_again`): no other way.
FOLLOW_UP_WAYS_IN = (CampaignContact.AddedVia.FOLLOW_UP, CampaignContact.AddedVia.TEXT_AGAIN)


def require_open(campaign: Campaign, *, added_via: str = CampaignContact.AddedVia.IDS) -> None:
    """Refuse (CampaignClosed) unless the campaign, as stored now, can still take members, and
    these: a follow-up takes only its own (FollowUpTakesNoContacts)."""
    stored = Campaign.objects.only("status", "follow_up_of").get(pk=campaign.pk)
    if stored.is_closed:
        raise CampaignClosed(stored)
    if stored.is_follow_up and added_via not in FOLLOW_UP_WAYS_IN:
        raise FollowUpTakesNoContacts()


def add_members(
    *, campaign: Campaign, contact_ids_sql: str, params: tuple = (), added_via: str = CampaignContact.AddedVia.IDS
) -> int:
    """Add the contacts a SQL query selects to the campaign's audience; returns how many were new.

    Set-based, so a list of a million contacts is one statement. New members take their places
    in the queue behind everyone already in it, balanced between the variants, in contact order
    within each (``CampaignContact.queue_position``), whatever plan the database chose. Variants are assigned by a hash
    of (campaign, contact): the same contact always lands in the same variant of the same
    campaign, whatever order or file it came in. A closed campaign refuses (CampaignClosed),
    whichever entry point asks: the API, the pages, the admin, an import, a command.
    """
    require_open(campaign, added_via=added_via)
    now = timezone.now()
    share_a = campaign.split_percent_a / 100 if campaign.template_b else 1.0
    shares = [share_a or 1.0, (1 - share_a) or 1.0]  # a variant with no share gets no members
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_campaigncontact (
                campaign_id, contact_id, variant, queue_position, status, held_because, ineligible_reason,
                review_approved, added_via, added_at, updated_at
            )
            SELECT %s, new.id, new.variant,
                   (COALESCE(seen.n, 0) + new.k - 0.5) / CASE WHEN new.variant = 'A' THEN %s ELSE %s END,
                   'pending', '', '', false, %s, %s, %s
            FROM (
                SELECT assigned.id, assigned.variant,
                       ROW_NUMBER() OVER (PARTITION BY assigned.variant ORDER BY assigned.id) AS k
                FROM (
                    SELECT chosen.id,
                           CASE WHEN %s OR (chosen.id * 2654435761 + %s * 40503) %% 100 < %s THEN 'A' ELSE 'B' END
                           AS variant
                    FROM ({contact_ids_sql}) AS chosen
                    WHERE NOT EXISTS (
                        SELECT 1 FROM campaigns_campaigncontact AS member
                        WHERE member.campaign_id = %s AND member.contact_id = chosen.id
                    )
                ) AS assigned
            ) AS new
            LEFT JOIN (
                SELECT variant, COUNT(*) AS n FROM campaigns_campaigncontact WHERE campaign_id = %s GROUP BY variant
            ) AS seen ON seen.variant = new.variant
            WHERE true
            ORDER BY new.id
            ON CONFLICT (campaign_id, contact_id) DO NOTHING""",
            [
                campaign.id,
                *shares,
                added_via,
                now,
                now,
                not campaign.template_b,
                campaign.id,
                campaign.split_percent_a,
                *params,
                campaign.id,
                campaign.id,
            ],
        )
        return cursor.rowcount


def add_contacts_by_id(*, campaign: Campaign, contact_ids: list[int]) -> int:
    """Add these contacts to the audience; ids that name no contact are an error, not a skip."""
    contact_ids = sorted(set(contact_ids))
    if not contact_ids:
        return 0
    found = set(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
    missing = [contact_id for contact_id in contact_ids if contact_id not in found]
    if missing:
        raise ValidationError({"contact_ids": f"No contact has id {', '.join(map(str, missing[:20]))}."})
    return _add_contacts(campaign, Contact.objects.filter(pk__in=contact_ids), CampaignContact.AddedVia.IDS)


def add_contacts_by_filter(*, campaign: Campaign, filters: dict[str, Any]) -> int:
    """Add every contact matching city / zip_code / state / source / import to the audience."""
    return _add_contacts(campaign, contact_filter(**filters), CampaignContact.AddedVia.FILTER)


def _add_contacts(campaign: Campaign, contacts: QuerySet[Contact], added_via: str) -> int:
    sql, params = contacts.order_by().values("id").query.sql_with_params()
    return add_members(campaign=campaign, contact_ids_sql=sql, params=params, added_via=added_via)


def approve_flagged_member(*, member: CampaignContact) -> CampaignContact:
    """Staff reviewed a contact who had texted us before and allow the campaign text."""
    updated = CampaignContact.objects.filter(pk=member.pk, status=CampaignContact.Status.FLAGGED).update(
        status=CampaignContact.Status.PENDING,
        review_approved=True,
        held_because="",
        ineligible_reason="",
        updated_at=timezone.now(),
    )
    if not updated:
        raise CampaignLocked("Only a flagged member can be approved.")
    member.refresh_from_db()
    return member


@transaction.atomic
def retry_failed_member(*, member: CampaignContact, now: dt.datetime | None = None) -> CampaignContact:
    """Staff try a member's failed text once more, deliberately. The failed send stays on record
    (it used its day's limit, as OpenPhone counted it) and the member waits to be booked by the
    campaign's next run, through every booking rule; a completed campaign reopens for them."""
    now = now or timezone.now()
    member = CampaignContact.objects.select_for_update().select_related("campaign", "contact").get(pk=member.pk)
    campaign = Campaign.objects.select_for_update().get(pk=member.campaign_id)
    sends = CampaignSend.objects.filter(campaign=campaign, contact_id=member.contact_id)
    if (
        member.status != CampaignContact.Status.INELIGIBLE
        or not sends.exists()
        or sends.exclude(message__status=Message.Status.FAILED).exists()
    ):
        raise CampaignLocked("Only a member whose text failed can be tried again.")
    if campaign.status not in (Campaign.Status.ACTIVE, Campaign.Status.PAUSED, Campaign.Status.COMPLETED):
        raise CampaignLocked(f"The campaign is {campaign.status}: it sends no more texts.")
    if member.contact.is_opted_out:
        raise CampaignLocked(f"{member.contact} opted out: they are not texted again.")
    member.status = CampaignContact.Status.PENDING
    member.held_because = member.ineligible_reason = ""
    member.retry_requested_at = now
    member.save(update_fields=["status", "held_because", "ineligible_reason", "retry_requested_at", "updated_at"])
    if campaign.status == Campaign.Status.COMPLETED:
        campaign.status = Campaign.Status.ACTIVE
        campaign.save(update_fields=["status", "updated_at"])
    return member


# --- Lifecycle -----------------------------------------------------------------------------


def reconsider(*, contact_ids: list[int], now: dt.datetime | None = None) -> int:
    """What kept these contacts out of campaigns may have passed (they resubscribed, a person
    decided their words were no opt-out): their refused members wait again at their place, and
    each campaign's next run judges them afresh with every rule. A member whose text went, or
    failed, stays as it is (staff may retry a failed one). Returns how many wait again."""
    sends = CampaignSend.objects.filter(campaign_id=OuterRef("campaign_id"), contact_id=OuterRef("contact_id"))
    decided = Q(Exists(sends), retry_requested_at__isnull=True) | Exists(
        sends.filter(created_at__gte=OuterRef("retry_requested_at"))
    )
    return (
        CampaignContact.objects.filter(
            contact_id__in=contact_ids,
            status__in=[CampaignContact.Status.INELIGIBLE, CampaignContact.Status.FLAGGED],
        )
        .exclude(campaign__status__in=Campaign.CLOSED_STATUSES)
        .exclude(decided)
        .exclude(held_because=Reason.FOLLOW_UP_CANCELLED)  # staff's decision, not a rule's
        .update(status=CampaignContact.Status.PENDING, held_because="", ineligible_reason="", not_before=None,
                updated_at=now or timezone.now())
    )  # fmt: skip
