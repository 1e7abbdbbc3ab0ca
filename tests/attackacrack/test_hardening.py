"""The open internet: password guessing, hostile input from signed-in staff, caching of customer
data, and uploads left on disk. Each test here failed before the hardening it names."""

import base64
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from freezegun import freeze_time

from contacts.importing import pipeline
from contacts.models import ContactImport, ImportUploadChunk
from tests.factories import ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN_FORMS = ["/login/", "/admin/login/"]


def sign_in(client, path: str, username: str, password: str, address: str = "203.0.113.7"):
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
def test_one_address_guessing_many_usernames_is_locked_out_for_every_username(client, settings, path):
    StaffUserFactory(username="john")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, path, f"guess{n}", "wrong")

    from_that_address = sign_in(client, path, "john", PASSWORD)
    from_another = sign_in(client, path, "john", PASSWORD, address="198.51.100.20")

    assert from_that_address.status_code == 429
    assert from_another.status_code == 302  # john himself, elsewhere, is not locked out by a stranger


def test_behind_the_proxy_the_lockout_counts_the_address_the_proxy_saw(client, settings):
    settings.BEHIND_HTTPS_PROXY = True
    StaffUserFactory(username="john")
    for n in range(settings.AXES_FAILURE_LIMIT):
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


def test_the_api_answers_429_in_its_error_shape_past_the_rate_per_user(api_client, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    with freeze_time("2026-12-02 14:00:00Z") as clock:
        answers = [api_client.get("/api/contacts").status_code for _ in range(4)]
        refused = api_client.get("/api/contacts")
        clock.tick(61)
        again = api_client.get("/api/contacts")

    assert answers == [200, 200, 200, 429]
    assert refused.json()["detail"][0]["type"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert again.status_code == 200


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("tampered", ["p=abc", "p=1.5", "p=-1", "p=99999999999999999999", "p=%00", "r=1&p=x"])
@pytest.mark.parametrize("path", ["/api/contacts", "/api/campaigns", "/api/messages", "/api/imports"])
def test_a_tampered_cursor_is_404_in_the_error_shape(api_client, path, tampered):
    response = api_client.get(path, {"cursor": cursor(tampered)})

    assert response.status_code == 404
    assert response.json()["detail"][0]["msg"] == "Invalid cursor"


def test_a_cursor_from_the_api_itself_still_pages(api_client):
    ContactFactory.create_batch(3)
    first = api_client.get("/api/contacts", {"page_size": 2}).json()

    second = api_client.get(first["next"])

    assert second.status_code == 200 and len(second.json()["results"]) == 1


def test_json_nested_too_deep_is_400_in_the_error_shape(api_client):
    body = "[" * 2000 + "]" * 2000

    response = api_client.post("/api/contacts", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"][0]["type"] == "parse_error"


def test_a_json_body_over_the_limit_is_413_in_the_error_shape(api_client, settings):
    body = json.dumps({"phone": "+16175550123", "first_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = api_client.post("/api/contacts", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/contacts/", {"q": "\0"}),
        ("/conversations/", {"q": "a\0b"}),
        ("/admin/contacts/contact/", {"source": "\0"}),
        ("/admin/contacts/contact/", {"q": "\0"}),
    ],
)
def test_a_nul_in_a_page_query_is_400_not_a_database_error(client, owner_user, path, query):
    client.force_login(owner_user)

    response = client.get(path, query)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["/", "/contacts/", "/campaigns/", "/conversations/", "/account/token", "/admin/", "/api/contacts"]
)
def test_staff_pages_and_api_answers_are_never_cached(client, owner_user, path):
    client.force_login(owner_user)

    response = client.get(path)

    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_csv_downloads_are_never_cached(owner_client):
    ContactFactory()

    response = owner_client.get("/api/contacts/export.csv")

    assert response.status_code == 200
    assert {"no-store", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_every_page_carries_a_content_security_policy_without_inline_script(client):
    response = client.get("/login/")

    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


def test_a_queued_import_that_fails_deletes_the_kept_upload(settings):
    settings.IMPORT_SYNC_MAX_BYTES = 10
    contact_import = pipeline.import_upload(
        file=SimpleUploadedFile("list.csv", b"phone\n6175550100\n6175550101\n"), file_name="list.csv"
    )
    assert contact_import.status == ContactImport.Status.QUEUED
    contact_import.upload_chunks.update(data=b"\x00\x01\x02 not a csv")  # unreadable when its turn comes

    with pytest.raises(pipeline.ImportFailed):
        pipeline.run_queued_import(contact_import_id=contact_import.id)

    contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.FAILED and "NUL byte" in contact_import.error
    assert not ImportUploadChunk.objects.exists()


def test_the_admin_login_page_and_the_staff_login_share_the_lockout(client, settings):
    StaffUserFactory(username="mary")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, LOGIN_FORMS[n % 2], "mary", "wrong")

    assert sign_in(client, reverse("login"), "mary", PASSWORD).status_code == 429
    assert sign_in(client, reverse("admin:login"), "mary", PASSWORD).status_code == 429


def test_the_api_keeps_answering_uncounted_while_the_throttles_redis_is_away(api_client, settings):
    # A real Redis client pointed at a port nothing listens on: the cache is down, as in a restart.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.API_REQUESTS_PER_MINUTE = 1

    answers = [api_client.get("/api/contacts").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
