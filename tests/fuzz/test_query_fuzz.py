"""Whatever a signed-in user puts in a list's query string or cursor, the answer is never a 500.

Hypothesis writes query strings over every list the staff read (the API's lists, the pages, the
admin's change lists): known parameter names and made-up ones, any text (NUL included), and
cursors that are garbage, base64 of garbage, or base64 of a cursor edited by hand.
"""

import base64
import os
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CampaignFactory, ContactFactory, MessageFactory, StaffUserFactory

# no_cover: untraced, as tests/tracing.py says.
pytestmark = [pytest.mark.django_db, pytest.mark.no_cover]

EXAMPLES = int(os.getenv("QUERY_FUZZ_EXAMPLES", "60"))

API_LISTS = ["/api/contacts", "/api/campaigns", "/api/messages", "/api/imports", "/api/conversations"]
PAGES = ["/", "/contacts/", "/campaigns/", "/conversations/"]
ADMIN_LISTS = [
    "admin:contacts_contact_changelist",
    "admin:campaigns_campaign_changelist",
    "admin:campaigns_campaignsend_changelist",
    "admin:messaging_message_changelist",
]
NAMES = [
    "cursor", "page_size", "q", "opted_out", "city", "zip_code", "state", "import_id", "archived", "status",
    "direction", "contact_id", "label", "replies", "source", "o", "p", "e", "all", "_changelist_filters",
]  # fmt: skip

texts = st.text(st.characters(codec="utf-8"), max_size=30)
hand_edited_cursor = st.builds(
    lambda pairs: base64.b64encode(urlencode(pairs).encode()).decode(),
    st.lists(st.tuples(st.sampled_from(["o", "r", "p", "x"]), texts), max_size=4),
)
cursors = st.one_of(texts, hand_edited_cursor, st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()))
queries = st.lists(
    st.one_of(
        st.tuples(st.just("cursor"), cursors),
        st.tuples(st.sampled_from(NAMES), texts),
        st.tuples(texts, texts),
    ),
    max_size=5,
)


@pytest.fixture
def owner_session(client):
    for _ in range(3):
        MessageFactory()
    CampaignFactory()
    ContactFactory(city="Quincy")
    client.force_login(StaffUserFactory(role="owner"))
    return client


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from([*API_LISTS, *PAGES, *[reverse(name) for name in ADMIN_LISTS]]),
    query=queries,
)
def test_no_query_string_makes_a_list_answer_500(owner_session, where, query):
    response = owner_session.get(f"{where}?{urlencode(query)}")

    assert response.status_code < 500, (where, query)
    if where.startswith("/api/") and response.status_code >= 400:
        assert response.json()["detail"][0]["msg"]  # the API's error shape, never Django's HTML page
