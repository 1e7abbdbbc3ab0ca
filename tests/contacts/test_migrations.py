"""Migrations that move data: run against a database holding rows written by the older schema."""

import pytest

from tests.migrations import migrate

BEFORE = [("contacts", "0009_numbers_that_cannot_be_texted")]
AFTER = [("contacts", "0010_uploads_kept_in_the_database")]


@pytest.mark.usefixtures("new_database")
def test_imports_open_at_the_upgrade_are_failed_with_the_reason_or_judged_by_the_sweep(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    kept = tmp_path / "media" / "imports" / "20261206.csv"
    kept.parent.mkdir(parents=True)
    kept.write_text("phone\n6175550101\n")
    old = migrate(BEFORE)
    imports = old.get_model("contacts", "ContactImport").objects
    queued = imports.create(file_name="big.csv", status="queued", stored_file="imports/20261206.csv")
    running = imports.create(file_name="other.csv", status="running")
    done = imports.create(file_name="done.csv", status="completed")

    new = migrate(AFTER)

    imports = new.get_model("contacts", "ContactImport").objects
    queued, running, done = (imports.get(pk=pk) for pk in (queued.pk, running.pk, done.pk))
    assert queued.status == "failed" and "Import the file again" in queued.error
    assert queued.finished_at == queued.started_at
    assert not kept.exists()  # homeowners' names and numbers do not outlive their import
    assert (running.status, running.progress_at, running.attempts) == ("running", running.started_at, 1)
    assert (done.status, done.error) == ("completed", "")
