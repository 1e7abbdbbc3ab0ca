"""Campaign pages for staff: list, create/edit with a live preview, detail with its results, the
audience builder, and a contact's compliance history as a download. What staff do to a campaign's
course (start, schedule, cancel …) is in lifecycle_views."""

import json
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from attackacrack.errors import ApplicationError
from attackacrack.web.pages import attempt, staff_page
from campaigns import (
    audience,
    costs,
    follow_up_views,
    forecast,
    foresight,
    money,
    results,
    selectors,
    services,
    texts,
    writing,
)
from campaigns.calendar import BusinessCalendar
from campaigns.evidence_api import compliance_document
from campaigns.forms import AudienceForm, CampaignForm
from campaigns.models import Campaign, CampaignContact
from campaigns.progress import campaign_progress
from contacts.models import Contact
from messaging import plain_text

MEMBERS_PER_PAGE = 50


@staff_page
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Each campaign's numbers from the read its own page makes (campaign_progress)."""
    # A follow-up step is shown on its campaign's page.
    campaigns = list(Campaign.objects.filter(archived_at__isnull=True, follow_up_of=None).order_by("-id")[:200])
    return render(request, "campaigns/list.html", {"progress": campaign_progress(campaigns)})


@staff_page
def campaign_form(request: HttpRequest, campaign_id: int | None = None) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id) if campaign_id else None
    if campaign is not None and campaign.is_follow_up:
        messages.info(request, "A follow-up is edited with its campaign: its texts and days are here.")
        return redirect("campaigns:edit", campaign.follow_up_of_id)
    if campaign is not None and campaign.is_closed:
        messages.error(
            request, f"A {campaign.get_status_display().lower()} campaign sends nothing more: it has nothing to edit."
        )
        return redirect("campaigns:detail", campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            # The campaign and its follow-up step are saved together, or neither.
            with transaction.atomic():
                if campaign is None:
                    saved = services.create_campaign(**fields, created_by=request.user)
                else:
                    saved = services.update_campaign(campaign=campaign, **fields)
                made_plain = [made.message for made in saved.made_plain]
                if (follow_up := form.follow_up()) is not None:
                    step = follow_up_views.set_follow_up(saved, follow_up)
                    made_plain += [f"Follow-up: {made.message}" for made in step.made_plain]
                else:
                    services.remove_follow_up(campaign=saved)
            campaign = saved
        except ApplicationError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” saved.")
            for message in made_plain:
                messages.info(request, message)
            return redirect("campaigns:detail", campaign.pk)
    calendar = BusinessCalendar.from_settings()
    return render(
        request,
        "campaigns/form.html",
        {
            "form": form,
            "campaign": campaign,
            "previews": _previews(form.data or None, campaign),
            "reader": writing.preview_reader(campaign),
            "limit": selectors.daily_limit(campaign, today=calendar.local_date(timezone.now())) if campaign else None,
        },
    )


@staff_page
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The live preview fragment for unsaved templates (the form posts as it is typed), written for
    the campaign's first member when it has one."""
    campaign_id = request.GET.get("campaign", "")
    campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id.isdigit() else None
    return render(request, "campaigns/_preview.html", {"previews": _previews(request.POST, campaign)})


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
    reader = writing.preview_reader(campaign)
    rows = []
    for variant, template in templates.items():
        if not template:
            continue
        try:
            texts.validate_template(template)
        except ValidationError as error:
            rows.append({"variant": variant, "error": error.messages[0]})
            continue
        # As it will be saved: plain (campaigns.costs.plain), and what saving it will replace.
        plain = plain_text.normalise(template)
        preview = writing.preview(
            variant=variant, template=plain.text, reader=reader, include_opt_out_footer=with_footer
        )
        rows.append({"variant": variant, "text": preview.text, "cost": preview.cost, "made_plain": plain.summary()})
    return rows


@staff_page
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    status = request.GET.get("status", "")
    because = request.GET.get("because", "")
    now = timezone.now()
    calendar = BusinessCalendar.from_settings()
    # Before its first run nobody is judged: show what the rules already say of each member.
    first_run = foresight.first_judged_at(campaign, now=now, calendar=calendar)
    foreseen = foresight.foresee(campaign, at=first_run, calendar=calendar) if first_run else None
    members = selectors.audience_members(campaign, status=status, because=because, foreseen=foreseen)
    after = request.GET.get("after", "")
    if after.isdigit():
        members = members.filter(id__gt=int(after))
    page = selectors.first_members(members.select_related("contact"), MEMBERS_PER_PAGE + 1)
    variants, verdict = results.ab_results(campaign)
    *in_money, total = money.results_in_money(campaign, variants)
    if not campaign.template_b and not any(variant.sent for variant in variants if variant.variant == "B"):
        variants, in_money = variants[:1], in_money[:1]  # one text: no test
    [progress] = campaign_progress([campaign])
    member_id = request.GET.get("member", "")
    chosen = int(member_id) if member_id.isdigit() else None
    if chosen is None and campaign.winner:
        # After a verdict the text that matters is the one the rest read: start at the first of them.
        chosen = campaign.memberships.filter(status__in=selectors.NOT_YET_BOOKED).order_by("id").first()
        chosen = chosen.pk if chosen else None
    previewed = writing.previewed_member(campaign, chosen, audience=progress.audience)
    if campaign.status == Campaign.Status.SCHEDULED:
        textable = foreseen.textable
        plan = forecast.launch_plan(campaign, starts_at=first_run, waiting=textable, calendar=calendar)
    else:
        plan = forecast.campaign_plan(campaign, now=now, calendar=calendar)
    expected = forecast.expected_moments(
        campaign, page[:MEMBERS_PER_PAGE], calendar=calendar, plan=plan, foreseen=foreseen
    )
    for member in page:
        member.expected_at = expected.get(member.pk)
    if foreseen is not None:
        foreseen.show_on(page)
    limit_day = calendar.local_date(first_run) if campaign.status == Campaign.Status.SCHEDULED else None
    if campaign.is_closed:
        limit = None
    elif limit_day and limit_day != calendar.local_date(now):
        limit = selectors.first_day_limit(campaign, day=limit_day, now=now, calendar=calendar)
    else:
        limit_day, limit = None, selectors.daily_limit(campaign, today=calendar.local_date(now))
    previewed_text = (
        selectors.audience_members(campaign).filter(pk=previewed.member.pk).values_list("text_variant", flat=True)[0]
        if previewed
        else None
    )
    previews = writing.text_previews(campaign=campaign, reader=previewed.reader) if previewed else []
    if campaign.winner:
        # One text: the one this member got or gets (the winner's, unless booked before it won).
        previews = [preview for preview in previews if preview.variant == previewed_text]
    cost = costs.cost_to_come(campaign, foreseen) if not campaign.is_closed else None
    return render(
        request,
        "campaigns/detail.html",
        {
            **follow_up_views.follow_up_context(campaign),
            "campaign": campaign,
            "progress": progress,
            "limit": limit,
            "limit_day": limit_day,
            "business_zone": calendar.zone.key,
            "members": page[:MEMBERS_PER_PAGE],
            "plan": plan,
            "next_after": page[MEMBERS_PER_PAGE - 1].pk if len(page) > MEMBERS_PER_PAGE else None,
            "status": status,
            "statuses": selectors.audience_statuses(campaign),
            "because": because,
            "held": selectors.members_held(campaign, foreseen),
            "foreseen": foreseen,
            "variants": variants,
            "verdict": verdict,
            "ab_test": len(variants) > 1,
            "offer_winner": verdict.state == "winner" and not campaign.winner and not campaign.is_closed,
            "chart": _chart(variants, judged_on=campaign.judged_on),
            "in_money": [*in_money, total] if len(variants) > 1 else in_money,  # a total beside two texts
            "cost_per_segment": settings.SMS_COST_PER_SEGMENT,
            "upcoming": selectors.upcoming_sends(now=now, campaign=campaign, limit=20),
            "previewed": previewed,
            "previews": [(preview, cost.of(preview.variant) if cost else None) for preview in previews],
            "cost": cost,
            "previewed_text": previewed_text,
            "winning_template": campaign.template_for(campaign.winner) if campaign.winner else "",
            "never_sent_label": selectors.NEVER_SENT_LABEL,
            "missing_values": writing.missing_values(campaign, foreseen),
            "audience_form": AudienceForm(),
            "actions": _actions(campaign),
        },
    )


def _actions(campaign: Campaign) -> list[tuple[str, str, str]]:
    """The lifecycle buttons the campaign's state allows: (action, label, how it is asked).

    Starting, scheduling and cancelling first say what they will do and ask to confirm ("confirm",
    a page); pausing and resuming undo each other and act at once ("post").
    """
    allowed = campaign.TRANSITIONS[campaign.status]
    shown = []
    starts_alone = not campaign.is_follow_up  # a follow-up starts with its campaign
    if starts_alone and campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        shown.append(("start", "Start now…", "confirm"))
    if starts_alone and Campaign.Status.SCHEDULED in allowed and campaign.status == Campaign.Status.DRAFT:
        shown.append(("schedule", "Schedule…", "confirm"))
    if Campaign.Status.PAUSED in allowed:
        shown.append(("pause", "Pause", "post"))
    if campaign.status == Campaign.Status.PAUSED:
        shown.append(("resume", "Resume", "post"))
    if Campaign.Status.CANCELLED in allowed:
        shown.append(("cancel", "Cancel the follow-up…" if campaign.is_follow_up else "Cancel campaign…", "confirm"))
    return shown


# The A/B chart's columns, in the SVG's own units (it scales as one to the page's width): the
# labels, then the bars with their 95% intervals, then the rates. An interval runs from 0% to 100%
# of the scale at most, so it stays inside its column whatever the rates: it never crosses a label.
CHART_WIDTH = 400
CHART_PLOT = (104, 330)
CHART_ROW = 60  # per variant: its two bars, 22 apart, 16 high


def _chart(variants, *, judged_on: str) -> dict:
    """The rate the verdict judges (interested replies or booked inspections) and the opt-out rate
    per variant with their 95% intervals, as SVG geometry: bars on a scale from 0 to the highest
    interval's end, labels left of the bars, rates right."""
    judged = ("booked", "Booked") if judged_on == Campaign.JudgedOn.BOOKED_INSPECTIONS else ("interested", "Interested")
    series = [judged, ("opted_out", "Opted out")]
    intervals = [variant.interval(getattr(variant, key)) for variant in variants for key, _ in series]
    top = max([high for _, high in filter(None, intervals)] + [0.01])
    left, right = CHART_PLOT

    def x(rate: float) -> int:
        return left + round((right - left) * min(rate, top) / top)

    bars = []
    for row, variant in enumerate(variants):
        for index, (key, label) in enumerate(series):
            count = getattr(variant, key)
            rate, interval = variant.rate(count), variant.interval(count)
            bars.append(
                {
                    "y": 10 + row * CHART_ROW + index * 22,
                    "width": x(rate or 0) - left,
                    "low": x(interval[0]) if interval else None,
                    "high": x(interval[1]) if interval else None,
                    "label": f"{variant.variant} {label}",
                    "value": f"{rate:.1%}" if rate is not None else "–",
                    "kind": key,
                }
            )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": 10 + len(variants) * CHART_ROW,
        "plot_left": left,
        "plot_right": right,
    }


@staff_page
def campaign_audience(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Add already-imported contacts: the filter shows how many it adds, and who cannot be texted,
    before anything is added."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    data = request.POST if request.method == "POST" else request.GET
    form = AudienceForm(data if any(data.get(name) for name in AudienceForm.base_fields) else None)
    addition = None
    if form.is_bound and form.is_valid():
        if request.method == "POST":
            attempt(
                request,
                partial(
                    audience.add_contacts_by_filter, campaign=campaign, filters=form.filters() | {"opted_out": False}
                ),
                success=lambda added: f"Added {added:,} contact{pluralize(added)} to the audience.",
            )
            return redirect("campaigns:detail", campaign.pk)
        addition = selectors.audience_addition(campaign, filters=form.filters())
    return render(
        request,
        "campaigns/audience.html",
        {
            "campaign": campaign,
            "form": form,
            "addition": addition,
            "counted_up_to": selectors.ADDITION_COUNTED_UP_TO,
        },
    )


@staff_page
@require_POST
def approve_member(request: HttpRequest, campaign_id: int, member_id: int) -> HttpResponse:
    """Staff read a flagged member's history and allow the campaign's text."""
    member = get_object_or_404(CampaignContact.objects.select_related("contact"), pk=member_id, campaign_id=campaign_id)
    attempt(
        request,
        partial(audience.approve_flagged_member, member=member),
        success=lambda approved: f"{approved.contact} approved: the campaign's next run books their text.",
    )
    return redirect(f"{reverse('campaigns:detail', args=[campaign_id])}?status={CampaignContact.Status.FLAGGED}")


@staff_page
def contact_compliance_download(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The contact page's "Download compliance history": the API's document, as a file for the
    owner's lawyer. Here rather than in contacts, which does not read campaigns."""
    contact = get_object_or_404(Contact, pk=contact_id)
    response = HttpResponse(
        json.dumps(compliance_document(contact), indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-compliance.json"'
    return response
