from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from attackacrack.web.api import (
    COMMON_ERRORS,
    ErrorSerializer,
    page_of,
    paginated_response,
    validate_query,
)
from contacts.models import Contact
from messaging import services
from messaging.limits import MAX_TEXT_LENGTH
from messaging.models import Message
from messaging.selectors import (
    BadCursor,
    conversation_cursor,
    conversation_page,
    message_list,
    parse_conversation_cursor,
)


class MessageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "contact",
            "direction",
            "kind",
            "body",
            "from_number",
            "to_number",
            "status",
            "status_changed_at",
            "external_id",
            "error",
            "campaign_send",
            "in_reply_to_send",
            "created_at",
            "sent_at",
            "read_at",
            "attempts",
        ]


class ReplacementSerializer(serializers.Serializer):
    character = serializers.CharField(help_text="The character as it was typed")
    replaced_by = serializers.CharField(help_text='Its plain equivalent; "" when it was removed (an invisible one)')
    kind = serializers.CharField(help_text="What it was: curly apostrophe, long dash, non-breaking space …")
    count = serializers.IntegerField(help_text="How many times it was replaced")


class MadePlainSerializer(serializers.Serializer):
    replacements = ReplacementSerializer(many=True)
    segments_before = serializers.IntegerField(help_text="The text's segments as it was sent to us")
    segments_after = serializers.IntegerField(help_text="And as it goes")
    message = serializers.CharField(help_text="What the pages say of it")


class SentTextSerializer(MessageOutputSerializer):
    """A staff text just written, with what was made plain in it."""

    normalised = serializers.SerializerMethodField(
        help_text="Curly quotes, long dashes, the ellipsis, unusual spaces replaced by their GSM-7 equivalents "
        "(a staff text is billed like any other); null when nothing was replaced"
    )

    class Meta(MessageOutputSerializer.Meta):
        fields = [*MessageOutputSerializer.Meta.fields, "normalised"]

    @extend_schema_field(MadePlainSerializer(allow_null=True))
    def get_normalised(self, message: Message) -> dict | None:
        made_plain = message.made_plain
        return MadePlainSerializer(made_plain).data if made_plain is not None and made_plain.changed else None


class MessageQuerySerializer(serializers.Serializer):
    contact = serializers.IntegerField(required=False, min_value=1)


class MessageListApi(APIView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[OpenApiParameter("contact", int, description="Only this contact's messages")],
        responses={200: page_of(MessageOutputSerializer), 422: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        filters = validate_query(MessageQuerySerializer, request)
        return paginated_response(
            request=request,
            view=self,
            queryset=message_list(contact_id=filters.get("contact")),
            serializer_class=MessageOutputSerializer,
        )


class MessageDetailApi(APIView):
    @extend_schema(
        operation_id="messages_retrieve",
        responses={200: MessageOutputSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, message_id: int) -> Response:
        return Response(MessageOutputSerializer(get_object_or_404(Message, pk=message_id)).data)


class ConversationOutputSerializer(serializers.Serializer):
    """One ``ConversationRow``: a contact, its latest text, whether it has unread texts."""

    id = serializers.IntegerField(source="contact.pk")
    phone = serializers.CharField(source="contact.phone")
    name = serializers.CharField(source="contact.full_name")
    city = serializers.CharField(source="contact.city")
    opted_out = serializers.BooleanField(source="contact.is_opted_out")
    last_message_at = serializers.DateTimeField(source="latest.created_at")
    unread = serializers.BooleanField()


class ConversationQuerySerializer(serializers.Serializer):
    include_campaign_sends = serializers.BooleanField(required=False, default=False)
    before = serializers.CharField(required=False, help_text="Set by the `next` link: where the page starts.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    def validate_before(self, value: str) -> tuple:
        try:
            return parse_conversation_cursor(value)
        except BadCursor as error:
            raise serializers.ValidationError(str(error)) from error


class ConversationListApi(APIView):
    @extend_schema(
        operation_id="conversations_list",
        parameters=[ConversationQuerySerializer],
        responses={200: page_of(ConversationOutputSerializer), 422: ErrorSerializer, **COMMON_ERRORS},
        description="Contacts by their latest text, newest first; each contact once, across pages.",
    )
    def get(self, request: Request) -> Response:
        query = validate_query(ConversationQuerySerializer, request)
        rows = conversation_page(
            before=query.get("before"),
            include_campaign_sends=query["include_campaign_sends"],
            limit=query["page_size"],
        )
        next_page = None
        if len(rows) == query["page_size"]:
            cursor = conversation_cursor(rows[-1].latest)
            next_page = replace_query_param(request.build_absolute_uri(), "before", cursor)
        return Response(
            {"next": next_page, "previous": None, "results": ConversationOutputSerializer(rows, many=True).data}
        )


class SendTextInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_TEXT_LENGTH)


class ContactMessagesApi(APIView):
    @extend_schema(
        operation_id="contacts_messages_list",
        responses={200: page_of(MessageOutputSerializer), 404: ErrorSerializer, **COMMON_ERRORS},
        description="The contact's conversation, newest first. Reading it marks their texts read.",
    )
    def get(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        services.mark_read(contact=contact)
        return paginated_response(
            request=request,
            view=self,
            queryset=message_list(contact_id=contact.pk),
            serializer_class=MessageOutputSerializer,
        )

    @extend_schema(
        operation_id="contacts_messages_send",
        request=SendTextInputSerializer,
        responses={
            202: SentTextSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
            **COMMON_ERRORS,
        },
        description="Send a one-to-one text (not a campaign send; not counted against the daily limit).",
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = get_object_or_404(Contact, pk=contact_id)
        serializer = SendTextInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.send_staff_text(
            contact=contact, body=serializer.validated_data["body"], sent_by=request.user
        )
        return Response(SentTextSerializer(message).data, status=status.HTTP_202_ACCEPTED)
