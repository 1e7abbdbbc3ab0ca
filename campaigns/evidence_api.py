"""A contact's compliance history as the API gives it (``campaigns.evidence`` builds it). The
contact page's download is the same document: `compliance_document` serves both."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer
from campaigns import evidence
from campaigns.models import Campaign
from contacts.models import ConsentBasis, ConsentChange, Contact, DoNotCallList, DoNotCallLoad, OptOutEvent
from messaging.models import Message


class ComplianceContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(help_text="E.164")
    name = serializers.CharField(help_text="First and last name; empty when unknown")


class ConsentSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=ConsentBasis.choices)
    at = serializers.DateTimeField(
        allow_null=True, help_text="When consent was given, or the last job, payment or inquiry; null for none"
    )
    source = serializers.CharField(allow_blank=True, help_text="Where and how it was given")
    wording = serializers.CharField(allow_blank=True, help_text="The words the person agreed to (written consent)")


class CurrentConsentSerializer(ConsentSerializer):
    description = serializers.CharField(help_text="The basis in plain words, e.g. 'Inquiry on 2026-09-14'")


class ConsentChangeSerializer(ConsentSerializer):
    via = serializers.ChoiceField(choices=ConsentChange.Via.choices)
    changed_by = serializers.CharField(allow_null=True, help_text="The user's username; null for an import or a job")
    changed_at = serializers.DateTimeField()


class ListingSerializer(serializers.Serializer):
    list = serializers.ChoiceField(choices=DoNotCallList.choices)
    area_code = serializers.CharField()
    as_of = serializers.DateField(allow_null=True, help_text="The copy's date; null when no copy covers the area code")
    listed = serializers.BooleanField(help_text="Whether the list held the number")


class ListLoadSerializer(serializers.Serializer):
    list = serializers.ChoiceField(choices=DoNotCallList.choices)
    kind = serializers.ChoiceField(choices=DoNotCallLoad.Kind.choices)
    as_of = serializers.DateField()
    loaded_at = serializers.DateTimeField()
    file_name = serializers.CharField(allow_blank=True)


class DoNotCallSerializer(serializers.Serializer):
    listings = ListingSerializer(many=True, help_text="What each list says of the number now")
    loads = ListLoadSerializer(many=True, help_text="The files loaded of the lists covering the number's area code")


class CampaignRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CampaignTextSerializer(serializers.Serializer):
    campaign = CampaignRefSerializer()
    purpose = serializers.ChoiceField(choices=Campaign.Purpose.choices)
    slot = serializers.DateTimeField(help_text="When it was booked to go")
    booked_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True, help_text="When the rules were checked again to send it")
    dispatch_outcome = serializers.CharField(allow_blank=True)
    consent_basis = serializers.CharField(allow_blank=True, help_text="The lawful basis the text relied on")
    lists_checked = ListingSerializer(many=True, help_text="The Do-Not-Call lists checked at booking")
    booking_checks = serializers.DictField(child=serializers.BooleanField(), help_text="Each rule, true when passed")
    dispatch_checks = serializers.DictField(child=serializers.BooleanField(), help_text="Each rule, true when passed")
    status = serializers.ChoiceField(
        choices=Message.Status.choices,
        allow_null=True,
        help_text="The text's status; null when its booking was released",
    )
    sent_at = serializers.DateTimeField(allow_null=True)


class OptOutEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OptOutEvent.Kind.choices)
    reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ComplianceHistorySerializer(serializers.Serializer):
    contact = ComplianceContactSerializer()
    consent = CurrentConsentSerializer()
    consent_changes = ConsentChangeSerializer(many=True, help_text="Every change, oldest first")
    do_not_call = DoNotCallSerializer()
    texts = CampaignTextSerializer(many=True, help_text="Every campaign text booked for them, oldest first")
    opted_out_at = serializers.DateTimeField(allow_null=True)
    opt_out_events = OptOutEventSerializer(many=True, help_text="Every opt-out and re-subscription, oldest first")


def compliance_document(contact: Contact) -> dict[str, Any]:
    """The history as JSON-ready data: what the API answers and the page's download holds."""
    return ComplianceHistorySerializer(evidence.compliance_history(contact)).data


class ContactComplianceApi(APIView):
    @extend_schema(
        operation_id="contacts_compliance",
        responses={200: ComplianceHistorySerializer, 404: ErrorSerializer, **COMMON_ERRORS},
        description="One person's whole compliance history: consent and its changes, the Do-Not-Call lists "
        "and their copies, every campaign text with the basis it relied on, and their opt-outs.",
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(compliance_document(get_object_or_404(Contact, pk=contact_id)))
