import re

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import CampaignContact
from contacts.models import Contact, ContactImport
from tests.contacts.csv_files import hundred_contacts, propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS
from tests.factories import CampaignFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def test_the_command_imports_and_prints_the_report(tmp_path, capsys):
    path = tmp_path / "radar.csv"
    path.write_bytes(propertyradar_csv(HOUSEHOLDS))

    call_command("import_contacts", str(path))

    out = capsys.readouterr().out
    assert "Format: PropertyRadar export" in out
    assert "primary_phone              <- Primary Mobile Phone1" in out
    assert re.search(r"contacts created\s+4\n", out)
    assert re.search(r"duplicate phones folded\s+2\n", out)
    assert "line 5: No mobile phone (the property is stored)" in out
    assert Contact.objects.count() == 4


def test_the_command_adds_to_a_campaign_as_a_user(tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_bytes(hundred_contacts())
    campaign = CampaignFactory()
    user = StaffUserFactory(username="office")

    call_command("import_contacts", str(path), "--campaign", str(campaign.id), "--user", "office")

    assert re.search(r"Added to campaign\s+100\n", capsys.readouterr().out)
    assert CampaignContact.objects.filter(campaign=campaign).count() == 100
    assert ContactImport.objects.get().created_by == user


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv"], "No such file"),
        (["{bad}"], "No phone column"),
        (["{good}", "--campaign", "999"], "No campaign with id 999"),
        (["{good}", "--user", "nobody"], "No user named 'nobody'"),
        (["{good}", "--format", "propertyradar"], "Not a PropertyRadar export"),
    ],
)
def test_the_command_explains_what_is_wrong(tmp_path, arguments, message):
    (tmp_path / "bad.csv").write_bytes(b"name,email\nMary,m@x.com\n")
    (tmp_path / "good.csv").write_bytes(hundred_contacts())
    arguments = [a.format(bad=tmp_path / "bad.csv", good=tmp_path / "good.csv") for a in arguments]

    with pytest.raises(CommandError, match=message):
        call_command("import_contacts", *arguments)

    assert not Contact.objects.exists()


def test_generate_propertyradar_csv_writes_a_file_the_importer_takes(tmp_path, capsys):
    path = tmp_path / "generated.csv"

    call_command("generate_propertyradar_csv", str(path), "--rows", "200")
    call_command("import_contacts", str(path))

    out = capsys.readouterr().out
    assert "200 rows" in out
    assert ContactImport.objects.get().rows_read == 201
