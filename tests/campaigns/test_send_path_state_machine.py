"""The send path as a state machine (issue 17): several campaigns on one number, an OpenPhone that
answers each request at random as its published API allows (202, a final refusal, 429 with
Retry-After, 500 before or after accepting, a timeout after accepting), STOPs mid-flight, pauses,
resumes, cancels and staff retrying failed texts, and a clock that crosses days, a weekend and
the March DST change.

Some campaigns have a follow-up step (issue 39), 1 or 2 business days after the first text, whose
texts go through the same path: the invariants hold for them too.

After every step: no run failed; nothing reached a contact after their opt-out, outside their
window, more than 10 minutes after its slot, or twice for one (campaign, contact); no local day
saw more than the number's daily limit; every campaign's members add up. At the end, with enough
clock and an OpenPhone that accepts, every campaign that was not cancelled completes.

CI runs SEND_PATH_EXAMPLES (default 6) examples of up to 12 steps; by hand, many more:
``SEND_PATH_EXAMPLES=400 .venv/bin/pytest tests/campaigns/test_send_path_state_machine.py``.
"""

import contextlib
import datetime as dt
import json
import os
import random
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from bench.fake_openphone import error_body, gateway_body, message_resource, phone_number
from campaigns import audience, booking, compliance, errors, services
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import recipient_of
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from contacts.timezones import assign_time_zones
from messaging import outbox
from messaging import services as messaging_services
from messaging.backends import openphone as openphone_backend
from messaging.models import Message
from tests.campaigns.conftest import machine_settings
from tests.factories import SHOP_NUMBER, ContactFactory
from tests.openphone import FAKE_API_URL
from tests.openphone.contract import check_calls

EXAMPLES = int(os.getenv("SEND_PATH_EXAMPLES", "6"))
DAILY_LIMIT = 5
# Friday 8 March 2024, 08:30 in Boston: a weekend and the spring-forward change (Sunday) ahead.
START = dt.datetime(2024, 3, 8, 13, 30, tzinfo=dt.UTC)
# Where the contacts live: Massachusetts, Florida (3 texts in 24 hours), California (three hours
# behind: its window opens at 11:00 Boston time), and nowhere known (the strictest window).
PLACES = [("02169", "MA"), ("33101", "FL"), ("90001", "CA"), ("", "")]
OUTCOMES = ["202", "refused", "429", "500 before accepting", "500 after accepting", "timeout after accepting"]


class FlakyOpenPhone:
    """OpenPhone at the HTTP boundary, answering in its published shapes, at random."""

    def __init__(self, seed: int, mock: responses.RequestsMock) -> None:
        self.random = random.Random(seed)
        self.reliable = False
        self.accepted: list[dict] = []  # what OpenPhone took, with when
        mock.add_callback(responses.POST, f"{FAKE_API_URL}/v1/messages", callback=self.send)
        mock.add_callback(responses.GET, f"{FAKE_API_URL}/v1/messages", callback=self.listing)
        mock.get(f"{FAKE_API_URL}/v1/phone-numbers", json={"data": [phone_number(number=SHOP_NUMBER)]})

    @staticmethod
    def _json(status: int, body: dict, headers: dict | None = None):
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)

    def send(self, request):
        body = json.loads(request.body)
        outcome = "202" if self.reliable else self.random.choices(OUTCOMES, weights=[10, 1, 2, 1, 1, 1])[0]
        if outcome == "refused":
            return self._json(404, error_body(404, "Invalid 'to' number"))
        if outcome == "429":
            return self._json(429, gateway_body(), {"Retry-After": str(self.random.choice([1, 40, 2000]))})
        if outcome == "500 before accepting":
            return self._json(500, error_body(500))
        message = message_resource(
            message_id=f"AC{len(self.accepted):06d}",
            from_number=SHOP_NUMBER,
            to_number=body["to"][0],
            text=body["content"],
            created_at=timezone.now(),
        )
        self.accepted.append({**message, "at": timezone.now()})
        if outcome == "500 after accepting":
            return self._json(500, error_body(500))
        if outcome == "timeout after accepting":
            raise requests.ReadTimeout("OpenPhone took the text but answered too late")
        return self._json(202, {"data": message})

    def listing(self, request):
        query = parse_qs(urlparse(request.url).query)
        after = dt.datetime.fromisoformat(query["createdAfter"][0].replace("Z", "+00:00"))
        found = [
            {key: value for key, value in message.items() if key != "at"}
            for message in self.accepted
            if set(query["participants"]) & set(message["to"]) and message["at"] >= after
        ]
        return self._json(200, {"data": found, "totalItems": len(found), "nextPageToken": None})


class SendPath(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.settings = machine_settings(daily_limit=DAILY_LIMIT)
        self.settings.enable()
        openphone_backend.forget_phone_number_ids()
        self.clock_control = freeze_time(START)
        self.clock = self.clock_control.start()
        self.transaction = transaction.atomic()
        self.transaction.__enter__()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.calendar = BusinessCalendar.from_settings()
        self.campaigns: list[Campaign] = []
        self.contacts: list[Contact] = []
        # How many texts OpenPhone had taken when each contact opted out: none after that may be theirs.
        self.accepted_before_stop: dict[int, int] = {}

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        places=st.lists(st.sampled_from(PLACES), min_size=4, max_size=9),
        audiences=st.lists(st.sets(st.integers(0, 8), min_size=1, max_size=9), min_size=2, max_size=3),
        caps=st.lists(st.sampled_from([0, 30]), min_size=3, max_size=3),
        follow_ups=st.lists(st.sampled_from([None, 1, 2]), min_size=3, max_size=3),
    )
    def create(self, seed, places, audiences, caps, follow_ups) -> None:
        self.openphone = FlakyOpenPhone(seed, self.mock)
        for zip_code, state in places:
            self.contacts.append(
                ContactFactory(zip_code=zip_code, state=state, time_zone="", time_zone_source="unknown")
            )
        assign_time_zones()
        for index, picked in enumerate(audiences):
            campaign = services.create_campaign(
                name=f"C{index}",
                template_a=f"C{index}: Hi {{name}}, it's about your foundation",
                from_number=SHOP_NUMBER,
                daily_limit=DAILY_LIMIT,
                frequency_cap_days=caps[index],
            )
            if follow_ups[index] is not None:
                self.campaigns.append(
                    services.set_follow_up(
                        campaign=campaign,
                        template_a=f"C{index} (follow-up): {{name}}, still thinking about it?",
                        after_days=follow_ups[index],
                    )
                )
            members = [self.contacts[i].pk for i in picked if i < len(self.contacts)] or [self.contacts[0].pk]
            audience.add_contacts_by_id(campaign=campaign, contact_ids=members)
            services.start_campaign(campaign=campaign)
            self.campaigns.append(campaign)

    # --- What happens ------------------------------------------------------------------------

    def work(self) -> None:
        """One minute of the system: the clock's run, beat's dispatch tick, the workers' sends."""
        booking.run_campaigns()
        outbox.dispatch()
        for message_id in list(outbox.due_texts(now=timezone.now()).values_list("pk", flat=True)):
            outbox.deliver_message(message_id)

    @rule(minutes=st.integers(1, 200))
    def time_passes(self, minutes: int) -> None:
        for _ in range(min(minutes, 6)):  # a few ticks on the way, as beat would
            self.clock.tick(dt.timedelta(minutes=minutes / min(minutes, 6)))
            self.work()

    @rule(days=st.integers(1, 3))
    def next_morning(self, days: int) -> None:
        local = timezone.localtime() + dt.timedelta(days=days)
        self.clock.move_to(local.replace(hour=9, minute=1, second=0, microsecond=0))
        self.work()

    @rule(data=st.data())
    def someone_writes_stop(self, data) -> None:
        contact = data.draw(st.sampled_from(self.contacts))
        if messaging_services.opt_out(contact=contact, reason="Replied 'STOP'"):
            self.accepted_before_stop[contact.pk] = len(self.openphone.accepted)

    @rule(data=st.data(), action=st.sampled_from(["pause", "resume", "cancel"]))
    def staff_act(self, data, action: str) -> None:
        campaign = data.draw(st.sampled_from(self.campaigns))
        act = {
            "pause": services.pause_campaign,
            "resume": services.resume_campaign,
            "cancel": services.cancel_campaign,
        }[action]
        with contextlib.suppress(errors.CampaignTransitionError):  # not allowed from its state: 409
            act(campaign=campaign)

    @rule(data=st.data())
    def staff_retry_a_failed_text(self, data) -> None:
        failed = list(
            CampaignContact.objects.filter(
                campaign__in=self.campaigns, status="ineligible", ineligible_reason__startswith="Text failed"
            )
        )
        if failed:
            member = data.draw(st.sampled_from(failed))
            with contextlib.suppress(errors.CampaignLocked):  # opted out, or its campaign cancelled: 409
                audience.retry_failed_member(member=member)

    # --- What must always hold -----------------------------------------------------------------

    @invariant()
    def no_run_failed(self) -> None:
        failed = list(Campaign.objects.exclude(last_run_error="").values_list("name", "last_run_error"))
        assert not failed, failed

    @invariant()
    def every_text_that_went_out_was_allowed(self) -> None:
        by_phone = {contact.phone: contact for contact in Contact.objects.all()}
        seen: Counter = Counter()
        per_day: Counter = Counter()
        for position, text in enumerate(self.openphone.accepted):
            person = by_phone[text["to"][0]]
            at = text["at"]
            campaign_name = text["text"].split(":", 1)[0]
            seen[(campaign_name, person.pk)] += 1
            per_day[self.calendar.local_date(at)] += 1
            stopped_after = self.accepted_before_stop.get(person.pk)
            assert stopped_after is None or position < stopped_after, ("texted after STOP", person.phone, at)
            assert compliance.may_send_at(self.calendar, at, recipient_of(person)), ("outside window", person, at)
            # The one live text of theirs in that campaign (the database allows no second one).
            send = CampaignSend.objects.get(
                campaign__name=campaign_name, contact=person, message__status__in=["sent", "delivered"]
            )
            late = at - send.scheduled_for
            assert late <= dt.timedelta(minutes=10), ("sent late", person.phone, late)
        assert max(seen.values(), default=0) <= 1, [key for key, n in seen.items() if n > 1]
        assert max(per_day.values(), default=0) <= DAILY_LIMIT, per_day

    @invariant()
    def every_campaigns_members_add_up(self) -> None:
        for campaign in Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns]):
            members = dict(campaign.memberships.values_list("contact_id", "status"))
            sends = dict(campaign.sends.order_by("id").values_list("contact_id", "message__status"))  # the latest
            assert set(sends) <= set(members)
            outcome = Counter(sends.values())
            without_send = Counter(status for contact_id, status in members.items() if contact_id not in sends)
            assert without_send["scheduled"] == without_send["sent"] == 0, without_send
            sent, failed, cancelled = outcome["sent"], outcome["failed"], outcome["cancelled"]
            in_flight = outcome["queued"] + outcome["sending"] + outcome["unknown"]
            ineligible = without_send["ineligible"] + without_send["flagged"]
            waiting = without_send["pending"]
            assert sent + failed + cancelled + in_flight + ineligible + waiting == len(members)

    def teardown(self) -> None:
        try:
            if self.campaigns:
                self._every_campaign_completes()
            check_calls(self.mock.calls)
        finally:
            self.mock.stop()
            self.mock.reset()
            transaction.set_rollback(True)
            self.transaction.__exit__(None, None, None)
            self.clock_control.stop()
            self.settings.disable()

    def _every_campaign_completes(self) -> None:
        """Given enough clock and an OpenPhone that accepts, nothing is left hanging."""
        self.openphone.reliable = True
        for campaign in Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns], status="paused"):
            services.resume_campaign(campaign=campaign)
        for _ in range(40):
            open_ones = Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns], status="active")
            if not open_ones.exists():
                break
            self._drain_the_day()
            local = timezone.localtime() + dt.timedelta(days=1)
            tomorrow = local.replace(hour=9, minute=0, second=0, microsecond=0)
            # A member passed over until a cap ends keeps its campaign open until then.
            passed_over = CampaignContact.objects.filter(
                campaign__in=open_ones, status="pending", not_before__gt=tomorrow
            )
            if (
                not CampaignContact.objects.filter(campaign__in=open_ones, status="pending")
                .exclude(not_before__gt=tomorrow)
                .exists()
                and passed_over.exists()
            ):
                tomorrow = self.calendar.next_opening(min(passed_over.values_list("not_before", flat=True)))
            self.clock.move_to(tomorrow)
        stuck = list(
            Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns]).exclude(
                status__in=["completed", "cancelled"]
            )
        )
        assert not stuck, [
            (
                c.name,
                c.status,
                dict(Counter(c.memberships.values_list("status", flat=True))),
                list(c.memberships.filter(status="pending").values_list("ineligible_reason", "not_before")),
                timezone.now(),
            )
            for c in stuck
        ]
        self.every_text_that_went_out_was_allowed()

    def _drain_the_day(self) -> None:
        self.work()
        for _ in range(200):
            now = timezone.now()
            upcoming = [
                CampaignSend.objects.filter(message__status="queued", scheduled_for__gt=now)
                .order_by("scheduled_for")
                .first(),
                Message.objects.filter(status="queued", next_attempt_at__gt=now).order_by("next_attempt_at").first(),
            ]
            moments = [
                item.scheduled_for if isinstance(item, CampaignSend) else item.next_attempt_at
                for item in upcoming
                if item is not None
            ]
            window = self.calendar.window(self.calendar.local_date(now))
            if not moments or window is None or min(moments) >= window.closes:
                # Nothing more today: the clock runs to closing so the next run sees the day over.
                self.clock.move_to(window.closes if window and window.closes > now else now)
                self.work()
                return
            self.clock.move_to(min(moments))
            self.work()


# no_cover: untraced, as tests/tracing.py says.
@pytest.mark.long
@pytest.mark.no_cover
@pytest.mark.django_db
def test_the_send_path_keeps_every_rule_whatever_openphone_staff_and_recipients_do():
    run_state_machine_as_test(
        SendPath,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
