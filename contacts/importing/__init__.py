"""The one contact import pipeline: read a CSV, map its columns, stage it, merge it in sets.

Every entry point (API, admin, pages, ``manage.py import_contacts``, the Celery task) goes
through ``pipeline`` (``import_upload``, ``import_contacts``, ``run_queued_import``), which
drives the modules here and drops PropertyRadar's one-cell licence footer as it stages:

- ``readers``: bytes → rows (encoding, delimiter, line numbers, a quote left open)
- ``columns``: header → which column holds what (PropertyRadar or a generic contact CSV)
- ``entries``: row → staging tuples (normalised phone, display names, property fields)
- ``loader``: staging tables (COPY on PostgreSQL) and the set-based merge into the real tables
"""

from contacts.importing.readers import BadFile

__all__ = ["BadFile"]
