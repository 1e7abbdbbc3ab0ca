"""Campaign pages for staff: list, create/edit with a live preview, detail with actions and results."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from attackacrack.errors import ApplicationError
from attackacrack.web.pages import staff_page
from campaigns import results, selectors, services, texts
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, CampaignContact

MEMBERS_PER_PAGE = 50


@staff_page
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = list(Campaign.objects.filter(archived_at__isnull=True).order_by("-id")[:200])
    return render(request, "campaigns/list.html", {"progress": selectors.campaign_progress(campaigns)})


@staff_page
def campaign_form(request: HttpRequest, campaign_id: int | None = None) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id) if campaign_id else None
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if campaign is None:
                campaign = services.create_campaign(**fields, created_by=request.user)
            else:
                campaign = services.update_campaign(campaign=campaign, **fields)
        except ApplicationError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” saved.")
            return redirect("campaigns:detail", campaign.pk)
    return render(
        request,
        "campaigns/form.html",
        {
            "form": form,
            "campaign": campaign,
            "previews": _previews(form.data or None, campaign),
            "preview_is_sample": selectors.preview_reader(campaign).is_sample,
        },
    )


@staff_page
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The live preview fragment for unsaved templates (the form posts as it is typed)."""
    return render(request, "campaigns/_preview.html", {"previews": _previews(request.POST, None)})


def _previews(data, campaign: Campaign | None) -> list[dict]:
    # What the form holds now (typed, not saved), else what the campaign holds.
    templates = {
        variant: (data or {}).get(field, getattr(campaign, field) if campaign else "")
        for variant, field in (("A", "template_a"), ("B", "template_b"))
    }
    if data is not None:
        with_footer = bool(data.get("include_opt_out_footer"))
    else:
        with_footer = campaign.include_opt_out_footer if campaign else True
    reader = selectors.preview_reader(campaign)
    rows = []
    for variant, template in templates.items():
        if not template:
            continue
        try:
            texts.validate_template(template)
        except ValidationError as error:
            rows.append({"variant": variant, "error": error.messages[0]})
            continue
        preview = selectors.preview(
            variant=variant, template=template, reader=reader, include_opt_out_footer=with_footer
        )
        rows.append({"variant": variant, "text": preview.text, "cost": preview.cost})
    return rows


@staff_page
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    status = request.GET.get("status", "")
    members = campaign.memberships.select_related("contact").order_by("id")
    if status in CampaignContact.Status.values:
        members = members.filter(status=status)
    after = request.GET.get("after", "")
    if after.isdigit():
        members = members.filter(id__gt=int(after))
    page = list(members[: MEMBERS_PER_PAGE + 1])
    variants, verdict = results.ab_results(campaign)
    [progress] = selectors.campaign_progress([campaign])
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "members": page[:MEMBERS_PER_PAGE],
            "next_after": page[MEMBERS_PER_PAGE - 1].pk if len(page) > MEMBERS_PER_PAGE else None,
            "status": status,
            "statuses": CampaignContact.Status.choices,
            "variants": variants,
            "verdict": verdict,
            "offer_winner": verdict.state == "winner"
            and not campaign.winner
            and campaign.status not in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED),
            "chart": _chart(variants),
            "upcoming": selectors.upcoming_sends(now=timezone.now(), campaign=campaign, limit=20),
            "actions": _actions(campaign),
        },
    )


def _actions(campaign: Campaign) -> list[tuple[str, str]]:
    allowed = campaign.TRANSITIONS[campaign.status]
    shown = []
    if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        shown.append(("start", "Start now"))
    if Campaign.Status.SCHEDULED in allowed and campaign.status == Campaign.Status.DRAFT:
        shown.append(("schedule", "Schedule"))
    if Campaign.Status.PAUSED in allowed:
        shown.append(("pause", "Pause"))
    if campaign.status == Campaign.Status.PAUSED:
        shown.append(("resume", "Resume"))
    if Campaign.Status.CANCELLED in allowed:
        shown.append(("cancel", "Cancel"))
    return shown


def _chart(variants) -> dict:
    """Interested-reply and opt-out rates per variant with their 95% intervals, as SVG geometry
    (bars on a scale from 0 to the highest interval's end)."""
    series = [("interested", "Interested"), ("opted_out", "Opted out")]
    intervals = [variant.interval(getattr(variant, key)) for variant in variants for key, _ in series]
    top = max([high for _, high in filter(None, intervals)] + [0.01])
    bars = []
    for row, variant in enumerate(variants):
        for index, (key, label) in enumerate(series):
            count = getattr(variant, key)
            rate, interval = variant.rate(count), variant.interval(count)
            bars.append(
                {
                    "y": 10 + row * 60 + index * 22,
                    "width": round(240 * (rate or 0) / top),
                    "low": round(240 * interval[0] / top) + 110 if interval else None,
                    "high": round(240 * interval[1] / top) + 110 if interval else None,
                    "label": f"{variant.variant} {label}",
                    "value": f"{rate:.1%}" if rate is not None else "–",
                    "kind": key,
                }
            )
    return {"bars": bars, "height": 10 + len(variants) * 60}


@staff_page
@require_POST
def send_the_rest(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The verdict's button: the rest of the audience gets the winning text."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    _, verdict = results.ab_results(campaign)
    if verdict.state != "winner" or request.POST.get("variant") != verdict.winner:
        messages.error(request, "There is no verdict for that variant.")
        return redirect("campaigns:detail", campaign.pk)
    try:
        services.declare_winner(campaign=campaign, variant=verdict.winner)
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The rest of the audience gets variant {verdict.winner}.")
    return redirect("campaigns:detail", campaign.pk)


ACTIONS = {
    "start": services.start_campaign,
    "schedule": services.schedule_campaign,
    "pause": services.pause_campaign,
    "resume": services.resume_campaign,
    "cancel": services.cancel_campaign,
}


@staff_page
@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if action not in ACTIONS:
        messages.error(request, f"Unknown action {action!r}.")
        return redirect("campaigns:detail", campaign.pk)
    try:
        ACTIONS[action](campaign=campaign)
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        campaign.refresh_from_db()
        messages.success(request, f"Campaign {campaign.status}.")
    return redirect("campaigns:detail", campaign.pk)
