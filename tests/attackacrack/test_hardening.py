"""The open internet: hostile input from signed-in staff, caching of customer data, and uploads
left on disk (password guessing and the API's rate have files of their own). Each test here
failed before the hardening it names."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.importing import pipeline
from contacts.models import ContactImport, ImportUploadChunk
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


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
