"""A contact CSV may carry each person's lawful basis (issue 37): its columns set the consent of new
and existing contacts, audited, set-based on both databases; a consent that does not hold together
rejects its row; and members kept out for the lack of it are judged again."""

import datetime as dt
import io

import pytest
from freezegun import freeze_time

from campaigns.models import CampaignContact
from contacts.importing import pipeline
from contacts.models import ConsentChange, Contact, ContactImport, ImportRejection
from tests.campaigns.conftest import eastern
from tests.campaigns.test_lawful_basis import NOW, WRITTEN, campaign_of, load, member, person, run, still_running
from tests.contacts.test_import_on_sqlite import stored_on_postgresql, stored_on_sqlite
from tests.factories import ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

HEADER = "phone,name,Consent,Consent Date,Consent Method,Consent Text\n"
FORM = "Web form on attackacrack.com, checkbox"
AGREED = "Yes, text me offers from Attack-a-Crack."


def consent_csv(*lines: str) -> bytes:
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


def run_import(content: bytes, **kwargs) -> ContactImport:
    with freeze_time(NOW):
        return pipeline.import_contacts(file=io.BytesIO(content), file_name="consent.csv", **kwargs)


def consent_of(phone: str) -> tuple:
    return Contact.objects.values_list("consent_basis", "consent_at", "consent_source", "consent_wording").get(
        phone=phone
    )


def test_new_contacts_take_each_basis_from_its_columns_and_each_is_audited_as_the_import_s():
    owner = StaffUserFactory(role="owner")
    content = consent_csv(
        f'617-200-1101,Ann Avery,Written consent,2026-11-02,"{FORM}","{AGREED}"',
        "617-200-1102,Bob Byrne,customer,11/2/2026,,",
        "617-200-1103,Cy Cole,INQUIRY,2026-11-20T15:30:00-05:00,Phone call,",
        "617-200-1104,Di Dunn,express_written,2026-11-21 09:15,Signed estimate,I agree to texts",
        "617-200-1105,Ed Egan,none,,,",
        "617-200-1106,Fay Fox,,2026-11-02,,",
    )

    report = run_import(content, created_by=owner)

    assert (report.contacts_created, report.entries_rejected) == (6, 0)
    assert consent_of("+16172001101") == ("express_written", eastern(2026, 11, 2, 12), FORM, AGREED)
    assert consent_of("+16172001102") == ("customer", eastern(2026, 11, 2, 12), "", "")
    assert consent_of("+16172001103") == ("inquiry", eastern(2026, 11, 20, 15, 30), "Phone call", "")
    # An ISO date and time without an offset is on the shop's wall clock.
    assert consent_of("+16172001104") == ("express_written", eastern(2026, 11, 21, 9, 15), "Signed estimate",
                                          "I agree to texts")  # fmt: skip
    assert consent_of("+16172001105") == ("none", None, "", "")
    assert consent_of("+16172001106") == ("none", None, "", "")  # a date without a basis is no consent
    audited = ConsentChange.objects.order_by("contact__phone")
    assert [(c.contact.phone, c.consent_basis, c.consent_at) for c in audited] == [
        ("+16172001101", "express_written", eastern(2026, 11, 2, 12)),
        ("+16172001102", "customer", eastern(2026, 11, 2, 12)),
        ("+16172001103", "inquiry", eastern(2026, 11, 20, 15, 30)),
        ("+16172001104", "express_written", eastern(2026, 11, 21, 9, 15)),
    ]
    assert {(c.via, c.changed_by_id, c.changed_at) for c in audited} == {("import", owner.pk, NOW)}
    assert audited.get(contact__phone="+16172001101").consent_wording == AGREED


def test_an_existing_contact_s_consent_is_set_by_the_file_and_counted_updated_and_a_blank_cell_keeps_it():
    relabelled = ContactFactory(phone="+16172001111")
    kept = ContactFactory(phone="+16172001112", **WRITTEN, consent_at=eastern(2025, 3, 1, 12))
    content = consent_csv("617-200-1111,,Customer (job payment or delivery),2026-10-01,,", "617-200-1112,,,,,")

    report = run_import(content)

    assert (report.contacts_created, report.contacts_updated, report.contacts_unchanged) == (0, 1, 1)
    assert consent_of(relabelled.phone) == ("customer", eastern(2026, 10, 1, 12), "", "")
    assert consent_of(kept.phone) == (
        "express_written", eastern(2025, 3, 1, 12), WRITTEN["consent_source"], WRITTEN["consent_wording"],
    )  # fmt: skip
    assert list(ConsentChange.objects.values_list("contact__phone", "via")) == [(relabelled.phone, "import")]
    relabelled.refresh_from_db()
    assert relabelled.updated_at == NOW


def test_an_import_never_clears_a_consent_on_record_even_when_it_says_none():
    signed = ContactFactory(phone="+16172001113", **WRITTEN, consent_at=eastern(2025, 3, 1, 12))

    report = run_import(consent_csv("617-200-1113,,none,,,"))

    assert report.contacts_unchanged == 1
    assert consent_of(signed.phone)[0] == "express_written"
    assert not ConsentChange.objects.exists()


def test_a_consent_that_does_not_hold_together_rejects_its_row_naming_the_column_and_the_counts_add_up():
    content = consent_csv(
        "617-200-1121,,friend,2026-11-02,,",
        "617-200-1122,,customer,,,",
        "617-200-1123,,inquiry,2026-12-02,,",  # tomorrow
        "617-200-1124,,written,2026-11-02,,",
        f'617-200-1125,,written,2026-11-02,"{FORM}",',
        "617-200-1126,,customer,31/31/2026,,",
        f'617-200-1127,,written,2026-11-02,"{"x" * 256}","{AGREED}"',
        "617-200-1128,,customer,2026-12-01,,",  # today, taken at noon: not in the future at 10:00
    )

    report = run_import(content)

    reasons = dict(ImportRejection.objects.filter(contact_import=report).values_list("line_number", "reason"))
    assert reasons == {
        2: "consent_basis: Choose one of express_written, customer, inquiry, none.",
        3: "consent_at: Say when: the date consent was given, or of the last job, payment or inquiry.",
        4: "consent_at: The date is in the future.",
        5: "consent_source: Say where and how the written consent was given. "
        "consent_wording: Keep the words the person agreed to.",
        6: "consent_wording: Keep the words the person agreed to.",
        7: "consent_at: Not a date: '31/31/2026'; write YYYY-MM-DD or M/D/YYYY",
        8: "'Consent Method' is 256 characters; at most 255 fit",
    }
    assert (report.entries_read, report.entries_rejected, report.contacts_created) == (8, 7, 1)
    assert list(Contact.objects.values_list("phone", "consent_basis")) == [("+16172001128", "customer")]
    assert ConsentChange.objects.count() == 1


def test_importing_the_same_file_again_changes_nothing_and_counts_it_unchanged():
    content = consent_csv(
        f'617-200-1131,Ann Avery,written,2026-11-02,"{FORM}","{AGREED}"', "617-200-1132,Bob Byrne,inquiry,11/20/2026,,"
    )
    run_import(content)

    with freeze_time(NOW + dt.timedelta(hours=2)):
        again = pipeline.import_contacts(file=io.BytesIO(content), file_name="consent.csv")

    assert (again.contacts_created, again.contacts_updated, again.contacts_unchanged) == (0, 0, 2)
    assert ConsentChange.objects.count() == 2
    assert set(Contact.objects.values_list("updated_at", flat=True)) == {NOW}


def test_a_member_kept_out_by_a_do_not_call_list_is_texted_once_an_import_gives_written_consent():
    listed = person("+16172001141")
    load("617,2001141\n")
    campaign = campaign_of(listed, *ContactFactory.create_batch(2), daily_limit=1)
    run(campaign)
    assert member(campaign, listed).status == CampaignContact.Status.INELIGIBLE

    run_import(consent_csv(f'617-200-1141,,written,2026-11-30,"{FORM}","{AGREED}"'))

    assert member(campaign, listed).status == CampaignContact.Status.PENDING  # judged again
    still_running(campaign)
    run(campaign, eastern(2026, 12, 2, 10))
    assert member(campaign, listed).status == CampaignContact.Status.SCHEDULED


def test_consent_columns_store_the_same_rows_and_audit_on_sqlite(migrated_sqlite):
    first = consent_csv(
        f'617-200-1151,Ann Avery,written,2025-11-02,"{FORM}","{AGREED}"',
        "617-200-1152,Bob Byrne,customer,3/4/2025,,",
        "617-200-1153,Cy Cole,inquiry,2025-06-01T08:00:00,,",
        "617-200-1154,Di Dunn,friend,2025-06-01,,",
    )
    # Later: Bob asked again, Cy's cell is blank, Ann's row is as it was, Ed is new.
    second = consent_csv(
        f'617-200-1151,Ann Avery,written,2025-11-02,"{FORM}","{AGREED}"',
        "617-200-1152,Bob Byrne,inquiry,2025-09-09,,",
        "617-200-1153,Cy Cole,,,,",
        "617-200-1155,Ed Egan,customer,2025-01-15,,",
    )

    postgresql = stored_on_postgresql(first, second)
    sqlite = stored_on_sqlite(migrated_sqlite, first, second)

    for part in ("report", "contacts", "rejections", "consent_changes"):
        assert sqlite[part] == postgresql[part], part
    # And what they agree on is the right answer, not an agreement on nothing.
    assert [(row[1], row[2]) for row in sqlite["consent_changes"]] == [
        ("express_written", "2025-11-02 17:00:00+00:00"),
        ("customer", "2025-03-04 17:00:00+00:00"),
        ("inquiry", "2025-09-09 16:00:00+00:00"),
        ("inquiry", "2025-06-01 12:00:00+00:00"),
        ("customer", "2025-01-15 17:00:00+00:00"),
    ]
    report = dict(zip(("created", "updated", "unchanged"), sqlite["report"][7:10], strict=True))
    assert report == {"created": 1, "updated": 1, "unchanged": 2}
