"""A queued import is never lost and never stays running for ever: its upload waits in the
database for any worker, a lost hand-over is made good by the sweep, and an import whose process
stopped is run again (while its upload is kept) or failed with the reason."""

import datetime as dt
import io
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.importing import pipeline
from contacts.models import Contact, ContactImport, ImportUploadChunk
from tests.contacts.csv_files import hundred_contacts
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

STALLED = dt.timedelta(minutes=6)  # just past IMPORT_STALLED_MINUTES


@pytest.fixture(autouse=True)
def _large_files_queue(settings):
    settings.IMPORT_SYNC_MAX_BYTES = 100


def queue_hundred() -> ContactImport:
    """A queued upload whose hand-over never happened (the test's transaction never commits)."""
    return pipeline.import_upload(file=SimpleUploadedFile("list.csv", hundred_contacts()), file_name="list.csv")


class FileWithAnEnd(io.BytesIO):
    """A file that, each time a read finds its end, first runs ``at_the_end`` in another thread
    (with its own database connection: the importing thread's is busy staging rows), and waits."""

    def __init__(self, content: bytes, *, at_the_end) -> None:
        super().__init__(content)
        self.at_the_end = at_the_end

    def read(self, size=-1):
        return self._end(super().read(size))

    def read1(self, size=-1):
        return self._end(super().read1(size))

    def _end(self, data: bytes) -> bytes:
        if not data:
            on_a_connection_of_its_own(self.at_the_end)
        return data


def on_a_connection_of_its_own(work) -> None:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def test_an_upload_is_kept_whole_in_pieces_and_the_pieces_go_once_imported(settings):
    content = hundred_contacts() * 3  # the same rows again: still one file to keep byte for byte
    pipeline_chunk = pipeline.UPLOAD_CHUNK_BYTES
    try:
        pipeline.UPLOAD_CHUNK_BYTES = 1000
        queued = pipeline.import_upload(file=SimpleUploadedFile("list.csv", content), file_name="list.csv")
    finally:
        pipeline.UPLOAD_CHUNK_BYTES = pipeline_chunk

    pieces = list(queued.upload_chunks.order_by("position").values_list("position", "data"))
    assert [position for position, _ in pieces] == list(range(len(content) // 1000 + 1))
    assert b"".join(bytes(data) for _, data in pieces) == content

    pipeline.run_queued_import(contact_import_id=queued.pk)

    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.contacts_created) == (ContactImport.Status.COMPLETED, 1, 100)
    assert not ImportUploadChunk.objects.exists()


def test_a_queued_import_whose_hand_over_was_lost_is_handed_over_again(eager_tasks):
    queued = queue_hundred()
    assert queued.status == ContactImport.Status.QUEUED

    assert pipeline.hand_over_imports(now=timezone.now() + dt.timedelta(seconds=60))["handed_over"] == 0
    outcome = pipeline.hand_over_imports(now=timezone.now() + dt.timedelta(seconds=121))

    assert outcome == {"requeued": 0, "failed": 0, "handed_over": 1}
    queued.refresh_from_db()
    assert (queued.status, queued.contacts_created) == (ContactImport.Status.COMPLETED, 100)
    assert Contact.objects.count() == 100


def test_a_handed_over_import_already_running_is_left_to_its_run(eager_tasks):
    queued = queue_hundred()
    ContactImport.objects.filter(pk=queued.pk).update(status=ContactImport.Status.RUNNING, attempts=1)

    pipeline.run_queued_import(contact_import_id=queued.pk)  # a second hand-over of the same import

    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (ContactImport.Status.RUNNING, 1)
    assert not Contact.objects.exists() and queued.upload_chunks.exists()


def claimed_then_stopped(queued: ContactImport, *, at: dt.datetime) -> None:
    """A worker claimed the import and was killed before it ended: running, silent since `at`."""
    ContactImport.objects.filter(pk=queued.pk).update(
        status=ContactImport.Status.RUNNING, attempts=queued.attempts + 1, progress_at=at
    )
    queued.refresh_from_db()


def test_an_import_whose_worker_stopped_runs_again_from_its_kept_upload(eager_tasks):
    queued = queue_hundred()
    claimed_then_stopped(queued, at=timezone.now())

    assert pipeline.hand_over_imports(now=timezone.now() + dt.timedelta(minutes=4)) == {
        "requeued": 0, "failed": 0, "handed_over": 0
    }  # fmt: skip
    outcome = pipeline.hand_over_imports(now=timezone.now() + STALLED)

    assert outcome == {"requeued": 1, "failed": 0, "handed_over": 1}
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.contacts_created) == (ContactImport.Status.COMPLETED, 2, 100)
    assert queued.error == "" and not ImportUploadChunk.objects.exists()


def test_an_import_that_stops_on_every_attempt_is_failed_with_the_reason(settings):
    settings.IMPORT_MAX_ATTEMPTS = 2
    queued = queue_hundred()
    moment = timezone.now()
    for _ in range(2):
        claimed_then_stopped(queued, at=moment)
        moment += STALLED
        pipeline.hand_over_imports(now=moment)
        queued.refresh_from_db()

    assert (queued.status, queued.attempts) == (ContactImport.Status.FAILED, 2)
    assert "gave no sign of life" in queued.error and "every attempt" in queued.error
    assert "Import the file again" in queued.error
    assert not ImportUploadChunk.objects.exists() and not Contact.objects.exists()


def test_an_import_within_a_request_whose_process_stopped_is_failed_not_left_running():
    started = timezone.now()
    stopped = ContactImport.objects.create(
        file_name="list.csv", status=ContactImport.Status.RUNNING, attempts=1, progress_at=started
    )

    outcome = pipeline.hand_over_imports(now=started + STALLED)

    stopped.refresh_from_db()
    assert outcome["failed"] == 1
    assert stopped.status == ContactImport.Status.FAILED and stopped.finished_at is not None
    assert "the process importing it stopped" in stopped.error and "stored nothing" in stopped.error


@pytest.mark.django_db(transaction=True)
def test_a_run_given_up_while_it_worked_stores_nothing_and_keeps_the_failure():
    """The sweep judged the run dead (no progress for too long) while it was still merging: the
    late run must not complete the import the sweep already failed."""
    swept = {}

    def sweep() -> None:
        if "outcome" not in swept and ContactImport.objects.filter(status=ContactImport.Status.RUNNING).exists():
            swept["outcome"] = pipeline.hand_over_imports(now=timezone.now() + STALLED)  # staging, not inspecting

    with pytest.raises(pipeline.ImportFailed):
        pipeline.import_contacts(file=FileWithAnEnd(hundred_contacts(), at_the_end=sweep), file_name="list.csv")

    assert swept["outcome"]["failed"] == 1
    stored = ContactImport.objects.get()
    assert stored.status == ContactImport.Status.FAILED and "gave no sign of life" in stored.error
    assert stored.contacts_created == 0 and not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_run_that_works_in_silence_still_says_it_is_alive(monkeypatch):
    """A merge of a million rows, or one waiting for another import's locks, says nothing for
    minutes: the run's own thread keeps saying it is alive, so the sweep never takes it for dead."""
    monkeypatch.setattr(pipeline, "HEARTBEAT_SECONDS", 0.05)
    signs: list[dt.datetime] = []

    def sign_of_life() -> None:
        signs.extend(
            ContactImport.objects.filter(status=ContactImport.Status.RUNNING).values_list("progress_at", flat=True)
        )

    def silence() -> None:
        if len(signs) < 2:
            on_a_connection_of_its_own(sign_of_life)
            time.sleep(0.5)
            on_a_connection_of_its_own(sign_of_life)

    silent_file = FileWithAnEnd(hundred_contacts(), at_the_end=silence)
    completed = pipeline.import_contacts(file=silent_file, file_name="list.csv")

    assert len(signs) == 2 and signs[1] > signs[0]
    assert completed.status == ContactImport.Status.COMPLETED and completed.contacts_created == 100


def test_healthz_and_today_show_imports_no_worker_took(client):
    queued = queue_hundred()
    ContactImport.objects.filter(pk=queued.pk).update(started_at=timezone.now() - dt.timedelta(minutes=3))
    staff = Client()
    staff.force_login(StaffUserFactory())

    health = client.get("/healthz").json()
    today = staff.get(reverse("dashboard")).content.decode()

    assert (health["imports"], health["imports_waiting"]) == ("waiting", 1)
    assert "1 import(s) have waited more than 2 minutes for a worker" in today
