"""What every API endpoint shares: Bearer auth, cursor pagination and the one error shape.

Every error leaves the API as ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``:
validation problems as 422 with one entry per problem, everything else (401, 403, 404, 405,
409) with a single entry whose ``loc`` is empty. The domain's refusals (``ApplicationError``)
are answered here with the status, type and place each carries; no view translates them.
"""

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.errors import ApplicationError


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "attackacrack.web.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


class IdCursorPagination(CursorPagination):
    """Cursor pagination by id: no COUNT(*), constant cost at any depth of a million rows."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Cursor | None:
        # DRF checks the cursor's offset but passes its position to the query as it came: an id
        # that is not a number (a cursor edited by hand) would fail in the database.
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not (position.isascii() and position.isdigit() and int(position) < 2**63):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor


class IdsFirstCursorPagination(IdCursorPagination):
    """Finds a page's ids first, then reads their rows: for a list of one parent's rows that an
    index on (parent, id) answers without the table, where PostgreSQL would walk the primary key
    past every other parent's rows to read them in id order at once (a campaign's members)."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list | None:
        page = super().paginate_queryset(queryset.values("id"), request, view)
        if page is None:
            return None
        rows = queryset.in_bulk([row["id"] for row in page])
        return [rows[row["id"]] for row in page]


def paginated_response(
    *,
    request: Request,
    view: APIView,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
    ids_first: bool = False,
) -> Response:
    paginator = IdsFirstCursorPagination() if ids_first else IdCursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class QueryValidationError(exceptions.ValidationError):
    """A bad query-string parameter: reported with ``loc`` starting at ``query``."""


def validate_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise QueryValidationError(serializer.errors)
    return serializer.validated_data


def _validation_entries(detail: Any, loc: list[str | int]) -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        entries = []
        for key, value in detail.items():
            sub_loc = loc if key in ("non_field_errors", NON_FIELD_ERRORS) else [*loc, key]
            entries += _validation_entries(value, sub_loc)
        return entries
    if isinstance(detail, list):
        entries = []
        for index, value in enumerate(detail):
            # A list of messages belongs to the same field; a list of objects is indexed.
            sub_loc = [*loc, index] if isinstance(value, (dict, list)) else loc
            entries += _validation_entries(value, sub_loc)
        return entries
    return [{"loc": loc, "msg": str(detail), "type": getattr(detail, "code", None) or "invalid"}]


def error_body(*, msg: str, type: str, loc: list[str | int] | None = None) -> dict[str, Any]:
    return {"detail": [{"loc": loc or [], "msg": msg, "type": type}]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # As DRF's serializers convert a model's errors: by field, each with its code.
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ApplicationError):
        return Response(error_body(msg=str(exc), type=exc.code, loc=list(exc.loc)), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes; files go in a multipart upload."
        )

    if isinstance(exc, exceptions.ValidationError):
        where = "query" if isinstance(exc, QueryValidationError) else "body"
        return Response(
            {"detail": _validation_entries(exc.detail, [where])},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = auth_header
        if wait := getattr(exc, "wait", None):  # Throttled: when to try again, as DRF's own handler says
            headers["Retry-After"] = str(int(wait))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return Response(error_body(msg=str(exc.detail), type=code), status=exc.status_code, headers=headers)
    return None


class ErrorEntrySerializer(serializers.Serializer):
    loc = serializers.ListField(child=serializers.CharField())
    msg = serializers.CharField()
    type = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = ErrorEntrySerializer(many=True)


# The error responses every authenticated endpoint can give, for the OpenAPI schema (400: a body
# that is not valid JSON or multipart).
COMMON_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


def document_unsupported_media_type(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Schema hook: every operation that takes a body can answer 415 to a content type it does not parse.

    DRF answers it before the view runs, so no view's ``responses`` lists it; this lists it once.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415",
                    {
                        "description": "The request's content type is not one this endpoint reads",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


@cache  # one component per serializer, however many endpoints list it
def page_of(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a cursor-paginated list of ``serializer_class``: what paginated_response sends."""
    name = serializer_class.__name__.removesuffix("Serializer").removesuffix("Output")
    return inline_serializer(
        name=f"{name}Page",
        fields={
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last"),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def refuse_large_upload(request: Request) -> None:
    """An upload over IMPORT_MAX_UPLOAD_BYTES is a 413 before its body is read."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"Files over {settings.IMPORT_MAX_UPLOAD_BYTES:,} bytes are not accepted.")
