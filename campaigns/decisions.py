"""When the clock may skip a campaign's run: nothing the run decides from has moved.

A run decides every member again and forecasts every later day; at 5 × 100,000 members that is
seconds every minute to book nothing. On PostgreSQL the database moves one counter on every write
to what a run reads (migration 0015: campaigns, memberships, sends, holidays, contacts, houses and
their links, consent reviews, inbound texts). A run that changed nothing and saw no other write in
flight records the counter, the settings it ran under, and the first moment time alone could
change a decision (midnight, the window opening or closing, a booked slot going stale, another
campaign's text ageing out of the frequency cap). The next run that finds the same counter and
settings before that moment decides nothing and reports what the last one found.

A run that could still book today (the window open, budget left, members waiting) is never
skipped: whether a slot fits depends on the minute. On SQLite (`make run`) nothing is skipped.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Min, Subquery

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignDecision, SendStatus


@dataclass(frozen=True)
class Inputs:
    """The decision-input counter as a run found it, and whether another write was in flight."""

    key: str
    others_in_flight: bool


def _settings_digest() -> str:
    """The settings a run's decisions read: a restart with other hours or limits decides again."""
    rules = Path(settings.RECIPIENT_RULES_FILE) if settings.RECIPIENT_RULES_FILE else None
    facts = (
        settings.SMS_DAILY_LIMIT_PER_NUMBER,
        settings.BUSINESS_TIME_ZONE,
        sorted(settings.BUSINESS_DAYS),
        settings.BUSINESS_OPENS,
        settings.BUSINESS_CLOSES,
        settings.CAMPAIGN_PACE_MINUTES,
        settings.CAMPAIGN_PACE_BATCH,
        settings.CAMPAIGN_MISSED_SLOT_MINUTES,
        settings.OPENPHONE_FROM_NUMBER,
        str(rules),
        rules.stat().st_mtime_ns if rules and rules.exists() else None,
    )
    return hashlib.sha256(repr(facts).encode()).hexdigest()[:16]


def observe() -> Inputs | None:
    """The counter now (None where the database keeps none: SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.last_value, s.is_called, EXISTS (
                   SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
                   WHERE pg_current_xact_id_if_assigned() IS NULL OR running.xid <> pg_current_xact_id_if_assigned())
               FROM campaigns_decision_inputs s"""
        )
        last_value, is_called, others = cursor.fetchone()
    return Inputs(key=f"{last_value if is_called else 0}:{_settings_digest()}", others_in_flight=others)


def may_skip(campaign: Campaign, inputs: Inputs | None, *, now: dt.datetime) -> bool:
    """Nothing the run reads has moved since a run that changed nothing, and no moment has come
    when time alone changes a decision."""
    if inputs is None:
        return False
    decision = CampaignDecision.objects.filter(campaign=campaign).first()
    return decision is not None and decision.inputs == inputs.key and now < decision.valid_until


def record(
    campaign: Campaign,
    before: Inputs | None,
    *,
    now: dt.datetime,
    calendar: BusinessCalendar,
    could_book_more: bool,
) -> None:
    """After a full run: keep what it saw if the run changed nothing and nothing else was being
    written meanwhile; otherwise the next run decides again."""
    if before is None:
        return
    after = observe()
    if before.others_in_flight or after.key != before.key or could_book_more:
        CampaignDecision.objects.filter(campaign=campaign).delete()
        return
    CampaignDecision.objects.update_or_create(
        campaign=campaign,
        defaults={"inputs": before.key, "valid_until": _valid_until(campaign, now, calendar), "decided_at": now},
    )


def _valid_until(campaign: Campaign, now: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """The first moment after ``now`` at which time alone could change what a run decides."""
    today = calendar.local_date(now)
    moments = [dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone)]
    window = calendar.window(today)
    if window is not None:
        moments += [moment for moment in (window.opens, window.closes) if moment > now]
    # A booked text whose slot goes by is released by the next run.
    grace = dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    first_slot = campaign.sends.filter(status=SendStatus.QUEUED).aggregate(at=Min("scheduled_for"))["at"]
    if first_slot is not None:
        moments.append(first_slot + grace)
    # A member kept out by the frequency cap may be texted once the other campaign's text is old.
    if campaign.frequency_cap_days:
        from campaigns import booking  # booking runs through this module: read here

        latest_other_text = booking.texts_by_other_campaigns(campaign).order_by("-texted_at").values("texted_at")[:1]
        oldest = (
            campaign.memberships.filter(
                status=CampaignContact.Status.INELIGIBLE, ineligible_reason=booking.frequency_cap_reason(campaign)
            )
            .annotate(texted_at=Subquery(latest_other_text))
            .aggregate(at=Min("texted_at"))["at"]
        )
        if oldest is not None:
            moments.append(oldest + dt.timedelta(days=campaign.frequency_cap_days))
    return max(now, min(moments))
