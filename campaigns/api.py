from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.api import COMMON_ERRORS, Conflict, ErrorSerializer, paginated_response
from campaigns import services
from campaigns.models import MAX_DAILY_LIMIT, Campaign
from contacts.api import IMPORT_RESPONSES, ImportInputSerializer, PhoneNumberField, import_upload


class CampaignOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "template_a",
            "template_b",
            "daily_limit",
            "status",
            "split_percent_a",
            "include_opt_out_footer",
            "frequency_cap_days",
            "prior_contact_policy",
            "from_number",
            "starts_at",
            "winner",
            "winner_declared_at",
            "created_at",
            "updated_at",
        ]


class CampaignFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    template_a = serializers.CharField()
    template_b = serializers.CharField(required=False, allow_blank=True)
    daily_limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DAILY_LIMIT)
    split_percent_a = serializers.IntegerField(required=False, min_value=0, max_value=100)
    include_opt_out_footer = serializers.BooleanField(required=False)
    frequency_cap_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    prior_contact_policy = serializers.ChoiceField(required=False, choices=Campaign.PriorContactPolicy.choices)
    from_number = PhoneNumberField(required=False, allow_blank=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)


class CampaignUpdateSerializer(CampaignFieldsSerializer):
    status = serializers.ChoiceField(required=False, choices=Campaign.Status.choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)


class CampaignListApi(APIView):
    @extend_schema(
        operation_id="campaigns_list",
        responses={200: CampaignOutputSerializer(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=Campaign.objects.all(),
            serializer_class=CampaignOutputSerializer,
        )

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignFieldsSerializer,
        responses={201: CampaignOutputSerializer, 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = CampaignFieldsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.create_campaign(**serializer.validated_data, created_by=request.user)
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


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
        responses={
            200: CampaignOutputSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
            **COMMON_ERRORS,
        },
    )
    def patch(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        serializer = CampaignUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            campaign = services.update_campaign(campaign=campaign, **serializer.validated_data)
        except services.CampaignTransitionError as error:
            raise Conflict(str(error), code="invalid_transition") from error
        return Response(CampaignOutputSerializer(campaign).data)

    @extend_schema(
        operation_id="campaigns_destroy",
        responses={204: None, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def delete(self, request: Request, campaign_id: int) -> Response:
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
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
            raise Conflict(f"The campaign is {campaign.status}: it takes no new contacts.", code="campaign_closed")
        return import_upload(request, campaign=campaign)
