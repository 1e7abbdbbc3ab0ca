"""Schemathesis against the project's own OpenAPI schema, over every endpoint, with a real token.

Fails on any 5xx, on a response the schema does not describe (status, content type, body shape,
the 422 error shape), and on an endpoint that answers without authentication.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from attackacrack.wsgi import application
from tests.api_schema import api_schema
from tests.factories import StaffUserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Requests go through the real WSGI app inside the test's transaction: keep Django from
    # closing that connection at the end of each request, as its own test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    return Token.objects.create(user=StaffUserFactory(username="fuzzer")).key


# Loaded at collection time, when it can neither sign in nor read the database (tests/api_schema.py).
schema = schemathesis.openapi.from_dict(api_schema())
schema.app = application


# no_cover: untraced, as tests/tracing.py says.
@pytest.mark.no_cover
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_holds_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
