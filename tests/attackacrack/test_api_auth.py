"""Only staff reach the API: by Bearer token, or by their admin session in the browser."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import Campaign
from tests.factories import CampaignFactory, ContactFactory, MessageFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/campaigns"),
    ("post", "/api/campaigns"),
    ("get", "/api/campaigns/{campaign}"),
    ("patch", "/api/campaigns/{campaign}"),
    ("delete", "/api/campaigns/{campaign}"),
    ("get", "/api/contacts"),
    ("get", "/api/contacts/{contact}"),
    ("get", "/api/messages"),
    ("get", "/api/messages/{message}"),
]


@pytest.fixture
def existing():
    message = MessageFactory()
    return {"campaign": CampaignFactory().id, "contact": message.contact.id, "message": message.id}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_requests_get_401_and_change_nothing(anonymous_client, existing, method, path):
    response = getattr(anonymous_client, method)(path.format(**existing), {"name": "x"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"][0]["type"] == "not_authenticated"
    assert Campaign.objects.count() == 1
    assert Campaign.objects.get().name != "x"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Token abc", "Bearer", "Basic dXNlcjpwYXNz"])
def test_a_wrong_or_malformed_token_gets_401(anonymous_client, header):
    ContactFactory()

    response = anonymous_client.get("/api/contacts", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "results" not in response.json()


def test_a_token_of_a_user_who_is_not_staff_gets_403():
    user = get_user_model().objects.create_user("neighbour", is_staff=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=user).key}")

    response = client.get("/api/contacts")

    assert response.status_code == 403
    assert response.json()["detail"][0]["type"] == "permission_denied"


def test_a_deactivated_staff_user_token_stops_working(api_client, staff_user):
    staff_user.is_active = False
    staff_user.save()

    assert api_client.get("/api/contacts").status_code == 401


def test_staff_logged_in_to_the_admin_can_browse_the_api(client, staff_user):
    client.force_login(staff_user)
    contact = ContactFactory()

    response = client.get("/api/contacts")

    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == contact.id


def test_create_api_token_creates_a_staff_user_and_prints_a_working_token():
    out = io.StringIO()

    call_command("create_api_token", "dispatcher", stdout=out, stderr=io.StringIO())

    token = out.getvalue().strip()
    user = get_user_model().objects.get(username="dispatcher")
    assert user.is_staff
    assert not user.has_usable_password()
    assert Token.objects.get(user=user).key == token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post("/api/campaigns", {"name": "T", "template_a": "A"}, format="json").status_code == 201


def test_create_api_token_is_stable_unless_rotated():
    user = StaffUserFactory(username="owner")

    first, second, rotated = io.StringIO(), io.StringIO(), io.StringIO()
    call_command("create_api_token", "owner", stdout=first)
    call_command("create_api_token", "owner", stdout=second)
    call_command("create_api_token", "owner", "--rotate", stdout=rotated)

    assert first.getvalue() == second.getvalue()
    assert rotated.getvalue() != first.getvalue()
    assert Token.objects.get(user=user).key == rotated.getvalue().strip()


def test_create_api_token_makes_an_existing_user_staff():
    get_user_model().objects.create_user("office", is_staff=False)

    call_command("create_api_token", "office", stdout=io.StringIO(), stderr=io.StringIO())

    assert get_user_model().objects.get(username="office").is_staff
