from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from attackacrack.admin import PermanentRecordAdmin, ReadOnlyAdmin
from attackacrack.errors import ApplicationError
from contacts import lawful_basis, services
from contacts.csv_export import rejected_rows_download
from contacts.forms import ImportUploadForm
from contacts.models import (
    ConsentChange,
    Contact,
    ContactImport,
    DoNotCallCoverage,
    DoNotCallLoad,
    DoNotCallNumber,
    ImportRejection,
    ImportUploadChunk,
    OptOutEvent,
    Property,
    PropertyContact,
    ZipCode,
)
from contacts.search_text import refresh_houses


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


class ContactAdminForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = "__all__"  # noqa: DJ007 -- the admin decides which fields it shows

    def clean(self) -> dict:
        """The consent must hold together, each problem named on its field."""
        cleaned = super().clean()
        consent = {field: cleaned.get(field) for field in lawful_basis.CONSENT_FIELDS}
        try:
            lawful_basis.validate_consent(consent, now=timezone.now())
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                self.add_error(field, problems)
        return cleaned


class ConsentChangeInline(admin.TabularInline):
    model = ConsentChange
    fields = ["consent_basis", "consent_at", "consent_source", "via", "changed_by", "changed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
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
        "consent_basis",
        ("opted_out_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=phone", "first_name", "last_name", "email", "city"]
    # Opt-out state is a consent record: it changes through the opt-out service and is audited,
    # never by editing a form field.
    readonly_fields = [
        "opted_out_at",
        "opt_out_reason",
        "time_zone_source",
        "source_import",
        "created_at",
        "updated_at",
    ]
    inlines = [PropertyContactInline, OptOutEventInline, ConsentChangeInline]
    show_full_result_count = False
    actions = ["send_text", "opt_out"]

    def save_model(self, request, obj: Contact, form, change) -> None:
        # Through the service, as the API and the pages: it decides the time zone and its source.
        # A new contact is saved as an update of the unsaved one, all its fields changed.
        # Consent changes are audited as the admin's, with who made them.
        names = form.changed_data if change else form.cleaned_data
        changes = {name: form.cleaned_data[name] for name in names}
        services.save_contact(contact=obj, changes=changes, by=request.user, via="admin")

    @admin.action(description="Send a text to the selected contacts")
    def send_text(self, request: HttpRequest, queryset) -> HttpResponse | None:
        from messaging.forms import StaffTextForm
        from messaging.services import send_staff_text

        form = StaffTextForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            sent = 0
            for contact in queryset:
                try:
                    send_staff_text(contact=contact, body=form.cleaned_data["body"], sent_by=request.user)
                    sent += 1
                except ApplicationError as error:
                    self.message_user(request, f"{contact}: {error}", messages.WARNING)
            self.message_user(request, f"{sent} text(s) queued.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/contacts/contact/send_text.html",
            {
                **self.admin_site.each_context(request),
                "title": "Send a text",
                "opts": self.model._meta,
                "contacts": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Opt out the selected contacts (audited; no text is sent)")
    def opt_out(self, request: HttpRequest, queryset) -> None:
        from messaging.services import opt_out

        done = sum(opt_out(contact=contact, reason="Opted out by staff", user=request.user) for contact in queryset)
        self.message_user(request, f"{done} contact(s) opted out.", messages.SUCCESS)


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = ["address", "city", "zip_code", "apn", "year_built", "estimated_value", "owner"]
    list_filter = ["owner_occupied", "high_equity", "foreclosure", "listed_for_sale"]
    search_fields = ["address", "city", "zip_code", "=apn", "owner"]
    readonly_fields = ["address_key", "created_at", "updated_at"]
    inlines = [PropertyContactInline]
    show_full_result_count = False

    def delete_queryset(self, request, queryset) -> None:
        # A bulk delete skips Property.delete(): the search text of who lived there is kept here.
        contacts = list(PropertyContact.objects.filter(property__in=queryset).values_list("contact_id", flat=True))
        super().delete_queryset(request, queryset)
        refresh_houses(contacts=contacts)


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    fields = ["line_number", "reason", "raw"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    """Imports are records; a new one starts from the upload page, through the one pipeline."""

    change_list_template = "admin/contacts/contactimport/change_list.html"
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
    readonly_fields = ["rejected_rows"]
    inlines = [ImportRejectionInline]

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="contacts_contactimport_upload"),
            path(
                "<int:import_id>/rejections.csv",
                self.admin_site.admin_view(self.rejections_view),
                name="contacts_contactimport_rejections",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Rejected rows")
    def rejected_rows(self, contact_import: ContactImport) -> str:
        if not contact_import.entries_rejected:
            return "None"
        url = reverse("admin:contacts_contactimport_rejections", args=[contact_import.id])
        return format_html('<a href="{}">Download {} rejected rows (CSV)</a>', url, contact_import.entries_rejected)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid() and (contact_import := form.import_file(request)):
            if contact_import.status == ContactImport.Status.QUEUED:
                messages.info(request, "The file is large: a worker is importing it. This page shows its progress.")
            elif contact_import.is_completed:
                messages.success(
                    request,
                    f"Imported {contact_import.contacts_created:,} new contacts, updated "
                    f"{contact_import.contacts_updated:,}, rejected {contact_import.entries_rejected:,}.",
                )
            return redirect("admin:contacts_contactimport_change", contact_import.id)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Import contacts"}  # fmt: skip
        return TemplateResponse(request, "admin/contacts/contactimport/upload.html", context)

    def rejections_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return rejected_rows_download(get_object_or_404(ContactImport, pk=import_id))


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

    def delete_queryset(self, request, queryset) -> None:
        # A bulk delete skips PropertyContact.delete(): the contacts' search text is kept here.
        contacts = list(queryset.values_list("contact_id", flat=True))
        super().delete_queryset(request, queryset)
        refresh_houses(contacts=contacts)


@admin.register(ImportRejection)
class ImportRejectionAdmin(ReadOnlyAdmin):
    list_display = ["contact_import", "line_number", "reason"]
    search_fields = ["reason", "raw"]
    list_select_related = ["contact_import"]
    show_full_result_count = False


@admin.register(ImportUploadChunk)
class ImportUploadChunkAdmin(ReadOnlyAdmin):
    """Large uploads waiting for their import, in pieces: how much is kept, never the contents."""

    list_display = ["contact_import", "position", "size"]
    fields = ["contact_import", "position", "size"]
    readonly_fields = fields
    list_select_related = ["contact_import"]
    show_full_result_count = False

    @admin.display(description="Bytes")
    def size(self, chunk: ImportUploadChunk) -> int:
        return len(chunk.data)


@admin.register(ZipCode)
class ZipCodeAdmin(PermanentRecordAdmin):
    """Reference data from the `zipcodes` data set (``manage.py load_zip_codes`` refreshes it)."""

    list_display = ["zip", "state", "time_zone"]
    list_filter = ["time_zone"]
    search_fields = ["=zip", "=state"]


@admin.register(ConsentChange)
class ConsentChangeAdmin(PermanentRecordAdmin):
    list_display = ["contact", "consent_basis", "consent_at", "via", "changed_by", "changed_at"]
    list_filter = ["consent_basis", "via"]
    search_fields = ["=contact__phone"]


@admin.register(DoNotCallLoad)
class DoNotCallLoadAdmin(PermanentRecordAdmin):
    list_display = ["list", "kind", "as_of", "area_codes", "numbers_read", "contacts_matched", "loaded_at"]
    list_filter = ["list", "kind"]


@admin.register(DoNotCallCoverage)
class DoNotCallCoverageAdmin(ReadOnlyAdmin):
    list_display = ["list", "area_code", "as_of", "loaded_at"]
    list_filter = ["list"]


@admin.register(DoNotCallNumber)
class DoNotCallNumberAdmin(ReadOnlyAdmin):
    list_display = ["number", "list"]
    list_filter = ["list"]
    search_fields = ["=number"]
    show_full_result_count = False
