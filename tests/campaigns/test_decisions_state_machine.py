"""The clock deciding only what changed, as a state machine: whatever staff, recipients and the
worker do between ticks, every tick decides what a tick deciding everything from scratch decides.

Campaigns on one number share contacts in Massachusetts, Florida, California and nowhere known;
between ticks, texts go out, recipients reply, opt out or write something that may be an opt-out,
staff decide reviews, approve flagged members, add and remove members, contacts move and gain
houses, a holiday is declared, campaigns pause and resume, the clock crosses days. After each tick
the state of every campaign is compared with that of a tick from the same state with every
campaign's record deleted (run first, inside a savepoint rolled back), and so is what each run reports.

CI runs DECISION_EXAMPLES (default 10) examples of up to 15 steps; by hand, many more:
``DECISION_EXAMPLES=300 .venv/bin/pytest tests/campaigns/test_decisions_state_machine.py``.
"""

import contextlib
import datetime as dt
import os

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from campaigns import audience, booking, errors, services
from campaigns.models import Campaign, CampaignContact, CampaignDecision, CampaignSend, Holiday
from contacts.models import Contact, Property
from messaging import outbox
from messaging import services as messaging_services
from messaging.models import ConsentReview
from tests.factories import SHOP_NUMBER, ContactFactory, InboundMessageFactory, PropertyContactFactory

EXAMPLES = int(os.getenv("DECISION_EXAMPLES", "10"))
# Monday 15 January 2024, 09:30 in Boston.
START = dt.datetime(2024, 1, 15, 14, 30, tzinfo=dt.UTC)
PLACES = [
    ("MA", "America/New_York"),
    ("FL", "America/New_York"),
    ("CA", "America/Los_Angeles"),
    ("", ""),
]
# Across every example: how many runs decided only some members (the path under test was taken).
runs_seen = {"partial": 0}


def state() -> list[tuple]:
    """Everything the runs decide, for every campaign."""
    members = CampaignContact.objects.order_by("campaign_id", "contact_id").values_list(
        "campaign_id", "contact_id", "status", "ineligible_reason", "queued_for"
    )
    sends = CampaignSend.objects.order_by("campaign_id", "contact_id", "id").values_list(
        "campaign_id", "contact_id", "message__status", "scheduled_for"
    )
    campaigns = Campaign.objects.order_by("id").values_list("id", "status")
    return [*members, *sends, *campaigns]


class Decisions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.settings = override_settings(SMS_DAILY_LIMIT_PER_NUMBER=4, RECIPIENT_RULES_FILE="")
        self.settings.enable()
        self.clock_control = freeze_time(START)
        self.clock = self.clock_control.start()
        self.transaction = transaction.atomic()
        self.transaction.__enter__()
        self.campaigns: list[Campaign] = []
        self.contacts: list[Contact] = []

    @initialize(
        places=st.lists(st.sampled_from(PLACES), min_size=5, max_size=12),
        audiences=st.lists(st.sets(st.integers(0, 11), min_size=1, max_size=12), min_size=1, max_size=3),
        caps=st.lists(st.sampled_from([0, 30]), min_size=3, max_size=3),
        policies=st.lists(st.sampled_from(Campaign.PriorContactPolicy.values), min_size=3, max_size=3),
        split=st.sampled_from([50, 70, 100]),
    )
    def create(self, places, audiences, caps, policies, split) -> None:
        for state_code, zone in places:
            self.contacts.append(ContactFactory(state=state_code, time_zone=zone, zip_code=""))
        for index, picked in enumerate(audiences):
            campaign = services.create_campaign(
                name=f"C{index}",
                template_a="Hi {name}, A",
                template_b="" if split == 100 else "Hi {name}, B",
                split_percent_a=split,
                from_number=SHOP_NUMBER,
                daily_limit=2 + index,
                frequency_cap_days=caps[index],
                prior_contact_policy=policies[index],
            )
            members = [self.contacts[i].pk for i in picked if i < len(self.contacts)] or [self.contacts[0].pk]
            audience.add_contacts_by_id(campaign=campaign, contact_ids=members)
            services.start_campaign(campaign=campaign)
            self.campaigns.append(campaign)
        self.tick()

    # --- The clock ----------------------------------------------------------------------------

    def tick(self) -> None:
        """One clock tick; first, from the same state in a savepoint rolled back, the same tick with
        every campaign's record deleted: both must decide the same."""
        now = timezone.now()
        with transaction.atomic():
            CampaignDecision.objects.all().delete()
            reported_from_scratch = booking.run_campaigns(now=now)
            from_scratch = state()
            transaction.set_rollback(True)
        runs_seen["partial"] += CampaignDecision.objects.filter(campaign__status=Campaign.Status.ACTIVE).count()
        reported = booking.run_campaigns(now=now)
        assert state() == from_scratch
        assert reported == reported_from_scratch

    @rule(minutes=st.integers(1, 240))
    def time_passes(self, minutes: int) -> None:
        self.clock.tick(dt.timedelta(minutes=minutes))
        self.tick()

    @rule(days=st.integers(1, 3), hour=st.sampled_from([8, 9, 12, 16, 18]))
    def another_day(self, days: int, hour: int) -> None:
        local = timezone.localtime() + dt.timedelta(days=days)
        self.clock.move_to(local.replace(hour=hour, minute=5, second=0, microsecond=0))
        self.tick()

    @rule()
    def the_worker_sends_what_is_due(self) -> None:
        for message_id in list(outbox.due_texts(now=timezone.now()).values_list("pk", flat=True)):
            outbox.deliver_message(message_id)
        self.tick()

    # --- Recipients ---------------------------------------------------------------------------

    @rule(data=st.data(), body=st.sampled_from(["How much?", "Please stop", "STOP", "not interested"]))
    def someone_writes(self, data, body: str) -> None:
        contact = data.draw(st.sampled_from(self.contacts))
        message = InboundMessageFactory(contact=contact, body=body)
        if body == "STOP":
            messaging_services.opt_out(contact=contact, reason="Replied 'STOP'", message=message)
        elif body == "Please stop":
            messaging_services.hold_for_review(message)

    @rule(data=st.data(), opted_out=st.booleans())
    def staff_decide_a_review(self, data, opted_out: bool) -> None:
        reviews = list(ConsentReview.objects.filter(decision=""))
        if reviews:
            messaging_services.decide_review(review=data.draw(st.sampled_from(reviews)), opted_out=opted_out)

    # --- Staff --------------------------------------------------------------------------------

    @rule(data=st.data())
    def staff_approve_a_flagged_member(self, data) -> None:
        flagged = list(CampaignContact.objects.filter(status=CampaignContact.Status.FLAGGED))
        if flagged:
            audience.approve_flagged_member(member=data.draw(st.sampled_from(flagged)))

    @rule(data=st.data())
    def staff_add_a_contact(self, data) -> None:
        campaign = data.draw(st.sampled_from(self.campaigns))
        contact = data.draw(st.sampled_from(self.contacts))
        with contextlib.suppress(errors.CampaignClosed):  # completed: it takes no new members (409)
            audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk])

    @rule(data=st.data())
    def staff_remove_a_waiting_member(self, data) -> None:
        waiting = list(CampaignContact.objects.filter(status__in=booking.WAITING))
        if waiting:
            data.draw(st.sampled_from(waiting)).delete()

    @rule(data=st.data(), place=st.sampled_from(PLACES))
    def a_contact_moves(self, data, place) -> None:
        contact = data.draw(st.sampled_from(self.contacts))
        Contact.objects.filter(pk=contact.pk).update(state=place[0], time_zone=place[1])

    @rule(data=st.data(), house_state=st.sampled_from(["MA", "FL", "CA"]))
    def a_contact_gets_a_house(self, data, house_state: str) -> None:
        PropertyContactFactory(contact=data.draw(st.sampled_from(self.contacts)), property__state=house_state)

    @rule(house_state=st.sampled_from(["MA", "FL", "CA"]))
    def a_house_changes_state(self, house_state: str) -> None:
        house = Property.objects.order_by("id").first()
        if house is not None:
            Property.objects.filter(pk=house.pk).update(state=house_state)

    @rule(days_ahead=st.integers(0, 3))
    def a_holiday_is_declared(self, days_ahead: int) -> None:
        Holiday.objects.get_or_create(date=timezone.localdate() + dt.timedelta(days=days_ahead), name="Snow day")

    @rule(data=st.data(), action=st.sampled_from(["pause", "resume"]))
    def staff_pause_or_resume(self, data, action: str) -> None:
        campaign = Campaign.objects.get(pk=data.draw(st.sampled_from(self.campaigns)).pk)
        act = services.pause_campaign if action == "pause" else services.resume_campaign
        with contextlib.suppress(errors.CampaignTransitionError):
            act(campaign=campaign)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.transaction.__exit__(None, None, None)
        self.clock_control.stop()
        self.settings.disable()


@pytest.mark.django_db
def test_every_tick_decides_what_a_tick_from_scratch_decides():
    run_state_machine_as_test(
        Decisions,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    assert runs_seen["partial"] > 0  # runs that began from a record: not every run decided everything
