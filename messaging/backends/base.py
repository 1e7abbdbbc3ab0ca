from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """What the provider said about an accepted message."""

    external_id: str
    status: str


class SMSSendError(Exception):
    """The provider refused the message. ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class BaseSMSBackend:
    def send(self, *, from_number: str, to_number: str, body: str) -> SendResult:
        raise NotImplementedError
