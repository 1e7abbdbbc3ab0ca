"""Keeps texts in memory for tests: ``messaging.backends.locmem.outbox``."""

import uuid
from dataclasses import dataclass

from messaging.backends.base import BaseSMSBackend, SendResult


@dataclass(frozen=True)
class SentSMS:
    external_id: str
    from_number: str
    to_number: str
    body: str


outbox: list[SentSMS] = []


class SMSBackend(BaseSMSBackend):
    def send(self, *, from_number: str, to_number: str, body: str) -> SendResult:
        external_id = f"LOCMEM{uuid.uuid4().hex}"
        outbox.append(SentSMS(external_id, from_number, to_number, body))
        return SendResult(external_id=external_id, status="sent")
