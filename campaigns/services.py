"""Writes with business meaning for campaigns: edits and the lifecycle. The API, admin, pages and
commands call these; who is in the audience is `campaigns.audience`, how a run books texts
`campaigns.booking`."""

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from campaigns import booking, costs
from campaigns.errors import CampaignLocked, CampaignNotRunnable, CampaignTransitionError
from campaigns.models import Campaign
from contacts.not_texted import Reason
from messaging import outbox
from messaging.models import Message

EDITABLE_FIELDS = frozenset(Campaign.EDITABLE_FIELDS)


def _refuse_unknown(caller: str, fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"{caller}() got unexpected fields: {', '.join(sorted(unknown))}")


def create_campaign(*, created_by: AbstractBaseUser | None = None, **fields: Any) -> Campaign:
    """A draft from what staff set (``Campaign.EDITABLE_FIELDS``); the model's defaults fill the
    rest. Its templates are saved plain (``costs.plain_templates``): what that changed is on the
    campaign returned, as ``made_plain``."""
    _refuse_unknown("create_campaign", fields)
    typed = fields
    fields, made_plain = costs.plain_templates(typed)
    campaign = Campaign(created_by=created_by, **fields)
    campaign.full_clean()
    campaign.save()
    campaign.made_plain = costs.what_was_made_plain(campaign, made_plain, typed=typed)
    return campaign


@transaction.atomic
def update_campaign(*, campaign: Campaign, **changes: Any) -> Campaign:
    """Change what staff set; templates are saved plain, as by ``create_campaign``."""
    _refuse_unknown("update_campaign", changes)
    typed = changes
    changes, made_plain = costs.plain_templates(typed)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_closed and changes:
        # What it sent was written from these fields; its record stays as it ran.
        raise CampaignLocked(
            f"A {campaign.get_status_display().lower()} campaign cannot change: make a new campaign instead."
        )
    changed_texts = sorted(
        field
        for field in ("template_a", "template_b", "include_opt_out_footer")
        if field in changes and changes[field] != getattr(campaign, field)
    )
    if changed_texts and campaign.status == Campaign.Status.ACTIVE:
        # Texts already sent were written from the current templates; changing them mid-run
        # would mix two texts under one variant. Pause first.
        raise CampaignLocked(f"An active campaign's texts cannot change ({', '.join(changed_texts)}): pause it first.")
    if changes.get("judged_on", campaign.judged_on) != campaign.judged_on and campaign.is_launched:
        # Choosing the measure after seeing how each text does would make the verdict's 5% a lie.
        raise CampaignLocked(
            f"What the A/B verdict judges on (judged_on) is set before a campaign starts: a "
            f"{campaign.get_status_display().lower()} campaign keeps {campaign.get_judged_on_display().lower()}.",
            field="judged_on",
        )
    if changes.get("purpose", campaign.purpose) != campaign.purpose and campaign.compliance_records.exists():
        # Its texts' records rest on the rules of its purpose: another purpose is another campaign.
        raise CampaignLocked("A campaign that has booked texts keeps its purpose: make a new campaign instead.")
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save(update_fields=[*changes, "updated_at"])
    campaign.made_plain = costs.what_was_made_plain(campaign, made_plain, typed=typed)
    return campaign


@transaction.atomic
def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign that never booked a text (a draft and its audience). One with any send or
    compliance record is history the caps, the daily limit and the compliance log count: it is
    cancelled and archived."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    booked = campaign.sends.count()
    records = campaign.compliance_records.count()
    if booked or records:
        raise CampaignLocked(
            f"The campaign has {booked} text(s) and {records} compliance record(s) on record, which the caps "
            "and the compliance log count: it cannot be deleted. Cancel it and archive it instead."
        )
    campaign.delete()


@transaction.atomic
def archive_campaign(*, campaign: Campaign) -> Campaign:
    """Hide a finished campaign from the lists; everything it did stays on record."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_closed:
        raise CampaignLocked(f"A {campaign.status} campaign cannot be archived: cancel it first.")
    if campaign.archived_at is None:
        campaign.archived_at = timezone.now()
        campaign.save(update_fields=["archived_at", "updated_at"])
    return campaign


def _transition(campaign: Campaign, status: str, **fields: Any) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.can_transition_to(status):
        raise CampaignTransitionError(campaign, status)
    campaign.status = status
    for field, value in fields.items():
        setattr(campaign, field, value)
    campaign.save(update_fields=["status", *fields, "updated_at"])
    return campaign


@transaction.atomic
def schedule_campaign(*, campaign: Campaign, starts_at: dt.datetime | None = None) -> Campaign:
    """Draft → scheduled: the clock activates it at ``starts_at`` (now if not given)."""
    if not campaign.memberships.exists():
        raise CampaignNotRunnable("The campaign has no audience: add contacts before scheduling it.")
    campaign.sending_number  # noqa: B018 -- read for its refusal: no number to send from (409)
    return _transition(campaign, Campaign.Status.SCHEDULED, starts_at=starts_at or timezone.now())


def start_campaign(*, campaign: Campaign, now: dt.datetime | None = None) -> "booking.ExecutionResult":
    """Schedule for now if it is a draft, activate, and book today's sends at once."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == Campaign.Status.DRAFT:
            campaign = schedule_campaign(campaign=campaign, starts_at=now)
        _transition(campaign, Campaign.Status.ACTIVE)
    return booking.run_campaign(campaign_id=campaign.pk, now=now)


@transaction.atomic
def pause_campaign(*, campaign: Campaign) -> Campaign:
    """Active → paused. The dispatcher claims only active campaigns' sends, so nothing more goes out."""
    return _transition(campaign, Campaign.Status.PAUSED)


def resume_campaign(*, campaign: Campaign, now: dt.datetime | None = None) -> "booking.ExecutionResult":
    """Paused → active, then book again: sends whose slot passed while paused get new slots."""
    with transaction.atomic():
        _transition(campaign, Campaign.Status.ACTIVE, pause_reason="")
    return booking.run_campaign(campaign_id=campaign.pk, now=now)


@transaction.atomic
def cancel_campaign(*, campaign: Campaign) -> Campaign:
    """Cancel for good: every text of it still waiting (for its slot or for a retry) is cancelled
    with the reason."""
    campaign = _transition(campaign, Campaign.Status.CANCELLED)
    outbox.cancel_waiting_texts(
        Message.objects.filter(campaign=campaign), because=Reason.CAMPAIGN_CANCELLED, now=timezone.now()
    )
    return campaign


def require_no_winner_yet(campaign: Campaign) -> None:
    """Refuse (CampaignLocked) unless a winner can still be declared: two variants, none declared,
    the campaign still open."""
    if not campaign.template_b:
        raise CampaignLocked("The campaign has only one variant: there is no winner to declare.")
    if campaign.winner:
        raise CampaignLocked(f"Variant {campaign.winner} was already declared the winner.")
    if campaign.is_closed:
        raise CampaignLocked(f"The campaign is {campaign.status}.")


@transaction.atomic
def declare_winner(*, campaign: Campaign, variant: str) -> Campaign:
    """From now on every member not yet booked gets the winning text (``Campaign.variant_for``).
    Members keep the variant they were assigned, and texts already booked go as booked: the
    results count each text under the variant it was, so they stay true to what was sent."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_no_winner_yet(campaign)
    campaign.winner = variant
    campaign.winner_declared_at = timezone.now()
    campaign.save(update_fields=["winner", "winner_declared_at", "updated_at"])
    return campaign
