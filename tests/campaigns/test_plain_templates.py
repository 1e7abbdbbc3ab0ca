"""Templates are saved plain, whichever way they are saved (the form, the API, the admin), and
staff are shown what was replaced and what it saved; what has no plain equivalent stays."""

import re

import pytest
from django.urls import reverse

from campaigns import services, writing
from campaigns.models import Campaign
from messaging.segments import sms_cost
from tests.factories import CampaignContactFactory, CampaignFactory, ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

# 118 characters with the footer: one GSM-7 segment, two UCS-2 ones.
CURLY = "Hi {name}, it’s Attack-a-Crack — we’re in {city|your town} this week. Free foundation check?"
PLAIN = "Hi {name}, it's Attack-a-Crack - we're in {city|your town} this week. Free foundation check?"
SAID = (
    "Text A: Replaced 2 curly apostrophes and 1 long dash with plain ones: each text now costs 1 segment instead of 2."
)
FORM = {
    "name": "Spring",
    "template_b": "",
    "daily_limit": 125,
    "split_percent_a": 50,
    "include_opt_out_footer": "on",
    "frequency_cap_days": 30,
    "prior_contact_policy": "skip",
    "purpose": "marketing",
    "judged_on": "interested_replies",
    "from_number": "",
}


def alerts(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", text).strip() for text in re.findall(r'class="alert info"[^>]*>(.*?)</div>', page)]


def test_the_form_saves_the_template_plain_and_the_next_page_says_what_it_saved(owner_pages):
    response = owner_pages.post(reverse("campaigns:create"), {**FORM, "template_a": CURLY}, follow=True)

    campaign = Campaign.objects.get(name="Spring")
    assert campaign.template_a == PLAIN
    assert alerts(response.content.decode()) == [SAID]


def test_a_template_already_plain_is_saved_as_typed_and_nothing_is_said(owner_pages):
    response = owner_pages.post(reverse("campaigns:create"), {**FORM, "template_a": PLAIN}, follow=True)

    assert Campaign.objects.get(name="Spring").template_a == PLAIN
    assert alerts(response.content.decode()) == []


def test_an_edit_says_it_too_for_each_text_it_made_plain(owner_pages):
    campaign = CampaignFactory(template_a=PLAIN, template_b="")
    form = {**FORM, "template_a": CURLY, "template_b": "Hello {name} … a quick question 😀"}

    response = owner_pages.post(reverse("campaigns:edit", args=[campaign.pk]), form, follow=True)

    campaign.refresh_from_db()
    assert campaign.template_b == "Hello {name} … a quick question 😀"  # the emoji keeps it UCS-2: "…" stays
    assert campaign.template_a == PLAIN
    assert alerts(response.content.decode()) == [SAID]


def test_what_cannot_be_made_plain_is_said_with_what_keeps_the_text_ucs2(owner_pages):
    template = "Hi {name}, it’s Attack-a-Crack 😀 here"

    response = owner_pages.post(reverse("campaigns:create"), {**FORM, "template_a": template}, follow=True)

    assert Campaign.objects.get(name="Spring").template_a == "Hi {name}, it's Attack-a-Crack 😀 here"
    assert alerts(response.content.decode()) == [
        "Text A: Replaced 1 curly apostrophe with a plain one: each text still costs 1 segment: "
        "the emoji 😀 keeps it UCS-2."
    ]


def test_the_api_saves_it_plain_and_lists_what_it_replaced(api_client):
    response = api_client.post("/api/campaigns", {"name": "Spring", "template_a": CURLY}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["template_a"] == PLAIN == Campaign.objects.get(pk=body["id"]).template_a
    assert body["normalised"] == [
        {
            "field": "template_a",
            "replacements": [
                {"character": "’", "replaced_by": "'", "kind": "curly apostrophe", "count": 2},
                {"character": "—", "replaced_by": "-", "kind": "long dash", "count": 1},
            ],
            "segments_before": 2,
            "segments_after": 1,
            "still_outside_gsm7": [],
            "message": SAID,
        }
    ]


def test_the_api_says_nothing_was_replaced_when_nothing_was(api_client):
    campaign = CampaignFactory(template_a=PLAIN)

    response = api_client.patch(f"/api/campaigns/{campaign.pk}", {"name": "Renamed"}, format="json")

    assert response.status_code == 200
    assert response.json()["normalised"] == []
    assert response.json()["template_a"] == PLAIN  # the fields it always had are all there
    assert "normalised" not in api_client.get(f"/api/campaigns/{campaign.pk}").json()


def test_a_patch_saves_it_plain(api_client):
    campaign = CampaignFactory(template_a=PLAIN, template_b="")

    response = api_client.patch(f"/api/campaigns/{campaign.pk}", {"template_b": "Hi {name} – free?"}, format="json")

    campaign.refresh_from_db()
    assert campaign.template_b == "Hi {name} - free?"
    assert [item["field"] for item in response.json()["normalised"]] == ["template_b"]


def test_an_active_campaign_sent_its_own_template_curly_again_is_no_change(api_client):
    # The form and API send the whole template back: the same words, pasted again, change nothing.
    campaign = CampaignFactory(template_a=PLAIN, status=Campaign.Status.ACTIVE)

    response = api_client.patch(f"/api/campaigns/{campaign.pk}", {"template_a": CURLY}, format="json")

    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.template_a == PLAIN


def test_the_admin_saves_it_plain_and_says_so(client):
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.post(reverse("admin:campaigns_campaign_add"), {**FORM, "template_a": CURLY}, follow=True)

    assert Campaign.objects.get(name="Spring").template_a == PLAIN
    assert SAID in response.content.decode()


def test_the_cost_before_and_after_is_the_previewed_members_text():
    campaign = CampaignFactory(template_a=PLAIN, template_b="")
    CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name="Maximiliano-Alessandro"))
    typed = CURLY + " Reply YES and we will call you back today."

    saved = services.update_campaign(campaign=campaign, template_a=typed)

    [made_plain] = saved.made_plain
    reader = writing.preview_reader(saved)
    assert reader.contact.first_name == "Maximiliano-Alessandro"

    def segments(template: str) -> int:
        return sms_cost(writing.write_text(template=template, reader=reader, include_opt_out_footer=True)).segments

    assert (made_plain.segments_before, made_plain.segments_after) == (segments(typed), segments(saved.template_a))
    assert (made_plain.segments_before, made_plain.segments_after) == (3, 2)  # his long name takes it past 160 septets


def test_the_live_preview_shows_the_text_as_it_will_be_saved_and_what_saving_replaces(owner_pages):
    response = owner_pages.post(reverse("campaigns:preview"), {"template_a": CURLY, "include_opt_out_footer": "on"})

    page = response.content.decode()
    assert "Hi Mary, it&#x27;s Attack-a-Crack - we&#x27;re in Quincy this week." in page
    assert "1 segment per text (GSM-7)" in page
    assert "As it will be saved: Replaced 2 curly apostrophes and 1 long dash with plain ones." in page


def test_a_follow_up_text_is_saved_plain_and_the_form_says_so(owner_pages):
    step = {"follow_up_template_a": CURLY, "follow_up_template_b": "", "follow_up_split_percent_a": 50}
    response = owner_pages.post(
        reverse("campaigns:create"), {**FORM, "template_a": PLAIN, **step, "follow_up_after_days": 3}, follow=True
    )

    follow_up = Campaign.objects.get(follow_up_of__name="Spring")
    assert follow_up.template_a == PLAIN
    said = [str(message) for message in response.context["messages"]]
    assert f"Follow-up: {SAID}" in said
    assert not any(message.startswith("Text A") for message in said)  # the campaign's own text was plain


def test_set_follow_up_saves_its_texts_plain_whatever_calls_it():
    campaign = CampaignFactory(template_a=PLAIN)

    follow_up = services.set_follow_up(campaign=campaign, template_a=CURLY, after_days=3)

    assert follow_up.template_a == PLAIN
    assert [made.message for made in follow_up.made_plain] == [SAID]
