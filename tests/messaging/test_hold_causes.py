"""Sending held tells a person the real cause and what to do: our key missing, our key refused,
or the account refused by OpenPhone (each reached through a real send attempt)."""

import pytest
from freezegun import freeze_time

from bench.fake_openphone import error_body
from messaging import outbox
from messaging.models import Message, OutboxHold
from tests.campaigns.conftest import eastern
from tests.factories import ContactFactory
from tests.messaging.conftest import OPENPHONE, SHOP

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def attempt_a_staff_text() -> str:
    with freeze_time(MONDAY_10):
        text = outbox.queue_text(contact=ContactFactory(), body="Running late", kind=Message.Kind.STAFF)
        return outbox.deliver_message(text.pk)


def hold_banner(client) -> str:
    with freeze_time(MONDAY_10):
        page = client.get("/").content.decode()
    [banner] = [line for line in page.split('role="alert">')[1:] if line.startswith("Sending is held")]
    return banner.split("<form")[0]


def test_without_an_api_key_the_banner_says_to_set_it_not_to_fix_openphone(settings, admin_client):
    settings.SMS_BACKEND = "messaging.backends.openphone.SMSBackend"
    settings.OPENPHONE_API_KEY = ""
    settings.OPENPHONE_FROM_NUMBER = SHOP

    assert attempt_a_staff_text() == "held"

    assert OutboxHold.objects.get().cause == "no_api_key"
    banner = hold_banner(admin_client)
    assert "no OpenPhone API key is set" in banner
    assert "Set OPENPHONE_API_KEY" in banner and "Configuration in docs/operating.md" in banner
    assert "OpenPhone refused" not in banner and "Fix it in OpenPhone" not in banner
    assert "1 text(s) are waiting" in banner
    assert admin_client.get("/healthz").json()["sending_held_cause"] == "no_api_key"


def test_a_key_openphone_refuses_is_to_be_replaced(openphone, admin_client):
    openphone.post(f"{OPENPHONE}/v1/messages", status=401, json=error_body(401))

    assert attempt_a_staff_text() == "held"

    hold = OutboxHold.objects.get()
    assert (hold.cause, hold.code) == ("key_refused", "0200401")
    banner = hold_banner(admin_client)
    assert "OpenPhone refused our API key (OpenPhone refused the text (401 0200401): Unauthorized" in banner
    assert "Replace OPENPHONE_API_KEY" in banner and "Rotating secrets in docs/operating.md" in banner
    assert "Fix it in OpenPhone" not in banner and "whole account" not in banner


def test_a_refusal_of_the_whole_account_is_fixed_in_openphone(openphone, admin_client):
    openphone.post(f"{OPENPHONE}/v1/messages", status=400, json=error_body(400))

    assert attempt_a_staff_text() == "held"

    assert OutboxHold.objects.get().cause == "account"
    banner = hold_banner(admin_client)
    assert "OpenPhone refused a text for the whole account" in banner and "A2P" in banner
    assert "Fix it in OpenPhone" in banner
    assert "OPENPHONE_API_KEY" not in banner
