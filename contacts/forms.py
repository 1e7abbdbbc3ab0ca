import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.forms.models import fields_for_model, model_to_dict
from django.http import HttpRequest
from django.utils import timezone

from attackacrack.errors import ApplicationError
from campaigns.models import Campaign
from contacts import dnc
from contacts.importing import pipeline
from contacts.models import ConsentBasis, Contact, ContactImport, DoNotCallList, DoNotCallLoad
from contacts.phones import format_phone, normalize_phone

# The largest id a bigint primary key holds: a larger cursor could only be typed, never linked.
LARGEST_ID = 2**63 - 1


class ContactSearchForm(forms.Form):
    """The contacts page's search box and its page links, as the page and its export read them."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    after = forms.IntegerField(label="Page link (after)", required=False, min_value=1, max_value=LARGEST_ID)
    before = forms.IntegerField(label="Page link (before)", required=False, min_value=1, max_value=LARGEST_ID)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("after") and cleaned.get("before"):
            self.add_error(None, "A page link gives “after” or “before”, not both.")
            del cleaned["after"], cleaned["before"]  # the first page, then
        return cleaned

    def problems(self) -> list[str]:
        """Each error, after the label of the field it is about."""
        return [
            f"{self.fields[field].label}: {error}" if field in self.fields else str(error)
            for field, errors in self.errors.items()
            for error in errors
        ]


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="A PropertyRadar export or any contact CSV with a phone column")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status__in=Campaign.CLOSED_STATUSES),
        required=False,
        label="Add them to a campaign",
        empty_label="No campaign",
        help_text="Also add the imported contacts to this campaign's audience",
    )
    format = forms.ChoiceField(
        choices=[("", "Detect from the header"), *ContactImport.Format.choices], required=False, label="File format"
    )

    def import_file(self, request: HttpRequest) -> ContactImport | None:
        """Import the uploaded file (the page and the admin both): the import, a failed one with its
        reason as the page's message, or None when the file is refused (the form says why)."""
        upload = self.cleaned_data["file"]
        try:
            return pipeline.import_upload(
                file=upload,
                file_name=upload.name,
                created_by=request.user,
                campaign=self.cleaned_data["campaign"],
                format=self.cleaned_data["format"] or None,
            )
        except pipeline.ImportFailed as error:
            messages.error(request, f"The import failed and stored nothing: {error}")
            return error.contact_import
        except ApplicationError as error:
            self.add_error(error.loc[-1] if error.loc else None, str(error))
            return None


class DncLoadForm(forms.Form):
    file = forms.FileField(
        label="List file", help_text="The registry's flat file as downloaded (area code,number per line), or its zip"
    )
    list = forms.ChoiceField(choices=DoNotCallList.choices, label="Which list")
    as_of = forms.DateField(
        label="Copy of",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the list was downloaded",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"Files over {settings.IMPORT_MAX_UPLOAD_BYTES:,} bytes are not accepted.")
        return upload

    def load(self, request: HttpRequest) -> DoNotCallLoad | None:
        """Load the uploaded list: the load, or None when it is refused (the form says why)."""
        upload, list_name, as_of = (self.cleaned_data[name] for name in ("file", "list", "as_of"))
        try:
            return dnc.load_list(upload, list_name=list_name, as_of=as_of, file_name=upload.name, by=request.user)
        except ApplicationError as error:
            self.add_error(error.loc[-1] if error.loc else None, f"Nothing was loaded: {error}")
            return None


class ContactForm(forms.Form):
    """Add or change a contact by hand: the model's fields as a form, read and normalised here;
    the contacts service validates, saves and sets what follows from them (the time zone)."""

    FIELDS = ["first_name", "last_name", "phone", "email", "address", "city", "state", "zip_code", "line_type"]

    def __init__(self, data=None, *, contact: Contact | None = None) -> None:
        initial = model_to_dict(contact, fields=self.FIELDS) | {"phone": format_phone(contact.phone)} if contact else {}
        super().__init__(data, initial=initial)
        self.fields.update(
            fields_for_model(
                Contact,
                fields=self.FIELDS,
                labels={"zip_code": "ZIP", "line_type": "Kind of line", "phone": "Mobile phone"},
                help_texts={
                    "phone": "Any usual way of writing it: (617) 555-0123, 617-555-0123, +1 617 555 0123",
                    "line_type": "A landline is never sent a campaign text.",
                },
            )
        )

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        normalized = normalize_phone(value)
        if normalized is None:
            raise forms.ValidationError(f"{value!r} is not a phone number we can read.")
        return normalized

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def changes(self) -> dict:
        """The fields the person changed, as the service takes them."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class LawfulBasisForm(forms.Form):
    """The contact page's consent record: the basis, its date, where and how, and the words agreed
    to. The form only reads them; ``lawful_basis.record_consent`` judges them together."""

    consent_basis = forms.ChoiceField(choices=ConsentBasis.choices, label="Basis")
    consent_at = forms.DateField(
        required=False,
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When consent was given, or of the last job, payment or inquiry",
    )
    consent_source = forms.CharField(required=False, max_length=255, label="Where and how")
    consent_wording = forms.CharField(
        required=False, label="The words they agreed to", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, contact: Contact) -> None:
        self.contact = contact
        super().__init__(
            data,
            initial={
                "consent_basis": contact.consent_basis,
                "consent_at": timezone.localdate(contact.consent_at) if contact.consent_at else None,
                "consent_source": contact.consent_source,
                "consent_wording": contact.consent_wording,
            },
        )

    def values(self) -> dict:
        """The consent fields as ``record_consent`` takes them. The page gives a day: the moment on
        record is kept when it falls on that day, so saving the form unchanged changes nothing."""
        day = self.cleaned_data["consent_at"]
        current = self.contact.consent_at
        if day is None:
            at = None
        elif current is not None and timezone.localdate(current) == day:
            at = current
        else:
            at = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        return {**self.cleaned_data, "consent_at": at}
