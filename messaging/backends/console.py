"""Writes texts to stdout instead of sending them: the default for running locally."""

import datetime as dt
import sys
import threading
import uuid
from typing import TextIO

from messaging.backends.base import BaseSMSBackend, HistoryRecord, SendResult


class SMSBackend(BaseSMSBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> SendResult:
        external_id = f"CONSOLE{uuid.uuid4().hex}"
        with self._lock:
            self.stream.write(f"--- SMS {external_id}\nFrom: {from_number}\nTo: {to_number}\n\n{body}\n---\n")
            self.stream.flush()
        return SendResult(external_id=external_id, status="sent")

    def find_sent(
        self,
        *,
        from_number: str,
        to_number: str,
        body: str,
        since: dt.datetime,
        exclude_ids: frozenset[str] = frozenset(),
    ) -> SendResult | None:
        return None  # the console keeps no record: a text interrupted mid-write is written again

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        return []  # nobody can text the console: there is nothing to catch up
