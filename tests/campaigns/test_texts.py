"""Templates: known tokens only, graceful fallbacks, the opt-out footer, and what a text costs."""

import pytest
from django.core.exceptions import ValidationError

from campaigns import texts, writing
from messaging.segments import sms_cost
from tests.factories import CampaignFactory, ContactFactory, MessageFactory, PropertyContactFactory


def values(**given: str) -> dict[str, str]:
    return {name: given.get(name, "") for name in texts.TOKEN_FALLBACKS}


def test_name_is_the_first_name():
    assert texts.render("Hi {name}, special offer!", values(name="Mary")) == "Hi Mary, special offer!"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name},", "Hi there,"),
        ("Hi {name}, your home in {city}", "Hi there, your home in your area"),
        ("Dear {first_name} {last_name}, hello", "Dear there, hello"),
        ("Built in {year_built}.", "Built in."),
        ("Your {year_built} home", "Your home"),
        ("Hi {city|neighbor}!", "Hi neighbor!"),
        ("{{not a token}} {name}", "{not a token} there"),
    ],
)
def test_missing_values_never_leave_a_placeholder_none_or_a_double_space(template, expected):
    rendered = texts.render(template, values())

    assert rendered == expected
    assert "None" not in rendered and "{name" not in rendered and "  " not in rendered


@pytest.mark.parametrize(
    ("template", "code", "named"),
    [
        ("Hi {firstname}!", "unknown_token", "{firstname}"),
        ("Hi {Name}!", "unknown_token", "{Name}"),
        ("Hi {name!", "unbalanced_brace", "'{'"),
        ("Hi name}!", "unbalanced_brace", "'}'"),
        ("Hi {}", "unknown_token", "{}"),
    ],
)
def test_a_bad_template_is_refused_naming_the_token(template, code, named):
    with pytest.raises(ValidationError) as caught:
        texts.validate_template(template)

    assert caught.value.code == code
    assert named in caught.value.messages[0]


@pytest.mark.django_db
def test_a_contact_is_texted_with_its_own_house_and_the_footer_only_the_first_time():
    link = PropertyContactFactory(contact__first_name="Mary", contact__city="", property__city="Quincy")
    campaign = CampaignFactory(template_a="Hi {name}, is your {year_built} home in {city} dry?")

    first = writing.campaign_text(campaign=campaign, contact=link.contact, variant="A")
    MessageFactory(contact=link.contact)
    second = writing.campaign_text(campaign=campaign, contact=link.contact, variant="A")

    assert first == "Hi Mary, is your 1954 home in Quincy dry?\nReply STOP to unsubscribe"
    assert second == "Hi Mary, is your 1954 home in Quincy dry?"


@pytest.mark.django_db
def test_the_footer_can_be_turned_off_per_campaign():
    campaign = CampaignFactory(template_a="Hi {name}", include_opt_out_footer=False)

    assert writing.campaign_text(campaign=campaign, contact=ContactFactory(first_name="Al"), variant="A") == "Hi Al"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # an extension character costs two septets
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),
        ("a" * 69 + "😀", "UCS-2", 2),  # an emoji is two UTF-16 units: 71 > 70
        ("a" * 70, "GSM-7", 1),
        ("“quoted”" + "a" * 60, "UCS-2", 1),
        ("ç" * 70, "UCS-2", 1),
        ("ç" * 71, "UCS-2", 2),
        ("ç" * 134, "UCS-2", 2),
        ("ç" * 135, "UCS-2", 3),
    ],
)
def test_segments_follow_gsm7_and_ucs2_limits(text, encoding, segments):
    cost = sms_cost(text)

    assert (cost.encoding, cost.segments) == (encoding, segments)
    assert cost.characters == len(text)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["first_name", "last_name", "city", "address"])
def test_members_lacking_a_value_are_found_from_the_few_contacts_without_it(field):
    """writing.missing_values counts, per token, the members whose contact lacks its value: the
    database can start from the few contacts without it (a partial index) instead of reading the
    whole audience."""
    from django.db import connection

    from campaigns.models import CampaignContact

    members = CampaignContact.objects.filter(campaign=CampaignFactory(), **{f"contact__{field}": ""})
    sql, params = members.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"contact_without_{field}" in plan
