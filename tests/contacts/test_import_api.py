"""Uploading lists through the API: the user's contract and the report behind it."""

import csv
import io
import shutil
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign, CampaignContact
from contacts.importing.samples import HEADER
from contacts.models import Contact, ContactImport, ImportUploadChunk
from tests.contacts.csv_files import contacts_csv, hundred_contacts, propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS
from tests.factories import CampaignFactory
from tests.workers import real_worker

pytestmark = pytest.mark.django_db


def upload(content: bytes, name: str = "contacts.csv") -> dict:
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_the_seed_scenario_campaign_upload_imports_100_and_links_them(api_client):
    campaign_id = api_client.post(
        "/api/campaigns", {"name": "Test", "template_a": "A", "template_b": "B"}, format="json"
    ).json()["id"]

    response = api_client.post(f"/api/campaigns/{campaign_id}/upload", upload(hundred_contacts()), format="multipart")

    assert response.status_code == 200
    assert response.json()["imported"] == 100
    assert response.json()["added_to_campaign"] == 100
    in_campaign = Contact.objects.filter(campaign_memberships__campaign_id=campaign_id)
    assert in_campaign.count() == 100
    assert CampaignContact.objects.filter(campaign_id=campaign_id).count() == 100


def test_import_csv_returns_the_full_report(api_client, staff_user):
    response = api_client.post(
        "/api/import/csv", upload(propertyradar_csv(HOUSEHOLDS), "radar.csv"), format="multipart"
    )

    assert response.status_code == 200
    report = response.json()
    assert report["imported"] == 4 == Contact.objects.count()
    assert report["format"] == "propertyradar"
    assert report["column_mapping"]["primary_phone"] == "Primary Mobile Phone1"
    assert (report["entries_read"], report["duplicates_folded"], report["entries_rejected"]) == (8, 2, 2)
    assert report["status"] == "completed"
    stored = ContactImport.objects.get(pk=report["id"])
    assert stored.file_name == "radar.csv"
    assert stored.created_by == staff_user


def test_imports_can_be_listed_and_read_back(api_client):
    first = api_client.post("/api/import/csv", upload(hundred_contacts()), format="multipart").json()

    listing = api_client.get("/api/imports").json()
    detail = api_client.get(f"/api/imports/{first['id']}").json()

    assert [row["id"] for row in listing["results"]] == [first["id"]]
    assert detail["contacts_created"] == 100
    assert api_client.get("/api/imports/999999").status_code == 404


def downloaded_rows(api_client, report: dict) -> list[list[str]]:
    response = api_client.get(report["rejections_url"])
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def test_the_rejected_rows_come_back_under_the_files_header_as_the_file_had_them(api_client):
    kelly = {"APN": "RAND-000007-B", "Address": "7 SEA ST", "City": "QUINCY", "ZIP": "02169",
             "Longitude": "-71.012345", "Est Equity $": "-25000", "Owner": "KELLY,JOHN",
             "Primary Name": "", "Primary Mobile Phone1": "617-155-0107",
             "Secondary Name": "ROSE KELLY", "Secondary Mobile Phone1": "617-155-0108"}  # fmt: skip
    report = api_client.post(
        "/api/import/csv", upload(propertyradar_csv([*HOUSEHOLDS, kelly])), format="multipart"
    ).json()

    rows = downloaded_rows(api_client, report)

    assert rows[0] == ["Rejected line", "Rejected because", *HEADER]
    assert [row[:2] for row in rows[1:]] == [
        ["5", "No mobile phone (the property is stored)"],
        ["6", "Primary phone is not a valid number: '617-155-0199'"],
        # Both phones of one row: one row, both reasons.
        ["7", "Primary phone is not a valid number: '617-155-0107'; "
              "Secondary phone is not a valid number: '617-155-0108'"],
    ]  # fmt: skip
    cells = dict(zip(rows[0], rows[3], strict=True))
    # A quoted cell stays one cell, and numbers stay as written (no spreadsheet guard on them).
    assert (cells["Owner"], cells["Longitude"], cells["Est Equity $"]) == ("KELLY,JOHN", "-71.012345", "-25000")
    assert all(len(row) == len(rows[0]) for row in rows)


def test_the_rejected_rows_once_fixed_import_again(api_client):
    header = ["phone", "name", "email"]
    content = contacts_csv(header, [["617-555-01", "KELLY,JOHN", "j@example.com"], ["(617) 555-0142", "Ann Lee", ""],
                                    ["+1 617 555", "=HYPERLINK(1)", ""]])  # fmt: skip
    first = api_client.post("/api/import/csv", upload(content), format="multipart").json()
    rows = downloaded_rows(api_client, first)
    assert rows == [
        ["Rejected line", "Rejected because", *header],
        ["2", "Not a valid phone number: '617-555-01'", "617-555-01", "KELLY,JOHN", "j@example.com"],
        ["4", "Not a valid phone number: '+1 617 555'", "+1 617 555", "'=HYPERLINK(1)", ""],
    ]

    rows[1][2], rows[2][2:4] = "617-555-0101", ["+1 617 555 0102", "Rose Daly"]
    again = api_client.post("/api/import/csv", upload(csv_bytes(rows)), format="multipart").json()

    assert (again["status"], again["imported"], again["entries_rejected"]) == ("completed", 2, 0)
    assert Contact.objects.get(phone="+16175550101").full_name == "John Kelly"
    assert Contact.objects.get(phone="+16175550102").email == ""


def test_a_carriage_return_inside_a_cell_is_kept_not_taken_for_a_line_end(api_client):
    # Found by the CSV fuzzer: PostgreSQL's COPY reads a bare CR as the end of a row.
    # (Semicolons, so the staged copy of the row holds no comma that would get it quoted anyway.)
    content = b'phone;first_name\n"(617) 555-01\r23";Ann\n(617) 555-0142;Bob\n'

    report = api_client.post("/api/import/csv", upload(content), format="multipart").json()

    assert (report["status"], report["imported"], report["entries_rejected"]) == ("completed", 1, 1)
    assert Contact.objects.get().first_name == "Bob"
    rows = downloaded_rows(api_client, report)
    assert rows[1] == ["2", "Not a valid phone number: '(617) 555-01\\r23'", "(617) 555-01\r23", "Ann"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"First Name,Email\nMary,m@x.com\n", "No phone column. Headers found: 'First Name', 'Email'"),
        (b"\x00\x01\x02binary", "not a text file"),
    ],
)
def test_a_bad_file_is_422_naming_the_file_field_and_stores_nothing(api_client, content, words):
    response = api_client.post("/api/import/csv", upload(content), format="multipart")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "file"]
    assert error["type"] in ("invalid_file", "empty")
    assert words.lower() in error["msg"].lower()
    assert not ContactImport.objects.exists()
    assert not Contact.objects.exists()


def test_a_request_without_a_file_is_422(api_client):
    response = api_client.post("/api/import/csv", {}, format="multipart")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_file_over_the_limit_is_413_and_not_read(api_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000

    response = api_client.post("/api/import/csv", upload(hundred_contacts()), format="multipart")

    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"
    assert not Contact.objects.exists()


def test_a_closed_campaign_takes_no_upload(api_client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)

    response = api_client.post(f"/api/campaigns/{campaign.id}/upload", upload(hundred_contacts()), format="multipart")

    assert response.status_code == 409
    assert not Contact.objects.exists()


def test_upload_to_an_unknown_campaign_is_404(api_client):
    response = api_client.post("/api/campaigns/424242/upload", upload(hundred_contacts()), format="multipart")

    assert response.status_code == 404
    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_kept_in_the_database_and_imported_by_a_worker_on_another_disk(api_client, settings, tmp_path):
    settings.IMPORT_SYNC_MAX_BYTES = 100
    web_disk, worker_disk = tmp_path / "web", tmp_path / "worker"
    web_disk.mkdir(), worker_disk.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(web_disk)
    content = hundred_contacts()

    response = api_client.post("/api/import/csv", upload(content), format="multipart")

    assert response.status_code == 202 and response.json()["status"] == "queued"
    queued = ContactImport.objects.get()
    kept = b"".join(bytes(data) for data in queued.upload_chunks.order_by("position").values_list("data", flat=True))
    assert kept == content
    shutil.rmtree(web_disk)  # the web machine's disk is not the worker's
    settings.FILE_UPLOAD_TEMP_DIR = str(worker_disk)
    url = f"/api/imports/{queued.pk}"
    with real_worker():
        deadline = time.monotonic() + 20
        while api_client.get(url).json()["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)

    report = api_client.get(url).json()
    assert report["status"] == "completed"
    assert report["imported"] == 100 == Contact.objects.count()
    assert not ImportUploadChunk.objects.exists()  # the kept upload is removed once imported
    assert not list(worker_disk.iterdir())  # and the worker's copy
