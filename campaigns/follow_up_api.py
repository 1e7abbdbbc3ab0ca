"""The API of follow-ups: a campaign's follow-up step (`services.set_follow_up`), and the days staff
choose to text someone again (`campaigns.text_again`): choosing one for a contact, listing them,
taking one back."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer, page_of, paginated_response, validate_query
from campaigns import services, text_again
from campaigns.api import ACTION_ERRORS, CampaignOutputSerializer
from campaigns.calendar import business_today
from campaigns.errors import TextAgainRefused
from campaigns.models import MAX_FOLLOW_UP_DAYS, Campaign, CampaignContact
from contacts.models import Contact
from contacts.not_texted import Reason
from messaging.models import Message


class CampaignFollowUpApi(APIView):
    class FollowUpStepInputSerializer(serializers.Serializer):
        template_a = serializers.CharField(help_text="The follow-up's text (tokens as in a campaign's)")
        template_b = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="A second text for its own A/B test"
        )
        split_percent_a = serializers.IntegerField(required=False, default=50, min_value=0, max_value=100)
        after_days = serializers.IntegerField(
            allow_null=True,
            min_value=1,
            max_value=MAX_FOLLOW_UP_DAYS,
            help_text="Business days after the first text; null: only those staff choose to text again",
        )

    @extend_schema(
        operation_id="campaigns_follow_up_set",
        request=FollowUpStepInputSerializer,
        responses={200: CampaignOutputSerializer, **ACTION_ERRORS},
        description="Give the campaign its one follow-up step, or change it; answers the follow-up, a campaign "
        "of its own (its results at /api/campaigns/{its id}/results).",
    )
    def put(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        serializer = self.FollowUpStepInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        follow_up = services.set_follow_up(campaign=campaign, **serializer.validated_data)
        return Response(CampaignOutputSerializer(follow_up).data)

    @extend_schema(
        operation_id="campaigns_follow_up_remove",
        responses={204: None, 404: ErrorSerializer, 409: ErrorSerializer, **COMMON_ERRORS},
        description="Only a follow-up that never booked a text; one that did is cancelled instead.",
    )
    def delete(self, request: Request, campaign_id: int) -> Response:
        services.remove_follow_up(campaign=get_object_or_404(Campaign, pk=campaign_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class FollowUpOutputSerializer(serializers.ModelSerializer):
    """A day staff chose to text someone again: its member of the campaign's follow-up step."""

    on = serializers.DateField(source="text_again_on")
    campaign_id = serializers.IntegerField(source="campaign.follow_up_of_id", help_text="The campaign they answered")
    follow_up_id = serializers.IntegerField(source="campaign_id", help_text="Its follow-up step, which texts them")
    reply = ReplySerializer(source="text_again_reply", allow_null=True, help_text="Their words it answers")
    chosen_by = serializers.CharField(source="text_again_by.username", allow_null=True, default=None)
    held_because = serializers.ChoiceField(choices=Reason.choices, allow_blank=True)
    detail = serializers.CharField(source="ineligible_reason")

    class Meta:
        model = CampaignContact
        fields = ["id", "contact_id", "on", "campaign_id", "follow_up_id", "status", "not_before", "held_because",
                  "detail", "reply", "chosen_by"]  # fmt: skip


class ContactFollowUpsApi(APIView):
    class TextAgainInputSerializer(serializers.Serializer):
        on = serializers.DateField(help_text="The day to text them again (business time)")
        reply = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="The id of their reply this answers; by default their latest reply to a campaign text",
        )

    @extend_schema(
        operation_id="contacts_follow_ups_create",
        request=TextAgainInputSerializer,
        responses={201: FollowUpOutputSerializer, **ACTION_ERRORS},
        description="Text the contact again on a day: they join the follow-up step of the campaign whose text "
        "they answered, passed over until then, and go through every rule; an opt-out, or anything they write "
        "after this, stops it. 409 no_follow_up_step when that campaign has none.",
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        serializer = self.TextAgainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "reply" in serializer.validated_data:
            reply = Message.objects.filter(
                pk=serializer.validated_data["reply"], contact=contact, direction=Message.Direction.INBOUND
            ).first()
            if reply is None:
                raise TextAgainRefused("The contact wrote no text with that id.", field="reply")
        else:
            reply = text_again.latest_answer(contact.pk)
            if reply is None:
                raise TextAgainRefused("The contact has answered no campaign text.", field="reply")
        member = text_again.text_again(reply=reply, on=serializer.validated_data["on"], user=request.user)
        return Response(FollowUpOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class FollowUpListApi(APIView):
    class FollowUpQuerySerializer(serializers.Serializer):
        due = serializers.ChoiceField(
            choices=text_again.DUE,
            required=False,
            default="all",
            help_text="today, overdue or upcoming: still planned; all: every day chosen, whatever became of it",
        )

    @extend_schema(
        operation_id="follow_ups_list",
        parameters=[FollowUpQuerySerializer],
        responses={200: page_of(FollowUpOutputSerializer), 422: ErrorSerializer, **COMMON_ERRORS},
        description="The days staff chose to text someone again, newest member first.",
    )
    def get(self, request: Request) -> Response:
        query = validate_query(self.FollowUpQuerySerializer, request)
        today = business_today()
        return paginated_response(
            request=request,
            view=self,
            queryset=text_again.due_follow_ups(today=today, due=query["due"]),
            serializer_class=FollowUpOutputSerializer,
        )


class FollowUpCancelApi(APIView):
    @extend_schema(
        operation_id="follow_ups_cancel",
        request=None,
        responses={200: FollowUpOutputSerializer, **ACTION_ERRORS},
        description="Take back a day chosen to text someone again (a text booked for it is cancelled).",
    )
    def post(self, request: Request, member_id: int) -> Response:
        member = get_object_or_404(CampaignContact, pk=member_id, text_again_on__isnull=False)
        return Response(FollowUpOutputSerializer(text_again.cancel_text_again(member=member, user=request.user)).data)
