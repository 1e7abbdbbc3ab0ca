"""The pages of follow-ups: the list of days staff chose to text someone again, choosing one from a
reply in the conversation and taking one back; and what the campaign pages show and save of a
campaign's follow-up step."""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from attackacrack.web.pages import attempt, staff_page
from campaigns import results, services, text_again
from campaigns.calendar import business_today
from campaigns.models import Campaign, CampaignContact
from campaigns.progress import campaign_progress
from messaging.models import Message

DUE_TABS = (
    ("overdue", "Overdue"),
    ("today", "Today"),
    ("upcoming", "Upcoming"),
    ("all", "All, whatever became of them"),
)
ROWS = 200


class TextAgainForm(forms.Form):
    on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Text again on")


def follow_up_context(campaign: Campaign) -> dict:
    """What a campaign's page shows of its follow-up step: the step, and how it does per text."""
    follow_up = Campaign.objects.filter(follow_up_of=campaign).first()
    if follow_up is None:
        return {"follow_up": None}
    variants, _ = results.ab_results(follow_up)
    if not follow_up.template_b:
        variants = [variant for variant in variants if variant.variant == "A" or variant.sent]
    [progress] = campaign_progress([follow_up])
    return {"follow_up": follow_up, "follow_up_variants": variants, "follow_up_progress": progress}


def set_follow_up(campaign: Campaign, step: dict) -> Campaign:
    """The campaign form's follow-up step saved, its refusals said on the form's own fields."""
    try:
        return services.set_follow_up(campaign=campaign, **step)
    except ValidationError as error:
        raise ValidationError(
            {f"follow_up_{field}" if field in step else field: problems for field, problems in error.error_dict.items()}
        ) from error


@staff_page
def due_follow_ups(request: HttpRequest) -> HttpResponse:
    """Who staff chose to text again, and when: overdue, today's, upcoming, or all of them."""
    today = business_today()
    due = request.GET.get("due", "")
    due = (
        due
        if due in text_again.DUE
        else ("overdue" if text_again.due_follow_ups(today=today, due="overdue").exists() else "today")
    )
    chosen = list(text_again.due_follow_ups(today=today, due=due)[:ROWS])
    return render(
        request,
        "campaigns/follow_ups.html",
        {"chosen": chosen, "due": due, "tabs": DUE_TABS, "today": today, "planned": text_again.PLANNED},
    )


@staff_page
@require_POST
def text_again_on(request: HttpRequest, message_id: int) -> HttpResponse:
    """From a reply in the conversation: text them again on the day chosen."""
    reply = get_object_or_404(Message.objects.select_related("contact"), pk=message_id, direction="inbound")
    form = TextAgainForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the day to text them again.")
    else:
        day = form.cleaned_data["on"]
        attempt(
            request,
            partial(text_again.text_again, reply=reply, on=day, user=request.user),
            success=lambda member: (
                f"{reply.contact} gets “{member.campaign.name}” on {day:%A, %b %-d, %Y}, if every rule allows "
                "it then; anything they write before stops it."
            ),
        )
    return _back(request, reply.contact_id)


@staff_page
@require_POST
def cancel_follow_up(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(CampaignContact.objects.select_related("contact"), pk=member_id)
    attempt(
        request,
        partial(text_again.cancel_text_again, member=member, user=request.user),
        success=lambda _: f"{member.contact} will not be texted again on {member.text_again_on:%b %-d}.",
    )
    return _back(request, member.contact_id)


def _back(request: HttpRequest, contact_id: int) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("messaging:thread", contact_id)
