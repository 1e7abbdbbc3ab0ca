from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack import roles
from attackacrack.web.api import (
    COMMON_ERRORS,
    ErrorSerializer,
    page_of,
    paginated_response,
    refuse_large_upload,
    validate_query,
)
from campaigns.compliance.lawful import why_not_texted
from campaigns.models import Campaign
from contacts import dnc, lawful_basis, services
from contacts.csv_export import CONTACT_EXPORT_FIELDS, contacts_download, rejected_rows_download
from contacts.importing import pipeline
from contacts.models import Contact, ContactImport, DoNotCallList
from contacts.not_texted import NotTexted, Reason
from contacts.phones import normalize_phone
from contacts.selectors import contact_search, contacts_to_page


class PhoneNumberField(serializers.CharField):
    """A phone number in any common US spelling, stored as E.164."""

    default_error_messages = {"invalid_phone": "{value!r} is not a valid phone number."}

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        if value == "":
            return value
        normalized = normalize_phone(value)
        if normalized is None:
            self.fail("invalid_phone", value=value)
        return normalized


class DoNotCallListingSerializer(serializers.Serializer):
    list = serializers.ChoiceField(choices=DoNotCallList.choices)
    area_code = serializers.CharField()
    as_of = serializers.DateField(allow_null=True, help_text="The date of the list's copy for the area code, if loaded")
    listed = serializers.BooleanField(help_text="Whether that copy holds the number")


class ContactOutputSerializer(serializers.ModelSerializer):
    opted_out = serializers.BooleanField(source="is_opted_out", read_only=True)
    not_textable_reason = serializers.CharField(
        read_only=True,
        help_text="Why the business's number cannot text this contact (landline, toll-free, not US), or empty",
    )
    reason = serializers.ChoiceField(
        source="not_texted.because",
        choices=Reason.choices,
        read_only=True,
        allow_null=True,
        help_text="Why nobody may text this contact (opted out, not a mobile number), or null",
    )
    reason_detail = serializers.CharField(
        source="not_texted.detail",
        read_only=True,
        allow_null=True,
        help_text="The reason's detail: the opt-out's words, what the number is",
    )

    class Meta:
        model = Contact
        # What an export holds, and whether the contact is opted out.
        fields = [*CONTACT_EXPORT_FIELDS, "opted_out"]


class ContactDetailSerializer(ContactOutputSerializer):
    do_not_call = serializers.SerializerMethodField(help_text="What each Do-Not-Call list says of the number")
    marketing_reason = serializers.SerializerMethodField(
        help_text="Why no marketing text may reach this contact, as the contact page says: `reason` when there is "
        "one, else written consent required (Connecticut, or a state not known) or a Do-Not-Call list without a "
        "basis in force; null when one may"
    )
    marketing_reason_detail = serializers.SerializerMethodField(help_text="That reason's detail, or null")

    class Meta(ContactOutputSerializer.Meta):
        fields = [*ContactOutputSerializer.Meta.fields, "do_not_call", "marketing_reason", "marketing_reason_detail"]

    @extend_schema_field(DoNotCallListingSerializer(many=True))
    def get_do_not_call(self, contact: Contact) -> list[dict]:
        return [listing.as_record() for listing in dnc.listings([contact.phone])[contact.phone]]

    def _kept_from_marketing(self, contact: Contact) -> NotTexted | None:
        said = self.context.setdefault("kept_from_marketing", {})
        if contact.pk not in said:
            said.update(why_not_texted([contact], now=timezone.now()))
        return said[contact.pk]

    @extend_schema_field(serializers.ChoiceField(choices=Reason.choices, allow_null=True))
    def get_marketing_reason(self, contact: Contact) -> str | None:
        why = self._kept_from_marketing(contact)
        return why.because.value if why else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_marketing_reason_detail(self, contact: Contact) -> str | None:
        why = self._kept_from_marketing(contact)
        return why.detail if why else None


class ContactInputSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField()
    state = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)
    zip_code = serializers.RegexField(r"^\d{5}(-\d{4})?$", required=False, allow_blank=True)

    class Meta:
        model = Contact
        fields = sorted(services.CONTACT_FIELDS - {"line_type"}) + list(lawful_basis.CONSENT_FIELDS)
        extra_kwargs = {
            "time_zone": {
                "help_text": "Set by staff to override the zone read from the address or area code; "
                "blank to go back to it"
            }
        }

    def validate_state(self, value: str) -> str:
        return value.upper()

    def validate(self, attrs: dict) -> dict:
        """The consent given, with what the contact has on record, must hold together."""
        consent = {field: attrs[field] for field in lawful_basis.CONSENT_FIELDS if field in attrs}
        if consent:
            contact = self.context.get("contact") or Contact()
            current = {field: getattr(contact, field) for field in lawful_basis.CONSENT_FIELDS}
            try:
                lawful_basis.validate_consent({**current, **consent}, now=timezone.now())
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from error
        return attrs

    def save_to(self, contact: Contact, *, by) -> Contact:
        """The contact saved with the fields given, its consent audited as given through the API."""
        return services.save_contact(contact=contact, changes=self.validated_data, by=by, via="api")


class ContactQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    opted_out = serializers.BooleanField(required=False, allow_null=True, default=None)


CONTACT_FILTERS = [
    OpenApiParameter(
        "q",
        str,
        description="Phone digits or a ZIP, or words each found in the name, email, street, city or ZIP (the "
        "contact's own or a house's); apostrophes, hyphens, periods and spaces are ignored: oconnor finds O'Connor",
    ),
    OpenApiParameter("opted_out", bool, description="Only opted-out (true) or textable (false) contacts"),
]


class ContactListApi(APIView):
    @extend_schema(
        operation_id="contacts_list",
        parameters=CONTACT_FILTERS,
        responses={200: page_of(ContactOutputSerializer), 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        filters = validate_query(ContactQuerySerializer, request)
        return paginated_response(
            request=request,
            view=self,
            queryset=contacts_to_page(contact_search(query=filters.get("q", ""), opted_out=filters["opted_out"])),
            serializer_class=ContactOutputSerializer,
        )

    @extend_schema(
        operation_id="contacts_create",
        request=ContactInputSerializer,
        responses={201: ContactDetailSerializer, 409: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = serializer.save_to(Contact(), by=request.user)
        return Response(ContactDetailSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactExportApi(APIView):
    @extend_schema(
        operation_id="contacts_export",
        parameters=CONTACT_FILTERS,
        responses={(200, "text/csv"): OpenApiTypes.STR, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request):
        roles.require(request.user, "contacts.export_contact")
        filters = validate_query(ContactQuerySerializer, request)
        contacts = contact_search(query=filters.get("q", ""), opted_out=filters["opted_out"]).order_by("id")
        return contacts_download(contacts)


class ContactDetailApi(APIView):
    @extend_schema(
        operation_id="contacts_retrieve",
        responses={200: ContactDetailSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactDetailSerializer(get_object_or_404(Contact, pk=contact_id)).data)

    @extend_schema(
        operation_id="contacts_update",
        request=ContactInputSerializer,
        responses={
            200: ContactDetailSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
            **COMMON_ERRORS,
        },
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        serializer = ContactInputSerializer(data=request.data, partial=True, context={"contact": contact})
        serializer.is_valid(raise_exception=True)
        contact = serializer.save_to(contact, by=request.user)
        return Response(ContactDetailSerializer(contact).data)

    @extend_schema(
        operation_id="contacts_destroy",
        responses={204: None, 404: ErrorSerializer, 409: ErrorSerializer, **COMMON_ERRORS},
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        services.delete_contact(contact=get_object_or_404(Contact, pk=contact_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Imports -------------------------------------------------------------------------------


class ImportOutputSerializer(serializers.ModelSerializer):
    imported = serializers.IntegerField(source="contacts_created", read_only=True)
    rejections_url = serializers.SerializerMethodField()

    class Meta:
        model = ContactImport
        exclude = [
            "created_by", "not_textable", "not_textable_by_reason", "attempts", "enqueued_at", "progress_at", "header",
        ]  # fmt: skip

    def get_rejections_url(self, contact_import: ContactImport) -> str:
        return reverse("api-import-rejections", args=[contact_import.id])


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=ContactImport.Format.choices, required=False)


IMPORT_RESPONSES = {
    200: ImportOutputSerializer,
    202: OpenApiResponse(ImportOutputSerializer, description="A large file: imported by a worker; poll the import"),
    413: ErrorSerializer,
    422: ErrorSerializer,
    **COMMON_ERRORS,
}


def import_upload(request: Request, *, campaign: Campaign | None = None) -> Response:
    """The upload endpoints' shared body: small files now, large ones in a worker."""
    refuse_large_upload(request)
    serializer = ImportInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    upload = serializer.validated_data["file"]
    contact_import = pipeline.import_upload(
        file=upload,
        file_name=upload.name or "upload.csv",
        created_by=request.user,
        campaign=campaign,
        format=serializer.validated_data.get("format"),
    )
    accepted = contact_import.status == ContactImport.Status.QUEUED
    return Response(
        ImportOutputSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED if accepted else status.HTTP_200_OK
    )


class ImportCsvApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="import_csv", request=ImportInputSerializer, responses=IMPORT_RESPONSES)
    def post(self, request: Request) -> Response:
        return import_upload(request)


class ImportListApi(APIView):
    @extend_schema(operation_id="imports_list", responses={200: page_of(ImportOutputSerializer), **COMMON_ERRORS})
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request, view=self, queryset=ContactImport.objects.all(), serializer_class=ImportOutputSerializer
        )


class ImportDetailApi(APIView):
    @extend_schema(
        operation_id="imports_retrieve",
        responses={200: ImportOutputSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, import_id: int) -> Response:
        return Response(ImportOutputSerializer(get_object_or_404(ContactImport, pk=import_id)).data)


class ImportRejectionsApi(APIView):
    @extend_schema(
        operation_id="imports_rejections",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, import_id: int):
        return rejected_rows_download(get_object_or_404(ContactImport, pk=import_id))
