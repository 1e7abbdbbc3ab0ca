from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from attackacrack import roles
from attackacrack.admin import PermanentRecordAdmin, ReadOnlyAdmin
from attackacrack.errors import ApplicationError
from campaigns import audience, booking, outcomes, services, writing
from campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignSend,
    ComplianceRecord,
    Holiday,
    Outcome,
)
from contacts.csv_export import csv_download


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "daily_limit", "split_percent_a", "winner", "created_at", "archived_at"]
    list_filter = ["status", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    # What the lifecycle and the runs record: shown, never typed over (saving goes through
    # services.update_campaign, which takes only Campaign.EDITABLE_FIELDS).
    readonly_fields = [
        "status",
        "text_preview",
        "winner",
        "winner_declared_at",
        "pause_reason",
        "last_run_failed_at",
        "last_run_error",
        "archived_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    actions = ["start", "pause", "resume", "cancel", "run_now", "archive"]

    def has_change_permission(self, request, obj=None) -> bool:
        # A completed or cancelled campaign is history: its page is for reading, with no save button.
        return super().has_change_permission(request, obj) and (obj is None or not obj.is_closed)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A campaign that booked any text is history (the caps and the compliance log count it).
        return super().has_delete_permission(request, obj) and (obj is None or not obj.sends.exists())

    def delete_model(self, request, obj) -> None:
        services.delete_campaign(campaign=obj)

    def delete_queryset(self, request, queryset) -> None:
        for campaign in queryset:
            services.delete_campaign(campaign=campaign)

    def save_model(self, request, obj, form, change) -> None:
        # Through the service, as the API and the pages: it enforces what an active campaign
        # may not change.
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS}
            saved = services.update_campaign(campaign=obj, **changed)
        else:
            fields = {name: value for name, value in form.cleaned_data.items() if name in services.EDITABLE_FIELDS}
            saved = services.create_campaign(**fields, created_by=request.user)
            obj.pk = saved.pk
        obj.refresh_from_db()
        for made_plain in saved.made_plain:
            self.message_user(request, made_plain.message, messages.INFO)

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("campaigns.change_campaign_sending"):
            fields += list(roles.SENDING_FIELDS)
        if obj is not None and obj.is_launched:
            fields.append("judged_on")  # what the verdict judges on is chosen before it starts
        if obj is not None and obj.status == Campaign.Status.ACTIVE:
            # The texts of a running campaign are fixed: pause it to edit them.
            fields += ["template_a", "template_b", "include_opt_out_footer"]
        return fields

    @admin.display(description="Preview")
    def text_preview(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "Save the campaign to see its texts for a contact."
        reader = writing.preview_reader(campaign)
        previews = writing.text_previews(campaign=campaign, reader=reader)
        rows = format_html_join(
            "",
            "<p><strong>Variant {}</strong> · {} characters, {} segment(s), {}<br>"
            "<span class='text-preview'>{}</span></p>",
            (
                (preview.variant, preview.cost.characters, preview.cost.segments, preview.cost.encoding, preview.text)
                for preview in previews
            ),
        )
        who = "a sample contact" if reader.is_sample else str(reader.contact)
        return format_html("<p>For {}:</p>{}", who, rows)

    def _each(self, request, queryset, action, done: str) -> None:
        for campaign in queryset:
            try:
                action(campaign=campaign)
            except (ApplicationError, ValidationError) as error:
                self.message_user(request, f"{campaign}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{campaign}: {done}.", messages.SUCCESS)

    @admin.action(description="Start now (book today's sends)")
    def start(self, request, queryset) -> None:
        self._each(request, queryset, services.start_campaign, "started")

    @admin.action(description="Pause")
    def pause(self, request, queryset) -> None:
        self._each(request, queryset, services.pause_campaign, "paused")

    @admin.action(description="Resume")
    def resume(self, request, queryset) -> None:
        self._each(request, queryset, services.resume_campaign, "resumed")

    @admin.action(description="Cancel (unsent texts are cancelled)")
    def cancel(self, request, queryset) -> None:
        self._each(request, queryset, services.cancel_campaign, "cancelled")

    def has_archive_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.archive_campaign")

    @admin.action(
        description="Archive (finished campaigns: hidden from lists, kept on record)", permissions=["archive"]
    )
    def archive(self, request, queryset) -> None:
        self._each(request, queryset, services.archive_campaign, "archived")

    @admin.action(description="Run now (book what today allows)")
    def run_now(self, request, queryset) -> None:
        self._each(request, queryset, lambda campaign: booking.run_campaign(campaign_id=campaign.pk), "run")


@admin.register(CampaignContact)
class CampaignContactAdmin(admin.ModelAdmin):
    list_display = [
        "campaign", "contact", "variant", "status", "held_because", "ineligible_reason", "not_before", "added_via"
    ]  # fmt: skip
    list_filter = ["status", "held_because", "variant", "added_via", "campaign"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "campaign__name"]
    list_select_related = ["campaign", "contact"]
    autocomplete_fields = ["campaign", "contact"]
    readonly_fields = [
        "variant",
        "status",
        "held_because",
        "ineligible_reason",
        "queue_position",
        "not_before",
        "review_approved",
        "retry_requested_at",
        "added_via",
    ]
    show_full_result_count = False
    actions = ["approve", "retry_failed"]

    @admin.action(description="Approve flagged members for the campaign text")
    def approve(self, request, queryset) -> None:
        approved = 0
        for member in queryset.filter(status=CampaignContact.Status.FLAGGED):
            audience.approve_flagged_member(member=member)
            approved += 1
        self.message_user(request, f"{approved} flagged member(s) approved.", messages.SUCCESS)

    @admin.action(description="Try their failed text again (booked by the next run)")
    def retry_failed(self, request, queryset) -> None:
        retried = 0
        for member in queryset.select_related("contact"):
            try:
                audience.retry_failed_member(member=member)
            except ApplicationError as error:
                self.message_user(request, f"{member.contact}: {error}", messages.ERROR)
            else:
                retried += 1
        self.message_user(request, f"{retried} member(s) will be tried again.", messages.SUCCESS)


@admin.register(CampaignSend)
class CampaignSendAdmin(ReadOnlyAdmin):
    """What booking decided; what became of each text is its message's (the dispatcher owns it)."""

    list_display = ["campaign", "contact", "variant", "scheduled_for", "text_status", "sent_at"]
    list_filter = ["message__status", "variant", "campaign"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "campaign__name"]
    list_select_related = ["campaign", "contact", "message"]

    @admin.display(description="text", ordering="message__status")
    def text_status(self, send: CampaignSend) -> str:
        message = getattr(send, "message", None)
        return message.get_status_display() if message else "-"

    @admin.display(description="sent at", ordering="message__sent_at")
    def sent_at(self, send: CampaignSend):
        message = getattr(send, "message", None)
        return message.sent_at if message else None

    date_hierarchy = "scheduled_for"
    show_full_result_count = False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


COMPLIANCE_COLUMNS = [
    ("send", "send_id"),
    ("campaign", "campaign__name"),
    ("contact phone", "contact__phone"),
    ("recipient zones", "recipient_zones"),
    ("zone from", "zone_source"),
    ("recipient state", "recipient_state"),
    ("recipient hours", "recipient_hours"),
    ("allowed from", "allowed_from"),
    ("allowed until", "allowed_until"),
    ("booked at", "booked_at"),
    ("slot", "slot"),
    ("booking checks", "booking_checks"),
    ("dispatched at", "dispatched_at"),
    ("dispatch checks", "dispatch_checks"),
    ("dispatch outcome", "dispatch_outcome"),
    ("send status", "send__message__status"),
    ("sent at", "send__message__sent_at"),
]


@admin.register(ComplianceRecord)
class ComplianceRecordAdmin(PermanentRecordAdmin):
    """Why each person was texted when they were: "why did we text this number at 8:05?"."""

    list_display = [
        "slot",
        "campaign",
        "contact",
        "recipient_zones",
        "recipient_state",
        "recipient_hours",
        "allowed_from",
        "allowed_until",
        "dispatch_outcome",
    ]
    list_filter = ["recipient_state", "zone_source", "dispatch_outcome", "campaign"]
    search_fields = ["=contact__phone", "campaign__name"]
    list_select_related = ["contact", "campaign"]
    date_hierarchy = "slot"
    show_full_result_count = False
    actions = ["export_csv"]

    @admin.action(description="Export the selected records as CSV")
    def export_csv(self, request, queryset):
        rows = queryset.order_by("slot", "id").values_list(*[field for _, field in COMPLIANCE_COLUMNS])
        return csv_download(
            file_name="compliance-log.csv",
            header=[label for label, _ in COMPLIANCE_COLUMNS],
            rows=rows.iterator(chunk_size=2000),
        )


@admin.register(Outcome)
class OutcomeAdmin(PermanentRecordAdmin):
    """What came of conversations, every version kept: recorded, corrected and withdrawn from the
    thread, the contact page or the API (campaigns.outcomes), never here."""

    list_display = ["contact", "kind", "on", "amount", "campaign", "variant", "counts", "recorded_by", "recorded_at"]
    list_filter = ["kind", "withdrawn", "campaign"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "campaign__name"]
    list_select_related = ["contact", "campaign", "recorded_by", "replaced_by"]
    date_hierarchy = "on"

    @admin.display(boolean=True, description="counts")
    def counts(self, outcome: Outcome) -> bool:
        return outcomes.counts(outcome)
