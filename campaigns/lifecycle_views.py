"""What staff do to a campaign's course, each after a confirmation that says what will happen:
start, schedule, pause or resume, cancel, and send the rest the winning text."""

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from attackacrack.errors import ApplicationError
from attackacrack.web.pages import attempt, staff_page
from campaigns import (
    costs,
    results,
    selectors,
    services,
    writing,
)
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import lawful
from campaigns.forms import ScheduleForm
from campaigns.models import Campaign
from campaigns.progress import campaign_progress


@staff_page
def send_the_rest(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The verdict's button: a page says who gets which text from now on and that it is final,
    and once confirmed the rest of the audience gets the winning text."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    _, verdict = results.ab_results(campaign)
    variant = (request.POST if request.method == "POST" else request.GET).get("variant")
    if verdict.state != "winner" or variant != verdict.winner:
        messages.error(request, "There is no verdict for that variant.")
        return redirect("campaigns:detail", campaign.pk)
    if request.method == "POST":
        attempt(
            request,
            partial(services.declare_winner, campaign=campaign, variant=verdict.winner),
            success=lambda _: f"The rest of the audience gets variant {verdict.winner}.",
        )
        return redirect("campaigns:detail", campaign.pk)
    try:
        services.require_no_winner_yet(campaign)
    except ApplicationError as error:
        messages.error(request, str(error))
        return redirect("campaigns:detail", campaign.pk)
    winning = writing.preview(
        variant=verdict.winner,
        template=campaign.template_for(verdict.winner),
        reader=writing.preview_reader(campaign),
        include_opt_out_footer=campaign.include_opt_out_footer,
    )
    return render(
        request,
        "campaigns/confirm_winner.html",
        {
            "campaign": campaign,
            "verdict": verdict,
            "plan": selectors.winner_plan(campaign, winner=verdict.winner),
            "winning": winning,
        },
    )


# Actions taken at one click: each undoes the other.
ACTIONS = {
    "pause": services.pause_campaign,
    "resume": services.resume_campaign,
}


@staff_page
@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if action not in ACTIONS:
        messages.error(request, f"Unknown action {action!r}.")
        return redirect("campaigns:detail", campaign.pk)
    return _act(request, campaign, partial(ACTIONS[action], campaign=campaign))


@staff_page
def start_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Start now: the page says what will go out when, and the campaign starts once confirmed."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    now = timezone.now()
    if request.method == "POST":
        return _act(request, campaign, partial(services.start_campaign, campaign=campaign, now=now))
    return _confirm_launch(request, campaign, starts_at=now, action="start")


@staff_page
def schedule_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Schedule for a date and time: pick it, read what will happen, confirm."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    calendar = BusinessCalendar.from_settings()
    now = timezone.now()
    form = ScheduleForm(request.POST or None, calendar=calendar, now=now)
    if request.method == "POST" and form.is_valid():
        starts_at = form.cleaned_data["starts_at"]
        if request.POST.get("confirmed"):
            return _act(request, campaign, partial(services.schedule_campaign, campaign=campaign, starts_at=starts_at))
        return _confirm_launch(request, campaign, starts_at=starts_at, action="schedule", form=form)
    return render(request, "campaigns/schedule.html", {"campaign": campaign, "form": form})


def _confirm_launch(
    request: HttpRequest, campaign: Campaign, *, starts_at, action: str, form: ScheduleForm | None = None
) -> HttpResponse:
    calendar = BusinessCalendar.from_settings()
    plan = selectors.launch_plan(campaign, starts_at=starts_at, calendar=calendar)
    return render(
        request,
        "campaigns/confirm_launch.html",
        {
            "campaign": campaign,
            "action": action,
            "form": form,
            "plan": plan,
            "cost": costs.launch_cost(campaign, plan.foreseen),
            "price": settings.SMS_COST_PER_SEGMENT,
            "follow_up": Campaign.objects.filter(follow_up_of=campaign).first(),
            # [] or the one campaign's: who nothing has checked against the Do-Not-Call Registry.
            "unchecked": lawful.unchecked_by_the_registry([campaign], now=starts_at),
            "business_zone": calendar.zone.key,
        },
    )


def _act(request: HttpRequest, campaign: Campaign, action: Callable[[], object]) -> HttpResponse:
    """Do a lifecycle action, say what the campaign is now (or why not), and show the campaign."""

    def now_it_is(_) -> str:
        campaign.refresh_from_db()
        if campaign.status == Campaign.Status.SCHEDULED:
            starts = timezone.localtime(campaign.starts_at, BusinessCalendar.from_settings().zone)
            return f"Campaign scheduled: it starts {starts:%a %b %-d at %-I:%M %p}."
        return f"Campaign {campaign.get_status_display().lower()}."

    attempt(request, action, success=now_it_is)
    return redirect("campaigns:detail", campaign.pk)


@staff_page
def cancel_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Cancel for good, after a page that says so and what it stops."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if request.method == "POST":
        attempt(
            request,
            partial(services.cancel_campaign, campaign=campaign),
            success=lambda _: f"Campaign “{campaign.name}” cancelled. Its history stays on record.",
        )
        return redirect("campaigns:detail", campaign.pk)
    [progress] = campaign_progress([campaign])
    return render(request, "campaigns/confirm_cancel.html", {"campaign": campaign, "progress": progress})
