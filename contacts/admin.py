from django.contrib import admin

from attackacrack.admin import PermanentRecordAdmin, ReadOnlyAdmin
from contacts.models import Contact, ContactImport, ImportRejection, OptOutEvent, Property, PropertyContact


class PropertyContactInline(admin.TabularInline):
    model = PropertyContact
    extra = 0
    autocomplete_fields = ["property", "contact"]


class OptOutEventInline(admin.TabularInline):
    model = OptOutEvent
    extra = 0
    fields = ["kind", "reason", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "phone",
        "first_name",
        "last_name",
        "city",
        "state",
        "source",
        "opted_out_at",
        "created_at",
    ]
    list_filter = [
        "source",
        "state",
        "line_type",
        "time_zone_source",
        ("opted_out_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=phone", "first_name", "last_name", "email", "city"]
    # Opt-out state is a consent record: it changes through the opt-out service and is audited,
    # never by editing a form field.
    readonly_fields = ["opted_out_at", "opt_out_reason", "source_import", "created_at", "updated_at"]
    inlines = [PropertyContactInline, OptOutEventInline]
    show_full_result_count = False


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = ["address", "city", "zip_code", "apn", "year_built", "estimated_value", "owner"]
    list_filter = ["owner_occupied", "high_equity", "foreclosure", "listed_for_sale"]
    search_fields = ["address", "city", "zip_code", "=apn", "owner"]
    readonly_fields = ["address_key", "created_at", "updated_at"]
    inlines = [PropertyContactInline]
    show_full_result_count = False


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    fields = ["line_number", "reason", "raw"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    list_display = [
        "file_name",
        "format",
        "status",
        "rows_read",
        "contacts_created",
        "contacts_updated",
        "duplicates_folded",
        "entries_rejected",
        "started_at",
        "created_by",
    ]
    list_filter = ["status", "format"]
    search_fields = ["file_name"]
    inlines = [ImportRejectionInline]


@admin.register(OptOutEvent)
class OptOutEventAdmin(PermanentRecordAdmin):
    list_display = ["contact", "kind", "reason", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=contact__phone", "contact__first_name", "contact__last_name"]
    list_select_related = ["contact", "created_by"]


@admin.register(PropertyContact)
class PropertyContactAdmin(admin.ModelAdmin):
    list_display = ["property", "contact", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["=contact__phone", "contact__last_name", "property__address", "=property__apn"]
    list_select_related = ["property", "contact"]
    autocomplete_fields = ["property", "contact"]
    show_full_result_count = False


@admin.register(ImportRejection)
class ImportRejectionAdmin(ReadOnlyAdmin):
    list_display = ["contact_import", "line_number", "reason"]
    search_fields = ["reason", "raw"]
    list_select_related = ["contact_import"]
    show_full_result_count = False
