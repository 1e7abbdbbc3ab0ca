"""Writes texts to stdout instead of sending them: the default for running locally."""

import datetime as dt
import sys
import uuid
from typing import TextIO

from messaging.backends.base import BaseSMSBackend, HistoryRecord


class SMSBackend(BaseSMSBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> str:
        external_id = f"CONSOLE{uuid.uuid4().hex}"
        self.stream.write(f"--- SMS {external_id}\nFrom: {from_number}\nTo: {to_number}\n\n{body}\n---\n")
        self.stream.flush()
        return external_id

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        # The console keeps no record: nothing to catch up (nobody can text it), and a text
        # interrupted mid-write is not found, so it is written again.
        return []
