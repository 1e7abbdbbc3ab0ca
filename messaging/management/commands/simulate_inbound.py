"""Post a signed inbound-text webhook to a running system, the way OpenPhone would.

For trying replies and STOP locally (``make run`` in one shell, this in another) and for checking
a deployment's webhook URL and keys. It signs with the keys this process is configured with, so
the server must share them.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from standardwebhooks import Webhook

from contacts.phones import normalize_phone


def current_payload(*, sender: str, recipient: str, text: str, now: dt.datetime) -> dict:
    """A ``message.received`` event of OpenPhone's current webhooks: the parties are in data.context."""
    at = now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": f"EV{uuid.uuid4().hex}",
        "apiVersion": "2026-03-30",
        "createdAt": at,
        "type": "message.received",
        "data": {
            "resource": {
                "id": f"AC{uuid.uuid4().hex}",
                "direction": "incoming",
                "text": text,
                "media": [],
                "status": "received",
                "createdAt": at,
            },
            "context": {
                "phoneNumberId": "PNsimulated",
                "conversationId": "CNsimulated",
                "contacts": {"ids": [], "lookupStatus": "none"},
                "senderIdentifier": sender,
                "recipientIdentifiers": [recipient],
            },
            "links": {},
        },
    }


def legacy_payload(*, sender: str, recipient: str, text: str, now: dt.datetime) -> dict:
    """The same text as a legacy webhook: the message, with ``from``/``to``, in data.object."""
    at = now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": f"EV{uuid.uuid4().hex}",
        "object": "event",
        "apiVersion": "v4",
        "createdAt": at,
        "type": "message.received",
        "data": {
            "object": {
                "id": f"AC{uuid.uuid4().hex}",
                "object": "message",
                "conversationId": "CNsimulated",
                "createdAt": at,
                "direction": "incoming",
                "from": sender,
                "to": [recipient],
                "text": text,
                "media": [],
                "status": "received",
                "phoneNumberId": "PNsimulated",
            }
        },
    }


def _first_key(setting: str) -> str:
    return next((key.strip() for key in setting.split(",") if key.strip()), "")


def signed_headers(raw: bytes, *, scheme: str, now: dt.datetime) -> dict[str, str]:
    if scheme == "current":
        secret = _first_key(settings.OPENPHONE_WEBHOOK_SECRET)
        if not secret:
            raise CommandError("OPENPHONE_WEBHOOK_SECRET is not set: the server would refuse an unsigned webhook.")
        webhook_id = f"msg_{uuid.uuid4().hex}"
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, now, raw.decode()),
        }
    key = _first_key(settings.OPENPHONE_WEBHOOK_SIGNING_KEY)
    if not key:
        raise CommandError("OPENPHONE_WEBHOOK_SIGNING_KEY is not set: the server would refuse an unsigned webhook.")
    timestamp = str(int(now.timestamp() * 1000))
    digest = hmac.new(base64.b64decode(key), timestamp.encode() + b"." + raw, hashlib.sha256).digest()
    return {"openphone-signature": f"hmac;1;{timestamp};{base64.b64encode(digest).decode()}"}


class Command(BaseCommand):
    help = "Post a signed inbound text (as OpenPhone's webhook would) to a running system: try replies and STOP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="Who the text is from, in any US spelling")
        parser.add_argument("text", help='What they wrote, e.g. "Yes, how much?" or STOP')
        parser.add_argument(
            "--format",
            choices=["current", "legacy"],
            default="current",
            help="current: Standard Webhooks, parties in data.context (default); legacy: openphone-signature",
        )
        parser.add_argument(
            "--url",
            default=f"http://127.0.0.1:{os.getenv('PORT', '8000')}/api/webhooks/openphone",
            help="The webhook endpoint (default: the local `make run`)",
        )

    def handle(self, *args, phone: str, text: str, format: str, url: str, **options) -> None:
        sender = normalize_phone(phone)
        if sender is None:
            raise CommandError(f"{phone!r} is not a valid phone number.")
        now = dt.datetime.now(dt.UTC)
        build = current_payload if format == "current" else legacy_payload
        payload = build(sender=sender, recipient=settings.OPENPHONE_FROM_NUMBER, text=text, now=now)
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **signed_headers(raw, scheme=format, now=now)}
        try:
            response = requests.post(url, data=raw, headers=headers, timeout=10)
        except requests.RequestException as error:
            raise CommandError(f"Could not reach {url}: {error}. Is the system running (make run)?") from error
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}: {response.text[:300]}")
        self.stdout.write(
            f"Delivered a {format}-format text from {sender}: {text!r} (event {payload['id']}). "
            "A worker processes it; it shows in Conversations in a few seconds."
        )
