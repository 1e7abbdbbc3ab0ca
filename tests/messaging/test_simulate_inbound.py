"""`manage.py simulate_inbound`: a signed inbound text posted to a running system, in either format."""

import base64

import pytest
from django.core.management import CommandError, call_command

from messaging.models import Message, WebhookEvent


@pytest.fixture
def keys(settings):
    settings.OPENPHONE_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"simulate-secret").decode()
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = base64.b64encode(b"simulate-legacy-key").decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("format_", "scheme"), [("current", "standard"), ("legacy", "legacy")])
def test_both_formats_are_signed_accepted_and_read_as_the_same_text(
    live_server, keys, eager_tasks, capsys, format_, scheme
):
    call_command(
        "simulate_inbound", "6175550142", "Interested", format=format_, url=f"{live_server.url}/api/webhooks/openphone"
    )

    event = WebhookEvent.objects.get()
    assert event.signature_scheme == scheme and event.processed_at is not None
    message = Message.objects.get()
    assert (message.from_number, message.body) == ("+16175550142", "Interested")
    assert "Delivered a" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_without_a_url_it_posts_to_the_port_make_run_serves(live_server, keys, eager_tasks, monkeypatch):
    # `PORT=8001 make run` serves on 8001; the same PORT in the other shell finds it.
    monkeypatch.setenv("PORT", str(live_server.thread.port))

    call_command("simulate_inbound", "6175550142", "Is Tuesday OK?")

    assert Message.objects.get().body == "Is Tuesday OK?"


def test_without_a_key_it_says_which_setting_is_missing(settings):
    settings.OPENPHONE_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError, match="OPENPHONE_WEBHOOK_SECRET is not set"):
        call_command("simulate_inbound", "6175550142", "Hi", url="http://127.0.0.1:1/")


def test_a_system_that_is_not_running_is_said_plainly(keys):
    with pytest.raises(CommandError, match=r"Could not reach .* Is the system running"):
        call_command("simulate_inbound", "6175550142", "Hi", url="http://127.0.0.1:1/api/webhooks/openphone")


def test_a_bad_phone_is_refused(keys):
    with pytest.raises(CommandError, match="not a valid phone number"):
        call_command("simulate_inbound", "12", "Hi")
