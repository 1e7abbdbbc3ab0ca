"""The Do-Not-Call lists API: the owner loads a list's file; anyone on staff sees what is loaded."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack import roles
from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer, paginated_response, refuse_large_upload
from contacts import dnc
from contacts.models import DoNotCallList, DoNotCallLoad


class AreaCodesField(serializers.ListField):
    """The load's area codes, stored comma-separated, as a list."""

    child = serializers.CharField()

    def to_representation(self, data: str) -> list[str]:
        return data.split(",") if data else []


class DncLoadOutputSerializer(serializers.ModelSerializer):
    area_codes = AreaCodesField(read_only=True, help_text="The area codes whose copy this file brought to as_of")

    class Meta:
        model = DoNotCallLoad
        fields = [
            "id",
            "list",
            "kind",
            "as_of",
            "file_name",
            "area_codes",
            "numbers_read",
            "numbers_added",
            "numbers_removed",
            "contacts_matched",
            "loaded_at",
        ]


class DncLoadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The registry's flat file (area code,number per line), plain or zipped")
    list = serializers.ChoiceField(choices=DoNotCallList.choices)
    as_of = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="The copy's date, YYYY-MM-DD")


class DncCopyOutputSerializer(serializers.Serializer):
    area_code = serializers.CharField()
    as_of = serializers.DateField()
    loaded_at = serializers.DateTimeField()
    stale = serializers.BooleanField(
        help_text=f"Older than {dnc.MAX_AGE_DAYS} days: no marketing text goes to this area code until a newer copy"
    )


class DncListOutputSerializer(serializers.Serializer):
    list = serializers.ChoiceField(choices=DoNotCallList.choices)
    label = serializers.CharField()
    area_codes = DncCopyOutputSerializer(
        many=True, source="copies", help_text="The area codes loaded, each with its copy's date"
    )


class DncListsApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="dnc_lists_list",
        responses={
            200: inline_serializer(
                name="DncLoadPage",
                fields={
                    "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last"),
                    "previous": serializers.URLField(allow_null=True),
                    "results": DncLoadOutputSerializer(many=True, help_text="The files loaded, newest first"),
                    "lists": DncListOutputSerializer(many=True, help_text="What each list covers (every page)"),
                },
            ),
            **COMMON_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        response = paginated_response(
            request=request, view=self, queryset=DoNotCallLoad.objects.all(), serializer_class=DncLoadOutputSerializer
        )
        response.data["lists"] = DncListOutputSerializer(dnc.coverage(timezone.localdate()), many=True).data
        return response

    @extend_schema(
        operation_id="dnc_lists_load",
        request=DncLoadInputSerializer,
        responses={
            201: DncLoadOutputSerializer,
            413: ErrorSerializer,
            422: OpenApiResponse(ErrorSerializer, description="A missing or bad field, or a file that is not a list"),
            **COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        roles.require(request.user, "contacts.add_donotcallload")
        refuse_large_upload(request)
        serializer = DncLoadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        load = dnc.load_list(
            upload,
            list_name=serializer.validated_data["list"],
            as_of=serializer.validated_data["as_of"],
            file_name=upload.name or "",
            by=request.user,
        )
        return Response(DncLoadOutputSerializer(load).data, status=status.HTTP_201_CREATED)
