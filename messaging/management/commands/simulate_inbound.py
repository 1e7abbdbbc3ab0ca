"""Post a signed inbound-text webhook to a running system, the way OpenPhone would.

For trying replies and STOP locally (``make run`` in one shell, this in another) and for checking
a deployment's webhook URL and keys. It signs with the keys this process is configured with, so
the server must share them.
"""

import datetime as dt
import json
import os

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.phones import normalize_phone
from messaging import webhook_payloads


class Command(BaseCommand):
    help = "Post a signed inbound text (as OpenPhone's webhook would) to a running system: try replies and STOP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="Who the text is from, in any US spelling")
        parser.add_argument("text", help='What they wrote, e.g. "Yes, how much?" or STOP')
        parser.add_argument(
            "--format",
            choices=webhook_payloads.SYSTEMS,
            default=webhook_payloads.CURRENT,
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
        _, key = webhook_payloads.signing_key(format)
        if not key:
            setting = webhook_payloads.KEY_SETTINGS[format]
            raise CommandError(f"{setting} is not set: the server would refuse an unsigned webhook.")
        now = dt.datetime.now(dt.UTC)
        payload = webhook_payloads.message_event(
            "message.received",
            system=format,
            sender=sender,
            recipient=settings.OPENPHONE_FROM_NUMBER,
            text=text,
            at=now,
        )
        raw = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            **webhook_payloads.signed_headers(raw, system=format, key=key, at=now),
        }
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
