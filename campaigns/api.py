"""The campaigns API: campaigns, their lifecycle (schedule, start, pause, resume, cancel, archive,
run, winner) and their texts. Their results are ``campaigns.results_api``; the audience and its
previews ``campaigns.audience_api``."""

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Case, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack import roles
from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer, page_of, paginated_response, validate_query
from campaigns import booking, services
from campaigns.models import (
    DAILY_LIMIT_TOO_HIGH,
    Campaign,
    CampaignSend,
    Variant,
    validate_sending_number,
)
from contacts.api import (
    IMPORT_RESPONSES,
    ImportInputSerializer,
    PhoneNumberField,
    import_upload,
)
from messaging.api import ReplacementSerializer
from messaging.models import Message

# What a campaign action can answer besides success.
ACTION_ERRORS = {404: ErrorSerializer, 409: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS}


class CampaignOutputSerializer(serializers.ModelSerializer):
    follow_up = serializers.SerializerMethodField(help_text="Its follow-up step's id (a campaign), or null")

    class Meta:
        model = Campaign
        # What staff set, then its follow-up step, then what the lifecycle and the runs set.
        fields = ["id", *Campaign.EDITABLE_FIELDS, "follow_up", "follow_up_of", "follow_up_after_days", "status",
                  "winner", "winner_declared_at", "archived_at", "created_at", "updated_at"]  # fmt: skip
        extra_kwargs = {"follow_up_of": {"help_text": "For a follow-up step: the campaign whose text it follows"}}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_follow_up(self, campaign: Campaign) -> int | None:
        try:
            return campaign.follow_up.pk  # the list selects it with the campaigns
        except Campaign.follow_up.RelatedObjectDoesNotExist:
            return None


class PlainTemplateSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=["template_a", "template_b"])
    replacements = ReplacementSerializer(many=True)
    segments_before = serializers.IntegerField(help_text="A text's segments as typed (for the preview's member)")
    segments_after = serializers.IntegerField(help_text="And as saved")
    still_outside_gsm7 = serializers.ListField(
        child=serializers.CharField(),
        source="still_outside",
        help_text="Characters with no plain equivalent that keep its texts UCS-2 (an emoji, an accented letter)",
    )
    message = serializers.CharField(help_text="What the pages say of it")


class CampaignSavedSerializer(CampaignOutputSerializer):
    """A campaign just created or changed, with what saving made plain in its templates."""

    normalised = PlainTemplateSerializer(
        many=True,
        source="made_plain",
        read_only=True,
        help_text="Each template saved plainer than it was sent: curly quotes, long dashes, the ellipsis, unusual "
        "spaces replaced by their GSM-7 equivalents. Empty when nothing was replaced.",
    )

    class Meta(CampaignOutputSerializer.Meta):
        fields = [*CampaignOutputSerializer.Meta.fields, "normalised"]


class CampaignListQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(required=False, default=False, help_text="List archived campaigns instead")


class StartsAtField(serializers.DateTimeField):
    """When a campaign starts: a time in this century. Year 0125 is a typo, not a plan (and such a
    time cannot even be written back in RFC 3339: New York then kept local mean time, -04:56:02)."""

    default_error_messages = {"out_of_range": "Give a start time between the years 2000 and 2099."}

    def to_internal_value(self, value: object):
        starts_at = super().to_internal_value(value)
        if not 2000 <= starts_at.year <= 2099:
            self.fail("out_of_range")
        return starts_at


class SendingNumberField(PhoneNumberField):
    """The number a campaign sends from: any US spelling, but not an OpenPhone id (PN...), refused
    before normalising with the model's own reason (validate_sending_number)."""

    def to_internal_value(self, data: object) -> str:
        if isinstance(data, str) and data.strip().startswith("PN"):
            try:
                validate_sending_number(data.strip())
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages, code=error.code) from error
        return super().to_internal_value(data)


class CampaignFieldsSerializer(serializers.ModelSerializer):
    from_number = SendingNumberField(required=False, allow_blank=True)
    starts_at = StartsAtField(required=False, allow_null=True)

    class Meta:
        model = Campaign
        fields = Campaign.EDITABLE_FIELDS
        extra_kwargs = {
            "daily_limit": {"error_messages": {"max_value": DAILY_LIMIT_TOO_HIGH}},
            "frequency_cap_days": {"max_value": 365},
        }


class CampaignUpdateSerializer(CampaignFieldsSerializer):
    def validate(self, attrs: dict) -> dict:
        if isinstance(self.initial_data, dict) and "status" in self.initial_data:
            raise serializers.ValidationError(
                {"status": "The status changes through the actions: schedule, start, pause, resume, cancel."}
            )
        return attrs


class CampaignListApi(APIView):
    @extend_schema(
        operation_id="campaigns_list",
        parameters=[CampaignListQuerySerializer],
        responses={200: page_of(CampaignOutputSerializer), 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = validate_query(CampaignListQuerySerializer, request)
        return paginated_response(
            request=request,
            view=self,
            queryset=Campaign.objects.filter(archived_at__isnull=not query["archived"]).select_related("follow_up"),
            serializer_class=CampaignOutputSerializer,
        )

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignFieldsSerializer,
        responses={201: CampaignSavedSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = CampaignFieldsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        roles.require_sending_unchanged(request.user, current=Campaign(), changes=serializer.validated_data)
        campaign = services.create_campaign(**serializer.validated_data, created_by=request.user)
        return Response(CampaignSavedSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    @extend_schema(
        operation_id="campaigns_retrieve",
        responses={200: CampaignOutputSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        return Response(CampaignOutputSerializer(campaign).data)

    @extend_schema(
        operation_id="campaigns_update",
        request=CampaignUpdateSerializer,
        responses={200: CampaignSavedSerializer, **ACTION_ERRORS},
    )
    def patch(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        serializer = CampaignUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        roles.require_sending_unchanged(request.user, current=campaign, changes=serializer.validated_data)
        campaign = services.update_campaign(campaign=campaign, **serializer.validated_data)
        return Response(CampaignSavedSerializer(campaign).data)

    @extend_schema(
        operation_id="campaigns_destroy",
        responses={204: None, 404: ErrorSerializer, 409: ErrorSerializer, **COMMON_ERRORS},
        description="Only a campaign that never booked a text; one with history is cancelled and archived.",
    )
    def delete(self, request: Request, campaign_id: int) -> Response:
        roles.require(request.user, "campaigns.delete_campaign")
        services.delete_campaign(campaign=get_object_or_404(Campaign, pk=campaign_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="campaigns_upload",
        request=ImportInputSerializer,
        responses={**IMPORT_RESPONSES, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        return import_upload(request, campaign=get_object_or_404(Campaign, pk=campaign_id))


# --- Lifecycle actions ----------------------------------------------------------------------


class ExecutionResultSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    sent = serializers.IntegerField(help_text="Sends booked for today's window by this run")
    queued = serializers.IntegerField(help_text="Eligible members waiting for a later business day")
    rebooked = serializers.IntegerField(help_text="Sends that missed their slot and were booked again")
    ineligible = serializers.IntegerField()
    flagged = serializers.IntegerField()
    booked_today = serializers.IntegerField(help_text="This campaign's sends counting against today's limit")
    business_date = serializers.DateField(allow_null=True)
    next_send_at = serializers.DateTimeField(allow_null=True)


class ScheduleInputSerializer(serializers.Serializer):
    starts_at = StartsAtField(required=False, allow_null=True)


class WinnerInputSerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=Variant.choices)


def campaign_action(
    operation_id: str,
    act: Callable[..., object],
    *,
    body: type[serializers.Serializer] | None = None,
    output: type[serializers.Serializer] = CampaignOutputSerializer,
    permission: str = "",
    description: str | None = None,
) -> type[APIView]:
    """One lifecycle action's endpoint: ``act(campaign=..., **the body's fields)``, answered with
    what it returns as ``output``."""

    @extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            request=body,
            responses={200: output, **ACTION_ERRORS},
            description=description,
        )
    )
    class CampaignActionApi(APIView):
        def post(self, request: Request, campaign_id: int) -> Response:
            if permission:
                roles.require(request.user, permission)
            campaign = get_object_or_404(Campaign, pk=campaign_id)
            fields = {}
            if body is not None:
                serializer = body(data=request.data)
                serializer.is_valid(raise_exception=True)
                fields = serializer.validated_data
            return Response(output(act(campaign=campaign, **fields)).data)

    return CampaignActionApi


CampaignScheduleApi = campaign_action("campaigns_schedule", services.schedule_campaign, body=ScheduleInputSerializer)
CampaignPauseApi = campaign_action("campaigns_pause", services.pause_campaign)
CampaignCancelApi = campaign_action("campaigns_cancel", services.cancel_campaign)
CampaignArchiveApi = campaign_action(
    "campaigns_archive", services.archive_campaign, permission="campaigns.archive_campaign"
)
CampaignStartApi = campaign_action(
    "campaigns_start",
    services.start_campaign,
    output=ExecutionResultSerializer,
    description="Activate a draft or scheduled campaign now and book today's sends.",
)
CampaignResumeApi = campaign_action("campaigns_resume", services.resume_campaign, output=ExecutionResultSerializer)
CampaignExecuteApi = campaign_action(
    "campaigns_execute",
    lambda campaign: booking.run_campaign(campaign_id=campaign.pk),
    output=ExecutionResultSerializer,
    description="Run an active campaign now, as the clock does every minute.",
)
CampaignWinnerApi = campaign_action(
    "campaigns_declare_winner",
    services.declare_winner,
    body=WinnerInputSerializer,
    description="The rest of the audience gets the winning variant's text.",
)


# --- Reads: the texts booked (results: campaigns.results_api) ---------------------------------


# A booking's text under the names this endpoint has always given it: a delivered text is "sent"
# (delivered_at says more), and a cancelled text's "Not sent: why" is its cancelled_reason.
SEND_STATUSES = [
    (status, label)
    for status, label in Message.Status.choices
    if status not in (Message.Status.DELIVERED, Message.Status.RECEIVED)
]


def _with_their_texts(sends: QuerySet[CampaignSend]) -> QuerySet[CampaignSend]:
    cancelled = Q(message__status=Message.Status.CANCELLED)
    return sends.select_related("message").annotate(
        status=Case(
            When(message__status=Message.Status.DELIVERED, then=Value(Message.Status.SENT.value)),
            default=F("message__status"),
        ),
        cancelled_reason=Case(When(cancelled, then=F("message__error")), default=Value(""), output_field=TextField()),
        last_error=Case(
            When(cancelled, then=Value("")), default=Coalesce(F("message__error"), Value("")), output_field=TextField()
        ),
    )


class SendOutputSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=SEND_STATUSES, read_only=True)
    sent_at = serializers.DateTimeField(source="message.sent_at", read_only=True, allow_null=True)
    delivered_at = serializers.DateTimeField(source="message.delivered_at", read_only=True, allow_null=True)
    attempts = serializers.IntegerField(source="message.attempts", read_only=True)
    cancelled_reason = serializers.CharField(read_only=True)
    last_error = serializers.CharField(read_only=True)

    class Meta:
        model = CampaignSend
        fields = [
            "id",
            "contact_id",
            "variant",
            "status",
            "from_number",
            "business_date",
            "scheduled_for",
            "sent_at",
            "delivered_at",
            "attempts",
            "cancelled_reason",
            "last_error",
        ]


class SendQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=SEND_STATUSES)


class CampaignSendsApi(APIView):
    @extend_schema(
        operation_id="campaigns_sends_list",
        parameters=[SendQuerySerializer],
        responses={200: page_of(SendOutputSerializer), 404: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        query = validate_query(SendQuerySerializer, request)
        sends = _with_their_texts(campaign.sends.all())
        if "status" in query:
            sends = sends.filter(status=query["status"])
        return paginated_response(request=request, view=self, queryset=sends, serializer_class=SendOutputSerializer)
