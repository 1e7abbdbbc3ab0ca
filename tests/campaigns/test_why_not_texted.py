"""Why a member is not texted, in one vocabulary (contacts/not_texted.py): stored as a reason code
beside the detail of the case by every writer. Every refusal here is made by the code that makes
it in production (tests/campaigns/refusals.py)."""

import pytest
from django.db import IntegrityError, transaction

from campaigns import audience
from campaigns.compliance import RULES
from campaigns.models import Campaign, CampaignContact
from contacts.not_texted import HOLDS, Reason
from messaging import services as messaging_services
from tests.campaigns.refusals import person, refusals
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory

pytestmark = pytest.mark.django_db

# Each member of the fall campaign: its status, its reason, and the detail of its case.
EXPECTED = {
    "texted": (
        "pending",
        Reason.TEXTED_BY_ANOTHER_CAMPAIGN,
        "Texted by another campaign (“Spring”) on Dec 1, 2026; this one waits 30 days after another's text",
    ),
    "landline": ("ineligible", Reason.LANDLINE, "Not a mobile number (landline)"),
    "listed": (
        "ineligible",
        Reason.ON_DO_NOT_CALL_LIST,
        "On the National Do-Not-Call Registry (list of 2026-11-30); "
        "no written consent or recent business relationship on record",
    ),
    "opted_out": ("ineligible", Reason.OPTED_OUT, "Opted out"),
    "wrote_us": ("ineligible", Reason.TEXTED_US_BEFORE, "Has texted us before (campaign skips them)"),
    "in_connecticut": (
        "ineligible",
        Reason.WRITTEN_CONSENT_REQUIRED,
        "In Connecticut a sales text needs written consent; none on record",
    ),
    "stale_list": (
        "pending",
        Reason.STALE_DO_NOT_CALL_COPY,
        "The National Do-Not-Call Registry copy for area code 781 is of 2026-10-15, over 31 days old: load a newer one",
    ),
    "failing": (
        "ineligible",
        Reason.TEXT_FAILED,
        "Text failed: OpenPhone refused the text (404 0200404): Not Found: Invalid 'to' number",
    ),
    "toll_free": ("ineligible", Reason.TOLL_FREE, "A toll-free number, which a business number cannot text"),
    "foreign": ("ineligible", Reason.FOREIGN_NUMBER, "Not a US number (Canada)"),
    "fine": ("sent", "", ""),
}


def test_every_writer_stores_the_reason_beside_the_detail_of_the_case(openphone):
    world = refusals(openphone)

    stored = {name: world.member(name) for name in EXPECTED}

    assert {
        name: (member.status, member.held_because, member.ineligible_reason) for name, member in stored.items()
    } == EXPECTED
    # A reason that waits until a time passes the member over, keeping its place, until then.
    assert stored["texted"].not_before.date().isoformat() == "2026-12-31"
    assert stored["stale_list"].not_before is not None


# --- The vocabulary and its guards ----------------------------------------------------------------


def test_every_reason_is_given_by_a_rule_of_the_table_or_a_failed_text_and_holds_one_way():
    given = {reason for rule in RULES for reason in rule.reasons}

    assert all(rule.reasons for rule in RULES)
    assert given | {Reason.TEXT_FAILED} == set(Reason)
    assert set(HOLDS) == set(Reason)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"status": "ineligible", "ineligible_reason": "Opted out"}, "campaign_contact_ineligible_has_reason"),
        ({"status": "flagged"}, "campaign_contact_flagged_has_reason"),
        ({"held_because": "cannot_be_texted", "ineligible_reason": "?"}, "campaign_contact_held_because_valid"),
        ({"held_because": "opted_out"}, "campaign_contact_reason_has_its_detail"),
        ({"ineligible_reason": "Opted out"}, "campaign_contact_reason_has_its_detail"),
    ],
)
def test_the_database_refuses_a_member_held_without_a_known_reason_and_its_detail(fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        CampaignContactFactory(**fields)


def test_an_opt_out_a_staff_approval_and_a_retry_each_leave_the_reason_right():
    campaign = CampaignFactory(
        status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, prior_contact_policy=Campaign.PriorContactPolicy.FLAG
    )
    waiting, flagged = person("+16172005001"), person("+16172005002")
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[waiting.pk, flagged.pk])
    member = campaign.memberships.get(contact=flagged)
    CampaignContact.objects.filter(pk=member.pk).update(
        status="flagged", held_because=Reason.REVIEW_TEXTED_US_BEFORE, ineligible_reason="Has texted us before"
    )

    messaging_services.opt_out(contact=waiting, reason="Replied 'STOP'")
    approved = audience.approve_flagged_member(member=member)

    opted_out = campaign.memberships.get(contact=waiting)
    assert (opted_out.status, opted_out.held_because, opted_out.ineligible_reason) == (
        "ineligible",
        Reason.OPTED_OUT,
        "Opted out",
    )
    assert (approved.status, approved.held_because, approved.ineligible_reason) == ("pending", "", "")
