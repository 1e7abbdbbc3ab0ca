from django.contrib import admin

from attackacrack.admin import ReadOnlyAdmin
from campaigns.models import Campaign, CampaignContact, CampaignSend


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "daily_limit", "split_percent_a", "winner", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    readonly_fields = ["winner", "winner_declared_at", "created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CampaignContact)
class CampaignContactAdmin(admin.ModelAdmin):
    list_display = ["campaign", "contact", "variant", "status", "ineligible_reason", "added_via", "added_at"]
    list_filter = ["status", "variant", "added_via", "campaign"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "campaign__name"]
    list_select_related = ["campaign", "contact"]
    autocomplete_fields = ["campaign", "contact"]
    show_full_result_count = False


@admin.register(CampaignSend)
class CampaignSendAdmin(ReadOnlyAdmin):
    """Sends are the outbox: the dispatcher owns their state, staff only read them."""

    list_display = ["campaign", "contact", "variant", "status", "scheduled_for", "sent_at", "attempts"]
    list_filter = ["status", "variant", "campaign"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name", "campaign__name"]
    list_select_related = ["campaign", "contact"]
    date_hierarchy = "scheduled_for"
    show_full_result_count = False
