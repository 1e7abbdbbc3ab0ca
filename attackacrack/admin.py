from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes (imports, sends): shown to staff, never added or edited by hand.

    They can still go when what owns them is deleted (a campaign takes its sends with it).
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PermanentRecordAdmin(ReadOnlyAdmin):
    """The audit trail (texts, webhook deliveries, consent changes): never deleted by hand."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
