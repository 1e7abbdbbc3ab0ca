"""Keeps texts in memory for tests: ``messaging.backends.locmem.outbox``."""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from messaging.backends.base import BaseSMSBackend, HistoryRecord


@dataclass(frozen=True)
class SentSMS:
    external_id: str
    from_number: str
    to_number: str
    body: str
    keep_out_of_inbox: bool = False
    sent_at: dt.datetime = field(default_factory=timezone.now)


outbox: list[SentSMS] = []


class SMSBackend(BaseSMSBackend):
    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> str:
        external_id = f"LOCMEM{uuid.uuid4().hex}"
        outbox.append(SentSMS(external_id, from_number, to_number, body, keep_out_of_inbox))
        return external_id

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        return [
            HistoryRecord(sms.external_id, "sent", (sms.to_number,), sms.body, sms.sent_at, "outgoing", sms.from_number)
            for sms in outbox
            if sms.from_number == from_number and sms.to_number == participant and sms.sent_at >= since
        ]
