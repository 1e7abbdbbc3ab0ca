import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from attackacrack import roles
from attackacrack.celery import app as celery_app
from attackacrack.today import alerts as today_alerts
from attackacrack.web.pages import staff_page
from campaigns import money, text_again
from campaigns import selectors as campaign_selectors
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign
from campaigns.progress import campaign_progress
from contacts import selectors as contact_selectors
from contacts.models import OptOutEvent
from messaging import outbox, quiet, webhooks
from messaging import selectors as messaging_selectors
from messaging.intent import ReplyIntent

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _checked(what: str, check: Callable[[], T], failed: T) -> T:
    """What ``check`` answers, or ``failed`` when it raises: any failure means "down" (or not known),
    and the reason goes to the log."""
    try:
        return check()
    except Exception as error:
        logger.warning("healthz: %s check failed: %s", what, type(error).__name__)
        return failed


def _database_ok() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker_ok() -> str:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks: is the database up, is the broker up? (503 if not.)

    What needs a person without making this instance unfit to serve, it reports beside them:
    sending held by an account-level refusal, webhook keys that cannot be decoded, and work that
    waited longer than its grace for a worker (webhook events, queued imports, due texts: a
    worker or the broker is down), each "waiting" with its count.
    """
    checks = {"database": _checked("database", _database_ok, "down"), "broker": _checked("broker", _broker_ok, "down")}
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks, **_attention()}
    if checks["database"] == "ok":
        body |= _checked("waiting-work", _waiting, {})
    return JsonResponse(body, status=200 if healthy else 503)


def _waiting() -> dict[str, object]:
    now = timezone.now()
    counts = {
        "webhook_events": messaging_selectors.waiting_events(now=now).count(),
        "imports": contact_selectors.waiting_imports(now=now).count(),
        "texts": messaging_selectors.waiting_texts(now=now),
    }
    return {
        **{name: "waiting" if count else "ok" for name, count in counts.items()},
        **{f"{name}_waiting": count for name, count in counts.items() if count},
    }


def _attention() -> dict[str, object]:
    problems = webhooks.key_problems()
    # When the database is down (already reported), neither is known.
    hold = _checked("hold", outbox.current_hold, None)
    silence = _checked("webhook silence", lambda: quiet.webhooks_silence(now=timezone.now()), None)
    return {
        "webhooks": "quiet" if silence is not None else "ok",
        **({"webhooks_quiet_since": silence.since.isoformat()} if silence is not None else {}),
        "sending": "held" if hold is not None else "ok",
        **({"sending_held_cause": hold.cause, "sending_held_code": hold.code} if hold is not None else {}),
        "webhook_keys": "invalid" if problems else "ok",
        **({"webhook_key_problems": problems} if problems else {}),
    }


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def dispatch_404(self, request: Request, *args: object, **kwargs: object) -> None:
        raise exceptions.NotFound("No API endpoint at this path.")

    get = post = put = patch = delete = dispatch_404


@staff_page
def dashboard(request: HttpRequest) -> HttpResponse:
    """The morning view: today's sends against the limit, replies waiting, what needs a person."""
    now = timezone.now()
    calendar = BusinessCalendar.from_settings()
    today = calendar.local_date(now)
    week_start = today - dt.timedelta(days=today.weekday())
    open_campaigns = Campaign.objects.filter(
        status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED]
    ).order_by("id")
    in_progress = campaign_progress(list(open_campaigns))
    paused = [item for item in in_progress if item.campaign.status == Campaign.Status.PAUSED]
    replies_label = request.GET.get("replies", "")
    replies_label = replies_label if replies_label in ReplyIntent.values else ""
    context = {
        "now": now,
        "open_now": calendar.is_open(now),
        "next_opening": calendar.next_opening(now),
        "usage": campaign_selectors.todays_usage(today=today),
        "spend": messaging_selectors.spend_this_month(now=now, zone=calendar.zone),
        "upcoming": campaign_selectors.upcoming_sends(now=now, limit=5),
        "running": [item for item in in_progress if item.campaign.status == Campaign.Status.ACTIVE],
        "paused": paused,
        # What "Next in the queue" cannot show: booked texts held by a pause.
        "paused_with_booked": [item for item in paused if item.booked],
        "scheduled": sorted(
            (item for item in in_progress if item.campaign.status == Campaign.Status.SCHEDULED),
            key=lambda item: item.campaign.starts_at or now,
        ),
        "replies": messaging_selectors.replies_waiting(limit=10, intent=replies_label),
        "replies_label": replies_label,
        "labels": ReplyIntent.choices,
        "latest": messaging_selectors.latest_texts(limit=20),
        "month": money.this_month(today=today),
        "opt_outs_this_week": OptOutEvent.objects.filter(
            kind=OptOutEvent.Kind.OPT_OUT,
            created_at__gte=dt.datetime.combine(week_start, dt.time(), tzinfo=calendar.zone),
        ).count(),
        "alerts": today_alerts(now=now),
        "catch_up": messaging_selectors.latest_catch_up(),
        "possible_opt_outs": messaging_selectors.possible_opt_outs(limit=20),
        "follow_ups_due": text_again.due_count(today=today),
    }
    return render(request, "dashboard.html", context)


@staff_page
def api_token(request: HttpRequest) -> HttpResponse:
    """The user's API token for scripts and API clients: shown, created, or replaced."""
    # A token outlives password changes and skips the sign-in lockout: the owner hands them out.
    roles.require(request.user, "authtoken.add_token")
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        messages.success(request, "A new token was created; the old one no longer works.")
        return redirect("api-token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "api_token.html", {"token": token})
