"""What came of a contact's conversations, through the API: record an outcome, read them with
their corrections, correct or withdraw one. The rules (attribution, what may be recorded) are
``campaigns.outcomes``'."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer
from campaigns import outcomes
from campaigns.evidence_api import CampaignRefSerializer
from campaigns.models import Outcome, Variant
from contacts.models import Contact

WRITE_ERRORS = {404: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS}


class AnsweredReplySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The reply's message id")
    body = serializers.CharField()
    received_at = serializers.DateTimeField(source="created_at")


class AttributionSerializer(serializers.Serializer):
    campaign = CampaignRefSerializer()
    variant = serializers.ChoiceField(choices=Variant.choices, help_text="The variant the answered text was sent as")
    reply = AnsweredReplySerializer(source="answered", help_text="The person's answer to the campaign's text")


class OutcomeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Outcome.Kind.choices)
    on = serializers.DateField(help_text="The day it happened, in the business's time zone")
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="A job won's amount in dollars; null otherwise"
    )
    note = serializers.CharField(allow_blank=True)
    counts = serializers.SerializerMethodField(help_text="False once corrected or withdrawn")
    withdrawn = serializers.BooleanField(help_text="A withdrawal: it did not happen")
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True, help_text="The version it corrects")
    replaced_by = serializers.SerializerMethodField(help_text="The correction or withdrawal that replaced it")
    attribution = serializers.SerializerMethodField(
        help_text="The campaign and variant whose text the person last answered on or before the day, within "
        f"{outcomes.ATTRIBUTION_WINDOW_DAYS} days, and that answer; null when none"
    )
    recorded_by = serializers.CharField(source="recorded_by.username", allow_null=True, default=None)
    recorded_at = serializers.DateTimeField()

    def get_counts(self, outcome: Outcome) -> bool:
        return outcomes.counts(outcome)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_replaced_by(self, outcome: Outcome) -> int | None:
        replacement = outcomes.replacement(outcome)
        return replacement.pk if replacement else None

    @extend_schema_field(AttributionSerializer(allow_null=True))
    def get_attribution(self, outcome: Outcome) -> dict | None:
        return AttributionSerializer(outcome).data if outcome.campaign_id else None


class ContactOutcomesSerializer(serializers.Serializer):
    current = OutcomeOutputSerializer(many=True, help_text="What counts, by the day it happened, the latest first")
    history = OutcomeOutputSerializer(
        many=True, help_text="Every outcome recorded, corrected and withdrawn ones too, the latest recorded first"
    )


class OutcomeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Outcome.Kind.choices)
    on = serializers.DateField(help_text="The day it happened (YYYY-MM-DD), not after today in business time")
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="A job won's amount in dollars (required for it, and refused for the others)",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=outcomes.MAX_NOTE_LENGTH)


class WithdrawalInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=outcomes.MAX_NOTE_LENGTH)


class ContactOutcomesApi(APIView):
    @extend_schema(
        operation_id="contacts_outcomes",
        responses={200: ContactOutcomesSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
        description="What came of the contact's conversations: what counts now, and every version recorded.",
    )
    def get(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        recorded = outcomes.contact_outcomes(contact)
        current = sorted(
            filter(outcomes.counts, recorded),
            key=lambda outcome: (outcome.on, outcome.recorded_at),
            reverse=True,
        )
        return Response(ContactOutcomesSerializer({"current": current, "history": recorded}).data)

    @extend_schema(
        operation_id="contacts_outcomes_create",
        request=OutcomeInputSerializer,
        responses={201: OutcomeOutputSerializer, **WRITE_ERRORS},
        description="Record what came of a conversation; it is attributed to the campaign text the person last "
        "answered (see `attribution`).",
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        serializer = OutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = outcomes.record_conversation_outcome(contact=contact, **serializer.validated_data, by=request.user)
        return Response(OutcomeOutputSerializer(outcome).data, status=status.HTTP_201_CREATED)


class OutcomeCorrectionsApi(APIView):
    @extend_schema(
        operation_id="contacts_outcomes_correct",
        request=OutcomeInputSerializer,
        responses={201: OutcomeOutputSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
        description="Say what really came of it, whole: a new outcome replaces this one, which stays in the history. "
        "The day kept, the attribution is kept; a new day is attributed again. 409 if it was already corrected.",
    )
    def post(self, request: Request, contact_id: int, outcome_id: int) -> Response:
        outcome = get_object_or_404(Outcome, pk=outcome_id, contact_id=contact_id)
        serializer = OutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        correction = outcomes.correct_outcome(outcome=outcome, **serializer.validated_data, by=request.user)
        return Response(OutcomeOutputSerializer(correction).data, status=status.HTTP_201_CREATED)


class OutcomeWithdrawalApi(APIView):
    @extend_schema(
        operation_id="contacts_outcomes_withdraw",
        request=WithdrawalInputSerializer,
        responses={201: OutcomeOutputSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
        description="It did not happen: a withdrawal replaces the outcome, and neither counts. 409 if it was "
        "already corrected or withdrawn.",
    )
    def post(self, request: Request, contact_id: int, outcome_id: int) -> Response:
        outcome = get_object_or_404(Outcome, pk=outcome_id, contact_id=contact_id)
        serializer = WithdrawalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        withdrawal = outcomes.withdraw_outcome(outcome=outcome, **serializer.validated_data, by=request.user)
        return Response(OutcomeOutputSerializer(withdrawal).data, status=status.HTTP_201_CREATED)
