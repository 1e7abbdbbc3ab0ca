"""The sign-in lockout (django-axes) on both login forms: the staff pages' and the admin's."""

import datetime as dt
import io

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from freezegun import freeze_time

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN_FORMS = ["/login/", "/admin/login/"]
OFFICE, HOME = "203.0.113.7", "198.51.100.20"


def sign_in(client, path: str, username: str, password: str, address: str = OFFICE):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_after_five_wrong_passwords_the_right_one_is_refused_until_the_cool_off_ends(client, settings, path):
    StaffUserFactory(username="mary")
    with freeze_time("2026-12-02 14:00:00Z") as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert sign_in(client, path, "mary", "wrong").status_code == 200  # the form again, with its error
        assert sign_in(client, path, "mary", "wrong").status_code == 429  # the last failure allowed
        locked = sign_in(client, path, "mary", PASSWORD)

        assert locked.status_code == 429
        assert b"Sign-in paused" in locked.content
        assert not signed_in(client)

        clock.tick(settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))
        assert sign_in(client, path, "mary", PASSWORD).status_code == 302
        assert signed_in(client)


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_a_username_locked_out_at_one_address_still_signs_in_from_another(client, settings, path):
    StaffUserFactory(username="owner")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, path, "owner", "wrong", address=OFFICE)

    from_the_office = sign_in(client, path, "owner", PASSWORD, address=OFFICE)
    from_home = sign_in(client, path, "owner", PASSWORD, address=HOME)

    assert from_the_office.status_code == 429
    assert from_home.status_code == 302  # a stranger's guesses cannot lock the owner out everywhere
    assert signed_in(client)


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_one_persons_wrong_passwords_never_lock_out_the_others_at_their_address(client, settings, path):
    StaffUserFactory(username="john")
    StaffUserFactory(username="mary")
    for _ in range(3 * settings.AXES_FAILURE_LIMIT):  # mary keeps trying long after she is locked out
        sign_in(client, path, "mary", "wrong", address=OFFICE)

    john = sign_in(client, path, "john", PASSWORD, address=OFFICE)

    assert john.status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_an_address_failing_for_many_usernames_is_locked_out_for_every_username(client, settings, path):
    StaffUserFactory(username="john")
    for n in range(settings.LOGIN_ADDRESS_USERNAME_LIMIT - 1):
        sign_in(client, path, f"guess{n}", "wrong")
    one_short = sign_in(client, path, "john", PASSWORD)
    client.logout()
    sign_in(client, path, "one-more-guess", "wrong")

    from_that_address = sign_in(client, path, "john", PASSWORD)
    from_another = sign_in(client, path, "john", PASSWORD, address=HOME)

    assert one_short.status_code == 302
    assert from_that_address.status_code == 429
    assert from_another.status_code == 302  # john himself, elsewhere, is not locked out by a stranger


def test_behind_the_proxy_the_lockout_counts_the_address_the_proxy_saw(client, settings):
    settings.BEHIND_HTTPS_PROXY = True
    StaffUserFactory(username="john")
    for n in range(settings.LOGIN_ADDRESS_USERNAME_LIMIT):
        # The proxy appends the real address; the forged first entry changes nothing.
        client.post(
            "/login/",
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9",
        )

    attacker = client.post(
        "/login/",
        {"username": "john", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    office = client.post(
        "/login/",
        {"username": "john", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )

    assert attacker.status_code == 429
    assert office.status_code == 302


def test_the_admin_login_page_and_the_staff_login_share_the_lockout(client, settings):
    StaffUserFactory(username="mary")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, LOGIN_FORMS[n % 2], "mary", "wrong")

    assert sign_in(client, reverse("login"), "mary", PASSWORD).status_code == 429
    assert sign_in(client, reverse("admin:login"), "mary", PASSWORD).status_code == 429


def test_axes_reset_username_on_the_server_lets_a_locked_out_user_in_again(client, settings):
    StaffUserFactory(username="owner")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/login/", "owner", "wrong")
    assert sign_in(client, "/login/", "owner", PASSWORD).status_code == 429

    call_command("axes_reset_username", "owner", stdout=io.StringIO())

    assert sign_in(client, "/login/", "owner", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="owner").exists()


def test_axes_reset_ip_on_the_server_lets_every_username_in_again_at_a_locked_address(client, settings):
    StaffUserFactory(username="owner")
    for n in range(settings.LOGIN_ADDRESS_USERNAME_LIMIT):
        sign_in(client, "/login/", f"guess{n}", "wrong")
    assert sign_in(client, "/login/", "owner", PASSWORD).status_code == 429

    call_command("axes_reset_ip", OFFICE, stdout=io.StringIO())

    assert sign_in(client, "/login/", "owner", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(ip_address=OFFICE).exists()


def test_the_api_answers_a_token_whose_user_and_address_are_locked_out_of_the_login_forms(
    client, settings, owner_user, owner_client
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/login/", owner_user.username, "wrong")
    for n in range(settings.LOGIN_ADDRESS_USERNAME_LIMIT):
        sign_in(client, "/login/", f"guess{n}", "wrong")
    assert sign_in(client, "/login/", owner_user.username, PASSWORD).status_code == 429

    response = owner_client.get("/api/contacts", REMOTE_ADDR=OFFICE)

    assert response.status_code == 200


def test_wrong_api_tokens_are_not_counted_as_wrong_passwords(client, settings, anonymous_client):
    StaffUserFactory(username="owner")
    for n in range(settings.LOGIN_ADDRESS_USERNAME_LIMIT + settings.AXES_FAILURE_LIMIT):
        anonymous_client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer wrong{n}", REMOTE_ADDR=OFFICE)

    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "/login/", "owner", PASSWORD).status_code == 302
