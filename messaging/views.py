"""The OpenPhone webhook endpoint: a plain Django view, so the raw body reaches the signature check
untouched and nothing (authentication, parsers, CSRF) runs before it."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from attackacrack.api import error_body
from messaging import webhooks

logger = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("openphone-signature", "webhook-id", "webhook-timestamp", "webhook-signature")


def _error(status: int, msg: str, type_: str) -> JsonResponse:
    return JsonResponse(error_body(msg=msg, type=type_), status=status)


@csrf_exempt
@require_POST
def openphone_webhook(request: HttpRequest) -> JsonResponse:
    limit = settings.OPENPHONE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, f"The body is over {limit} bytes.", "too_large")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, f"The body is over {limit} bytes.", "too_large")
    headers = {name: request.headers[name] for name in SIGNATURE_HEADERS if name in request.headers}
    try:
        event, created = webhooks.record(headers=headers, body=body)
    except webhooks.InvalidSignature as error:
        return _error(401, str(error), "invalid_signature")
    except webhooks.BadPayload as error:
        return _error(400, str(error), "parse_error")
    except DatabaseError:
        # Not stored: a 5xx makes OpenPhone deliver it again later.
        logger.exception("Webhook could not be stored")
        return _error(503, "The event could not be stored; deliver it again.", "unavailable")
    return JsonResponse({"received": True, "event_id": event.event_id, "duplicate": not created})
