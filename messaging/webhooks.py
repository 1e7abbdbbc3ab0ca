"""OpenPhone webhooks: verify, store raw, acknowledge; processing runs in a worker
(``messaging.webhook_processing``).

OpenPhone signs the raw body, so the signature is checked on the bytes exactly as received,
before anything is parsed. Both of its webhook systems are accepted (tests/openphone/openphone-api.md):

- legacy: ``openphone-signature: hmac;1;<ms>;<base64>`` over ``<ms>.<body>`` with the
  base64-decoded signing key; the header may carry several comma-separated signatures;
- current (Standard Webhooks): ``webhook-id`` / ``webhook-timestamp`` (seconds) /
  ``webhook-signature`` (space-separated ``v1,<base64>``) over ``<id>.<seconds>.<body>`` with the
  ``whsec_`` secret, padded or not.

Several keys may be configured (comma-separated) so a key can be rotated without dropping events.
Whatever a correctly signed body holds, it is stored byte for byte and answered 200, unless it
is not UTF-8 JSON at all (400): OpenPhone gives up on an event we keep refusing, and the event
may be a STOP.
"""

import base64
import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from attackacrack.celery import hand_to_worker
from messaging.models import WebhookEvent

logger = logging.getLogger(__name__)

# Seconds (or milliseconds) since 1970 in ASCII digits: int() would also take "١٢٣" and 400 digits.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
# PostgreSQL text and jsonb hold neither NUL nor a lone surrogate: each is stored as U+FFFD.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Integers longer than this are not ids or counts OpenPhone sends; Python refuses to read
# ones over 4,300 digits, so they are kept as text in the readable payload.
_MAX_INTEGER_DIGITS = 100
EVENT_ID_LENGTH = WebhookEvent._meta.get_field("event_id").max_length
EVENT_TYPE_LENGTH = WebhookEvent._meta.get_field("event_type").max_length


class InvalidSignature(Exception):
    """Missing, malformed, wrong or stale signature: the request is not from OpenPhone."""


class BadPayload(Exception):
    """Signed, but not UTF-8 JSON: nothing an event could be read from."""


class Unreadable(Exception):
    """UTF-8 JSON, but not one that can be read (nested too deeply): stored, marked failed."""


def _keys(setting_name: str, *, prefix: str = "") -> tuple[list[bytes], list[str]]:
    """The usable keys of a setting, and a sentence for each configured key that is not."""
    keys, problems = [], []
    values = [value.strip() for value in getattr(settings, setting_name).split(",") if value.strip()]
    for position, value in enumerate(values, start=1):
        value = value.removeprefix(prefix)
        try:
            # With or without its padding, as the reference standardwebhooks library takes it.
            key = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            key = b""
        if key:
            keys.append(key)
        else:
            which = f"key {position} of {len(values)}" if len(values) > 1 else "the key"
            problems.append(f"{setting_name}: {which} is not valid base64, so no webhook signed with it is accepted.")
    return keys, problems


def key_problems() -> list[str]:
    """Configured webhook keys that cannot be decoded, for /healthz and the Today page (never the key)."""
    return [
        *_keys("OPENPHONE_WEBHOOK_SIGNING_KEY")[1],
        *_keys("OPENPHONE_WEBHOOK_SECRET", prefix="whsec_")[1],
    ]


def _timestamp(value: str, *, per_second: int) -> None:
    if not _TIMESTAMP.fullmatch(value):
        raise InvalidSignature("Malformed signature timestamp")
    if abs(timezone.now().timestamp() - int(value) / per_second) > settings.OPENPHONE_WEBHOOK_TOLERANCE_SECONDS:
        raise InvalidSignature("Stale signature timestamp")


def _matches(keys: list[bytes], signed: bytes, given: str) -> bool:
    return any(
        hmac.compare_digest(base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode(), given)
        for key in keys
    )


def _verify_legacy(header: str, body: bytes) -> None:
    entries = [entry.strip().split(";") for entry in header.split(",")]
    well_formed = [parts for parts in entries if len(parts) == 4 and parts[0] == "hmac" and parts[3]]
    if not well_formed:
        raise InvalidSignature("Malformed openphone-signature header")
    keys, _ = _keys("OPENPHONE_WEBHOOK_SIGNING_KEY")
    stale = None
    for _, _, timestamp, given in well_formed:
        try:
            _timestamp(timestamp, per_second=1000)
        except InvalidSignature as error:
            stale = error
            continue
        if _matches(keys, timestamp.encode() + b"." + body, given):
            return
    raise stale or InvalidSignature("Signature does not match")


def verify_signature(headers: Mapping[str, str], body: bytes) -> str:
    """The scheme the request was signed with, or InvalidSignature."""
    legacy = headers.get("openphone-signature")
    if legacy:
        _verify_legacy(legacy, body)
        return WebhookEvent.SignatureScheme.LEGACY
    webhook_id, timestamp, signatures = (
        headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (webhook_id and timestamp and signatures):
        raise InvalidSignature("No signature")
    _timestamp(timestamp, per_second=1)
    given = [entry.split(",", 1)[1] for entry in signatures.split() if entry.startswith("v1,")]
    if not given:
        raise InvalidSignature("Malformed webhook-signature header")
    keys, _ = _keys("OPENPHONE_WEBHOOK_SECRET", prefix="whsec_")
    signed = f"{webhook_id}.{timestamp}.".encode("utf-8", "surrogatepass") + body
    if not any(_matches(keys, signed, signature) for signature in given):
        raise InvalidSignature("Signature does not match")
    return WebhookEvent.SignatureScheme.STANDARD


def _number(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None  # 1e400 is infinity: no JSON number holds it


def _integer(text: str) -> int | str:
    return int(text) if len(text.lstrip("-")) <= _MAX_INTEGER_DIGITS else text


def _storable(value: Any) -> Any:
    """A copy of parsed JSON with every string storable, walked without recursion (the nesting
    json accepts is deeper than Python's recursion allows in a function that recurses)."""
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, key, item = stack.pop()
        if isinstance(item, str):
            parent[key] = _UNSTORABLE.sub("\ufffd", item)
        elif isinstance(item, list):
            copy = list(item)
            parent[key] = copy
            stack.extend((copy, index, element) for index, element in enumerate(item))
        elif isinstance(item, dict):
            copy = {_UNSTORABLE.sub("\ufffd", name): element for name, element in item.items()}
            parent[key] = copy
            stack.extend((copy, name, element) for name, element in copy.items())
    return root[0]


def read_body(body: bytes) -> Any:
    """The JSON a webhook body holds, made storable: strings without NUL or lone surrogates,
    NaN and infinities as null, huge integers as text.

    Raises BadPayload when the body is not UTF-8 JSON, Unreadable when it is but cannot be read.
    """
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise BadPayload(f"The body is not UTF-8 ({error.reason} at byte {error.start}).") from error
    try:
        parsed = json.loads(text, parse_constant=lambda _: None, parse_float=_number, parse_int=_integer)
    except RecursionError as error:
        raise Unreadable("The body is JSON nested too deeply to read.") from error
    except ValueError as error:
        raise BadPayload(f"The body is not valid JSON: {error}") from error
    return _storable(parsed)


def _event_key(value: str) -> str:
    """A stored key for an event id: the id itself, or the digest of one too long to store whole."""
    if len(value) <= EVENT_ID_LENGTH and not value.startswith("sha256:"):
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _identity(payload: Any, body: bytes, delivery_id: str) -> tuple[str, str]:
    """(event key, event type). An event without an id of its own is known by its delivery id,
    else by its bytes: the same body delivered again is the same event."""
    event = payload if isinstance(payload, dict) else {}
    event_id = event.get("id")
    if isinstance(event_id, int | float) and not isinstance(event_id, bool):
        event_id = str(event_id)
    if not isinstance(event_id, str) or not event_id:
        event_id = f"delivery:{delivery_id}" if delivery_id else "sha256:" + hashlib.sha256(body).hexdigest()
    event_type = event.get("type")
    event_type = event_type[:EVENT_TYPE_LENGTH] if isinstance(event_type, str) and event_type else "unknown"
    return _event_key(event_id), event_type


def record(*, headers: Mapping[str, str], body: bytes) -> tuple[WebhookEvent, bool]:
    """Verify and store one delivery, once per event and once per delivery, and hand it to a
    worker once stored. Returns (the event, whether this delivery stored it).

    Raises InvalidSignature (401) and BadPayload (400); everything else signed is stored. Once
    the row is committed the event will be processed whatever happens to the hand-over (see
    ``webhook_processing.hand_over_due_events``), so nothing after the commit can fail the
    request. A delivery of an event stored but still waiting is handed over again. Raises
    DatabaseError (503: OpenPhone delivers it again) when the event cannot be stored.
    """
    scheme = verify_signature(headers, body)
    try:
        payload, unreadable = read_body(body), ""
    except Unreadable as error:
        payload, unreadable = None, str(error)
    delivery_id = _event_key(headers.get("webhook-id", "")) if scheme == WebhookEvent.SignatureScheme.STANDARD else ""
    event_id, event_type = _identity(payload, body, delivery_id)
    now = timezone.now()
    event = WebhookEvent(
        event_id=event_id,
        delivery_id=delivery_id,
        event_type=event_type,
        signature_scheme=scheme,
        raw_body=body,
        payload=payload,
        error=unreadable,
        next_attempt_at=now,
        enqueued_at=now,
    )
    created = _store_unless_seen(event)
    if not created:
        seen = WebhookEvent.objects.filter(event_id=event_id)
        if delivery_id:
            seen = seen | WebhookEvent.objects.filter(delivery_id=delivery_id)
        event = seen.first()
        if event is None:  # the row it conflicted with is gone: OpenPhone delivers it again
            raise DatabaseError(f"Webhook event {event_id} conflicted with a row that is no longer there")
    if event.status == WebhookEvent.Status.PENDING:
        transaction.on_commit(partial(hand_to_worker, "messaging.tasks.process_webhook_events", [event.pk]))
    return event, created


def _store_unless_seen(event: WebhookEvent) -> bool:
    """Insert ``event`` unless its event id or its delivery id is stored already; True when it was.

    One statement, ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite), in no transaction
    of its own: every round trip to the database before the answer waits its turn for the CPU,
    and under load the four it took before (begin, look for the event, insert, commit) were most
    of an acknowledgement's time. Two deliveries of one event at once are settled by the unique
    constraints: the second waits for the first's commit, then inserts nothing.
    """
    fields = [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    table, columns = quote(WebhookEvent._meta.db_table), ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(event, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            f" ON CONFLICT DO NOTHING RETURNING {quote(WebhookEvent._meta.pk.column)}",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding, event._state.db = False, connection.alias
    return True
