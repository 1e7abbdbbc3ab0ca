"""What Today shows at its top: what needs a person, from every app."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime

from campaigns.compliance import lawful
from campaigns.models import Campaign
from contacts import dnc
from contacts.models import DoNotCallList
from contacts.selectors import waiting_imports
from messaging import catch_up, outbox, quiet, webhooks
from messaging.backends.base import AccountRefusal
from messaging.models import CatchUp, Message, OutboxHold, WebhookEvent, WorkerHeartbeat
from messaging.selectors import waiting_events, waiting_texts


@dataclass(frozen=True)
class Alert:
    level: str  # "error" or "warning"
    text: str
    link: str = ""
    # A button that settles it: POSTed to this URL name with its label.
    action: str = ""
    action_label: str = ""


def alerts(*, now: dt.datetime) -> list[Alert]:
    """Every alert Today shows, the sending and the webhooks first."""
    return [
        *messaging_alerts(now=now),
        *dnc_alerts(now=now),
        *unchecked_alerts(now=now),
        *import_alerts(now=now),
        *run_failure_alerts(),
        *self_paused_alerts(),
    ]


def messaging_alerts(*, now: dt.datetime) -> list[Alert]:
    """What needs a person: sending held, failing webhooks, failing texts, bad keys, no worker."""
    found = []
    hold = outbox.current_hold()
    if hold is not None:
        found.append(hold_alert(hold, waiting=outbox.due_texts(now=now).count()))
    found.extend(Alert("error", problem) for problem in webhooks.key_problems())
    failed_events = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    if failed_events:
        found.append(
            Alert(
                "error",
                f"{failed_events} webhook event(s) failed to process.",
                reverse("admin:messaging_webhookevent_changelist") + "?status__exact=failed",
            )
        )
    waiting = waiting_events(now=now).count()
    if waiting:
        found.append(
            Alert(
                "error",
                f"{waiting} webhook event(s) from OpenPhone have waited more than "
                f"{settings.WEBHOOK_HANDOVER_SECONDS} seconds for a worker (replies, opt-outs, delivery reports): "
                "the worker or its queue may be down.",
                reverse("admin:messaging_webhookevent_changelist") + "?status__exact=pending",
                action="process-waiting-events",
                action_label="Process them now",
            )
        )
    failed = Message.objects.filter(
        status__in=[Message.Status.FAILED, Message.Status.UNKNOWN], status_changed_at__gte=now - dt.timedelta(hours=24)
    ).count()
    if failed:
        found.append(
            Alert(
                "error",
                f"{failed} text(s) failed or have an unknown outcome in the last 24 hours.",
                reverse("admin:messaging_message_changelist") + "?status__exact=failed",
            )
        )
    late = waiting_texts(now=now)
    if late and hold is None:
        found.append(
            Alert(
                "warning",
                f"{late} text(s) due more than {settings.OUTBOX_REENQUEUE_SECONDS // 60} minutes ago have not been "
                "taken by a worker: they go out as soon as one takes them (a campaign text too late for its slot "
                "is booked again).",
            )
        )
    found.extend(catch_up_alerts(now=now))
    heartbeat = WorkerHeartbeat.objects.filter(name="dispatcher").first()
    if heartbeat is None or heartbeat.seen_at < now - dt.timedelta(minutes=2):
        seen = f"last seen {heartbeat.seen_at:%Y-%m-%d %H:%M}" if heartbeat else "never seen"
        found.append(
            Alert("warning", f"The worker has not run the dispatcher recently ({seen}): texts are not going out.")
        )
    return found


# What held sending, and what a person does about it: our own configuration is fixed here, the
# account's standing in OpenPhone.
HOLD_CAUSES = {
    AccountRefusal.NO_API_KEY: (
        "no OpenPhone API key is set, so no text can go out",
        "Set OPENPHONE_API_KEY to a key made in OpenPhone (Settings › API; see Configuration in "
        "docs/operating.md), restart the worker, then resume",
    ),
    AccountRefusal.KEY_REFUSED: (
        "OpenPhone refused our API key ({reason})",
        "Replace OPENPHONE_API_KEY with a valid key of a user on the sending number (see Rotating secrets in "
        "docs/operating.md), restart the worker, then resume",
    ),
    AccountRefusal.ACCOUNT: (
        "OpenPhone refused a text for the whole account ({reason})",
        "Fix it in OpenPhone (A2P registration, credits), then resume",
    ),
}


def hold_alert(hold: OutboxHold, *, waiting: int) -> Alert:
    """Sending held: since when, the real cause, and what to do about it."""
    what, remedy = HOLD_CAUSES[AccountRefusal(hold.cause)]
    return Alert(
        "error",
        f"Sending is held since {timezone.localtime(hold.started_at):%Y-%m-%d %H:%M}: "
        f"{what.format(reason=hold.reason)}. {remedy}; until then nothing is sent, and {waiting} text(s) are waiting.",
        action="resume-sending",
        action_label="Resume sending",
    )


def catch_up_alerts(*, now: dt.datetime) -> list[Alert]:
    """Webhooks gone quiet, and what the catch-ups of the last day found that the webhooks missed."""
    found = []
    silence = quiet.webhooks_silence(now=now)
    if silence is not None:
        overdue = quiet.catch_up_overdue(now=now) is not None
        found.append(
            Alert(
                "error",
                f"No webhook event has arrived since {timezone.localtime(silence.since):%Y-%m-%d %H:%M} while texts "
                f"went out: OpenPhone's webhooks may not be reaching us, and replies or STOPs may be missing. "
                + (
                    "Campaign texts to people we are in conversation with wait until a catch-up has run."
                    if overdue
                    else "The latest catch-up from OpenPhone covered the silence."
                ),
                action="catch-up-now",
                action_label="Catch up now",
            )
        )
    recent = CatchUp.objects.filter(started_at__gte=now - dt.timedelta(hours=24)).order_by("started_at")
    for run in recent:
        for missed in run.missed_opt_outs:
            thread = reverse("messaging:thread", args=[missed["contact_id"]])
            found.append(Alert("error", catch_up.describe_missed_opt_out(missed), thread))
    missed_replies = sum(run.replies_found for run in recent)
    if missed_replies:
        found.append(
            Alert(
                "warning",
                f"Catch-ups from OpenPhone found {missed_replies} text(s) in the last 24 hours that the webhooks had "
                "missed: check the webhook in OpenPhone.",
                reverse("admin:messaging_catchup_changelist"),
            )
        )
    latest = CatchUp.objects.exclude(status=CatchUp.Status.RUNNING).first()
    if latest is not None and latest.status == CatchUp.Status.FAILED:
        found.append(
            Alert(
                "warning",
                f"The catch-up from OpenPhone at {timezone.localtime(latest.started_at):%Y-%m-%d %H:%M} failed: "
                f"{latest.error}",
                reverse("admin:messaging_catchup_changelist"),
                action="catch-up-now",
                action_label="Try again",
            )
        )
    return found


def dnc_alerts(*, now: dt.datetime) -> list[Alert]:
    """Do-Not-Call copies too old to text by: one alert per list and copy date, naming its area codes."""
    stale: dict[tuple[str, dt.date], list[str]] = {}
    for row in dnc.stale_coverage(timezone.localdate(now)).order_by("list", "as_of", "area_code"):
        stale.setdefault((row.list, row.as_of), []).append(row.area_code)
    return [
        Alert(
            "error",
            f"The {DoNotCallList(list_name).label} copy for area code{'s' if len(area_codes) > 1 else ''} "
            f"{', '.join(area_codes)} is of {as_of}: marketing texts to them have stopped until a newer one is loaded.",
            reverse("contacts:dnc-lists"),
        )
        for (list_name, as_of), area_codes in stale.items()
    ]


def unchecked_alerts(*, now: dt.datetime) -> list[Alert]:
    """Marketing campaigns running, paused or scheduled that will text people in area codes no copy
    of the National Do-Not-Call Registry covers: no rule stops those texts, and nothing checked them."""
    open_campaigns = Campaign.objects.filter(
        status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED]
    ).order_by("id")
    return [
        Alert(
            "error",
            f"Campaign {unchecked.campaign_name!r} ({Campaign.Status(unchecked.campaign_status).label.lower()}) is "
            f"to text {'more than ' if unchecked.more else ''}{unchecked.members:,} "
            f"{'person' if unchecked.members == 1 else 'people'} with no consent or "
            f"business relationship on record in area code{'s' if len(unchecked.area_codes) > 1 else ''} "
            f"{', '.join(unchecked.area_codes)}{' (and perhaps others)' if unchecked.more else ''}, "
            "for which no copy of the National Do-Not-Call Registry is loaded: "
            "nothing has checked their numbers. The owner loads one on the Do-Not-Call lists page.",
            reverse("contacts:dnc-lists"),
        )
        for unchecked in lawful.unchecked_by_the_registry(open_campaigns, now=now)
    ]


def import_alerts(*, now: dt.datetime) -> list[Alert]:
    waiting = waiting_imports(now=now).count()
    if not waiting:
        return []
    return [
        Alert(
            "warning",
            f"{waiting} import(s) have waited more than {settings.IMPORT_HANDOVER_SECONDS // 60} minutes for a "
            "worker, or gave no sign of life for minutes: they are handed to a worker again every minute.",
            reverse("admin:contacts_contactimport_changelist") + "?status__in=queued,running",
        )
    ]


def run_failure_alerts() -> list[Alert]:
    return [
        Alert(
            "error",
            f"The run of campaign {campaign.name!r} failed at {localtime(campaign.last_run_failed_at):%Y-%m-%d %H:%M} "
            f"({campaign.last_run_error[:200]}). Other campaigns ran; the clock tries it again every minute.",
            reverse("campaigns:detail", args=[campaign.pk]),
        )
        for campaign in Campaign.objects.filter(last_run_failed_at__isnull=False).order_by("-last_run_failed_at")
    ]


def self_paused_alerts() -> list[Alert]:
    """Campaigns that paused themselves (carriers filtering their texts), until staff resume them."""
    return [
        Alert(
            "error",
            f"Campaign {campaign.name!r}: {campaign.pause_reason}",
            reverse("campaigns:detail", args=[campaign.pk]),
        )
        for campaign in Campaign.objects.filter(status=Campaign.Status.PAUSED).exclude(pause_reason="").order_by("pk")
    ]
