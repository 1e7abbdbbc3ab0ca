from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.api import COMMON_ERRORS, ErrorSerializer, paginated_response, validate_query
from contacts.models import Contact
from contacts.phones import normalize_phone
from contacts.selectors import contact_search


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


class ContactOutputSerializer(serializers.ModelSerializer):
    opted_out = serializers.BooleanField(source="is_opted_out", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "phone",
            "first_name",
            "last_name",
            "email",
            "address",
            "city",
            "state",
            "zip_code",
            "source",
            "line_type",
            "time_zone",
            "time_zone_source",
            "opted_out",
            "opted_out_at",
            "opt_out_reason",
            "created_at",
            "updated_at",
        ]


class ContactQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ContactListApi(APIView):
    @extend_schema(
        operation_id="contacts_list",
        parameters=[OpenApiParameter("q", str, description="Phone digits, or words matched in name, email and city")],
        responses={200: ContactOutputSerializer(many=True), 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        filters = validate_query(ContactQuerySerializer, request)
        return paginated_response(
            request=request,
            view=self,
            queryset=contact_search(query=filters.get("q", "")),
            serializer_class=ContactOutputSerializer,
        )


class ContactDetailApi(APIView):
    @extend_schema(
        operation_id="contacts_retrieve",
        responses={200: ContactOutputSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactOutputSerializer(get_object_or_404(Contact, pk=contact_id)).data)
