"""Issue 22's done-when, end to end: the six phrases, each in a signed current-format webhook,
processed by a real Celery worker on the Redis broker, opt the person out; "can you stop by
Tuesday?" does not, and waits for a person."""

import base64
import datetime as dt
import json
import time

import pytest
from django.test import Client

from contacts.models import Contact
from messaging import webhook_payloads
from messaging.models import ConsentReview, Message
from tests.factories import SHOP_NUMBER

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_" + base64.b64encode(b"end-to-end-consent-secret").decode()
OPT_OUTS = ["Please stop", "stop please", "No more texts", "Take me off your list", "Don't text me again", "S T O P"]


def test_opt_outs_in_their_own_words_through_a_signed_webhook_and_a_real_worker(settings, worker):
    settings.OPENPHONE_WEBHOOK_SECRET = SECRET
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    client = Client()
    texts = {f"+1617555{2100 + n:04d}": text for n, text in enumerate([*OPT_OUTS, "can you stop by Tuesday?"])}
    for phone, text in texts.items():
        now = dt.datetime.now(dt.UTC)
        event = webhook_payloads.message_event(
            "message.received", system=webhook_payloads.CURRENT, sender=phone, recipient=SHOP_NUMBER, text=text, at=now
        )
        raw = json.dumps(event).encode()
        headers = webhook_payloads.signed_headers(raw, system=webhook_payloads.CURRENT, key=SECRET, at=now)
        response = client.post(
            "/api/webhooks/openphone", raw, content_type="application/json", **webhook_payloads.as_wsgi(headers)
        )
        assert response.status_code == 200

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Message.objects.filter(direction="inbound").count() < len(texts):
        time.sleep(0.2)
    time.sleep(0.5)  # the last one's consequences, in the same task

    opted_out = dict(Contact.objects.filter(opted_out_at__isnull=False).values_list("phone", "opt_out_reason"))
    assert {phone: text for phone, text in texts.items() if text in OPT_OUTS} == {
        phone: reason.removeprefix("Replied ").strip("'\"") for phone, reason in opted_out.items()
    }
    [review] = ConsentReview.objects.all()
    assert review.message.body == "can you stop by Tuesday?" and review.decision == ""
    assert Message.objects.filter(kind=Message.Kind.OPT_OUT_CONFIRMATION).count() == len(OPT_OUTS)
