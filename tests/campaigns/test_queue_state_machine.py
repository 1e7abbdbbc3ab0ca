"""Booking at the head of the queue and forecasting on read, as a state machine (issue 36).

Random days for several campaigns, at least two of them sharing one number, with daily limits
small enough that days fill: the clock's runs, the dispatch of due texts through the real outbox
to an OpenPhone faked at the HTTP boundary, replies arriving as webhook events (STOP, START, HELP,
a possible opt-out, an ordinary answer), staff pausing, resuming and cancelling, deciding a
possible opt-out and resubscribing someone, contacts joining mid-campaign (by id, or by a real CSV
import into the campaign), a holiday declared, and a clock that moves by minutes, to a morning or
several days ahead (across a weekend and the March DST change).

After every step:
1. no campaign text that went out broke a rule: none after the contact's opt-out, none outside
   business hours (holidays declared before it included) or the recipient's window at the moment
   it went, at most one per (campaign, contact), no local day with more than the number's or the
   campaign's daily limit, and the frequency cap of the campaign that texted later held;
2. the forecasts add up: for every number and day, what every campaign on it is expected to send
   plus what is already booked that day is at most the number's limit; no campaign is expected to
   send more in a day than its own limit; each campaign's plan texts exactly its waiting members,
   on business days only, and each waiting member has an expected moment;
3. every campaign's members add up with its texts, and each run's counts equal the stored rows;
4. no marketing text reached a number on a Do-Not-Call list (as the lists stood when it went)
   without written consent or a business relationship inside its window, nor a Connecticut
   number (or one of unknown state) without written consent, as the consent stood then (issue 37:
   lists are loaded and changed, and consent recorded, between the days);
5. follow-ups (issue 39: some campaigns have one, 1 or 2 business days after the first text, or
   only for the people staff choose a day for): no follow-up text went to someone who wrote to us
   (but for their phone answering by itself) after their first text went, or after staff chose
   their day; none before its business days had passed, as the calendar stood then, nor before the
   day staff chose, nor after staff took the day back; and the numbers' limits, the windows, the
   caps and the forecasts above hold with them (a follow-up's own first text aside, for the
   frequency cap).
At the end, with enough clock, staff deciding what waits for a person and an OpenPhone that
accepts, every campaign that was not cancelled completes, and every follow-up with it.

CI runs QUEUE_MACHINE_EXAMPLES (default 5) examples of up to 15 steps; by hand, many more:
``QUEUE_MACHINE_EXAMPLES=300 .venv/bin/pytest tests/campaigns/test_queue_state_machine.py``
(about 10 seconds an example on two cores: 300 take the best part of an hour; ``--hypothesis-seed=N``
repeats a run).
"""

import contextlib
import datetime as dt
import io
import json
import logging
import os
import random
from collections import Counter, defaultdict

import pytest
import responses
from dateutil.relativedelta import relativedelta
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Max, Min
from django.test import TestCase
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from attackacrack.celery import app as celery_app
from bench.fake_openphone import error_body, message_resource, phone_number
from campaigns import audience, booking, compliance, errors, forecast, services, text_again
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import recipient_of
from campaigns.models import Campaign, CampaignContact, CampaignSend, Holiday
from contacts import dnc, lawful_basis
from contacts.importing import pipeline
from contacts.models import Contact, DoNotCallCoverage, DoNotCallNumber
from contacts.timezones import assign_time_zones
from messaging import outbox, webhook_payloads, webhook_processing
from messaging import services as messaging_services
from messaging.backends import openphone as openphone_backend
from messaging.models import ConsentReview, Message
from tests.campaigns.conftest import machine_settings
from tests.factories import SHOP_NUMBER, ContactFactory
from tests.openphone import FAKE_API_URL
from tests.openphone.contract import check_calls

EXAMPLES = int(os.getenv("QUEUE_MACHINE_EXAMPLES", "5"))
STEPS = int(os.getenv("QUEUE_MACHINE_STEPS", "15"))
NUMBER_LIMIT = 4
SECOND_NUMBER = "+16175550188"
NUMBERS = (SHOP_NUMBER, SECOND_NUMBER)
NUMBER_IDS = {"PNshop0001": SHOP_NUMBER, "PNshop0002": SECOND_NUMBER}  # OpenPhone's ids of them
# Thursday 7 March 2024, 08:30 in Boston: a weekend and the spring-forward change (Sunday) ahead.
START = dt.datetime(2024, 3, 7, 13, 30, tzinfo=dt.UTC)
# Massachusetts, Florida (3 texts in 24 hours), California (its window opens at 11:00 Boston
# time) and nowhere known (the strictest window and caps).
PLACES = [("02169", "MA"), ("33101", "FL"), ("90001", "CA"), ("", ""), ("06103", "CT")]
# A contact's lawful basis: none, written consent, a customer whose 18 months end a month in, an
# inquiry whose 3 months end a week in.
BASES = [
    ("none", None),
    ("express_written", START - relativedelta(years=2)),
    ("customer", START - relativedelta(months=17)),
    ("inquiry", START - relativedelta(months=3, days=-7)),
]
WORDS = ["STOP", "START", "HELP", "Yes, how much?", "Wrong number", "Not now, maybe in the spring",
         "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going."]  # fmt: skip
# A campaign's follow-up step: none, 1 or 2 business days after the first text, or only the people
# staff choose a day for.
FOLLOW_UPS = [None, 1, 2, "chosen days only"]
# What counts as a campaign text that went out: OpenPhone took it (or may have).
WENT_OUT = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNKNOWN)


# --- Where this test reads and moves texts ---------------------------------------------------
# CampaignSend's status fields move to Message (one row per text): these helpers are the only
# places that read a booked text's status or hand texts to the workers.


def deliver_due_texts() -> None:
    """Beat's dispatch tick, and the workers' sends it hands over, run here and now."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox.dispatch()


def booked_texts():
    """Campaign texts booked that count against a day's limit: every one not cancelled."""
    return CampaignSend.objects.exclude(message__status=Message.Status.CANCELLED)


def waiting_texts():
    """Booked campaign texts that have not gone yet (nor ended)."""
    return CampaignSend.objects.filter(message__status__in=[Message.Status.QUEUED, Message.Status.SENDING])


def next_text_due_after(now: dt.datetime) -> dt.datetime | None:
    """The next slot or retry still to come."""
    slot = waiting_texts().filter(scheduled_for__gt=now).aggregate(at=Min("scheduled_for"))["at"]
    retry = Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__gt=now).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    return min((moment for moment in (slot, retry) if moment), default=None)


# ----------------------------------------------------------------------------------------------


class OpenPhone:
    """OpenPhone at the HTTP boundary, in its published shapes: it takes texts, and now and then
    refuses one for good (a number it cannot text), until it is told to take everything."""

    def __init__(self, seed: int, mock: responses.RequestsMock) -> None:
        self.random = random.Random(seed)
        self.refuses_some = True
        self.accepted: list[dict] = []  # what it took, in order, with when
        mock.add_callback(responses.POST, f"{FAKE_API_URL}/v1/messages", callback=self.send)
        mock.get(
            f"{FAKE_API_URL}/v1/phone-numbers",
            json={"data": [phone_number(number=number, number_id=pk) for pk, number in NUMBER_IDS.items()]},
        )

    def send(self, request):
        body = json.loads(request.body)
        headers = {"Content-Type": "application/json"}
        if self.refuses_some and self.random.random() < 0.05:
            return 404, headers, json.dumps(error_body(404, "Invalid 'to' number"))
        message = message_resource(
            message_id=f"AC{len(self.accepted):06d}",
            from_number=NUMBER_IDS.get(body["from"], body["from"]),
            to_number=body["to"][0],
            text=body["content"],
            created_at=timezone.now(),
        )
        self.accepted.append({**message, "at": timezone.now()})
        return 202, headers, json.dumps({"data": message})


class ErrorsLogged(logging.Handler):
    """The workers log a text's unexpected error and go on: here it fails the step."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.settings = machine_settings(daily_limit=NUMBER_LIMIT)
        self.settings.enable()
        self.eager = celery_app.conf["CELERY_TASK_ALWAYS_EAGER"]
        celery_app.conf["CELERY_TASK_ALWAYS_EAGER"] = True
        openphone_backend.forget_phone_number_ids()
        self.errors = ErrorsLogged()
        logging.getLogger("messaging").addHandler(self.errors)
        self.clock_control = freeze_time(START)
        self.clock = self.clock_control.start()
        self.transaction = transaction.atomic()
        self.transaction.__enter__()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.campaigns: list[Campaign] = []
        self.follow_ups: list[Campaign] = []
        self.contacts: list[Contact] = []
        # Each day staff chose to text someone again (or took back: None), by (follow-up, contact),
        # with its place in OpenPhone's log and the moment; and each reply's place and moment.
        self.chosen: dict[tuple[int, int], list[tuple[int, dt.datetime, dt.date | None]]] = defaultdict(list)
        self.replies: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
        self.imported = 0
        # Where in OpenPhone's log of accepted texts each contact opted out and back in, and each
        # holiday was declared: a text at or after that place must respect it.
        self.consent_changes: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        self.opted_out: set[int] = set()
        self.holidays_from: dict[dt.date, int] = {}
        # Likewise where each contact's number joined or left a list, and their basis changed.
        self.listed_changes: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self.basis_changes: dict[int, list[tuple[int, str, dt.datetime | None]]] = defaultdict(list)

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        places=st.lists(st.tuples(st.sampled_from(PLACES), st.sampled_from(BASES)), min_size=4, max_size=10),
        listed=st.sets(st.integers(0, 9), max_size=6),
        plans=st.lists(
            st.tuples(
                st.sets(st.integers(0, 9), min_size=1, max_size=10),  # the audience
                st.sampled_from([1, 2, 3, 5]),  # the campaign's daily limit
                st.sampled_from([0, 2, 7]),  # its frequency cap in days
                st.sampled_from([Campaign.PriorContactPolicy.SKIP, Campaign.PriorContactPolicy.FLAG]),
                st.sampled_from(["now", "tomorrow"]),  # started, or scheduled for tomorrow 10:00
                st.sampled_from(NUMBERS),
                st.sampled_from(FOLLOW_UPS),
            ),
            min_size=2,
            max_size=4,
        ),
    )
    def create(self, seed, places, listed, plans) -> None:
        self.openphone = OpenPhone(seed, self.mock)
        for (zip_code, state), (basis, at) in places:
            contact = ContactFactory(zip_code=zip_code, state=state, time_zone="", time_zone_source="unknown")
            self._record_basis(contact, basis, at)
            self.contacts.append(contact)
        assign_time_zones()
        # The registry's copy for the shop's area codes: some of the audience on it.
        on_list = [self.contacts[i].phone for i in sorted(listed) if i < len(self.contacts)]
        self._load_list("".join(f"{phone[2:5]},{phone[5:]}\n" for phone in on_list) + "617,2999999\n508,2999999\n")
        for index, (picked, limit, cap, policy, start, number, follow_up) in enumerate(plans):
            campaign = services.create_campaign(
                name=f"C{index}",
                template_a=f"C{index}: Hi {{name}}, it's about your foundation",
                template_b=f"C{index}: {{name}}, a crack in the wall?" if index % 2 else "",
                daily_limit=limit,
                frequency_cap_days=cap,
                prior_contact_policy=policy,
                from_number=SHOP_NUMBER if index < 2 else number,  # the first two share one number
            )
            if follow_up is not None:
                self.follow_ups.append(
                    services.set_follow_up(
                        campaign=campaign,
                        template_a=f"C{index} (follow-up): {{name}}, still thinking about it?",
                        template_b=f"C{index} (follow-up): any cracks yet, {{name}}?" if index % 2 else "",
                        after_days=None if follow_up == "chosen days only" else follow_up,
                    )
                )
            members = [self.contacts[i].pk for i in picked if i < len(self.contacts)] or [self.contacts[0].pk]
            audience.add_contacts_by_id(campaign=campaign, contact_ids=members)
            if start == "now":
                self._check_run(services.start_campaign(campaign=campaign))
            else:
                tomorrow = timezone.localtime() + dt.timedelta(days=1)
                services.schedule_campaign(campaign=campaign, starts_at=tomorrow.replace(hour=10, minute=0))
            self.campaigns.append(campaign)

    # --- What happens ------------------------------------------------------------------------

    def work(self) -> None:
        """One minute of the system: the clock's run, then beat's dispatch and the workers' sends."""
        before = CampaignSend.objects.aggregate(last=Max("pk"))["last"] or 0
        for result in booking.run_campaigns():
            self._check_run(result, booked_after=before)
        deliver_due_texts()

    def _check_run(self, result: booking.ExecutionResult, *, booked_after: int | None = None) -> None:
        """What a run reports is what it stored."""
        campaign = result.campaign
        stored = Counter(campaign.memberships.values_list("status", flat=True))
        assert (result.queued, result.ineligible, result.flagged) == (
            stored["pending"],
            stored["ineligible"],
            stored["flagged"],
        ), (campaign.name, result.queued, result.ineligible, result.flagged, stored)
        assert result.booked_today == booked_texts().filter(campaign=campaign, business_date=result.today).count()
        if booked_after is not None:
            assert result.sent == campaign.sends.filter(pk__gt=booked_after).count(), (campaign.name, result.sent)

    def _note_consent(self) -> None:
        """Where in OpenPhone's log each contact's opt-out or resubscribe falls."""
        now_out = set(Contact.objects.filter(opted_out_at__isnull=False).values_list("pk", flat=True))
        place = len(self.openphone.accepted)
        for contact_id in now_out ^ self.opted_out:
            self.consent_changes[contact_id].append((place, contact_id in now_out))
        self.opted_out = now_out

    @rule(minutes=st.integers(1, 200))
    def time_passes(self, minutes: int) -> None:
        for _ in range(min(minutes, 5)):  # a few ticks on the way, as beat would
            self.clock.tick(dt.timedelta(minutes=minutes / min(minutes, 5)))
            self.work()

    @rule(days=st.integers(0, 5), hour=st.integers(7, 19), minute=st.sampled_from([0, 1, 30, 59]))
    def clock_jumps(self, days: int, hour: int, minute: int) -> None:
        now = timezone.localtime()
        target = (now + dt.timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= now:
            target += dt.timedelta(days=1)
        self.clock.move_to(target)
        self.work()

    @rule(data=st.data(), words=st.sampled_from(WORDS))
    def a_text_arrives(self, data, words: str) -> None:
        """A reply as OpenPhone's webhook delivers it, processed as the worker does."""
        self._they_write(data.draw(st.sampled_from(self.contacts)), words)

    def _texted_lately(self):
        return Contact.objects.filter(
            messages__kind=Message.Kind.CAMPAIGN, messages__sent_at__gte=timezone.now() - dt.timedelta(days=3)
        ).distinct()

    @precondition(lambda self: self._texted_lately().exists())
    @rule(data=st.data(), words=st.sampled_from(WORDS))
    def someone_answers_a_campaign_text(self, data, words: str) -> None:
        """A reply from someone a campaign texted in the last three days: it answers that text."""
        self._they_write(data.draw(st.sampled_from(list(self._texted_lately().order_by("pk")))), words)

    def _they_write(self, contact: Contact, words: str) -> None:
        now = timezone.now()
        payload = webhook_payloads.message_event(
            "message.received",
            system=webhook_payloads.LEGACY,
            sender=contact.phone,
            recipient=SHOP_NUMBER,
            text=words,
            at=now,
        )
        event = webhook_processing.message_event(payload)
        webhook_processing.apply_message_event("message.received", event, received_at=now)
        self.replies[contact.pk].append((len(self.openphone.accepted), now))
        self._note_consent()

    @rule(data=st.data(), opted_out=st.booleans())
    def staff_decide_a_possible_opt_out(self, data, opted_out: bool) -> None:
        waiting = list(ConsentReview.objects.filter(decision=""))
        if waiting:
            messaging_services.decide_review(review=data.draw(st.sampled_from(waiting)), opted_out=opted_out)
            self._note_consent()

    @rule(data=st.data())
    def staff_resubscribe_someone(self, data) -> None:
        opted_out = list(Contact.objects.filter(opted_out_at__isnull=False))
        if opted_out:
            contact = data.draw(st.sampled_from(opted_out))
            messaging_services.resubscribe(contact=contact, reason="Asked us on the phone to text again")
            self._note_consent()

    @precondition(lambda self: Message.objects.filter(in_reply_to_send__campaign__follow_up__isnull=False).exists())
    @rule(data=st.data(), days=st.integers(0, 8))
    def staff_choose_a_day_to_text_again(self, data, days: int) -> None:
        """From a reply to a campaign text: text them again on a day (the follow-up's campaign may
        have none, the day may have passed: refused)."""
        replies = list(
            Message.objects.filter(direction=Message.Direction.INBOUND, in_reply_to_send__isnull=False).order_by("pk")
        )
        if not replies:
            return
        reply = data.draw(st.sampled_from(replies))
        day = timezone.localdate() + dt.timedelta(days=days - 1)
        with contextlib.suppress(errors.CampaignLocked, errors.NoFollowUpStep, errors.TextAgainRefused):
            member = text_again.text_again(reply=reply, on=day, user=None)
            self.chosen[(member.campaign_id, member.contact_id)].append(
                (len(self.openphone.accepted), timezone.now(), day)
            )

    @rule(data=st.data())
    def staff_take_a_day_back(self, data) -> None:
        planned = list(
            CampaignContact.objects.filter(text_again_on__isnull=False, status__in=text_again.PLANNED).order_by("pk")
        )
        if planned:
            member = text_again.cancel_text_again(member=data.draw(st.sampled_from(planned)), user=None)
            self.chosen[(member.campaign_id, member.contact_id)].append(
                (len(self.openphone.accepted), timezone.now(), None)
            )

    @rule(data=st.data(), action=st.sampled_from(["pause", "resume", "cancel"]))
    def staff_act(self, data, action: str) -> None:
        campaign = data.draw(st.sampled_from(self.campaigns + self.follow_ups))
        with contextlib.suppress(errors.CampaignTransitionError):  # not allowed from its state: 409
            if action == "pause":
                services.pause_campaign(campaign=campaign)
            elif action == "cancel":
                services.cancel_campaign(campaign=campaign)
            else:
                self._check_run(services.resume_campaign(campaign=campaign))

    @rule(data=st.data(), how=st.sampled_from(["ids", "import"]))
    def the_audience_grows(self, data, how: str) -> None:
        campaign = data.draw(st.sampled_from(self.campaigns))
        with contextlib.suppress(errors.CampaignClosed):  # a closed campaign takes no one: 409
            if how == "ids":
                picked = data.draw(st.lists(st.sampled_from(self.contacts), min_size=1, max_size=3))
                audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk for contact in picked])
                return
            rows = []
            for _ in range(data.draw(st.integers(1, 3))):
                zip_code, state = data.draw(st.sampled_from(PLACES))
                # Now and then a number no business number can text (toll-free): kept, never booked.
                area = "888" if data.draw(st.integers(0, 4)) == 0 else "508"
                rows.append(f"{area}-555-{100 + self.imported:04d},Pat,{zip_code},{state}")
                self.imported += 1
            csv = "phone,first_name,zip,state\n" + "\n".join(rows) + "\n"
            pipeline.import_contacts(file=io.BytesIO(csv.encode()), file_name="more.csv", campaign=campaign)
            known = {contact.pk for contact in self.contacts}
            self.contacts += list(Contact.objects.exclude(pk__in=known).order_by("pk"))

    def _record_basis(self, contact: Contact, basis: str, at: dt.datetime | None) -> None:
        values = {"consent_basis": basis, "consent_at": at}
        if basis == "express_written":
            values |= {"consent_source": "Signed estimate", "consent_wording": "Text me offers."}
        lawful_basis.record_consent(contact, values, via="page")
        self.basis_changes[contact.pk].append((len(self.openphone.accepted), basis, at))

    def _load_list(self, lines: str, *, changes: bool = False) -> None:
        """A copy of the registry of today, as staff load it; where each number joined or left it."""
        before = set(DoNotCallNumber.objects.values_list("number", flat=True))
        dnc.load_list(io.BytesIO(lines.encode()), list_name="national", as_of=timezone.localdate())
        after = set(DoNotCallNumber.objects.values_list("number", flat=True))
        for number in before ^ after:
            self.listed_changes[f"+{number}"].append((len(self.openphone.accepted), number in after))

    @rule(data=st.data(), basis=st.sampled_from(BASES))
    def staff_record_consent(self, data, basis) -> None:
        contact = data.draw(st.sampled_from(self.contacts))
        kind, at = basis
        self._record_basis(contact, kind, at and min(at, timezone.now()))

    @rule(data=st.data())
    def a_change_list_is_loaded(self, data) -> None:
        # A change list only changes area codes a full list was loaded for (else it is refused).
        covered = set(DoNotCallCoverage.objects.values_list("area_code", flat=True))
        listable = [contact for contact in self.contacts if contact.phone[2:5] in covered]
        if not listable:
            return
        contact = data.draw(st.sampled_from(listable))
        listed = DoNotCallNumber.objects.filter(number=int(contact.phone[1:])).exists()
        change = "D" if listed else "A"
        self._load_list(f"{contact.phone[2:5]},{contact.phone[5:]},{change}\n617,2999999,A\n508,2999999,A\n",
                        changes=True)  # fmt: skip

    # Today most often: texts already booked for today must then wait for the next business day.
    @rule(days_ahead=st.sampled_from([0, 0, 1, 4]))
    def a_holiday_is_declared(self, days_ahead: int) -> None:
        day = timezone.localdate() + dt.timedelta(days=days_ahead)
        if not Holiday.objects.filter(date=day).exists():
            Holiday.objects.create(date=day, name="Declared mid-campaign")
            self.holidays_from[day] = len(self.openphone.accepted)

    # --- What must always hold -----------------------------------------------------------------

    @invariant()
    def no_run_or_worker_failed(self) -> None:
        failed = list(Campaign.objects.exclude(last_run_error="").values_list("name", "last_run_error"))
        assert not failed, failed
        assert not self.errors.records, [record.getMessage() for record in self.errors.records]

    def texts_that_went_out(self) -> list[dict]:
        """Every campaign text that went out, from the outbox, with its place in OpenPhone's log."""
        place = {text["id"]: index for index, text in enumerate(self.openphone.accepted)}
        names = {campaign.name: campaign for campaign in Campaign.objects.filter(pk__in=self._ids)}
        texts = []
        for message in Message.objects.filter(
            direction=Message.Direction.OUTBOUND, kind=Message.Kind.CAMPAIGN, status__in=WENT_OUT
        ).order_by("sent_at", "pk"):
            assert message.sent_at is not None, message
            texts.append(
                {
                    "campaign": names[message.body.split(":", 1)[0]],
                    "contact_id": message.contact_id,
                    "from": message.from_number,
                    "at": message.sent_at,
                    "place": place[message.external_id],
                }
            )
        return texts

    @property
    def _ids(self) -> list[int]:
        return [campaign.pk for campaign in self.campaigns + self.follow_ups]

    @invariant()
    def every_text_that_went_out_kept_the_rules(self) -> None:
        texts = self.texts_that_went_out()
        contacts = {contact.pk: contact for contact in Contact.objects.all()}
        names = {campaign.name for campaign in Campaign.objects.filter(pk__in=self._ids)}
        took = [text for text in self.openphone.accepted if text["text"].split(":", 1)[0] in names]
        assert len(took) == len(texts), "OpenPhone took campaign texts the outbox does not show as gone"
        per_campaign: Counter = Counter()
        per_number_day: Counter = Counter()
        per_campaign_day: Counter = Counter()
        by_contact: dict[int, list[dict]] = defaultdict(list)
        for text in texts:
            contact, at, campaign = contacts[text["contact_id"]], text["at"], text["campaign"]
            # Opted out (and not back in) at the place in OpenPhone's log where this text stands?
            changes = [opted for place, opted in self.consent_changes[contact.pk] if place <= text["place"]]
            assert not (changes and changes[-1]), ("texted after their opt-out", campaign.name, contact.phone, at)
            # The calendar as it stood when the text went: holidays declared later do not count.
            calendar = BusinessCalendar(
                zone=django_settings.BUSINESS_TIME_ZONE,
                days=django_settings.BUSINESS_DAYS,
                opens=django_settings.BUSINESS_OPENS,
                closes=django_settings.BUSINESS_CLOSES,
                holidays=frozenset(day for day, place in self.holidays_from.items() if place <= text["place"]),
            )
            assert calendar.is_open(at), ("outside business hours", campaign.name, contact.phone, at)
            assert compliance.may_send_at(calendar, at, recipient_of(contact)), ("outside their window", contact, at)
            day = calendar.local_date(at)
            per_campaign[(campaign.pk, contact.pk)] += 1
            per_number_day[(text["from"], day)] += 1
            per_campaign_day[(campaign, day)] += 1
            by_contact[contact.pk].append(text)
        assert max(per_campaign.values(), default=0) <= 1, [key for key, n in per_campaign.items() if n > 1]
        assert max(per_number_day.values(), default=0) <= NUMBER_LIMIT, per_number_day
        over = [(c.name, day, n) for (c, day), n in per_campaign_day.items() if n > c.daily_limit]
        assert not over, over
        for contact_id, theirs in by_contact.items():
            for earlier, later in zip(theirs, theirs[1:], strict=False):
                # Texts of one contact in order: only the closest pair of campaigns can be too close.
                cap = dt.timedelta(days=later["campaign"].frequency_cap_days)
                # A follow-up's own first text is no other campaign's (it follows it).
                if earlier["campaign"].pk not in later["campaign"].step_ids and cap:
                    assert later["at"] - earlier["at"] >= cap, (
                        "frequency cap broken",
                        earlier["campaign"].name,
                        later["campaign"].name,
                        contacts[contact_id].phone,
                        earlier["at"],
                        later["at"],
                    )

    @invariant()
    def no_follow_up_went_to_someone_who_wrote_nor_too_soon(self) -> None:
        texts = self.texts_that_went_out()
        first_texts = {(text["campaign"].pk, text["contact_id"]): text for text in texts}
        for text in texts:
            follow_up, contact_id = text["campaign"], text["contact_id"]
            if not follow_up.is_follow_up:
                continue
            chosen = [entry for entry in self.chosen[(follow_up.pk, contact_id)] if entry[0] <= text["place"]]
            if chosen:
                _, since, day = chosen[-1]
                assert day is not None, ("texted after staff took the day back", follow_up.name, contact_id)
                assert timezone.localtime(text["at"]).date() >= day, ("before the day chosen", day, text["at"])
            else:
                first = first_texts[(follow_up.follow_up_of_id, contact_id)]
                since = first["at"]
                calendar = self._calendar_at(text["place"])
                due = calendar.business_day_after(calendar.local_date(first["at"]), follow_up.follow_up_after_days)
                assert calendar.local_date(text["at"]) >= due, ("too soon", follow_up.name, first["at"], text["at"])
            wrote = [
                at
                for place, at in self.replies[contact_id]
                if place <= text["place"] and at > since and not self._automatic(contact_id, at)
            ]
            assert not wrote, ("followed up someone who wrote", follow_up.name, contact_id, since, wrote)

    def _automatic(self, contact_id: int, at: dt.datetime) -> bool:
        return Message.objects.filter(
            contact_id=contact_id, direction=Message.Direction.INBOUND, created_at=at, intent="automatic"
        ).exists()

    def _calendar_at(self, place: int) -> BusinessCalendar:
        """The business calendar as it stood at this place in OpenPhone's log."""
        return BusinessCalendar(
            zone=django_settings.BUSINESS_TIME_ZONE,
            days=django_settings.BUSINESS_DAYS,
            opens=django_settings.BUSINESS_OPENS,
            closes=django_settings.BUSINESS_CLOSES,
            holidays=frozenset(day for day, declared in self.holidays_from.items() if declared <= place),
        )

    @invariant()
    def every_marketing_text_had_a_lawful_basis(self) -> None:
        def stood(changes: list[tuple], initial: tuple, place: int) -> tuple:
            return ([change for change in changes if change[0] <= place] or [initial])[-1]

        for text in self.texts_that_went_out():
            contact = Contact.objects.get(pk=text["contact_id"])
            _, basis, given = stood(self.basis_changes[contact.pk], (0, "none", None), text["place"])
            listed = stood(self.listed_changes[contact.phone], (0, False), text["place"])[1]
            # The windows written apart from the code: 18 months for a customer, 3 for an inquiry.
            window = {"customer": relativedelta(months=18), "inquiry": relativedelta(months=3)}.get(basis)
            in_force = basis == "express_written" or (window is not None and text["at"] < given + window)
            assert not listed or in_force, ("listed without a basis", contact.phone, basis, given, text["at"])
            state = recipient_of(contact).state
            assert state not in ("CT", "") or basis == "express_written", ("no written consent", state, text)

    @invariant()
    def the_forecasts_add_up(self) -> None:
        now = timezone.now()
        calendar = BusinessCalendar.from_settings()
        today = calendar.local_date(now)
        campaigns = {campaign.pk: campaign for campaign in Campaign.objects.filter(pk__in=self._ids)}
        for number in NUMBERS:
            plans = forecast.number_plan(number, now=now, calendar=calendar)
            on_clock = {
                pk for pk, c in campaigns.items() if c.from_number == number and c.status in forecast.PLANNED_STATUSES
            }
            assert set(plans) == on_clock, (number, set(plans), on_clock)
            booked = Counter(booked_texts().filter(from_number=number).values_list("business_date", flat=True))
            for day in {planned.date for plan in plans.values() for planned in plan.days}:
                expected = sum(plan.texts_on(day) for plan in plans.values())
                assert expected + booked[day] <= NUMBER_LIMIT, (number, day, expected, booked[day])
            for campaign_id, plan in plans.items():
                campaign = campaigns[campaign_id]
                own = Counter(booked_texts().filter(campaign=campaign).values_list("business_date", flat=True))
                dates = [planned.date for planned in plan.days]
                assert dates == sorted(set(dates)), (campaign.name, dates)
                for planned in plan.days:
                    assert planned.texts > 0 and calendar.window(planned.date) is not None, (campaign.name, planned)
                    assert planned.date >= today, (campaign.name, planned)
                    assert planned.texts + own[planned.date] <= campaign.daily_limit, (campaign.name, planned)
                waiting = list(campaign.memberships.filter(status=CampaignContact.Status.PENDING))
                assert sum(planned.texts for planned in plan.days) == plan.waiting, campaign.name
                if campaign.is_follow_up:  # with those its campaign's texts will bring
                    assert plan.waiting >= len(waiting), (campaign.name, plan.waiting, len(waiting))
                else:
                    assert len(waiting) == plan.waiting, (campaign.name, plan.waiting, len(waiting))
                moments = forecast.expected_moments(campaign, waiting, now=now, calendar=calendar)
                assert len(moments) == len(waiting), (campaign.name, len(moments), len(waiting))
                for moment in moments.values():
                    assert calendar.window(calendar.local_date(moment)) is not None, (campaign.name, moment)

    @invariant()
    def every_campaigns_members_add_up(self) -> None:
        went_out = defaultdict(set)
        for text in self.texts_that_went_out():
            went_out[text["campaign"].pk].add(text["contact_id"])
        for campaign in Campaign.objects.filter(pk__in=self._ids):
            members = defaultdict(set)
            for contact_id, status in campaign.memberships.values_list("contact_id", "status"):
                members[status].add(contact_id)
            assert set(members) <= set(CampaignContact.Status.values), set(members)
            waiting = set(waiting_texts().filter(campaign=campaign).values_list("contact_id", flat=True))
            # A member is sent exactly when its text went out.
            assert members["sent"] == went_out[campaign.pk], (campaign.name, members["sent"], went_out[campaign.pk])
            if campaign.status != Campaign.Status.CANCELLED:
                # Booked exactly when a text of theirs waits to go.
                assert members["scheduled"] == waiting, (campaign.name, members["scheduled"], waiting)
            else:
                assert not waiting, (campaign.name, waiting)
            total = campaign.memberships.count()
            assert sum(len(contact_ids) for contact_ids in members.values()) == total

    # --- The end ---------------------------------------------------------------------------------

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
            logging.getLogger("messaging").removeHandler(self.errors)
            celery_app.conf["CELERY_TASK_ALWAYS_EAGER"] = self.eager
            self.settings.disable()

    def _every_campaign_completes(self) -> None:
        """Given enough clock, staff who decide what waits for them and an OpenPhone that accepts,
        nothing is left hanging."""
        self.openphone.refuses_some = False
        for campaign in Campaign.objects.filter(pk__in=self._ids, status=Campaign.Status.PAUSED):
            services.resume_campaign(campaign=campaign)
        for _ in range(90):  # days: two campaigns' 7-day caps and a backlog of limited days
            if not Campaign.objects.filter(pk__in=self._ids, status__in=forecast.PLANNED_STATUSES).exists():
                break
            self._staff_review_what_waits_for_them()
            self._someone_says_not_now()
            self._drain_the_day()
            morning = timezone.localtime() + dt.timedelta(days=1)
            self.clock.move_to(morning.replace(hour=9, minute=0, second=0, microsecond=0))
        stuck = list(Campaign.objects.filter(pk__in=self._ids).exclude(status__in=["completed", "cancelled"]))
        assert not stuck, [
            (c.name, c.status, dict(Counter(c.memberships.values_list("status", flat=True)))) for c in stuck
        ]
        self.every_text_that_went_out_kept_the_rules()
        self.every_campaigns_members_add_up()
        self.no_follow_up_went_to_someone_who_wrote_nor_too_soon()

    def _someone_says_not_now(self) -> None:
        """Each morning, two people a campaign with a follow-up texted the day before answer: the
        first "not now", and staff choose a day for them two days on (the second's phone answers by
        itself, which is no answer). Their follow-ups must wait, or go, accordingly."""
        texted = list(
            Message.objects.filter(
                kind=Message.Kind.CAMPAIGN,
                campaign__follow_up__isnull=False,
                sent_at__gte=timezone.now() - dt.timedelta(days=1),
            ).order_by("sent_at", "pk")[:2]
        )
        for text, words in zip(texted, WORDS[-2:], strict=False):
            self._they_write(text.contact, words)
        if texted:
            reply = Message.objects.filter(contact=texted[0].contact, direction=Message.Direction.INBOUND).latest("pk")
            with contextlib.suppress(errors.CampaignLocked, errors.NoFollowUpStep, errors.TextAgainRefused):
                member = text_again.text_again(reply=reply, on=timezone.localdate() + dt.timedelta(days=2), user=None)
                self.chosen[(member.campaign_id, member.contact_id)].append(
                    (len(self.openphone.accepted), timezone.now(), member.text_again_on)
                )

    def _staff_review_what_waits_for_them(self) -> None:
        """Each morning: possible opt-outs read as none, and flagged members approved (a member
        is flagged when it reaches the head of the queue, so new ones come up day by day)."""
        for review in ConsentReview.objects.filter(decision=""):
            messaging_services.decide_review(review=review, opted_out=False)
        # A new copy of the registry now and then: a copy over 31 days old stops marketing texts.
        listed = DoNotCallNumber.objects.order_by("number").values_list("number", flat=True)
        self._load_list("".join(f"{str(number)[1:4]},{str(number)[4:]}\n" for number in listed))
        for member in CampaignContact.objects.filter(campaign__in=self._ids, status=CampaignContact.Status.FLAGGED):
            audience.approve_flagged_member(member=member)

    def _drain_the_day(self) -> None:
        self.work()
        calendar = BusinessCalendar.from_settings()
        for _ in range(100):
            now = timezone.now()
            window = calendar.window(calendar.local_date(now))
            due = next_text_due_after(now)
            if due is None or window is None or due >= window.closes:
                # Nothing more today: the clock runs to closing so the next run sees the day over.
                self.clock.move_to(window.closes if window and window.closes > now else now)
                self.work()
                return
            self.clock.move_to(due)
            self.work()


# no_cover: untraced, as tests/tracing.py says.
@pytest.mark.long
@pytest.mark.no_cover
@pytest.mark.django_db
def test_booking_at_the_head_of_the_queue_keeps_every_rule_and_forecasts_add_up():
    run_state_machine_as_test(
        QueueMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
