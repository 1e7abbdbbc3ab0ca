import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """What the provider said about an accepted message."""

    external_id: str
    status: str


class SMSSendError(Exception):
    """The provider did not take the message.

    ``retryable``: trying again may help (429, 5xx, network). ``maybe_sent``: the request may
    have reached the provider before it failed (a read timeout, a 5xx), so before trying again
    the caller must ask the provider whether the text went out (``find_sent``).
    """

    def __init__(
        self, message: str, *, retryable: bool, maybe_sent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.maybe_sent = maybe_sent
        self.retry_after = retry_after


class BaseSMSBackend:
    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> SendResult:
        """Hand one text to the provider (one attempt): a SendResult, or SMSSendError."""
        raise NotImplementedError

    def find_sent(self, *, from_number: str, to_number: str, body: str, since: dt.datetime) -> SendResult | None:
        """The provider's record of this text sent since ``since``, if it has one.

        Raises SMSSendError when the provider cannot be asked: then nobody knows.
        """
        raise NotImplementedError
