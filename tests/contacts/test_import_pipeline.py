"""The import pipeline: exact counts, folding, re-import, and nothing half-written."""

import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from freezegun import freeze_time

from campaigns.models import CampaignContact
from contacts.importing import BadFile, pipeline
from contacts.importing.samples import write_propertyradar_csv
from contacts.models import Contact, ContactImport, ImportRejection, Property, PropertyContact
from tests.contacts.csv_files import contacts_csv, propertyradar_csv
from tests.factories import CampaignFactory, ContactFactory

pytestmark = pytest.mark.django_db

HOUSEHOLDS = [
    # Spouses on one cell: the secondary folds into the primary. Negative equity.
    {"APN": "RAND-000001-B", "Address": "12 ELM ST", "City": "QUINCY", "ZIP": "02169", "Est Equity $": "-25000",
     "Primary Name": "MARY SULLIVAN", "Primary Mobile Phone1": "617-555-0101",
     "Secondary Name": "JOHN SULLIVAN", "Secondary Mobile Phone1": "617-555-0101"},
    # A blank primary name, a leading-zero ZIP, a negative equity percentage.
    {"APN": "RAND-000002-B", "Address": "14 ELM ST", "City": "BRAINTREE", "ZIP": "02184", "Est Equity %": "-3.5",
     "Primary Name": "", "Primary Mobile Phone1": "617-555-0102",
     "Secondary Name": "ANN O'BRIEN", "Secondary Mobile Phone1": "781-555-0103", "Secondary Email1": "ann@example.com"},
    # Mary's cell again, on another house: folded, and linked to this house too.
    {"APN": "RAND-000003-B", "Address": "9 SEA ST", "City": "QUINCY", "ZIP": "02169",
     "Primary Name": "SEAN MCCARTHY", "Primary Mobile Phone1": "617-555-0101"},
    # No phone at all: rejected, the property is still stored.
    {"APN": "RAND-000004-B", "Address": "1 OAK AVE", "City": "MILTON", "ZIP": "02186"},
    # An invalid primary (no exchange starts with 1), a valid secondary.
    {"APN": "RAND-000005-B", "Address": "3 OAK AVE", "City": "MILTON", "ZIP": "02186",
     "Primary Name": "PAT WALSH", "Primary Mobile Phone1": "617-155-0199",
     "Secondary Name": "LINDA KELLY", "Secondary Mobile Phone1": "508-555-0104"},
]  # fmt: skip


def run_import(content: bytes, **kwargs) -> ContactImport:
    return pipeline.import_contacts(file=io.BytesIO(content), file_name="list.csv", **kwargs)


def test_a_propertyradar_export_is_counted_exactly_and_stored_as_counted():
    report = run_import(propertyradar_csv(HOUSEHOLDS))

    assert report.status == ContactImport.Status.COMPLETED
    assert report.format == "propertyradar"
    assert (report.rows_read, report.footer_rows_skipped, report.entries_read) == (6, 1, 8)
    assert (report.contacts_created, report.duplicates_folded, report.entries_rejected) == (4, 2, 2)
    assert (report.contacts_updated, report.contacts_unchanged) == (0, 0)
    assert report.properties_created == 5
    # What the report says is what is stored.
    assert Contact.objects.count() == report.contacts_created
    assert Property.objects.count() == report.properties_created
    assert ImportRejection.objects.filter(contact_import=report).count() == report.entries_rejected
    assert set(Contact.objects.values_list("phone", flat=True)) == {
        "+16175550101", "+16175550102", "+17815550103", "+15085550104",
    }  # fmt: skip


def test_one_phone_is_one_contact_with_the_name_it_first_came_with():
    run_import(propertyradar_csv(HOUSEHOLDS))

    mary = Contact.objects.get(phone="+16175550101")
    assert (mary.first_name, mary.last_name) == ("Mary", "Sullivan")
    assert mary.source_import is not None
    links = sorted(mary.property_contacts.values_list("property__apn", "role"))
    assert links == [("RAND-000001-B", "primary"), ("RAND-000003-B", "primary")]


def test_names_are_title_cased_and_blank_names_stay_blank():
    run_import(propertyradar_csv(HOUSEHOLDS))

    assert Contact.objects.get(phone="+17815550103").last_name == "O'Brien"
    blank = Contact.objects.get(phone="+16175550102")
    assert (blank.first_name, blank.last_name) == ("", "")
    assert Property.objects.get(apn="RAND-000001-B").address == "12 Elm St"


def test_property_values_keep_zeros_signs_and_decimals():
    run_import(propertyradar_csv(HOUSEHOLDS))

    braintree = Property.objects.get(apn="RAND-000002-B")
    assert braintree.zip_code == "02184"
    assert braintree.estimated_equity_percent == Decimal("-3.50")
    assert Property.objects.get(apn="RAND-000001-B").estimated_equity == -25000
    assert Contact.objects.get(phone="+16175550102").zip_code == "02184"


def test_a_house_named_on_several_lines_is_stored_once_as_its_first_line_says():
    rows = [
        {"APN": "RAND-000009-B", "Address": "5 PINE ST", "City": "QUINCY", "ZIP": "02169", "Beds": "3",
         "Primary Name": "ROSE DALY", "Primary Mobile Phone1": "617-555-0111"},
        {"Address": "7 PINE ST", "City": "QUINCY", "ZIP": "02169", "Beds": "2",
         "Primary Name": "TOM DALY", "Primary Mobile Phone1": "617-555-0112"},
        {"APN": "RAND-000009-B", "Address": "5 PINE STREET", "City": "QUINCY", "ZIP": "02169", "Beds": "4",
         "Primary Name": "LIAM DALY", "Primary Mobile Phone1": "617-555-0113"},
        {"Address": "7 Pine St", "City": "QUINCY", "ZIP": "02169", "Beds": "5",
         "Primary Name": "ANNE DALY", "Primary Mobile Phone1": "617-555-0114"},
    ]  # fmt: skip

    report = run_import(propertyradar_csv(rows))

    assert report.properties_created == 2
    by_apn = Property.objects.get(apn="RAND-000009-B")
    by_address = Property.objects.get(apn="", address_key="7 PINE ST")
    assert (by_apn.address, by_apn.beds, by_address.address, by_address.beds) == ("5 Pine St", 3, "7 Pine St", 2)
    # Everyone named on either line lives there.
    assert set(by_apn.property_contacts.values_list("contact__phone", flat=True)) == {"+16175550111", "+16175550113"}
    assert set(by_address.property_contacts.values_list("contact__phone", flat=True)) == {
        "+16175550112", "+16175550114",
    }  # fmt: skip


def test_each_rejection_names_its_line_and_reason():
    report = run_import(propertyradar_csv(HOUSEHOLDS))

    rejections = list(report.rejections.values_list("line_number", "reason"))
    assert rejections == [
        (5, "No mobile phone (the property is stored)"),
        (6, "Primary phone is not a valid number: '617-155-0199'"),
    ]
    assert Property.objects.filter(apn="RAND-000004-B").exists()


def test_household_members_are_linked_to_their_house_with_their_role():
    run_import(propertyradar_csv(HOUSEHOLDS))

    links = set(PropertyContact.objects.values_list("property__apn", "contact__phone", "role"))
    assert links == {
        ("RAND-000001-B", "+16175550101", "primary"),
        ("RAND-000002-B", "+16175550102", "primary"),
        ("RAND-000002-B", "+17815550103", "secondary"),
        ("RAND-000003-B", "+16175550101", "primary"),
        ("RAND-000005-B", "+15085550104", "secondary"),
    }


def test_foreign_keys_are_checked_again_once_the_merge_is_done():
    run_import(propertyradar_csv(HOUSEHOLDS))
    house = Property.objects.first()

    # The merge skips the row-by-row checks; what the same transaction writes afterwards does not.
    with pytest.raises(IntegrityError, match="violates foreign key constraint"), transaction.atomic():
        PropertyContact.objects.create(property=house, contact_id=999_999_999, role="primary")
        connection.check_constraints(table_names=["contacts_propertycontact"])


def test_a_database_role_that_may_not_skip_the_checks_imports_the_same_rows(caplog):
    with connection.cursor() as cursor, caplog.at_level("INFO", logger="contacts.importing.loader"):
        # Created and dropped with the test's transaction.
        cursor.execute("CREATE ROLE importer_without_replication_rights")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO importer_without_replication_rights")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO importer_without_replication_rights")
        cursor.execute("SET ROLE importer_without_replication_rights")
        try:
            report = run_import(propertyradar_csv(HOUSEHOLDS))
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == "importer_without_replication_rights"
        finally:
            cursor.execute("RESET ROLE")

    assert "may not set session_replication_role" in caplog.text
    assert report.status == ContactImport.Status.COMPLETED
    assert (report.contacts_created, report.duplicates_folded, report.entries_rejected) == (4, 2, 2)
    assert Contact.objects.count() == 4
    assert PropertyContact.objects.count() == 5


def test_each_new_contact_gets_a_zone_from_the_best_evidence_in_its_row():
    report = run_import(
        contacts_csv(
            ["phone", "zip", "state"],
            [
                ["617-555-0141", "02169", ""],  # a Boston-area ZIP
                ["617-555-0142", "90012-1234", "MA"],  # the ZIP beats the state and the area code
                ["617-555-0143", "", "AZ"],  # no ZIP: the state's zones
                ["213-555-0144", "00000", ""],  # a ZIP nobody has: the area code
                ["888-555-0145", "", ""],  # toll-free, nothing else: unknown
            ],
        )
    )

    assert report.contacts_created == 5
    zones = dict(Contact.objects.values_list("phone", "time_zone"))
    sources = dict(Contact.objects.values_list("phone", "time_zone_source"))
    assert zones == {
        "+16175550141": "America/New_York",
        "+16175550142": "America/Los_Angeles",
        "+16175550143": "America/Denver,America/Phoenix",
        "+12135550144": "America/Los_Angeles",
        "+18885550145": "",
    }
    assert sources == {
        "+16175550141": "address",
        "+16175550142": "address",
        "+16175550143": "address",
        "+12135550144": "area_code",
        "+18885550145": "unknown",
    }


def test_a_completed_import_logs_where_its_time_went(caplog):
    with caplog.at_level("INFO", logger="contacts.importing.pipeline"):
        report = run_import(propertyradar_csv(HOUSEHOLDS))

    [record] = [r for r in caplog.records if r.getMessage().startswith(f"Import {report.id} completed: 6 rows in ")]
    assert set(record.import_seconds) == {"staging", "merge", "commit"}
    assert all(seconds >= 0 for seconds in record.import_seconds.values())


def test_reimporting_the_same_file_changes_nothing_and_says_so():
    run_import(propertyradar_csv(HOUSEHOLDS))
    before = list(Contact.objects.order_by("id").values())
    links_before = PropertyContact.objects.count()

    again = run_import(propertyradar_csv(HOUSEHOLDS))

    assert (again.contacts_created, again.contacts_updated, again.contacts_unchanged) == (0, 0, 4)
    assert (again.properties_created, again.properties_updated, again.properties_unchanged) == (0, 0, 5)
    assert (again.duplicates_folded, again.entries_rejected) == (2, 2)
    assert list(Contact.objects.order_by("id").values()) == before
    assert PropertyContact.objects.count() == links_before


def test_existing_contacts_get_blanks_filled_but_keep_their_values_and_their_opt_out():
    opted_out_at = timezone.now()
    ContactFactory(
        phone="+16175550102", first_name="Pat", last_name="Doyle", email="", address="", city="", zip_code="",
        opted_out_at=opted_out_at, opt_out_reason="Replied STOP",
    )  # fmt: skip
    ContactFactory(phone="+17815550103", first_name="Annie", last_name="Obrien", email="old@example.com")

    report = run_import(propertyradar_csv(HOUSEHOLDS))

    assert (report.contacts_created, report.contacts_updated, report.contacts_unchanged) == (2, 1, 1)
    pat = Contact.objects.get(phone="+16175550102")
    assert (pat.first_name, pat.last_name) == ("Pat", "Doyle")
    assert (pat.address, pat.city, pat.zip_code) == ("14 Elm St", "Braintree", "02184")
    assert pat.opted_out_at == opted_out_at
    annie = Contact.objects.get(phone="+17815550103")
    assert (annie.first_name, annie.email) == ("Annie", "old@example.com")


def test_a_generated_export_reconciles_with_what_the_generator_wrote():
    buffer = io.StringIO(newline="")
    expected = write_propertyradar_csv(buffer, rows=3000, seed=11)

    report = run_import(buffer.getvalue().encode())

    assert report.rows_read == 3001
    assert report.entries_read == expected.entries
    assert report.contacts_created == len(expected.distinct_phones) == Contact.objects.count()
    assert report.duplicates_folded == expected.folded
    assert report.entries_rejected == expected.invalid_phone_cells + expected.rows_without_phone
    assert Property.objects.count() == 3000
    assert set(Contact.objects.values_list("phone", flat=True)) == expected.distinct_phones


@pytest.mark.parametrize(
    ("content", "mapping"),
    [
        (contacts_csv(["Phone Number", "First Name", "Last Name", "Email"],
                      [["(617) 555-0199", "MARY", "SULLIVAN", "M@X.COM"]]),
         {"phone": "Phone Number", "first_name": "First Name", "last_name": "Last Name", "email": "Email"}),
        (contacts_csv(["mobile", "first_name", "last_name"], [["6175550199", "Mary", "Sullivan"]], delimiter=";"),
         {"phone": "mobile", "first_name": "first_name", "last_name": "last_name"}),
        (contacts_csv(["name", "phone", "city", "zip"], [["MARY SULLIVAN", "+16175550199", "QUINCY", "2169"]],
                      delimiter="\t"),
         {"name": "name", "phone": "phone", "city": "city", "zip_code": "zip"}),
        (b"\xef\xbb\xbfPhone,First Name\r\n617-555-0199,Mary\r\n", {"phone": "Phone", "first_name": "First Name"}),
    ],
)  # fmt: skip
def test_generic_csvs_with_common_headers_delimiters_and_bom(content, mapping):
    report = run_import(content)

    assert report.format == "generic"
    assert report.column_mapping == mapping
    contact = Contact.objects.get()
    assert contact.phone == "+16175550199"
    assert contact.first_name == "Mary"
    assert report.contacts_created == 1


def test_a_windows_1252_file_is_read_as_such():
    report = run_import("phone,first_name\n617-555-0199,José\n".encode("cp1252"))

    assert report.encoding == "cp1252"
    assert Contact.objects.get().first_name == "José"


def test_a_generic_csv_reports_every_row():
    content = contacts_csv(
        ["phone", "first_name"],
        [["617-555-0199", "A"], ["", "B"], ["12345", "C"], ["617 555 0199", "D"], ["617-555-0198", "E", "extra"]],
    )

    report = run_import(content)

    assert report.rows_read == 5
    assert (report.contacts_created, report.duplicates_folded, report.entries_rejected) == (1, 1, 3)
    assert list(report.rejections.values_list("line_number", "reason")) == [
        (3, "No phone number"),
        (4, "Not a valid phone number: '12345'"),
        (6, "Has 3 cells but the header has 2"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"phone,first_name\r\n", "header row but no data rows"),
        (b"First Name,Last Name,Email\nMary,Sullivan,m@x.com\n",
         "No phone column. Headers found: 'First Name', 'Last Name', 'Email'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"phone,name\n617-555-0199,\x81\x8d\x8f\n", "neither UTF-8 nor Windows-1252"),
        (b"phone\n" + b"6" * 10_000_000 + b"\n", "Line 2 cannot be read as CSV"),
    ],
    ids=["empty", "header-only", "no-phone-column", "binary", "bad-encoding", "huge-cell"],
)  # fmt: skip
def test_a_bad_file_is_refused_with_a_reason_and_stores_nothing(content, message):
    with pytest.raises(BadFile, match=message):
        run_import(content)

    assert not ContactImport.objects.exists()
    assert not Contact.objects.exists()


def test_a_failure_mid_import_leaves_the_database_as_it_was():
    existing = ContactFactory(phone="+16175550101", first_name="Mary", email="")
    with connection.cursor() as cursor:
        # The database itself fails the merge half-way, after contacts and properties were written.
        cursor.execute(
            """
            CREATE FUNCTION fail_link() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'disk full (injected)'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER fail_link BEFORE INSERT ON contacts_propertycontact
            FOR EACH ROW EXECUTE FUNCTION fail_link();
            -- The merge runs in replication mode, where only ALWAYS triggers fire.
            ALTER TABLE contacts_propertycontact ENABLE ALWAYS TRIGGER fail_link;
            """
        )

    with pytest.raises(pipeline.ImportFailed, match="disk full"):
        run_import(propertyradar_csv(HOUSEHOLDS))

    assert list(Contact.objects.all()) == [existing]
    assert Contact.objects.get().email == ""
    assert not Property.objects.exists()
    assert not ImportRejection.objects.exists()
    failed = ContactImport.objects.get()
    assert failed.status == ContactImport.Status.FAILED
    assert "disk full (injected)" in failed.error
    assert failed.contacts_created == 0


def test_an_import_record_whose_counts_do_not_add_up_is_refused():
    with pytest.raises(IntegrityError, match="contact_import_counts_add_up"), transaction.atomic():
        ContactImport.objects.create(file_name="x.csv", entries_read=10, contacts_created=9)


def test_importing_into_a_campaign_adds_each_contact_once_with_a_stable_variant():
    campaign = CampaignFactory()

    first = run_import(propertyradar_csv(HOUSEHOLDS), campaign=campaign)
    variants = dict(CampaignContact.objects.values_list("contact__phone", "variant"))
    again = run_import(propertyradar_csv(HOUSEHOLDS), campaign=campaign)

    assert first.added_to_campaign == 4 == len(variants)
    assert again.added_to_campaign == 0
    assert dict(CampaignContact.objects.values_list("contact__phone", "variant")) == variants
    assert set(CampaignContact.objects.values_list("added_via", flat=True)) == {"upload"}


def test_a_campaign_without_template_b_puts_everyone_in_variant_a():
    campaign = CampaignFactory(template_b="")

    run_import(propertyradar_csv(HOUSEHOLDS), campaign=campaign)

    assert set(CampaignContact.objects.values_list("variant", flat=True)) == {"A"}


def test_a_newer_export_updates_the_houses_that_changed_and_only_those():
    run_import(propertyradar_csv(HOUSEHOLDS))
    newer = [dict(row) for row in HOUSEHOLDS]
    newer[1]["Est Value"] = "725000"

    report = run_import(propertyradar_csv(newer))

    assert (report.properties_created, report.properties_updated, report.properties_unchanged) == (0, 1, 4)
    assert Property.objects.get(apn="RAND-000002-B").estimated_value == 725000


def test_a_later_file_counts_the_numbers_it_names_that_cannot_be_texted_stored_or_new():
    run_import(b"Name,Phone\nToll Free,888-555-0102\nMaple Leaf,416-555-0103\nMary,617-555-0101\n")

    report = run_import(b"Name,Phone\nMaple Leaf,416-555-0103\nMary,617-555-0101\nAnother,877-555-0104\n")

    assert (report.contacts_created, report.contacts_unchanged, report.not_textable) == (1, 2, 2)


def test_numbers_the_business_cannot_text_are_kept_marked_counted_and_never_booked(settings):
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    campaign = CampaignFactory()
    csv = (
        b"Name,Phone,City\n"
        b'"Sullivan, Mary",617-555-0101,Quincy\n'
        b"Toll Free,888-555-0102,Quincy\n"
        b"Maple Leaf,416-555-0103,Toronto\n"
        b"Over There,+44 7911 123456,London\n"
    )
    report = run_import(csv, campaign=campaign)

    assert (report.contacts_created, report.not_textable, report.added_to_campaign) == (4, 3, 4)
    stored = dict(Contact.objects.values_list("phone", "not_textable_reason"))
    assert stored == {
        "+16175550101": "",
        "+18885550102": "A toll-free number, which a business number cannot text",
        "+14165550103": "Not a US number (Canada)",
        "+447911123456": "Not a US number",
    }
    mary = Contact.objects.get(phone="+16175550101")
    assert (mary.first_name, mary.last_name) == ("Mary", "Sullivan")

    from campaigns import services

    with freeze_time("2026-12-07 15:00:00"):  # a Monday, 10:00 in Boston
        services.start_campaign(campaign=campaign)

    assert set(campaign.sends.values_list("contact__phone", flat=True)) == {"+16175550101"}
    kept_out = dict(
        campaign.memberships.filter(status=CampaignContact.Status.INELIGIBLE).values_list(
            "contact__phone", "ineligible_reason"
        )
    )
    assert kept_out == {phone: reason for phone, reason in stored.items() if reason}
