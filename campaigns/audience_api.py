"""The campaign audience API: its members (listed, added, a flagged one approved, a failed one
retried) and the text each member reads (the preview). The campaign itself is ``campaigns.api``."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer, page_of, paginated_response, validate_query
from campaigns import audience, costs, forecast, foresight, writing
from campaigns.api import ACTION_ERRORS
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, Variant
from contacts.api import ContactOutputSerializer
from contacts.models import Contact
from contacts.not_texted import Reason


class PreviewQuerySerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(required=False, min_value=1)


class TextPreviewSerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=Variant.choices)
    text = serializers.CharField()
    encoding = serializers.CharField(source="cost.encoding")
    characters = serializers.IntegerField(source="cost.characters")
    segments = serializers.IntegerField(source="cost.segments")


class SegmentCountSerializer(serializers.Serializer):
    segments = serializers.IntegerField(help_text="Segments a text")
    members = serializers.IntegerField(help_text="Members whose text is that long")


class TextCostSerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=Variant.choices)
    members = serializers.IntegerField(help_text="Members still to get this text")
    segments = serializers.IntegerField(help_text="Their texts' segments, each written with their own values")
    dollars = serializers.DecimalField(max_digits=14, decimal_places=2)
    by_segments = serializers.SerializerMethodField()
    estimated = serializers.BooleanField(help_text="Part of it counted from a sample of a large audience")

    @extend_schema_field(SegmentCountSerializer(many=True))
    def get_by_segments(self, cost) -> list[dict]:
        return [{"segments": segments, "members": members} for segments, members in cost.by_segments.items()]


class CostFlagSerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=Variant.choices)
    cause = serializers.CharField(
        help_text="template (a character with no plain equivalent), a token (name, city …: members' values "
        "outside GSM-7) or length (values long enough for another segment)"
    )
    members = serializers.IntegerField()
    segments = serializers.IntegerField(help_text="Segments a text of theirs (the most common count)")
    instead = serializers.IntegerField(help_text="Without the cause")
    extra_segments = serializers.IntegerField(source="extra")
    extra_dollars = serializers.DecimalField(source="dollars", max_digits=14, decimal_places=2)
    estimated = serializers.BooleanField()
    message = serializers.CharField(help_text="What the campaign page says")


class CampaignCostSerializer(serializers.Serializer):
    members = serializers.IntegerField()
    segments = serializers.IntegerField()
    dollars = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="At SMS_COST_PER_SEGMENT a segment")
    estimated = serializers.BooleanField(
        help_text="Counted in part from a sample, or counting members the rules judge only when their turn comes"
    )
    texts = TextCostSerializer(many=True)
    flags = CostFlagSerializer(many=True, help_text="What makes some texts cost more, with what it costs")


class CampaignPreviewSerializer(serializers.Serializer):
    contact = ContactOutputSerializer()
    sample = serializers.BooleanField(help_text="True when no contact was given and the audience is empty")
    variants = TextPreviewSerializer(many=True)
    cost = CampaignCostSerializer(
        allow_null=True,
        help_text="What the texts still to go will cost, each member's written with their own values; "
        "null once the campaign is closed",
    )


class CampaignPreviewApi(APIView):
    @extend_schema(
        operation_id="campaigns_preview",
        parameters=[PreviewQuerySerializer],
        responses={200: CampaignPreviewSerializer, 404: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
        description="Each variant's text for a contact (default: the audience's first), with its SMS cost; and "
        "what the campaign's texts still to go will cost, with what makes some cost more.",
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        query = validate_query(PreviewQuerySerializer, request)
        if "contact_id" in query:
            reader = writing.Reader.of(get_object_or_404(Contact, pk=query["contact_id"]))
        else:
            reader = writing.preview_reader(campaign)
        previews = writing.text_previews(campaign=campaign, reader=reader)
        cost = None
        if not campaign.is_closed:
            calendar = BusinessCalendar.from_settings()
            cost = costs.cost_to_come(campaign, foresight.foreseen_now(campaign, now=timezone.now(), calendar=calendar))
        return Response(
            CampaignPreviewSerializer(
                {"contact": reader.contact, "sample": reader.is_sample, "variants": previews, "cost": cost}
            ).data
        )


class MemberPageSerializer(serializers.ListSerializer):
    """A page of members, with when each waiting one is expected to be texted, worked out once for the page."""

    def to_representation(self, data) -> list:
        members = list(data)
        if members:
            expected = forecast.expected_moments(
                members[0].campaign, members, now=timezone.now(), calendar=BusinessCalendar.from_settings()
            )
            for member in members:
                member.queued_for = expected.get(member.pk)
        return super().to_representation(members)


class MemberOutputSerializer(serializers.ModelSerializer):
    contact = ContactOutputSerializer()
    reason = serializers.ChoiceField(
        source="not_texted.because",
        choices=Reason.choices,
        read_only=True,
        allow_null=True,
        help_text="Why the campaign does not text this member now (kept out, flagged, passed over), or null",
    )
    reason_detail = serializers.CharField(
        source="not_texted.detail",
        read_only=True,
        allow_null=True,
        help_text="The reason's detail: which list, which campaign, the provider's words",
    )
    queued_for = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a waiting member is expected to be texted (the opening of that business day), "
        "sharing the number's daily limit with the other campaigns on it; null when not waiting",
    )

    class Meta:
        model = CampaignContact
        list_serializer_class = MemberPageSerializer
        fields = [
            "id",
            "contact",
            "variant",
            "status",
            "reason",
            "reason_detail",
            "ineligible_reason",
            "queued_for",
            "not_before",
            "review_approved",
            "retry_requested_at",
            "added_via",
            "added_at",
        ]


class MemberQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=CampaignContact.Status.choices)
    reason = serializers.ChoiceField(required=False, choices=Reason.choices)


class AudienceFilterSerializer(serializers.Serializer):
    city = serializers.CharField(required=False, max_length=100)
    zip_code = serializers.CharField(required=False, max_length=10)
    state = serializers.CharField(required=False, max_length=2)
    source = serializers.CharField(required=False, max_length=50)
    import_id = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Give at least one of city, zip_code, state, source, import_id.")
        return attrs


class AddMembersInputSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=10000)
    filter = AudienceFilterSerializer(required=False)

    def validate(self, attrs: dict) -> dict:
        if ("contact_ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("Give either contact_ids or filter.")
        return attrs


class AddMembersOutputSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Contacts new to the audience")
    audience = serializers.IntegerField(help_text="Audience size after adding")


class CampaignMembersApi(APIView):
    @extend_schema(
        operation_id="campaigns_members_list",
        parameters=[MemberQuerySerializer],
        responses={200: page_of(MemberOutputSerializer), 404: ErrorSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        query = validate_query(MemberQuerySerializer, request)
        members = campaign.memberships.select_related("contact")
        if query.get("status"):
            members = members.filter(status=query["status"])
        if query.get("reason"):
            members = members.filter(held_because=query["reason"])
        return paginated_response(
            request=request, view=self, queryset=members, serializer_class=MemberOutputSerializer, ids_first=True
        )

    @extend_schema(
        operation_id="campaigns_members_add",
        request=AddMembersInputSerializer,
        responses={200: AddMembersOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        serializer = AddMembersInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "contact_ids" in serializer.validated_data:
            added = audience.add_contacts_by_id(campaign=campaign, contact_ids=serializer.validated_data["contact_ids"])
        else:
            added = audience.add_contacts_by_filter(campaign=campaign, filters=serializer.validated_data["filter"])
        return Response({"added": added, "audience": campaign.memberships.count()})


class MemberApproveApi(APIView):
    @extend_schema(
        operation_id="campaigns_members_approve",
        request=None,
        responses={200: MemberOutputSerializer, **ACTION_ERRORS},
        description="Allow the campaign text to a member flagged because they had texted us before.",
    )
    def post(self, request: Request, campaign_id: int, member_id: int) -> Response:
        member = get_object_or_404(CampaignContact, pk=member_id, campaign_id=campaign_id)
        member = audience.approve_flagged_member(member=member)
        return Response(MemberOutputSerializer(member).data)


class MemberRetryApi(APIView):
    @extend_schema(
        operation_id="campaigns_members_retry",
        request=None,
        responses={200: MemberOutputSerializer, **ACTION_ERRORS},
        description=(
            "Try a member's failed text again: the campaign's next run books them through every rule. "
            "The failed send stays on record and counts against the day it was tried."
        ),
    )
    def post(self, request: Request, campaign_id: int, member_id: int) -> Response:
        member = get_object_or_404(CampaignContact, pk=member_id, campaign_id=campaign_id)
        member = audience.retry_failed_member(member=member)
        return Response(MemberOutputSerializer(member).data)
