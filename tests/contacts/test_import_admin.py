import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact, ContactImport
from tests.contacts.csv_files import propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


def test_staff_import_a_file_from_the_admin_and_see_the_report(admin_client):
    changelist = admin_client.get(reverse("admin:contacts_contactimport_changelist"))
    assert reverse("admin:contacts_contactimport_upload").encode() in changelist.content

    response = admin_client.post(
        reverse("admin:contacts_contactimport_upload"),
        {"file": SimpleUploadedFile("radar.csv", propertyradar_csv(HOUSEHOLDS))},
        follow=True,
    )

    contact_import = ContactImport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:contacts_contactimport_change", args=[contact_import.id])
    assert b"Imported 4 new contacts" in response.content
    assert Contact.objects.count() == 4
    assert b"Download 2 rejected rows (CSV)" in response.content
    download = admin_client.get(reverse("admin:contacts_contactimport_rejections", args=[contact_import.id]))
    assert b"No mobile phone" in b"".join(download.streaming_content)


def test_a_bad_file_is_shown_on_the_form_and_nothing_is_stored(admin_client):
    response = admin_client.post(
        reverse("admin:contacts_contactimport_upload"),
        {"file": SimpleUploadedFile("x.csv", b"name,email\nMary,m@x.com\n")},
    )

    assert response.status_code == 200
    assert "No phone column" in response.context["form"].errors["file"][0]
    assert not ContactImport.objects.exists()
