import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class HistoryRecord:
    """One text as the provider describes it, in its history or in a webhook's message event:
    what a reconcile lookup, a catch-up and webhook processing read."""

    external_id: str
    status: str
    to_numbers: tuple[str, ...]
    body: str
    created_at: dt.datetime | None  # always set in the history; a webhook's may be missing
    direction: str = "outgoing"  # or "incoming"
    from_number: str = ""
    error_code: str = ""  # why the carrier did not deliver it (a webhook's ``message.failed``)
    error_message: str = ""


class AccountRefusal(models.TextChoices):
    """Why the provider would refuse every text, not only this one: what a person must fix before
    anything is sent (the outbox holds until then)."""

    NO_API_KEY = "no_api_key", "No OpenPhone API key is set"
    KEY_REFUSED = "key_refused", "OpenPhone refused the API key"
    ACCOUNT = "account", "OpenPhone refused the account"


class SMSSendError(Exception):
    """The provider did not take the message.

    ``retryable``: trying again may help (429, 5xx, network). ``maybe_sent``: the request may
    have reached the provider before it failed (a read timeout, a 5xx), so before trying again
    the caller must ask the provider whether the text went out (``find_sent``).
    ``account_level``: an `AccountRefusal` when the refusal is not about this text, so every other
    text would be refused the same way (no API key set, a key OpenPhone refuses, A2P not approved,
    no credits), else "". ``code`` is the provider's machine-readable reason, kept beside the
    message for staff.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        maybe_sent: bool = False,
        retry_after: float | None = None,
        code: str = "",
        account_level: str = "",
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.maybe_sent = maybe_sent
        self.retry_after = retry_after
        self.code = code
        self.account_level = account_level


# What OpenPhone's smart encoding may turn characters into, mapped back (GSM-7 has no curly quotes).
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_PLAIN).split())


class BaseSMSBackend:
    # The provider reports delivery and replies by webhook (so their silence means something).
    reports_by_webhook = False

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> str:
        """Hand one text to the provider (one attempt): the provider's id for it, or SMSSendError."""
        raise NotImplementedError

    def find_sent(
        self,
        *,
        from_number: str,
        to_number: str,
        body: str,
        since: dt.datetime,
        exclude_ids: frozenset[str] = frozenset(),
    ) -> str | None:
        """The provider's id of this text sent since ``since``, if it has one.

        A text is ours by recipient and time first: the provider may re-encode the body ("smart
        encoding"), so the body only breaks a tie between several candidates: the same text, else the
        same text but for what re-encoding changes, else the earliest. Texts whose ids we already hold
        are someone else's (an earlier text to the same person).

        Raises SMSSendError when the provider cannot be asked: then nobody knows.
        """
        candidates = sorted(
            (
                record
                for record in self._history(from_number=from_number, participant=to_number, since=since)
                if record.direction == "outgoing"
                and to_number in record.to_numbers
                and record.created_at >= since
                and record.external_id not in exclude_ids
            ),
            key=lambda record: record.created_at,
        )
        if not candidates:
            return None
        exact = [record for record in candidates if record.body == body]
        alike = [record for record in candidates if _plain(record.body) == _plain(body)]
        return (exact or alike or candidates)[0].external_id

    def _history(self, *, from_number: str, participant: str, since: dt.datetime) -> Iterable[HistoryRecord]:
        """What a lookup reads: a provider that paces a catch-up's requests reads it at a send's pace."""
        return self.message_history(from_number=from_number, participant=participant, since=since)

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        """Every text, both ways, between the sending number and ``participant`` since ``since``,
        oldest first: what a catch-up compares with what the webhooks told us.

        Raises SMSSendError when the provider cannot be asked.
        """
        raise NotImplementedError
