"""Writes with business meaning for campaigns: edits, the follow-up step and the lifecycle. The API,
admin, pages and commands call these; who is in the audience is `campaigns.audience` (and for a
follow-up `campaigns.follow_ups`), how a run books texts `campaigns.booking`.

A campaign's follow-up step (``Campaign.follow_up_of``) is written here with it: its own texts,
split and days (`set_follow_up`); the rest it takes from its campaign (``Campaign.FOLLOW_UP_MIRRORS``),
kept equal on every edit. It is scheduled, started, paused, resumed and cancelled with its
campaign; it may also be paused, resumed or cancelled on its own, and it completes on its own, once
its campaign's members have all had their turn."""

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns import booking, costs, follow_ups
from campaigns.calendar import BusinessCalendar
from campaigns.errors import CampaignLocked, CampaignNotRunnable, CampaignTransitionError
from campaigns.models import Campaign, CampaignSend, ComplianceRecord
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


def _refuse_closed(campaign: Campaign, changes: dict[str, Any]) -> None:
    if campaign.is_closed and changes:
        # What it sent was written from these fields; its record stays as it ran.
        raise CampaignLocked(
            f"A {campaign.get_status_display().lower()} campaign cannot change: make a new campaign instead."
        )


def _refuse_text_changes_while_active(campaign: Campaign, changes: dict[str, Any]) -> None:
    changed_texts = sorted(
        field
        for field in ("template_a", "template_b", "include_opt_out_footer")
        if field in changes and changes[field] != getattr(campaign, field)
    )
    if changed_texts and campaign.status == Campaign.Status.ACTIVE:
        # Texts already sent were written from the current templates; changing them mid-run
        # would mix two texts under one variant. Pause first.
        raise CampaignLocked(f"An active campaign's texts cannot change ({', '.join(changed_texts)}): pause it first.")


def _refuse_a_new_measure_once_launched(campaign: Campaign, changes: dict[str, Any]) -> None:
    if changes.get("judged_on", campaign.judged_on) != campaign.judged_on and campaign.is_launched:
        # Choosing the measure after seeing how each text does would make the verdict's 5% a lie.
        raise CampaignLocked(
            f"What the A/B verdict judges on (judged_on) is set before a campaign starts: a "
            f"{campaign.get_status_display().lower()} campaign keeps {campaign.get_judged_on_display().lower()}.",
            field="judged_on",
        )


@transaction.atomic
def update_campaign(*, campaign: Campaign, **changes: Any) -> Campaign:
    """Change what staff set; templates are saved plain, as by ``create_campaign``."""
    _refuse_unknown("update_campaign", changes)
    typed = changes
    changes, made_plain = costs.plain_templates(typed)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_follow_up and changes:
        raise CampaignLocked(
            f"A follow-up is edited with its campaign, “{campaign.follow_up_of.name}”: its texts, split and days "
            "there, and the rest it takes from it."
        )
    _refuse_closed(campaign, changes)
    _refuse_text_changes_while_active(campaign, changes)
    _refuse_a_new_measure_once_launched(campaign, changes)
    follow_up = _open_follow_up(campaign)
    if changes.get("purpose", campaign.purpose) != campaign.purpose and (
        campaign.compliance_records.exists() or (follow_up and follow_up.compliance_records.exists())
    ):
        # Its texts' records rest on the rules of its purpose: another purpose is another campaign.
        raise CampaignLocked("A campaign that has booked texts keeps its purpose: make a new campaign instead.")
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save(update_fields=[*changes, "updated_at"])
    campaign.made_plain = costs.what_was_made_plain(campaign, made_plain, typed=typed)
    if follow_up is not None:
        _mirror(campaign, follow_up)
        follow_up.save()
    return campaign


def _open_follow_up(campaign: Campaign) -> Campaign | None:
    """The campaign's follow-up step, locked, unless it has none or it is closed."""
    return (
        Campaign.objects.select_for_update()
        .filter(follow_up_of=campaign)
        .exclude(status__in=Campaign.CLOSED_STATUSES)
        .first()
    )


def _mirror(campaign: Campaign, follow_up: Campaign) -> None:
    """What the follow-up takes from its campaign, and its name."""
    for field in Campaign.FOLLOW_UP_MIRRORS:
        setattr(follow_up, field, getattr(campaign, field))
    follow_up.name = f"{campaign.name[:185]} (follow-up)"


@transaction.atomic
def set_follow_up(
    *, campaign: Campaign, template_a: str, template_b: str = "", split_percent_a: int = 50, after_days: int | None
) -> Campaign:
    """Give the campaign its one follow-up step, or change it: its texts (A/B like any campaign),
    its split, and how many business days after the first text it goes (None: only to the people
    staff choose to text again). Its templates are saved plain, as a campaign's. Returns the follow-up."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_follow_up:
        raise CampaignLocked("A follow-up has no follow-up of its own.")
    follow_up = Campaign.objects.select_for_update().filter(follow_up_of=campaign).first()
    typed = {"template_a": template_a, "template_b": template_b, "split_percent_a": split_percent_a}
    fields, made_plain = costs.plain_templates(typed)
    if follow_up is None:
        if campaign.is_closed:
            raise CampaignLocked(
                f"A {campaign.get_status_display().lower()} campaign takes no follow-up: it texts nobody again."
            )
        follow_up = Campaign(follow_up_of=campaign, status=campaign.status, created_by=campaign.created_by)
    else:
        changes = {field: value for field, value in fields.items() if getattr(follow_up, field) != value}
        if after_days != follow_up.follow_up_after_days:
            changes["follow_up_after_days"] = after_days
        if follow_up.is_closed and not changes:
            return follow_up  # the campaign's form saved as it was: a closed follow-up stays as it ran
        _refuse_closed(follow_up, changes)
        _refuse_text_changes_while_active(follow_up, changes)
    for field, value in fields.items():
        setattr(follow_up, field, value)
    follow_up.follow_up_after_days = after_days
    if after_days is not None and follow_up.followed_up_through is None and campaign.sends.exists():
        # Given to a campaign that has texted already: those whose follow-up was due before today
        # are not texted again out of the blue (staff may choose a day for any of them).
        calendar = BusinessCalendar.from_settings()
        yesterday = calendar.local_date(timezone.now()) - dt.timedelta(days=1)
        follow_up.followed_up_through = follow_ups.due_through(calendar, yesterday, after_days)
    _mirror(campaign, follow_up)
    try:
        follow_up.full_clean()
    except ValidationError as error:
        # Named as this function takes them: its days are ``after_days``.
        raise ValidationError(
            {{"follow_up_after_days": "after_days"}.get(field, field): problems
             for field, problems in error.error_dict.items()}
        ) from error  # fmt: skip
    follow_up.save()
    follow_up.made_plain = costs.what_was_made_plain(follow_up, made_plain, typed=typed)
    return follow_up


@transaction.atomic
def remove_follow_up(*, campaign: Campaign) -> None:
    """Take away a follow-up step that never booked a text; one that did is history: cancel it."""
    follow_up = Campaign.objects.select_for_update().filter(follow_up_of=campaign).first()
    if follow_up is None:
        return
    if follow_up.sends.exists() or follow_up.compliance_records.exists():
        raise CampaignLocked("The follow-up has booked texts, which the caps and the record count: cancel it instead.")
    follow_up.delete()


@transaction.atomic
def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign that never booked a text (a draft and its audience). One with any send or
    compliance record is history the caps, the daily limit and the compliance log count: it is
    cancelled and archived."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    steps = Campaign.objects.filter(pk=campaign.pk) | Campaign.objects.filter(follow_up_of=campaign)
    booked = CampaignSend.objects.filter(campaign__in=steps).count()
    records = ComplianceRecord.objects.filter(campaign__in=steps).count()
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
    if _open_follow_up(campaign) is not None:
        raise CampaignLocked("Its follow-up still texts people: archive the campaign once the follow-up is done.")
    if campaign.archived_at is None:
        campaign.archived_at = timezone.now()
        campaign.save(update_fields=["archived_at", "updated_at"])
        Campaign.objects.filter(follow_up_of=campaign, archived_at__isnull=True).update(
            archived_at=campaign.archived_at
        )
    return campaign


def _transition(campaign: Campaign, status: str, *, follow_up_from: tuple[str, ...] = (), **fields: Any) -> Campaign:
    """Move the campaign to ``status`` (a follow-up's fields the same), and its follow-up step with
    it when the follow-up stands at one of ``follow_up_from``."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.can_transition_to(status):
        raise CampaignTransitionError(campaign, status)
    campaign.status = status
    for field, value in fields.items():
        setattr(campaign, field, value)
    campaign.save(update_fields=["status", *fields, "updated_at"])
    if follow_up_from:
        Campaign.objects.filter(follow_up_of=campaign, status__in=follow_up_from).update(
            status=status, updated_at=timezone.now(), **fields
        )
    return campaign


def _refuse_starting_a_follow_up(campaign: Campaign) -> None:
    if campaign.is_follow_up:
        raise CampaignLocked(f"A follow-up starts with its campaign, “{campaign.follow_up_of.name}”: start that one.")


@transaction.atomic
def schedule_campaign(*, campaign: Campaign, starts_at: dt.datetime | None = None) -> Campaign:
    """Draft → scheduled: the clock activates it at ``starts_at`` (now if not given)."""
    _refuse_starting_a_follow_up(campaign)
    if not campaign.memberships.exists():
        raise CampaignNotRunnable("The campaign has no audience: add contacts before scheduling it.")
    campaign.sending_number  # noqa: B018 -- read for its refusal: no number to send from (409)
    return _transition(
        campaign,
        Campaign.Status.SCHEDULED,
        follow_up_from=(Campaign.Status.DRAFT,),
        starts_at=starts_at or timezone.now(),
    )


def start_campaign(*, campaign: Campaign, now: dt.datetime | None = None) -> "booking.ExecutionResult":
    """Schedule for now if it is a draft, activate, and book today's sends at once."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_starting_a_follow_up(campaign)
        if campaign.status == Campaign.Status.DRAFT:
            campaign = schedule_campaign(campaign=campaign, starts_at=now)
        _transition(campaign, Campaign.Status.ACTIVE, follow_up_from=(Campaign.Status.SCHEDULED,))
    return booking.run_campaign(campaign_id=campaign.pk, now=now)


@transaction.atomic
def pause_campaign(*, campaign: Campaign) -> Campaign:
    """Active → paused, its follow-up with it. The dispatcher claims only active campaigns' sends,
    so nothing more goes out."""
    return _transition(campaign, Campaign.Status.PAUSED, follow_up_from=(Campaign.Status.ACTIVE,))


def resume_campaign(*, campaign: Campaign, now: dt.datetime | None = None) -> "booking.ExecutionResult":
    """Paused → active, its follow-up with it, then book again: sends whose slot passed while
    paused get new slots (the follow-up's at the clock's next run)."""
    with transaction.atomic():
        _transition(campaign, Campaign.Status.ACTIVE, follow_up_from=(Campaign.Status.PAUSED,), pause_reason="")
    return booking.run_campaign(campaign_id=campaign.pk, now=now)


@transaction.atomic
def cancel_campaign(*, campaign: Campaign) -> Campaign:
    """Cancel for good, its follow-up with it: every text of theirs still waiting (for its slot or
    for a retry) is cancelled with the reason."""
    open_statuses = tuple(status for status in Campaign.Status.values if status not in Campaign.CLOSED_STATUSES)
    campaign = _transition(campaign, Campaign.Status.CANCELLED, follow_up_from=open_statuses)
    steps = Campaign.objects.filter(pk=campaign.pk) | Campaign.objects.filter(follow_up_of=campaign)
    outbox.cancel_waiting_texts(
        Message.objects.filter(campaign__in=steps), because=Reason.CAMPAIGN_CANCELLED, now=timezone.now()
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
