"""Writes with business meaning for campaigns. The API, admin, pages and commands call these."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignContact

EDITABLE_FIELDS = frozenset(
    {
        "name",
        "template_a",
        "template_b",
        "daily_limit",
        "split_percent_a",
        "include_opt_out_footer",
        "frequency_cap_days",
        "prior_contact_policy",
        "from_number",
        "starts_at",
    }
)


class CampaignTransitionError(Exception):
    """A status change the campaign lifecycle does not allow (e.g. completed → active)."""

    def __init__(self, campaign: Campaign, status: str) -> None:
        allowed = ", ".join(sorted(campaign.TRANSITIONS[campaign.status])) or "none"
        super().__init__(f"A {campaign.status} campaign cannot become {status} (allowed: {allowed}).")


def create_campaign(
    *,
    name: str,
    template_a: str,
    template_b: str = "",
    daily_limit: int = 125,
    created_by: AbstractBaseUser | None = None,
    **options: Any,
) -> Campaign:
    unknown = set(options) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"create_campaign() got unexpected fields: {', '.join(sorted(unknown))}")
    campaign = Campaign(
        name=name,
        template_a=template_a,
        template_b=template_b,
        daily_limit=daily_limit,
        created_by=created_by,
        **options,
    )
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def update_campaign(*, campaign: Campaign, status: str | None = None, **changes: Any) -> Campaign:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"update_campaign() got unexpected fields: {', '.join(sorted(unknown))}")
    # Lock the row: two staff pausing and completing at once must not both win.
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if status is not None and status != campaign.status:
        if not campaign.can_transition_to(status):
            raise CampaignTransitionError(campaign, status)
        campaign.status = status
        changes["status"] = status
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save(update_fields=[*changes, "updated_at"])
    return campaign


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign with its memberships and sends; texts already sent stay on record."""
    campaign.delete()


def add_members(
    *, campaign: Campaign, contact_ids_sql: str, params: tuple = (), added_via: str = CampaignContact.AddedVia.IDS
) -> int:
    """Add the contacts a SQL query selects to the campaign's audience; returns how many were new.

    Set-based, so a list of a million contacts is one statement. Variants are assigned by a hash
    of (campaign, contact): the same contact always lands in the same variant of the same
    campaign, whatever order or file it came in.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_campaigncontact (
                campaign_id, contact_id, variant, status, ineligible_reason, added_via, added_at, updated_at
            )
            SELECT %s, chosen.id,
                   CASE WHEN %s OR (chosen.id * 2654435761 + %s * 40503) %% 100 < %s THEN 'A' ELSE 'B' END,
                   'pending', '', %s, %s, %s
            FROM ({contact_ids_sql}) AS chosen
            WHERE true
            ON CONFLICT (campaign_id, contact_id) DO NOTHING""",
            [
                campaign.id,
                not campaign.template_b,
                campaign.id,
                campaign.split_percent_a,
                added_via,
                now,
                now,
                *params,
            ],
        )
        return cursor.rowcount
