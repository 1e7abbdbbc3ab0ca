"""Loading Do-Not-Call lists from the owner's page and the API, and Today's warning when a copy is
too old to text by (issue 37)."""

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from attackacrack import today
from contacts import dnc
from contacts.models import DoNotCallCoverage, DoNotCallLoad, DoNotCallNumber
from tests.factories import ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
URL = "/api/dnc-lists"


def upload(content: bytes, name: str = "617.txt", **fields: str) -> dict:
    return {
        "file": SimpleUploadedFile(name, content, content_type="text/plain"),
        "list": "national",
        "as_of": "2026-11-30",
        **fields,
    }


def zipped(files: dict[str, str]) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return packed.getvalue()


def held() -> list[str]:
    return sorted(f"+{number}" for number in DoNotCallNumber.objects.values_list("number", flat=True))


def nothing_stored() -> bool:
    return not any(model.objects.exists() for model in (DoNotCallNumber, DoNotCallCoverage, DoNotCallLoad))


def page_client(role: str) -> Client:
    client = Client()
    client.force_login(StaffUserFactory(role=role))
    return client


# --- The API ------------------------------------------------------------------------------------


def test_the_owner_loads_a_list_and_hears_what_it_held_and_matched(owner_client, owner_user):
    ContactFactory(phone="+16172003001")
    ContactFactory(phone="+15082003003")

    with freeze_time(NOW):
        response = owner_client.post(
            URL, upload(b"617,2003001\n617,2003002\n508,2003003\n508,2003004\n"), format="multipart"
        )

    assert response.status_code == 201
    body = response.json()
    load = DoNotCallLoad.objects.get()
    assert body == {
        "id": load.id,
        "list": "national",
        "kind": "full",
        "as_of": "2026-11-30",
        "file_name": "617.txt",
        "area_codes": ["508", "617"],
        "numbers_read": 4,
        "numbers_added": 4,
        "numbers_removed": 0,
        "contacts_matched": 2,
        "loaded_at": body["loaded_at"],
    }
    assert dt.datetime.fromisoformat(body["loaded_at"]) == NOW
    assert load.loaded_by == owner_user
    assert held() == ["+15082003003", "+15082003004", "+16172003001", "+16172003002"]
    assert dict(DoNotCallCoverage.objects.values_list("area_code", "as_of")) == {
        "508": dt.date(2026, 11, 30),
        "617": dt.date(2026, 11, 30),
    }


def test_a_zipped_list_loads_like_a_plain_one(owner_client):
    ContactFactory(phone="+17812003011")
    content = zipped({"617.txt": "617,2003010\r\n617,200-3012\r\n", "781.txt": "781,2003011\n"})

    with freeze_time(NOW):
        response = owner_client.post(URL, upload(content, "national.zip", list="state"), format="multipart")

    assert response.status_code == 201
    body = response.json()
    assert (body["list"], body["file_name"], body["area_codes"]) == ("state", "national.zip", ["617", "781"])
    assert (body["numbers_read"], body["numbers_added"], body["contacts_matched"]) == (3, 3, 1)
    assert held() == ["+16172003010", "+16172003012", "+17812003011"]
    assert set(DoNotCallNumber.objects.values_list("list", flat=True)) == {"state"}


def test_a_change_list_reports_what_it_added_and_removed(owner_client):
    with freeze_time(NOW):
        owner_client.post(URL, upload(b"617,2003020\n617,2003021\n"), format="multipart")
        response = owner_client.post(
            URL, upload(b"617,2003021,D\n617,2003022,A\n", as_of="2026-12-01"), format="multipart"
        )

    body = response.json()
    assert (body["kind"], body["numbers_read"], body["numbers_added"], body["numbers_removed"]) == ("changes", 2, 1, 1)
    assert held() == ["+16172003020", "+16172003022"]


def test_staff_may_not_load_a_list(api_client):
    with freeze_time(NOW):
        response = api_client.post(URL, upload(b"617,2003030\n"), format="multipart")

    assert response.status_code == 403
    assert response.json() == {
        "detail": [{"loc": [], "msg": "Only the owner can load Do-Not-Call lists.", "type": "permission_denied"}]
    }
    assert nothing_stored()


def test_a_bad_file_is_422_naming_its_line_and_stores_nothing(owner_client):
    with freeze_time(NOW):
        response = owner_client.post(URL, upload(b"617,2003040\n617,2003041\n617,20030\n"), format="multipart")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "file"]
    assert error["type"] == "invalid_file"
    assert error["msg"].startswith("617.txt, line 3: expected 'area code,number'")
    assert nothing_stored()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"list": "texas"}, "list", "not a valid choice"),
        ({"as_of": "30/11/2026"}, "as_of", "Date has wrong format"),
        ({"as_of": "2026-12-02"}, "as_of", "The list's date 2026-12-02 is in the future"),
    ],
)
def test_a_bad_field_is_422_naming_it(owner_client, fields, field, words):
    with freeze_time(NOW):
        response = owner_client.post(URL, upload(b"617,2003050\n", **fields), format="multipart")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert words in error["msg"]
    assert nothing_stored()


def test_a_request_without_a_file_is_422_naming_it(owner_client):
    response = owner_client.post(URL, {"list": "national", "as_of": "2026-11-30"}, format="multipart")

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "file"]]


def test_a_file_over_the_upload_limit_is_413_and_not_read(owner_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000

    response = owner_client.post(URL, upload(b"617,2003060\n" * 200), format="multipart")

    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"
    assert nothing_stored()


def test_a_file_too_large_for_memory_is_read_from_its_temporary_file(owner_client, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # Django writes the upload to disk past this
    lines = "".join(f"617,{2003100 + n}\n" for n in range(100)).encode()

    with freeze_time(NOW):
        response = owner_client.post(URL, upload(lines), format="multipart")

    assert response.status_code == 201
    assert response.json()["numbers_read"] == 100 == DoNotCallNumber.objects.count()


def test_the_listing_says_which_copies_are_too_old_to_text_by(owner_client, api_client):
    with freeze_time(NOW):
        owner_client.post(URL, upload(b"617,2003070\n508,2003071\n", as_of="2026-10-30"), format="multipart")
        owner_client.post(URL, upload(b"781,2003072\n", as_of="2026-10-31"), format="multipart")
        owner_client.post(URL, upload(b"617,2003073\n", list="state", as_of="2026-11-30"), format="multipart")

    with freeze_time(NOW):
        response = api_client.get(URL)  # staff may see what is loaded

    assert response.status_code == 200
    body = response.json()
    assert [(load["list"], load["as_of"]) for load in body["results"]] == [
        ("state", "2026-11-30"),
        ("national", "2026-10-31"),
        ("national", "2026-10-30"),
    ]
    lists = {item["list"]: item for item in body["lists"]}
    assert lists["national"]["label"] == "National Do-Not-Call Registry"
    # 31 days before 2026-12-01 is 2026-10-31: that copy may still be texted by, the day before not.
    assert [(c["area_code"], c["as_of"], c["stale"]) for c in lists["national"]["area_codes"]] == [
        ("508", "2026-10-30", True),
        ("617", "2026-10-30", True),
        ("781", "2026-10-31", False),
    ]
    assert [(c["area_code"], c["stale"]) for c in lists["state"]["area_codes"]] == [("617", False)]

    with freeze_time(NOW + dt.timedelta(days=1)):
        a_day_later = {item["list"]: item for item in api_client.get(URL).json()["lists"]}
    assert [c["stale"] for c in a_day_later["national"]["area_codes"]] == [True, True, True]


def test_the_listing_is_paginated_like_other_lists(owner_client):
    with freeze_time(NOW):
        for day in (27, 28, 29):
            owner_client.post(URL, upload(b"617,2003080\n", as_of=f"2026-11-{day}"), format="multipart")

        first = owner_client.get(URL, {"page_size": 2}).json()
        second = owner_client.get(first["next"]).json()

    assert [load["as_of"] for load in first["results"]] == ["2026-11-29", "2026-11-28"]
    assert [load["as_of"] for load in second["results"]] == ["2026-11-27"]
    assert second["next"] is None
    assert second["lists"] == first["lists"]


# --- The page -----------------------------------------------------------------------------------


def test_the_owner_loads_a_list_on_the_page_and_reads_its_counts():
    client = page_client("owner")
    ContactFactory(phone="+16172004001")

    with freeze_time(NOW):
        response = client.post(
            reverse("contacts:dnc-lists"), upload(zipped({"617.txt": "617,2004001\n617,2004002\n"}), "dnc.zip"),
            follow=True,
        )  # fmt: skip

    assert response.redirect_chain == [(reverse("contacts:dnc-lists"), 302)]
    page = response.content.decode()
    assert (
        "Loaded: National Do-Not-Call Registry of 2026-11-30 (full list, area codes 617): 2 numbers read, 2 added, "
        "0 removed; 1 of your contacts are on it."
    ) in page
    assert 'id="coverage-national"' in page and "2026-11-30" in page and "dnc.zip" in page
    assert held() == ["+16172004001", "+16172004002"]
    assert DoNotCallLoad.objects.get().file_name == "dnc.zip"


def test_the_page_reports_a_refused_file_and_stores_nothing():
    client = page_client("owner")

    with freeze_time(NOW):
        response = client.post(reverse("contacts:dnc-lists"), upload(b"617,2004010\nnot a number\n"))

    assert response.status_code == 200
    assert "Nothing was loaded: 617.txt, line 2: expected &#x27;area code,number&#x27;" in response.content.decode()
    assert nothing_stored()


def test_the_page_marks_copies_too_old_to_text_by():
    client = page_client("owner")
    with freeze_time(NOW):
        dnc.load_list(io.BytesIO(b"508,2004020\n"), list_name="national", as_of=dt.date(2026, 10, 30))
        dnc.load_list(io.BytesIO(b"617,2004021\n"), list_name="national", as_of=dt.date(2026, 11, 30))

        page = client.get(reverse("contacts:dnc-lists")).content.decode()

    rows = page.split('id="coverage-national"')[1].split("</table>")[0].split("<tr>")[2:]
    assert "508" in rows[0] and "Too old: marketing texts stopped" in rows[0]
    assert "617" in rows[1] and "Too old" not in rows[1]
    assert "Massachusetts Do-Not-Call list" in page and "Not loaded." in page


def test_staff_may_not_see_the_page_or_load_through_it():
    client = page_client("staff")

    with freeze_time(NOW):
        seen = client.get(reverse("contacts:dnc-lists"))
        posted = client.post(reverse("contacts:dnc-lists"), upload(b"617,2004030\n"))

    assert seen.status_code == posted.status_code == 403
    assert "Only the owner can load Do-Not-Call lists." in posted.content.decode()
    assert nothing_stored()


def test_the_contacts_list_links_the_page_for_the_owner_only():
    owner = page_client("owner").get(reverse("contacts:list")).content.decode()
    staff = page_client("staff").get(reverse("contacts:list")).content.decode()

    link = f'href="{reverse("contacts:dnc-lists")}"'
    assert link in owner
    assert link not in staff


# --- Today ----------------------------------------------------------------------------------------


def test_today_warns_of_a_copy_too_old_until_a_newer_one_is_loaded():
    with freeze_time(NOW - dt.timedelta(days=32)):
        dnc.load_list(io.BytesIO(b"617,2005001\n508,2005002\n"), list_name="national", as_of=dt.date(2026, 10, 30))
        dnc.load_list(io.BytesIO(b"617,2005003\n"), list_name="state", as_of=dt.date(2026, 10, 30))
    with freeze_time(NOW):
        dnc.load_list(io.BytesIO(b"781,2005004\n"), list_name="national", as_of=dt.date(2026, 10, 31))
    staff = page_client("staff")

    with freeze_time(NOW):
        dashboard = staff.get(reverse("dashboard")).content.decode()

    warnings = [alert for alert in today.alerts(now=NOW) if "Do-Not-Call" in alert.text]
    assert [(alert.level, alert.text, alert.link) for alert in warnings] == [
        (
            "error",
            "The National Do-Not-Call Registry copy for area codes 508, 617 is of 2026-10-30: marketing texts to "
            "them have stopped until a newer one is loaded.",
            reverse("contacts:dnc-lists"),
        ),
        (
            "error",
            "The Massachusetts Do-Not-Call list copy for area code 617 is of 2026-10-30: marketing texts to them "
            "have stopped until a newer one is loaded.",
            reverse("contacts:dnc-lists"),
        ),
    ]
    assert "National Do-Not-Call Registry copy for area codes 508, 617 is of 2026-10-30" in dashboard

    with freeze_time(NOW):
        dnc.load_list(io.BytesIO(b"617,2005001\n508,2005002\n"), list_name="national", as_of=dt.date(2026, 11, 30))
        dnc.load_list(io.BytesIO(b"617,2005003\n"), list_name="state", as_of=dt.date(2026, 11, 30))
        dashboard = staff.get(reverse("dashboard")).content.decode()

    assert not [alert for alert in today.alerts(now=NOW) if "Do-Not-Call" in alert.text]
    assert "Do-Not-Call" not in dashboard
