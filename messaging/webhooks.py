"""OpenPhone webhooks: verify, store raw, acknowledge, then process in a worker.

OpenPhone signs the raw body, so the signature is checked on the bytes exactly as received,
before anything is parsed. Both schemes it has used are accepted (../shared/spec/openphone-api.md):
the legacy ``openphone-signature: hmac;1;<ms>;<base64>`` over ``<ms>.<body>`` with the
base64-decoded signing key, and Standard Webhooks (``webhook-id``/``-timestamp``/``-signature``)
over ``<id>.<seconds>.<body>`` with the ``whsec_`` secret. Several keys may be configured
(comma-separated) so a key can be rotated without dropping events.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.models import CampaignSend
from contacts.models import Contact
from contacts.phones import normalize_phone
from messaging import services
from messaging.models import Message, WebhookEvent

logger = logging.getLogger(__name__)

REPLY_ATTRIBUTION_WINDOW = dt.timedelta(hours=72)


class InvalidSignature(Exception):
    """Missing, wrong or stale signature: the request is not from OpenPhone."""


class BadPayload(Exception):
    """Signed, but not a JSON event we can store (malformed JSON, no id or type)."""


def _keys(setting: str, *, prefix: str = "") -> list[bytes]:
    keys = []
    for value in setting.split(","):
        value = value.strip().removeprefix(prefix)
        if value:
            try:
                keys.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                logger.error("A configured webhook key is not valid base64 and is ignored")
    return keys


def _check_fresh(timestamp: float, now: dt.datetime) -> None:
    if abs(now.timestamp() - timestamp) > settings.OPENPHONE_WEBHOOK_TOLERANCE_SECONDS:
        raise InvalidSignature("Stale signature timestamp")


def _signature(key: bytes, signed: bytes) -> str:
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify_signature(headers: dict[str, str], body: bytes, *, now: dt.datetime | None = None) -> str:
    """The scheme the request was signed with, or InvalidSignature."""
    now = now or timezone.now()
    legacy = headers.get("openphone-signature")
    if legacy:
        parts = legacy.split(";")
        if len(parts) != 4 or parts[0] != "hmac" or not parts[2].isdigit():
            raise InvalidSignature("Malformed openphone-signature header")
        timestamp, given = parts[2], parts[3]
        _check_fresh(int(timestamp) / 1000, now)
        signed = timestamp.encode() + b"." + body
        if any(
            hmac.compare_digest(_signature(key, signed), given) for key in _keys(settings.OPENPHONE_WEBHOOK_SIGNING_KEY)
        ):
            return WebhookEvent.SignatureScheme.LEGACY
        raise InvalidSignature("Signature does not match")
    webhook_id, timestamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    given_list = headers.get("webhook-signature")
    if webhook_id and timestamp and given_list:
        if not timestamp.isdigit():
            raise InvalidSignature("Malformed webhook-timestamp header")
        _check_fresh(int(timestamp), now)
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        given = [entry.split(",", 1)[1] for entry in given_list.split() if entry.startswith("v1,")]
        for key in _keys(settings.OPENPHONE_WEBHOOK_SECRET, prefix="whsec_"):
            expected = _signature(key, signed)
            if any(hmac.compare_digest(expected, signature) for signature in given):
                return WebhookEvent.SignatureScheme.STANDARD
        raise InvalidSignature("Signature does not match")
    raise InvalidSignature("No signature")


def record(*, headers: dict[str, str], body: bytes) -> tuple[WebhookEvent, bool]:
    """Verify and store one delivery (idempotent by event id); processing is queued on commit."""
    scheme = verify_signature(headers, body)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadPayload(f"The body is not valid JSON: {error}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise BadPayload("The event has no type.")
    event_id = payload.get("id") or headers.get("webhook-id")
    if not isinstance(event_id, str) or not event_id:
        raise BadPayload("The event has no id.")
    from messaging import tasks

    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            event_id=event_id[:64],
            defaults={
                "event_type": payload["type"][:64],
                "signature_scheme": scheme,
                "body": body.decode("utf-8"),
                "payload": payload,
            },
        )
        if created:
            transaction.on_commit(lambda: tasks.process_webhook_event.delay(event.pk))
    return event, created


# --- Processing -----------------------------------------------------------------------------


class NotYetKnown(Exception):
    """A delivery report for a text whose provider id is not stored yet: retried later."""


def process_event(event_pk: int) -> None:
    """Apply one stored event, once. A failure is kept on the event and raised for a retry."""
    failure = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.processed_at is not None:
            return
        event.attempts += 1
        try:
            with transaction.atomic():
                _handle(event.event_type, event.payload)
        except Exception as error:
            failure = error
            event.error = f"{type(error).__name__}: {error}"[:2000]
            event.save(update_fields=["attempts", "error"])
        else:
            event.processed_at = timezone.now()
            event.error = ""
            event.save(update_fields=["attempts", "error", "processed_at"])
    if failure is not None:
        raise failure


def _message_object(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data") or {}
    found = data.get("object") or data.get("resource") or {}
    if not isinstance(found, dict):
        raise ValueError("The event's data holds no message object")
    return found


def _handle(event_type: str, payload: dict[str, Any]) -> None:
    if event_type == "message.received":
        _message_received(_message_object(payload))
    elif event_type == "message.delivered":
        _message_delivered(_message_object(payload))
    # Calls, contacts and types OpenPhone adds later are stored and shown, nothing more.


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _message_received(obj: dict[str, Any]) -> None:
    external_id = obj.get("id")
    if not external_id:
        raise ValueError("message.received without a message id")
    if Message.objects.filter(external_id=external_id).exists():
        return  # the same message delivered again
    phone = normalize_phone(_first(obj.get("from")))
    if phone is None:
        raise ValueError(f"Cannot read the sender's number {obj.get('from')!r}")
    to_number = normalize_phone(_first(obj.get("to"))) or settings.OPENPHONE_FROM_NUMBER
    received_at = parse_datetime(str(obj.get("createdAt") or "")) or timezone.now()
    contact, _ = Contact.objects.get_or_create(phone=phone, defaults={"source": "inbound text"})
    replied_to = (
        CampaignSend.objects.filter(
            contact=contact,
            status=CampaignSend.Status.SENT,
            sent_at__gte=received_at - REPLY_ATTRIBUTION_WINDOW,
            sent_at__lte=received_at,
        )
        .order_by("-sent_at")
        .first()
    )
    message = Message.objects.create(
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.REPLY,
        body=str(obj.get("body") if obj.get("body") is not None else obj.get("text") or ""),
        from_number=phone,
        to_number=to_number,
        contact=contact,
        status=Message.Status.RECEIVED,
        status_changed_at=received_at,
        created_at=received_at,
        external_id=external_id,
        in_reply_to_send=replied_to,
    )
    services.handle_keywords(message)


def _message_delivered(obj: dict[str, Any]) -> None:
    external_id = obj.get("id")
    if not external_id:
        raise ValueError("message.delivered without a message id")
    message = Message.objects.filter(external_id=external_id, direction=Message.Direction.OUTBOUND).first()
    if message is None:
        # The report can overtake our own record of the send: try again shortly.
        raise NotYetKnown(f"No outgoing message has id {external_id} yet")
    if message.status != Message.Status.DELIVERED:
        now = timezone.now()
        message.status = Message.Status.DELIVERED
        message.status_changed_at = now
        message.save(update_fields=["status", "status_changed_at"])
        if message.campaign_send_id:
            CampaignSend.objects.filter(pk=message.campaign_send_id, delivered_at__isnull=True).update(
                delivered_at=now, updated_at=now
            )
