from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.api import COMMON_ERRORS, ErrorSerializer, paginated_response, validate_query
from messaging.models import Message
from messaging.selectors import message_list


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
        ]


class MessageQuerySerializer(serializers.Serializer):
    contact = serializers.IntegerField(required=False, min_value=1)


class MessageListApi(APIView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[OpenApiParameter("contact", int, description="Only this contact's messages")],
        responses={200: MessageOutputSerializer(many=True), 422: ErrorSerializer, **COMMON_ERRORS},
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
