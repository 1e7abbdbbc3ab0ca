"""The ZIP code table the import joins on: loaded from the data set, and kept through test flushes."""

import zipcodes
from django.core.management import call_command

from contacts.models import ZipCode
from contacts.timezones import zip_facts, zones_for_state


def test_the_migration_loads_every_zip_code_with_a_real_zone(db):
    expected = {row["zip_code"]: (row["state"], row["timezone"]) for row in zipcodes.list_all()}

    rows = ZipCode.objects.values_list("zip", "state", "time_zone")
    stored = {zip_code: (state, zone) for zip_code, state, zone in rows}

    assert stored["02169"] == ("MA", "America/New_York")
    assert stored["96813"] == ("HI", "Pacific/Honolulu")
    assert all(expected[zip_code] == facts for zip_code, facts in stored.items())
    # Only rows whose zone is not an IANA name are left out, and they are few.
    assert 0 <= len(expected) - len(stored) < 1000


def test_lookups_read_the_table(db):
    assert zip_facts("02169-1234") == ("America/New_York", "MA")
    assert zip_facts("0216") is None
    assert zones_for_state("az") == ("America/Denver", "America/Phoenix")


def test_a_flush_between_transactional_tests_keeps_the_zip_codes(transactional_db):
    before = ZipCode.objects.count()

    call_command("flush", interactive=False, verbosity=0)

    assert before > 40_000
    assert ZipCode.objects.count() == before


def test_the_command_reloads_the_table(db, capsys):
    ZipCode.objects.filter(state="MA").delete()

    call_command("load_zip_codes")

    assert ZipCode.objects.filter(state="MA").exists()
    assert capsys.readouterr().out == f"Loaded {ZipCode.objects.count():,} ZIP codes.\n"
