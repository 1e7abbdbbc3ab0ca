from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path

from attackacrack.admin import PermanentRecordAdmin, ReadOnlyAdmin
from attackacrack.celery import hand_to_worker
from messaging import outbox, webhook_processing
from messaging.models import (
    CatchUp,
    ConsentReview,
    IntentCorrection,
    Message,
    OutboxHold,
    WebhookEvent,
    WorkerHeartbeat,
)


@admin.register(Message)
class MessageAdmin(PermanentRecordAdmin):
    list_display = ["created_at", "direction", "kind", "contact", "short_body", "status", "error_code", "external_id"]
    list_filter = ["direction", "kind", "status"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "=external_id"]
    list_select_related = ["contact"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Text")
    def short_body(self, message: Message) -> str:
        return message.body if len(message.body) <= 60 else f"{message.body[:57]}..."


@admin.register(WebhookEvent)
class WebhookEventAdmin(PermanentRecordAdmin):
    list_display = [
        "received_at",
        "event_type",
        "event_id",
        "signature_scheme",
        "status",
        "processed_at",
        "attempts",
        "error",
    ]
    list_filter = ["status", "event_type", "signature_scheme"]
    search_fields = ["=event_id", "=delivery_id"]
    exclude = ["raw_body"]
    readonly_fields = ["body"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ["replay"]

    @admin.display(description="Body as received")
    def body(self, event: WebhookEvent) -> str:
        return event.body

    @admin.action(description="Process again now (failed or waiting events)")
    def replay(self, request, queryset) -> None:
        pks = list(queryset.exclude(status=WebhookEvent.Status.PROCESSED).values_list("pk", flat=True))
        outcomes = webhook_processing.process_again(pks)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items())) or "nothing to process"
        level = messages.ERROR if outcomes.get(WebhookEvent.Status.FAILED) else messages.SUCCESS
        self.message_user(request, f"Processed again: {summary}.", level)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "seen_at"]


@admin.register(OutboxHold)
class OutboxHoldAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "cause", "code", "reason", "released_at", "released_by"]
    actions = ["resume"]

    @admin.action(description="Resume sending (what held it is fixed)")
    def resume(self, request, queryset) -> None:
        waiting = outbox.release_hold(user=request.user)
        self.message_user(request, f"Sending resumed: {waiting} text(s) waiting go at the next tick.", messages.SUCCESS)


@admin.register(CatchUp)
class CatchUpAdmin(PermanentRecordAdmin):
    """Each catch-up from OpenPhone's history: what it asked, and what the webhooks had missed."""

    change_list_template = "admin/messaging/catchup/change_list.html"
    list_display = [
        "started_at",
        "trigger",
        "status",
        "covers_from",
        "conversations",
        "requests",
        "replies_found",
        "reports_found",
        "missed_opt_out_count",
        "error",
    ]
    list_filter = ["status", "trigger"]
    date_hierarchy = "started_at"

    @admin.display(description="Missed opt-outs")
    def missed_opt_out_count(self, run: CatchUp) -> int:
        return len(run.missed_opt_outs)

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_now)
        return [path("run/", run, name="messaging_catchup_run"), *super().get_urls()]

    def run_now(self, request):
        if request.method == "POST":
            if hand_to_worker("messaging.tasks.catch_up_messages", "staff"):
                self.message_user(request, "Catching up from OpenPhone in a worker: refresh to see it.")
            else:
                self.message_user(
                    request, "The workers' queue cannot be reached: no catch-up was started.", messages.ERROR
                )
        return redirect("admin:messaging_catchup_changelist")


@admin.register(ConsentReview)
class ConsentReviewAdmin(PermanentRecordAdmin):
    """Texts that may have been opt-outs, and what a person decided (decide on Today or the thread)."""

    list_display = ["created_at", "contact", "message", "decision", "decided_at", "decided_by"]
    list_filter = ["decision"]
    list_select_related = ["contact", "message", "decided_by"]
    search_fields = ["=contact__phone"]


@admin.register(IntentCorrection)
class IntentCorrectionAdmin(PermanentRecordAdmin):
    """Every relabelling of a reply by staff (relabel from the thread)."""

    list_display = ["corrected_at", "message", "from_intent", "to_intent", "corrected_by"]
    list_filter = ["to_intent"]
    list_select_related = ["message", "corrected_by"]
