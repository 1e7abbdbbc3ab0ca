"""Writes texts to stdout instead of sending them: the default for running locally.

It behaves like a carrier that delivers: each text it "sends" is reported delivered by a
``message.delivered`` event in OpenPhone's own shape, signed with this system's webhook key and
taken in by the webhook intake (``webhooks.record``), so a worker processes it exactly as it would
OpenPhone's, and every delivered count (Today, the campaign pages) moves as in production. A report
processed before the outbox has stored the text's id is tried again, as OpenPhone's would be.
Without a webhook key no report can be signed: the text stays ``sent``, and the console says so.
"""

import datetime as dt
import json
import sys
import uuid
from typing import TextIO

from django.utils import timezone

from messaging import webhook_payloads, webhooks
from messaging.backends.base import BaseSMSBackend, HistoryRecord


class SMSBackend(BaseSMSBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> str:
        external_id = f"CONSOLE{uuid.uuid4().hex}"
        self.stream.write(f"--- SMS {external_id}\nFrom: {from_number}\nTo: {to_number}\n\n{body}\n---\n")
        self._report_delivered(external_id=external_id, from_number=from_number, to_number=to_number, body=body)
        self.stream.flush()
        return external_id

    def _report_delivered(self, *, external_id: str, from_number: str, to_number: str, body: str) -> None:
        system, key = webhook_payloads.signing_key()
        if not key:
            self.stream.write("(No webhook key is set, so no delivery report: the text stays sent.)\n")
            return
        now = timezone.now()
        payload = webhook_payloads.message_event(
            "message.delivered",
            system=system,
            sender=from_number,
            recipient=to_number,
            text=body,
            at=now,
            direction="outgoing",
            status="delivered",
            message_id=external_id,
        )
        raw = json.dumps(payload).encode()
        webhooks.record(headers=webhook_payloads.signed_headers(raw, system=system, key=key, at=now), body=raw)

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        # The console keeps no record: nothing to catch up (nobody can text it), and a text
        # interrupted mid-write is not found, so it is written again.
        return []
