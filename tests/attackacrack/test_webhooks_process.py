"""The `webhooks` process (Procfile, attackacrack/webhooks_wsgi.py) answers OpenPhone's webhooks
and the health check, and nothing else: API calls sent to it by a wrong proxy rule are refused
before they cost it a query."""

import base64
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attackacrack import webhooks_wsgi
from messaging import webhook_payloads
from messaging.models import WebhookEvent

pytestmark = pytest.mark.django_db

LEGACY_KEY = base64.b64encode(b"webhooks-process-key").decode()


def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    """One request through the WSGI application, as gunicorn makes it; (status line, body)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        **webhook_payloads.as_wsgi(headers or {}),
    }
    setup_testing_defaults(environ)
    answered = []
    chunks = webhooks_wsgi.application(environ, lambda status, response_headers: answered.append(status))
    content = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answered[0], content


@pytest.fixture(autouse=True)
def _keep_the_tests_connection():
    """As Django's test client does: a request must not close the connection the test's transaction is on."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _legacy_key(settings):
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = LEGACY_KEY
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.mark.parametrize("method, path", [("GET", "/api/contacts"), ("GET", "/"), ("POST", "/api/campaigns")])
def test_anything_but_the_webhooks_is_refused_without_a_query(method, path):
    with CaptureQueriesContext(connection) as queries:
        status, body = call(method, path)

    assert status.startswith("404")
    assert json.loads(body) == {
        "detail": [{"loc": [], "msg": "This process serves only OpenPhone's webhooks.", "type": "not_found"}]
    }
    assert not queries.captured_queries


def test_a_signed_delivery_is_stored_and_acknowledged(django_capture_on_commit_callbacks):
    now = timezone.now()
    raw = json.dumps(
        webhook_payloads.message_event(
            "message.received",
            system=webhook_payloads.LEGACY,
            sender="+16175550123",
            recipient="+16175550100",
            text="Yes",
            at=now,
            event_id="EVprocess",
        )  # fmt: skip
    ).encode()
    headers = webhook_payloads.signed_headers(raw, system=webhook_payloads.LEGACY, key=LEGACY_KEY, at=now)

    status, body = call("POST", "/api/webhooks/openphone", raw, headers)

    assert status.startswith("200"), body
    assert json.loads(body)["event_id"] == "EVprocess"
    assert bytes(WebhookEvent.objects.get(event_id="EVprocess").raw_body) == raw


def test_a_forged_delivery_is_refused_as_on_the_web_process():
    status, _ = call("POST", "/api/webhooks/openphone", b"{}", {"openphone-signature": "hmac;1;1;bm9wZQ=="})

    assert status.startswith("401")
    assert not WebhookEvent.objects.exists()


def test_the_health_check_answers_for_the_proxy_and_the_uptime_service():
    status, body = call("GET", "/healthz")

    assert status.startswith("200"), body
    assert json.loads(body)["database"] == json.loads(body)["broker"] == "ok"
