"""Why a member is not texted, in one vocabulary (contacts/not_texted.py): stored as a reason code
beside the detail of the case by every writer, and shown the same way by the campaign page, its
audience, the launch confirmation and the members API. Every refusal here is made by the code
that makes it in production (tests/campaigns/refusals.py)."""

import html
import io
import re

import pytest
from django.db import IntegrityError, transaction
from freezegun import freeze_time

from campaigns import audience
from campaigns.compliance import RULES
from campaigns.models import Campaign, CampaignContact
from contacts import dnc
from contacts import services as contact_services
from contacts.importing import pipeline
from contacts.models import Contact, ContactImport
from contacts.not_texted import HOLDS, Reason
from messaging import services as messaging_services
from tests.campaigns.refusals import NOW, person, refusals
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
CATCH_ALL = re.compile(r"cannot be texted|ineligible", re.IGNORECASE)


def visible_text(page: bytes) -> str:
    """What a person reads on the page: its text, without the markup's names and attributes."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.decode())).split())


def test_every_writer_stores_the_reason_beside_the_detail_of_the_case(openphone):
    world = refusals(openphone)

    stored = {name: world.member(name) for name in EXPECTED}

    assert {
        name: (member.status, member.held_because, member.ineligible_reason) for name, member in stored.items()
    } == EXPECTED
    # A reason that waits until a time passes the member over, keeping its place, until then.
    assert stored["texted"].not_before.date().isoformat() == "2026-12-31"
    assert stored["stale_list"].not_before is not None


def test_the_campaign_page_counts_each_reason_and_each_links_to_those_members(openphone, client, staff_user):
    world = refusals(openphone)
    client.force_login(staff_user)

    page = client.get(f"/campaigns/{world.fall.pk}/").content.decode()

    held = re.search(r'<ul class="held" id="held-because"[^>]*>(.*?)</ul>', page, re.S).group(1)
    lines = re.findall(r'<li data-reason="(\w+)"><a href="\?because=(\w+)#audience-title">(.*?)</a></li>', held)
    assert [(reason, link, html.unescape(re.sub(r"<[^>]+>", "", text))) for reason, link, text in lines] == [
        (reason.value, reason.value, f"{count} · {reason.label}")
        for reason, count in [
            (Reason.OPTED_OUT, 1),
            (Reason.LANDLINE, 1),
            (Reason.TOLL_FREE, 1),
            (Reason.FOREIGN_NUMBER, 1),
            (Reason.ON_DO_NOT_CALL_LIST, 1),
            (Reason.WRITTEN_CONSENT_REQUIRED, 1),
            (Reason.TEXTED_US_BEFORE, 1),
            (Reason.TEXT_FAILED, 1),
            (Reason.TEXTED_BY_ANOTHER_CAMPAIGN, 1),
            (Reason.STALE_DO_NOT_CALL_COPY, 1),
        ]
    ]
    assert "Not a mobile number: toll-free" in page and "Waiting: texted by another campaign lately" in page

    capped = visible_text(client.get(f"/campaigns/{world.fall.pk}/", {"because": "texted_by_another_campaign"}).content)

    members = capped[capped.index("Why not") :]
    assert "Tess" in members and "Lena" not in members and "Finn" not in members
    assert (
        "Waiting: texted by another campaign lately · Texted by another campaign (“Spring”) on Dec 1, 2026" in members
    )


def test_the_audience_shows_the_reason_and_what_adds_to_it_but_never_says_it_twice(openphone, client, staff_user):
    world = refusals(openphone)
    client.force_login(staff_user)

    failed = visible_text(client.get(f"/campaigns/{world.fall.pk}/", {"because": "text_failed"}).content)
    landline = visible_text(client.get(f"/campaigns/{world.fall.pk}/", {"because": "landline"}).content)

    assert f"Text failed · {EXPECTED['failing'][2]}" in failed and "Fay" in failed
    rows = landline[landline.index("Why not") :]
    assert "Not a mobile number: landline" in rows and "(landline)" not in rows  # its detail only said it again


def test_the_members_api_gives_each_reason_code_and_its_detail_and_filters_by_reason(openphone, api_client):
    world = refusals(openphone)

    rows = api_client.get(f"/api/campaigns/{world.fall.pk}/members", {"page_size": 100}).json()["results"]
    capped = api_client.get(f"/api/campaigns/{world.fall.pk}/members", {"reason": "texted_by_another_campaign"})
    unknown = api_client.get(f"/api/campaigns/{world.fall.pk}/members", {"reason": "cannot_be_texted"})

    by_phone = {row["contact"]["phone"]: row for row in rows}
    assert {
        name: (by_phone[world.people[name].phone]["reason"], by_phone[world.people[name].phone]["reason_detail"])
        for name in EXPECTED
    } == {name: (reason or None, detail or None) for name, (_, reason, detail) in EXPECTED.items()}
    # The detail stays under its old name too, and the contact says why nobody may text it at all.
    assert by_phone[world.people["listed"].phone]["ineligible_reason"] == EXPECTED["listed"][2]
    assert (
        by_phone[world.people["toll_free"].phone]["contact"]["reason"],
        by_phone[world.people["fine"].phone]["contact"]["reason"],
    ) == ("toll_free", None)
    assert [row["contact"]["first_name"] for row in capped.json()["results"]] == ["Tess"]
    assert unknown.status_code == 422 and "reason" in str(unknown.json()["detail"])


def test_the_launch_confirmation_says_how_many_are_kept_out_and_why(client, staff_user):
    listed, landline, opted_out, fine = (person(f"+1617200400{n}") for n in range(1, 5))
    with freeze_time(NOW):
        dnc.load_list(io.BytesIO(b"617,2004001\n"), list_name="national", as_of=NOW.date())
    contact_services.update_contact(contact=landline, line_type=Contact.LineType.LANDLINE)
    messaging_services.opt_out(contact=opted_out, reason="Asked by phone")
    draft = CampaignFactory(name="Winter", from_number=SHOP_NUMBER)
    audience.add_contacts_by_id(campaign=draft, contact_ids=[c.pk for c in (listed, landline, opted_out, fine)])
    pipeline.import_contacts(
        file=io.BytesIO(b"Name,Phone\nTodd Free,888-555-0102\nMaple Leaf,416-555-0103\nIsle,876-555-0104\n"),
        file_name="winter.csv",
        campaign=draft,
    )
    client.force_login(staff_user)

    with freeze_time(NOW):
        page = client.get(f"/campaigns/{draft.pk}/start").content.decode()

    kept_out = re.search(r'<ul id="kept-out"[^>]*>(.*?)</ul>', page, re.S).group(1)
    assert "6 members will not be texted, and why:" in page
    lines = re.findall(r'<li data-reason="(\w+)"><span class="num">(\d+)</span> · (.*?)</li>', kept_out)
    assert lines == [
        (reason.value, count, reason.label)
        for reason, count in [
            (Reason.OPTED_OUT, "1"),
            (Reason.LANDLINE, "1"),
            (Reason.TOLL_FREE, "1"),
            (Reason.FOREIGN_NUMBER, "2"),
            (Reason.ON_DO_NOT_CALL_LIST, "1"),
        ]
    ]
    assert "1 text on Tuesday, Dec 1" in page


def test_no_page_or_api_answer_says_cannot_be_texted_or_ineligible(openphone, client, staff_user, api_client):
    world = refusals(openphone)
    draft = CampaignFactory(name="Draft", from_number=SHOP_NUMBER)
    audience.add_contacts_by_id(campaign=draft, contact_ids=[contact.pk for contact in world.people.values()])
    client.force_login(staff_user)
    pages = [
        f"/campaigns/{world.fall.pk}/",
        *(f"/campaigns/{world.fall.pk}/?because={reason}" for reason in Reason.values),
        f"/campaigns/{world.fall.pk}/?status=ineligible",
        f"/campaigns/{draft.pk}/audience?city=Quincy",
        "/campaigns/",
        "/contacts/",
        *(f"/contacts/{contact.pk}/" for contact in world.people.values()),
        f"/contacts/imports/{ContactImport.objects.get().pk}/",
    ]
    with freeze_time(NOW):
        pages.append(f"/campaigns/{draft.pk}/start")
        said = {url: visible_text(client.get(url).content) for url in pages}
    answers = [
        api_client.get(f"/api/campaigns/{world.fall.pk}/members", {"page_size": 100}).json(),
        *(api_client.get(f"/api/contacts/{contact.pk}").json() for contact in world.people.values()),
        api_client.get("/api/contacts").json(),
    ]

    assert {url: CATCH_ALL.findall(text) for url, text in said.items() if CATCH_ALL.search(text)} == {}
    assert [value for answer in answers for value in words_of(answer) if CATCH_ALL.search(value)] == []


def words_of(answer) -> list[str]:
    """The words of an API answer, but a member's status code (``ineligible`` is a name, not a reason)."""
    if isinstance(answer, dict):
        return [word for key, value in answer.items() if key != "status" for word in words_of(value)]
    if isinstance(answer, list):
        return [word for value in answer for word in words_of(value)]
    return [answer] if isinstance(answer, str) else []


# --- The vocabulary and its guards ----------------------------------------------------------------


def test_every_reason_is_given_by_a_rule_of_the_table_a_failed_text_or_staff_and_holds_one_way():
    given = {reason for rule in RULES for reason in rule.reasons}

    assert all(rule.reasons for rule in RULES)
    assert given | {Reason.TEXT_FAILED, Reason.FOLLOW_UP_CANCELLED} == set(Reason)
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
