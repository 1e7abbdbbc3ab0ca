import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.backends import locmem
from tests.factories import StaffUserFactory


@pytest.fixture(scope="session", autouse=True)
def _suite_runs_on_postgresql(django_db_setup, django_db_blocker) -> None:
    # The suite proves behaviour on the database production uses; SQLite would hide
    # locking, constraint and time-zone differences.
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                f"The test suite runs on PostgreSQL, not {connection.vendor}: run `make test` "
                "or set DATABASE_URL=postgres://...",
                returncode=2,
            )


@pytest.fixture(autouse=True)
def _sms_outbox(settings) -> list[locmem.SentSMS]:
    """Tests never text anyone: texts land in an in-memory outbox, emptied per test."""
    settings.SMS_BACKEND = "messaging.backends.locmem.SMSBackend"
    locmem.outbox.clear()
    return locmem.outbox


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client(staff_user) -> APIClient:
    """A client that authenticates as the user's contract does: ``Authorization: Bearer``."""
    token = Token.objects.create(user=staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client
