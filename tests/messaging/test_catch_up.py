"""No reply lost when webhooks fail (issue 21): catching up from OpenPhone's own history, the
alert when webhooks go quiet, and campaign texts held while a catch-up is overdue.

OpenPhone is faked at the HTTP boundary by a small stateful fake that keeps every text, both
ways, and lists them the way the published API does (per phone number id and participant, form
style, ``createdAfter``, pages through ``nextPageToken``); the ``openphone`` fixture validates
every request and answer against OpenPhone's OpenAPI file.
"""

import base64
import datetime as dt
import itertools
import json
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.core.management import CommandError, call_command
from django.utils import timezone
from freezegun import freeze_time

from bench.fake_openphone import PHONE_NUMBER_ID, error_body, message_resource
from campaigns import audience, booking
from campaigns import tasks as campaign_tasks
from campaigns.models import Campaign, CampaignSend
from contacts.models import Contact
from messaging import catch_up, outbox, quiet, tasks, webhook_payloads
from messaging.backends.openphone import parse_time
from messaging.models import CatchUp, Message, WebhookEvent
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory
from tests.messaging.conftest import OPENPHONE, numbers_listing

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
SECRET = "whsec_" + base64.b64encode(b"catch-up-webhook-secret").decode()


class OpenPhoneHistory:
    """OpenPhone's side: every text it took or received, listed as ``GET /v1/messages`` lists them."""

    PAGE = 2  # small pages, so every catch-up walks ``nextPageToken``

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.texts: list[dict] = []
        self.ids = itertools.count(1)
        self.listing_fails = False
        mock.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing(SHOP_NUMBER))
        mock.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=self.send)
        mock.add_callback(responses.GET, f"{OPENPHONE}/v1/messages", callback=self.listing)

    def _add(self, **fields) -> dict:
        text = message_resource(message_id=f"AC{next(self.ids):06d}", created_at=timezone.now(), **fields)
        self.texts.append(text)
        return text

    def send(self, request):
        sent = json.loads(request.body)
        text = self._add(from_number=sent["from"], to_number=sent["to"][0], text=sent["content"], status="sent")
        return 202, {"Content-Type": "application/json"}, json.dumps({"data": text})

    def receive(self, sender: str, body: str) -> dict:
        """A text a person sends us: OpenPhone has it; whether a webhook tells us is another matter."""
        return self._add(from_number=sender, to_number=SHOP_NUMBER, text=body, direction="incoming", status="delivered")

    def listing(self, request):
        if self.listing_fails:
            return 500, {"Content-Type": "application/json"}, json.dumps(error_body(500))
        query = parse_qs(urlparse(request.url).query)
        assert query["phoneNumberId"] == [PHONE_NUMBER_ID]
        after = parse_time(query["createdAfter"][0])
        found = [
            text
            for text in self.texts
            if set(query["participants"]) & {text["from"], *text["to"]} and parse_time(text["createdAt"]) >= after
        ]
        found.reverse()  # newest first, as OpenPhone lists
        start = int(query.get("pageToken", ["0"])[0])
        page = found[start : start + self.PAGE]
        token = str(start + self.PAGE) if start + self.PAGE < len(found) else None
        body = {"data": page, "totalItems": len(found), "nextPageToken": token}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


@pytest.fixture
def history(openphone, settings) -> OpenPhoneHistory:
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    settings.OPENPHONE_WEBHOOK_SECRET = SECRET
    return OpenPhoneHistory(openphone)


def campaign_texting(contacts: list[Contact], at: dt.datetime, **fields) -> Campaign:
    """A campaign of these contacts, booked at ``at``."""
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="", **fields)
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    booking.execute_campaign(campaign_id=campaign.pk, now=at)
    return campaign


def texted_at_ten(size: int) -> tuple[Campaign, list[Contact]]:
    """A campaign of ``size`` new contacts, each texted on Monday at 10:00."""
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    people = add_audience(campaign, size)
    booking.execute_campaign(campaign_id=campaign.pk, now=MONDAY_10)
    assert deliver_due(MONDAY_10 + dt.timedelta(minutes=2)) == ["sent"] * size
    return campaign, people


def deliver_due(at: dt.datetime) -> list[str]:
    with freeze_time(at):
        waiting = Message.objects.filter(direction="outbound", status="queued").order_by("id")
        outcomes = [outbox.deliver_message(pk) for pk in waiting.values_list("pk", flat=True)]
    return outcomes


@pytest.fixture
def post_webhook(client, eager_tasks, django_capture_on_commit_callbacks):
    """Deliver a signed current-format event as OpenPhone would, and process it as a worker would."""

    def post(event: dict, at: dt.datetime):
        raw = json.dumps(event).encode()
        headers = webhook_payloads.signed_headers(raw, system=webhook_payloads.CURRENT, key=SECRET, at=at)
        with freeze_time(at), django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/webhooks/openphone", raw, content_type="application/json", **webhook_payloads.as_wsgi(headers)
            )
        assert response.status_code == 200
        return WebhookEvent.objects.get(event_id=event["id"])

    return post


def received_event(text: dict) -> dict:
    """The current-format ``message.received`` webhook of a text OpenPhone received."""
    return webhook_payloads.message_event(
        "message.received",
        system=webhook_payloads.CURRENT,
        sender=text["from"],
        recipient=text["to"][0],
        text=text["text"],
        at=parse_time(text["createdAt"]),
        message_id=text["id"],
    )


def sent_to(history: OpenPhoneHistory, contact: Contact) -> list[str]:
    return [text["text"] for text in history.texts if text["direction"] == "outgoing" and text["to"] == [contact.phone]]


# --- Done when: a STOP only OpenPhone knows about -------------------------------------------------


def test_a_stop_only_openphone_knows_is_caught_up_opts_out_and_no_campaign_text_follows(
    history, post_webhook, eager_tasks, capsys
):
    _, (stopper, other) = texted_at_ten(2)
    # The next campaign (no frequency cap) has both booked for this afternoon.
    later = campaign_texting([stopper, other], eastern(2024, 1, 15, 14, 0), frequency_cap_days=0)
    assert later.sends.filter(message__status="queued").count() == 2
    # Webhooks are off: the STOP reaches OpenPhone only.
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=30)):
        stop = history.receive(stopper.phone, "Stop")

    with freeze_time(eastern(2024, 1, 15, 13, 0)):
        call_command("backfill_messages", "--since", "6")

    stopper.refresh_from_db()
    assert stopper.is_opted_out
    assert Message.objects.get(external_id=stop["id"]).direction == "inbound"
    assert later.sends.get(contact=stopper).message.status == "cancelled"
    [run] = CatchUp.objects.all()
    assert (run.status, run.replies_found, run.conversations) == ("succeeded", 1, 2)
    [missed] = run.missed_opt_outs
    assert (missed["contact_id"], missed["cancelled"], missed["texted_after"]) == (stopper.pk, 1, 0)
    output = capsys.readouterr().out
    assert "An opt-out the webhooks missed" in output and "1 pending text(s) were cancelled" in output

    # The afternoon, webhooks still off: the text to a person in conversation with us waits for a
    # fresh catch-up, which the dispatch tick starts.
    assert deliver_due(eastern(2024, 1, 15, 14, 5)) == ["held", "sent"]  # and the STOP's confirmation
    with freeze_time(eastern(2024, 1, 15, 14, 6)):
        tasks.dispatch_outbox()
    assert CatchUp.objects.latest("started_at").trigger == "overdue"
    assert deliver_due(eastern(2024, 1, 15, 14, 7)) == ["sent"]
    texts_to_stopper = sent_to(history, stopper)
    assert len(texts_to_stopper) == 2 and texts_to_stopper[-1].startswith("You've been unsubscribed")
    assert len(sent_to(history, other)) == 2

    # Its webhook arrives after all: nothing is stored or done twice.
    assert post_webhook(received_event(stop), eastern(2024, 1, 15, 14, 10)).processed_at is not None
    assert Message.objects.filter(external_id=stop["id"]).count() == 1
    assert Message.objects.filter(contact=stopper, kind=Message.Kind.OPT_OUT_CONFIRMATION).count() == 1


def test_a_text_the_webhook_stored_first_is_not_stored_again_and_a_second_catch_up_finds_nothing(history, post_webhook):
    _, [person] = texted_at_ten(1)
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=10)):
        reply = history.receive(person.phone, "Yes, what does an inspection cost?")
    assert post_webhook(received_event(reply), MONDAY_10 + dt.timedelta(minutes=10)).processed_at is not None

    first = catch_up.run_catch_up(trigger="hourly", now=MONDAY_10 + dt.timedelta(hours=1))
    second = catch_up.run_catch_up(trigger="hourly", now=MONDAY_10 + dt.timedelta(hours=2))

    assert (first.replies_found, second.replies_found) == (0, 0)
    assert Message.objects.filter(direction="inbound").count() == 1
    assert second.covers_from == first.started_at - dt.timedelta(minutes=5)  # since the last one


def test_a_caught_up_reply_is_attributed_to_the_campaign_text_and_delivery_reports_are_applied(history):
    _, [person] = texted_at_ten(1)
    history.texts[-1]["status"] = "delivered"  # OpenPhone knows; its webhook never came
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=20)):
        history.receive(person.phone, "How much for a crack in the basement wall?")
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=21)):
        history.receive(person.phone, "Also do you do waterproofing")

    run = catch_up.run_catch_up(trigger="staff", now=MONDAY_10 + dt.timedelta(hours=1))

    assert (run.replies_found, run.reports_found) == (2, 1)
    reply, _ = Message.objects.filter(direction="inbound").order_by("created_at")
    send = CampaignSend.objects.get()
    assert reply.in_reply_to_send == send and reply.created_at == MONDAY_10 + dt.timedelta(minutes=20)
    assert send.message.status == Message.Status.DELIVERED and send.message.delivered_at is not None
    assert run.requests == 3  # the number's id, then two pages (three texts, two a page)


def test_a_catch_up_that_cannot_ask_openphone_fails_visibly_and_the_next_one_starts_from_the_last_success(
    history, admin_client
):
    history.listing_fails = True
    texted_at_ten(1)

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=5)), pytest.raises(CommandError, match="The catch-up failed"):
        call_command("backfill_messages")

    failed = CatchUp.objects.get()
    assert failed.status == "failed" and "OpenPhone error (500" in failed.error
    assert failed.covers_from == MONDAY_10 + dt.timedelta(minutes=5) - dt.timedelta(days=7)  # none succeeded yet
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=6)):
        assert "The catch-up from OpenPhone at" in admin_client.get("/").content.decode()


@pytest.mark.parametrize("since", ["0", "-3", "abc", "1000"])
def test_backfill_refuses_a_look_back_it_cannot_do(since):
    with pytest.raises(CommandError, match="--since"):
        call_command("backfill_messages", "--since", since)


def test_only_one_catch_up_runs_at_a_time_and_an_abandoned_one_does_not_block_the_next():
    CatchUp.objects.create(trigger="hourly", started_at=MONDAY_10, covers_from=MONDAY_10)

    assert catch_up.run_catch_up(trigger="staff", now=MONDAY_10 + dt.timedelta(minutes=1)) is None
    later = catch_up.run_catch_up(trigger="staff", now=MONDAY_10 + dt.timedelta(hours=1))

    assert later.status == "succeeded"  # nobody texted: nothing to ask about
    assert CatchUp.objects.get(started_at=MONDAY_10).status == "failed"


# --- Webhooks gone quiet ---------------------------------------------------------------------------


def quiet_day(history) -> tuple[Campaign, list[Contact]]:
    """Two people texted at 10:00 and no webhook since."""
    return texted_at_ten(2)


def test_today_and_healthz_say_when_webhooks_went_quiet_and_clear_when_they_come_back(
    history, admin_client, client, post_webhook
):
    quiet_day(history)
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=15)):
        assert "No webhook event has arrived" not in admin_client.get("/").content.decode()

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=45)):
        today = admin_client.get("/").content.decode()
        health = client.get("/healthz").json()
    assert "No webhook event has arrived since 2024-01-15 10:02" in today and "Catch up now" in today
    assert health["webhooks"] == "quiet" and health["webhooks_quiet_since"].startswith("2024-01-15T15:02")

    text = Message.objects.filter(direction="outbound").first()
    delivered = webhook_payloads.message_event(
        "message.delivered",
        system=webhook_payloads.CURRENT,
        sender=SHOP_NUMBER,
        recipient=text.to_number,
        text=text.body,
        at=MONDAY_10 + dt.timedelta(minutes=50),
        direction="outgoing",
        status="delivered",
        message_id=text.external_id,
    )
    post_webhook(delivered, MONDAY_10 + dt.timedelta(minutes=50))
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=55)):
        assert "No webhook event has arrived" not in admin_client.get("/").content.decode()
        assert client.get("/healthz").json()["webhooks"] == "ok"


def test_campaign_texts_to_people_in_conversation_wait_while_a_catch_up_is_overdue(history):
    _, (texted, _) = quiet_day(history)
    cold = Contact.objects.create(phone="+16175550199", first_name="Cold")
    later = campaign_texting([texted, cold], MONDAY_10 + dt.timedelta(minutes=40), frequency_cap_days=0)
    held, fresh = later.sends.get(contact=texted), later.sends.get(contact=cold)

    with freeze_time(held.scheduled_for):
        assert outbox.deliver_message(text_of(held).pk) == "held"
    with freeze_time(fresh.scheduled_for):
        assert outbox.deliver_message(text_of(fresh).pk) == "sent"  # nobody a catch-up would ask about

    held.refresh_from_db()
    assert held.compliance.dispatch_checks["catch_up_current"] is False
    assert held.compliance.dispatch_outcome == "held"
    catch_up.run_catch_up(trigger="overdue", now=held.scheduled_for + dt.timedelta(seconds=30))
    with freeze_time(held.scheduled_for + dt.timedelta(minutes=1)):
        assert outbox.deliver_message(text_of(held).pk) == "sent"


def test_the_dispatch_tick_starts_a_catch_up_for_an_overdue_silence_once(history, eager_tasks):
    quiet_day(history)

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=45)):
        tasks.dispatch_outbox()
        tasks.dispatch_outbox()

    [run] = CatchUp.objects.all()
    assert (run.trigger, run.status) == ("overdue", "succeeded")
    assert quiet.catch_up_overdue(now=MONDAY_10 + dt.timedelta(minutes=46)) is None


def test_the_campaign_clock_catches_up_before_the_first_booking_of_a_business_day(history):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    add_audience(campaign, 1)

    with freeze_time(eastern(2024, 1, 13, 8, 30)):  # a Saturday: nothing is booked, nothing to catch up for
        campaign_tasks.run_campaigns()
    assert not CatchUp.objects.exists() and not CampaignSend.objects.exists()
    with freeze_time(eastern(2024, 1, 15, 0, 1)):  # Monday's first tick books the day
        campaign_tasks.run_campaigns()
    with freeze_time(eastern(2024, 1, 15, 0, 2)):
        campaign_tasks.run_campaigns()

    [run] = CatchUp.objects.all()
    assert run.trigger == "morning" and run.started_at == eastern(2024, 1, 15, 0, 1)
    assert CampaignSend.objects.get().created_at >= run.finished_at


def test_staff_run_a_catch_up_now_from_today_and_from_the_admin(admin_client, eager_tasks):
    response = admin_client.post("/sending/catch-up", follow=True)
    admin_client.post("/admin/messaging/catchup/run/")

    assert "Catching up from OpenPhone" in response.content.decode()
    assert list(CatchUp.objects.values_list("trigger", "status")) == [("staff", "succeeded")] * 2
    assert "Catch-up from OpenPhone: " in admin_client.get("/").content.decode()
    assert "Catch up now" in admin_client.get("/admin/messaging/catchup/").content.decode()
