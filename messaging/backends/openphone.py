"""Sends through OpenPhone's REST API: the one place the product talks to OpenPhone.

The authority is OpenPhone's published OpenAPI file (tests/openphone/openphone-openapi-v1.json;
the suite validates every request this module makes and every canned answer against it):
``Authorization: <key>`` with no ``Bearer``; ``POST /v1/messages`` answers 202 with the message
under ``data.id``; ``GET /v1/phone-numbers`` names each number's E.164 form ``number``;
``GET /v1/messages`` takes ``participants`` in form style (the key repeated, no brackets) and pages
with ``nextPageToken``. Errors carry OpenPhone's ``code`` (e.g. ``0206400``). 10 requests per
second per key (429 above it, which the file does not list); 429, 5xx and timeouts may be retried,
other 4xx are final.

One attempt per ``send``: the dispatcher owns retries, backoff and the rate limit, because only
it knows whether a text might already have gone out.
"""

import datetime as dt
from collections.abc import Iterator
from functools import cache

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime
from requests.adapters import HTTPAdapter

from messaging import ratelimit
from messaging.backends.base import AccountRefusal, BaseSMSBackend, HistoryRecord, SMSSendError

# Refusals that are about the account, not the text (the error codes of sendMessage_v1): every
# other text would be refused the same way, so the outbox holds instead of failing each recipient.
# Our key is ours to replace; the account's standing is fixed in OpenPhone.
ACCOUNT_LEVEL_CODES = {
    "0206400": AccountRefusal.ACCOUNT,  # A2P registration not approved
    "0200401": AccountRefusal.KEY_REFUSED,  # the API key was refused
    "0200402": AccountRefusal.ACCOUNT,  # not enough prepaid credits
    "0202403": AccountRefusal.KEY_REFUSED,  # the API key's user is not a user of this phone number
}
ACCOUNT_LEVEL_STATUSES = {401: AccountRefusal.KEY_REFUSED, 402: AccountRefusal.ACCOUNT}

# A reconcile lookup reads at most this many pages of 100: a conversation with more texts than
# that since the attempt began is not a reconcile OpenPhone can answer, and the text is unknown.
MAX_LOOKUP_PAGES = 20

_phone_number_ids: dict[tuple[str, str], str] = {}


@cache
def session() -> requests.Session:
    """One pooled HTTP session per process: connections to OpenPhone are reused."""
    pooled = requests.Session()
    pooled.mount("https://", HTTPAdapter(pool_connections=2, pool_maxsize=10))
    pooled.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=10))
    return pooled


def _retry_after(response: requests.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer


def _error(response: requests.Response) -> tuple[str, str]:
    """(OpenPhone's error code, a readable reason) from an error answer of any shape."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300]
    if not isinstance(body, dict):
        return "", str(body)[:300]
    code = body.get("code") if isinstance(body.get("code"), str) else ""
    title = body.get("title") if isinstance(body.get("title"), str) else ""
    message = body.get("message") or body.get("errors") or body
    reason = f"{title}: {message}" if title and title != message else str(message)
    return code, reason[:300]


def format_time(moment: dt.datetime) -> str:
    """A moment as OpenPhone writes one: ISO 8601 in UTC, milliseconds, ``Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: object) -> dt.datetime | None:
    """An OpenPhone timestamp (ISO 8601, REST or webhook) as an aware datetime; None if it is not one."""
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


class SMSBackend(BaseSMSBackend):
    reports_by_webhook = True

    def __init__(self) -> None:
        if not settings.OPENPHONE_API_KEY:
            raise SMSSendError(
                "OPENPHONE_API_KEY is not set.", retryable=False, account_level=AccountRefusal.NO_API_KEY
            )
        self.base_url = settings.OPENPHONE_API_URL.rstrip("/")
        self.headers = {"Authorization": settings.OPENPHONE_API_KEY, "Content-Type": "application/json"}
        self.requests_made = 0

    def _request(self, method: str, path: str, *, background: bool = False, **kwargs) -> requests.Response:
        if background:
            # A catch-up's requests keep to a share of the limit, so sends are never kept waiting.
            ratelimit.wait_for_slot("ratelimit:openphone:background", limit=settings.CATCH_UP_REQUESTS_PER_SECOND)
        ratelimit.wait_for_slot()  # OpenPhone counts every request with the key, lookups too
        self.requests_made += 1
        try:
            return session().request(
                method,
                f"{self.base_url}{path}",
                headers=self.headers,
                timeout=(settings.OPENPHONE_CONNECT_TIMEOUT, settings.OPENPHONE_READ_TIMEOUT),
                **kwargs,
            )
        except requests.ConnectTimeout as error:
            raise SMSSendError(f"OpenPhone did not answer the connection: {error}", retryable=True) from error
        except requests.ConnectionError as error:
            # Refused or reset: the request may or may not have been read.
            raise SMSSendError(f"Connection to OpenPhone failed: {error}", retryable=True, maybe_sent=True) from error
        except requests.Timeout as error:
            raise SMSSendError(
                f"OpenPhone took over {settings.OPENPHONE_READ_TIMEOUT} s to answer", retryable=True, maybe_sent=True
            ) from error

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> str:
        payload: dict = {"from": from_number, "to": [to_number], "content": body}
        if keep_out_of_inbox:
            payload["setInboxStatus"] = "done"
        response = self._request("POST", "/v1/messages", json=payload)
        if response.status_code in (200, 201, 202):
            try:
                data = response.json().get("data") or {}
            except (ValueError, AttributeError):
                data = {}
            if not isinstance(data, dict) or not data.get("id"):
                raise SMSSendError(
                    "OpenPhone accepted the text but returned no data.id", retryable=False, maybe_sent=True
                )
            return data["id"]
        raise self._refusal(response, "refused the text")

    def _refusal(self, response: requests.Response, what: str) -> SMSSendError:
        status = response.status_code
        code, reason = _error(response)
        label = f"{status} {code}".strip()
        if status == 429 or status >= 500:
            return SMSSendError(
                f"OpenPhone rate limit ({label})" if status == 429 else f"OpenPhone error ({label}): {reason}",
                retryable=True,
                maybe_sent=status >= 500,
                retry_after=_retry_after(response),
                code=code,
            )
        account_level = ACCOUNT_LEVEL_CODES.get(code) or ACCOUNT_LEVEL_STATUSES.get(status, "")
        return SMSSendError(
            f"OpenPhone {what} ({label}): {reason}", retryable=False, code=code, account_level=account_level
        )

    def message_history(self, *, from_number: str, participant: str, since: dt.datetime) -> list[HistoryRecord]:
        records = self._history(from_number=from_number, participant=participant, since=since, background=True)
        return sorted(records, key=lambda record: (record.created_at, record.external_id))

    def _history(
        self, *, from_number: str, participant: str, since: dt.datetime, background: bool = False
    ) -> Iterator[HistoryRecord]:
        """Every text between the number and the participant since ``since``, page by page: at the
        foreground's rate unless ``background`` (a send's lookup goes ahead of a catch-up)."""
        params: dict = {
            "phoneNumberId": self._phone_number_id(from_number, background=background),
            "participants": [participant],  # requests repeats the key: the form style the API wants
            "createdAfter": format_time(since),
            "maxResults": 100,
        }
        for _ in range(MAX_LOOKUP_PAGES):
            response = self._request("GET", "/v1/messages", params=params, background=background)
            if response.status_code != 200:
                raise self._refusal(response, "could not list messages")
            page = response.json()
            for message in page.get("data") or []:
                created_at = parse_time(message.get("createdAt"))
                if message.get("direction") in ("incoming", "outgoing") and message.get("id") and created_at:
                    to = message.get("to")
                    yield HistoryRecord(
                        external_id=message["id"],
                        status=message.get("status") or "sent",
                        to_numbers=tuple(to) if isinstance(to, list) else (str(to),),
                        body=message.get("text") or "",
                        created_at=created_at,
                        direction=message["direction"],
                        from_number=message.get("from") or "",
                    )
            token = page.get("nextPageToken")
            if not token:
                return
            params["pageToken"] = token
        raise SMSSendError(
            f"OpenPhone lists over {MAX_LOOKUP_PAGES * 100} texts with {participant} since {format_time(since)}",
            retryable=True,
        )

    def _phone_number_id(self, number: str, *, background: bool = False) -> str:
        """OpenPhone's id (PN...) of a sending number, looked up once per process."""
        if number.startswith("PN"):
            return number
        key = (self.base_url, number)
        if key in _phone_number_ids:
            return _phone_number_ids[key]
        response = self._request("GET", "/v1/phone-numbers", background=background)
        if response.status_code != 200:
            raise self._refusal(response, "could not list phone numbers")
        for phone in response.json().get("data") or []:
            if phone.get("number") == number and phone.get("id"):
                _phone_number_ids[key] = phone["id"]
                return phone["id"]
        raise SMSSendError(f"{number} is not a number of this OpenPhone account.", retryable=False)


def forget_phone_number_ids() -> None:
    """Drop the cached number ids (after the account's numbers change; between tests)."""
    _phone_number_ids.clear()
