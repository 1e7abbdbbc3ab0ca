"""Messaging pages for staff (conversations, a thread with a reply box) and the OpenPhone webhook
endpoint: a plain Django view, so the raw body reaches the signature check untouched and nothing
(authentication, parsers, CSRF) runs before it."""

import logging
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from attackacrack.celery import hand_to_worker
from attackacrack.errors import ApplicationError
from attackacrack.web.api import error_body
from attackacrack.web.pages import attempt, staff_page
from campaigns import text_again
from campaigns.calendar import business_today
from campaigns.outcome_views import outcomes_context
from contacts.models import Contact
from messaging import outbox, selectors, services, webhook_processing, webhooks
from messaging.forms import ConsentChangeForm, ReviewDecisionForm, StaffTextForm
from messaging.intent import ReplyIntent
from messaging.models import ConsentReview, Message, WebhookEvent

CONVERSATIONS_PER_PAGE = 30

logger = logging.getLogger(__name__)


def _error(status: int, msg: str, type_: str) -> JsonResponse:
    return JsonResponse(error_body(msg=msg, type=type_), status=status)


@csrf_exempt
@require_POST
def openphone_webhook(request: HttpRequest) -> JsonResponse:
    limit = settings.OPENPHONE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, f"The body is over {limit} bytes.", "too_large")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, f"The body is over {limit} bytes.", "too_large")
    try:
        event, created = webhooks.record(headers=request.headers, body=body)
    except webhooks.InvalidSignature as error:
        return _error(401, str(error), "invalid_signature")
    except webhooks.BadPayload as error:
        return _error(400, str(error), "parse_error")
    except DatabaseError:
        # Not stored: a 5xx makes OpenPhone deliver it again later.
        logger.exception("Webhook could not be stored")
        return _error(503, "The event could not be stored; deliver it again.", "unavailable")
    return JsonResponse({"received": True, "event_id": event.event_id, "duplicate": not created})


# --- Pages -------------------------------------------------------------------------------------


@staff_page
def conversations(request: HttpRequest) -> HttpResponse:
    include_campaign = request.GET.get("campaign") == "1"
    try:
        before = selectors.parse_conversation_cursor(request.GET["before"])
    except (KeyError, selectors.BadCursor):
        before = None  # no cursor, or a mangled one: the first page
    label = request.GET.get("label", "")
    label = label if label in ReplyIntent.values else ""
    rows = selectors.conversation_page(
        before=before, include_campaign_sends=include_campaign, intent=label, limit=CONVERSATIONS_PER_PAGE
    )
    # The page re-fetches its list every few seconds (data-refresh), so new replies show by themselves.
    template = (
        "messaging/_conversations.html" if request.headers.get("X-Requested-With") else "messaging/conversations.html"
    )
    return render(
        request,
        template,
        {
            "rows": rows,
            "include_campaign": include_campaign,
            "label": label,
            "labels": ReplyIntent.choices,
            "next_before": (
                selectors.conversation_cursor(rows[-1].latest) if len(rows) == CONVERSATIONS_PER_PAGE else ""
            ),
        },
    )


@staff_page
def thread(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    services.mark_read(contact=contact)  # opened, or answered: either way it has been read
    form = StaffTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.send_staff_text(contact=contact, body=form.cleaned_data["body"], sent_by=request.user)
        except ApplicationError as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, "Text queued; it goes out in a few seconds.")
            if sent.made_plain.changed:
                messages.info(request, sent.made_plain.message)
            return redirect("messaging:thread", contact.pk)
    texts = list(reversed(contact.messages.written().order_by("-created_at", "-id")[:50]))
    context = {
        "contact": contact,
        # The latest 50, shown oldest first like a phone does.
        "texts": texts,
        "form": form,
        "labels": ReplyIntent.choices,
        **consent_context(contact),
    }
    if request.headers.get("X-Requested-With"):  # the thread's own refresh: the texts alone
        return render(request, "messaging/_thread.html", context)
    # Under the thread (not in the part that refreshes): text them again on a day, from their no
    # or not now to a campaign text.
    today = business_today()
    context["text_again"] = text_again.latest_offer(texts, today=today)
    return render(request, "messaging/thread.html", {**context, **outcomes_context(contact)})


@require_POST
@staff_page
def resume_sending(request: HttpRequest) -> HttpResponse:
    """Today's "Resume sending": what held sending (the API key, the account) is fixed: the held texts may go."""
    waiting = outbox.release_hold(user=request.user)
    messages.success(request, f"Sending resumed: {waiting} text(s) waiting go out in the next seconds.")
    return redirect("dashboard")


@require_POST
@staff_page
def catch_up_now(request: HttpRequest) -> HttpResponse:
    """Today's "Catch up now": ask OpenPhone for what the webhooks may have missed, in a worker."""
    if hand_to_worker("messaging.tasks.catch_up_messages", "staff"):
        messages.success(request, "Catching up from OpenPhone: what it finds shows here within a minute or two.")
    else:
        messages.error(request, "The workers' queue cannot be reached, so no catch-up was started; try again later.")
    return redirect("dashboard")


@require_POST
@staff_page
def process_waiting_events(request: HttpRequest) -> HttpResponse:
    """Today's "Process them now": the webhook events no worker has taken, processed in this request."""
    outcomes = webhook_processing.process_waiting_events(now=timezone.now())
    processed, failed = outcomes.get(WebhookEvent.Status.PROCESSED, 0), outcomes.get(WebhookEvent.Status.FAILED, 0)
    later = outcomes.get(WebhookEvent.Status.PENDING, 0)
    messages.success(
        request,
        f"{processed} waiting webhook event(s) processed"
        + (f", {failed} failed (see Webhook events in the admin)" if failed else "")
        + (f", {later} to be tried again shortly" if later else "")
        + ".",
    )
    return redirect("dashboard")


def consent_context(contact: Contact) -> dict:
    """What the thread and the contact page show of consent: texts waiting for a decision, the
    opt-out and why, the form to change it."""
    return {
        "open_reviews": contact.consent_reviews.filter(decision="").select_related("message"),
        "consent_form": ConsentChangeForm(initial={"action": "opt_in" if contact.is_opted_out else "opt_out"}),
    }


def _back(request: HttpRequest, contact: Contact) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("messaging:thread", contact.pk)


@require_POST
@staff_page
def change_consent(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Staff opt a contact out, or back in, with a reason (audited in the consent history)."""
    contact = get_object_or_404(Contact, pk=contact_id)
    form = ConsentChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return _back(request, contact)
    reason = form.cleaned_data["reason"]
    if form.cleaned_data["action"] == "opt_out":
        changed = services.opt_out(contact=contact, reason=f"By staff: {reason}", user=request.user)
        done = f"{contact} is opted out: no text reaches them." if changed else f"{contact} was already opted out."
    else:
        changed = services.resubscribe(contact=contact, user=request.user, reason=reason)
        done = f"{contact} may be texted again." if changed else f"{contact} was not opted out."
    messages.success(request, done)
    return _back(request, contact)


@require_POST
@staff_page
def decide_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """One click on a possible opt-out: it was one (opted out), or it was not (texted again)."""
    review = get_object_or_404(ConsentReview.objects.select_related("contact"), pk=review_id)
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the text was an opt-out.")
        return _back(request, review.contact)
    decision = form.cleaned_data["decision"]
    attempt(
        request,
        partial(services.decide_review, review=review, opted_out=decision == "opt_out", user=request.user),
        success=lambda _: f"{review.contact}: {ConsentReview.Decision(decision).label}.",
    )
    return _back(request, review.contact)


@require_POST
@staff_page
def correct_intent(request: HttpRequest, message_id: int) -> HttpResponse:
    """Staff say what a reply really says (audited); the numbers count the correction."""
    message = get_object_or_404(Message, pk=message_id, direction=Message.Direction.INBOUND)
    intent = request.POST.get("intent", "")
    if intent not in ReplyIntent.values:
        messages.error(request, "Choose what the reply says.")
    else:
        services.correct_intent(message=message, intent=intent, user=request.user)
        messages.success(request, f"Labelled {ReplyIntent(intent).label.lower()}.")
    return redirect("messaging:thread", message.contact_id)
