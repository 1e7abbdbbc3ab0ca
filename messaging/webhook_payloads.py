"""OpenPhone's webhook bodies and signatures, as each of its two systems sends them.

The one place these shapes are written, for `manage.py simulate_inbound`, the console backend's
delivery reports, the drills and the suite. They follow tests/openphone/openphone-api.md, and the
suite checks them against its examples (tests/messaging/test_webhook_payloads.py): the legacy
system puts the message, with ``from``/``to``, in ``data.object`` and signs with
``openphone-signature``; the current one (API version 2026-03-30) puts it in ``data.resource``
without parties, the parties in ``data.context``, and signs as Standard Webhooks.
"""

import base64
import datetime as dt
import hashlib
import hmac
import uuid

from django.conf import settings
from standardwebhooks import Webhook

from messaging.backends.openphone import format_time

LEGACY = "legacy"
CURRENT = "current"
SYSTEMS = (CURRENT, LEGACY)


def message_event(
    event_type: str,
    *,
    system: str,
    sender: str,
    recipient: str,
    text: str,
    at: dt.datetime,
    direction: str = "incoming",
    status: str = "received",
    message_id: str | None = None,
    event_id: str | None = None,
    **resource: object,
) -> dict:
    """A ``message.*`` event (received, delivered, failed) of either system; ``resource`` adds
    fields to the message (an ``errorCode`` on ``message.failed``)."""
    created_at = format_time(at)
    event = {"id": event_id or f"EV{uuid.uuid4().hex}", "createdAt": created_at, "type": event_type}
    message = {
        "id": message_id or f"AC{uuid.uuid4().hex}",
        "createdAt": created_at,
        "direction": direction,
        "text": text,
        "media": [],
        "status": status,
    }
    if system == LEGACY:
        message |= {
            "object": "message",
            "conversationId": "CNsimulated",
            "from": sender,
            "to": [recipient],
            "phoneNumberId": "PNsimulated",
            "userId": "USsimulated",
        }
        return {**event, "object": "event", "apiVersion": "v4", "data": {"object": message | resource}}
    return {
        **event,
        "apiVersion": "2026-03-30",
        "data": {
            "resource": message | resource,
            "context": {
                "orgId": "ORsimulated",
                "phoneNumberId": "PNsimulated",
                "conversationId": "CNsimulated",
                "userId": "USsimulated",
                "contacts": {"ids": [], "lookupStatus": "none"},
                "senderIdentifier": sender,
                "recipientIdentifiers": [recipient],
            },
            "links": {"quo": "https://my.quo.com/inbox/PNsimulated/c/CNsimulated"},
        },
    }


KEY_SETTINGS = {CURRENT: "OPENPHONE_WEBHOOK_SECRET", LEGACY: "OPENPHONE_WEBHOOK_SIGNING_KEY"}


def signing_key(system: str | None = None) -> tuple[str, str]:
    """(system, key): the first key this process holds for ``system``, or for either (the current
    system's first); the key is "" when none is configured."""
    for each in (system,) if system else SYSTEMS:
        key = next((key.strip() for key in getattr(settings, KEY_SETTINGS[each]).split(",") if key.strip()), "")
        if key:
            return each, key
    return system or CURRENT, ""


def legacy_signature(raw: bytes, *, key: str, at: dt.datetime) -> str:
    """One ``hmac;1;<ms>;<base64>`` entry: HMAC-SHA256 of ``<ms>.<body>`` with the base64-decoded key."""
    timestamp = str(int(at.timestamp() * 1000))
    digest = hmac.new(base64.b64decode(key), timestamp.encode() + b"." + raw, hashlib.sha256).digest()
    return f"hmac;1;{timestamp};{base64.b64encode(digest).decode()}"


def signed_headers(raw: bytes, *, system: str, key: str, at: dt.datetime, webhook_id: str | None = None) -> dict:
    """The headers OpenPhone sends with ``raw``: ``openphone-signature`` (legacy, ``key`` base64) or
    Standard Webhooks' three (current, ``key`` a ``whsec_`` secret; signed by the reference library)."""
    if system == LEGACY:
        return {"openphone-signature": legacy_signature(raw, key=key, at=at)}
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at.astimezone(dt.UTC)  # the library reads the moment's wall clock as UTC
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(key).sign(webhook_id, at, raw.decode("utf-8", "surrogatepass")),
    }


def as_wsgi(headers: dict[str, str]) -> dict[str, str]:
    """The same headers as Django's test client takes them (``HTTP_WEBHOOK_ID=...``)."""
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
