from contextlib import suppress

from celery import shared_task

from contacts.importing import pipeline


@shared_task(ignore_result=True)
def run_queued_import(contact_import_id: int) -> None:
    # A failed import is recorded on its ContactImport; the same file would fail the same way again.
    with suppress(pipeline.ImportFailed):
        pipeline.run_queued_import(contact_import_id=contact_import_id)


@shared_task(ignore_result=True)
def hand_over_imports() -> None:
    """Beat's sweep (every minute): queued imports no worker took, running ones that stopped."""
    pipeline.hand_over_imports()
