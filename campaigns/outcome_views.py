""" "What came of it" on the thread and the contact page: the form that records an outcome, the
contact's outcomes with their attribution and history, and the buttons that correct or withdraw
one. The rules are ``campaigns.outcomes``'; these pages only ask and show."""

from functools import partial

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from attackacrack.web.pages import attempt, staff_page
from campaigns import outcomes
from campaigns.calendar import business_today
from campaigns.forms import OutcomeForm
from campaigns.models import Outcome
from contacts.models import Contact


def outcomes_context(contact: Contact) -> dict:
    """What the thread and the contact page show under "What came of it": the form to record one
    (today, in business time), and each outcome as it stands with a form to correct it."""
    today = business_today()
    histories = outcomes.outcome_histories(outcomes.contact_outcomes(contact))
    return {
        "outcome_form": OutcomeForm(prefix="outcome", today=today),
        "outcome_histories": [
            (history, OutcomeForm(prefix=f"outcome-{history.latest.pk}", initial=_facts(history.latest), today=today))
            for history in histories
        ],
        "attribution_window_days": outcomes.ATTRIBUTION_WINDOW_DAYS,
    }


def _facts(outcome: Outcome) -> dict:
    return {"kind": outcome.kind, "on": outcome.on, "amount": outcome.amount, "note": outcome.note}


def _back(request: HttpRequest, contact_id: int) -> HttpResponse:
    """To the page the form was on (the thread or the contact page), at its outcomes."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe:
        target = reverse("contacts:detail", args=[contact_id])
    return redirect(f"{target}#outcomes")


def _said(outcome: Outcome) -> str:
    """The outcome and where it went, for the message after a button."""
    amount = f" (${outcome.amount:,.2f})" if outcome.amount is not None else ""
    went = f"from {outcome.campaign.name}, text {outcome.variant}" if outcome.campaign else "from no campaign"
    return f"{outcome.get_kind_display()}{amount} on {outcome.on:%b %-d, %Y}, {went}"


@require_POST
@staff_page
def record_outcome(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    form = OutcomeForm(request.POST, prefix="outcome", today=business_today())
    if not form.is_valid():
        messages.error(request, form.problems())
        return _back(request, contact.pk)
    attempt(
        request,
        partial(outcomes.record_conversation_outcome, contact=contact, **form.cleaned_data, by=request.user),
        success=lambda outcome: f"Recorded: {_said(outcome)}.",
    )
    return _back(request, contact.pk)


@require_POST
@staff_page
def correct_outcome(request: HttpRequest, contact_id: int, outcome_id: int) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_id, contact_id=contact_id)
    form = OutcomeForm(request.POST, prefix=f"outcome-{outcome.pk}", today=business_today())
    if not form.is_valid():
        messages.error(request, form.problems())
        return _back(request, contact_id)
    attempt(
        request,
        partial(outcomes.correct_outcome, outcome=outcome, **form.cleaned_data, by=request.user),
        success=lambda correction: f"Corrected: {_said(correction)}. What it replaced stays in the history.",
    )
    return _back(request, contact_id)


@require_POST
@staff_page
def withdraw_outcome(request: HttpRequest, contact_id: int, outcome_id: int) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_id, contact_id=contact_id)
    note = request.POST.get(f"outcome-{outcome.pk}-note", "")
    attempt(
        request,
        partial(outcomes.withdraw_outcome, outcome=outcome, note=note, by=request.user),
        success=lambda withdrawal: f"Withdrawn: {_said(withdrawal)} no longer counts.",
    )
    return _back(request, contact_id)
