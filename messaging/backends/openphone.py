"""Sends through OpenPhone's REST API: the one place the product talks to OpenPhone.

Facts this follows (../shared/spec/openphone-api.md): ``Authorization: <key>`` with no
``Bearer``; ``POST /v1/messages`` answers 202 with the message under ``data.id``; 10 requests
per second per key (429 above it); 429, 5xx and timeouts may be retried, other 4xx are final.

One attempt per ``send``: the dispatcher owns retries, backoff and the rate limit, because only
it knows whether a text might already have gone out.
"""

import datetime as dt
import threading

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from messaging import ratelimit
from messaging.backends.base import BaseSMSBackend, SendResult, SMSSendError

_session_lock = threading.Lock()
_session: requests.Session | None = None


def session() -> requests.Session:
    """One pooled HTTP session per process: connections to OpenPhone are reused."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
            _session.mount("https://", HTTPAdapter(pool_connections=2, pool_maxsize=10))
            _session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=10))
        return _session


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("errors") or body)[:300]
    return str(body)[:300]


class SMSBackend(BaseSMSBackend):
    def __init__(self) -> None:
        if not settings.OPENPHONE_API_KEY:
            raise SMSSendError("OPENPHONE_API_KEY is not set.", retryable=False)
        self.base_url = settings.OPENPHONE_API_URL.rstrip("/")
        self.headers = {"Authorization": settings.OPENPHONE_API_KEY, "Content-Type": "application/json"}

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        ratelimit.wait_for_slot()  # OpenPhone counts every request with the key, lookups too
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

    def send(self, *, from_number: str, to_number: str, body: str, keep_out_of_inbox: bool = False) -> SendResult:
        payload: dict = {"from": from_number, "to": [to_number], "content": body}
        if keep_out_of_inbox:
            payload["setInboxStatus"] = "done"
        response = self._request("POST", "/v1/messages", json=payload)
        if response.status_code in (200, 201, 202):
            data = response.json().get("data") or {}
            if not data.get("id"):
                raise SMSSendError(
                    "OpenPhone accepted the text but returned no data.id", retryable=False, maybe_sent=True
                )
            return SendResult(external_id=data["id"], status=data.get("status", "queued"))
        if response.status_code == 429:
            raise SMSSendError("OpenPhone rate limit (429)", retryable=True, retry_after=_retry_after(response))
        if response.status_code >= 500:
            raise SMSSendError(
                f"OpenPhone error {response.status_code}: {_error_text(response)}",
                retryable=True,
                maybe_sent=True,
                retry_after=_retry_after(response),
            )
        raise SMSSendError(
            f"OpenPhone refused the text ({response.status_code}): {_error_text(response)}", retryable=False
        )

    def find_sent(self, *, from_number: str, to_number: str, body: str, since: dt.datetime) -> SendResult | None:
        phone_number_id = self._phone_number_id(from_number)
        response = self._request(
            "GET",
            "/v1/messages",
            params={
                "phoneNumberId": phone_number_id,
                "participants[]": [to_number],
                "createdAfter": since.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "maxResults": 50,
            },
        )
        if response.status_code != 200:
            raise SMSSendError(
                f"Could not list OpenPhone messages ({response.status_code})", retryable=response.status_code >= 500
            )
        for message in response.json().get("data") or []:
            text = message.get("text", message.get("body"))
            if message.get("direction") == "outgoing" and text == body:
                return SendResult(external_id=message["id"], status=message.get("status", "sent"))
        return None

    def _phone_number_id(self, number: str) -> str:
        if number.startswith("PN"):
            return number
        response = self._request("GET", "/v1/phone-numbers")
        if response.status_code != 200:
            raise SMSSendError(f"Could not list OpenPhone numbers ({response.status_code})", retryable=True)
        for phone in response.json().get("data") or []:
            if phone.get("phoneNumber") == number:
                return phone["id"]
        raise SMSSendError(f"{number} is not a number of this OpenPhone account.", retryable=False)
