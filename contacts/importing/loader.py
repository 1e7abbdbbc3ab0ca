"""The set-based merge: a million rows in a handful of statements.

The lines streamed into the staging tables (``staging``) are merged with INSERT ... SELECT and
UPDATE ... FROM. The SQL is the same on both databases but where PostgreSQL has a faster way to
the same rows (DISTINCT ON). Counts come from what the statements did, checked against what the
staging tables say they should have done: a mismatch rolls the import back instead of reporting
a wrong number.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from contacts.importing.entries import PROPERTY_COLUMNS
from contacts.lawful_basis import CONSENT_FIELDS as CONSENT_COLUMNS
from contacts.models import ConsentChange
from contacts.search_text import houses_sql, refresh_houses_sql

logger = logging.getLogger(__name__)

PROPERTY_DATA_COLUMNS = PROPERTY_COLUMNS[1:]
# A house's columns in its contacts' search text (contacts/search_text.py).
SEARCHED_PROPERTY_COLUMNS = ("address", "city", "zip_code")


@dataclass
class MergeCounts:
    entries_read: int = 0
    entries_rejected: int = 0
    duplicates_folded: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    properties_created: int = 0
    properties_updated: int = 0
    properties_unchanged: int = 0
    not_textable: int = 0
    not_textable_by_reason: dict[str, int] = field(default_factory=dict)


class CountMismatch(RuntimeError):
    """The merge did not do what the staging tables say it should have: roll back."""


def _analyze(cursor, table: str, columns: str) -> None:
    """Statistics for a staging table (temporary tables get them only when asked), on the columns
    the statements after it join and filter on: the planner needs those, the others cost time
    (50 ms of a 5,000-row import's 380)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table} ({columns})")
    else:
        cursor.execute(f"ANALYZE {table}")


def _scalar(cursor, sql: str, params: tuple = ()) -> int:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


# The contacts named by the staged file (after a merge, inside the same transaction).
STAGED_CONTACT_IDS = "SELECT c.id FROM import_entry_first f JOIN contacts_contact c ON c.phone = f.phone"
# Those whose consent the merge set (each with its ConsentChange).
CONSENT_CHANGED_CONTACT_IDS = f"{STAGED_CONTACT_IDS} WHERE f.sets_consent"


def merge(*, import_id: int, source: str, now: dt.datetime | None = None) -> MergeCounts:
    """Merge the staged file into contacts and properties, as of ``now``. Call inside a transaction."""
    now = now or timezone.now()
    counts = MergeCounts()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two imports at once would each count a shared new phone as theirs to create.
            cursor.execute(
                "LOCK TABLE contacts_contact, contacts_property, contacts_propertycontact IN SHARE ROW EXCLUSIVE MODE"
            )
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        _analyze(cursor, "import_line", "line_number, phone_1, phone_2, apn, address_key, zip_code")
        with _foreign_keys_held_by_the_merge(cursor, import_id):
            _merge_properties(cursor, counts, now)
            _find_residences(cursor)
            _merge_contacts(cursor, counts, now, source, import_id)
            _link(cursor, import_id, now)
        _audit_consent(cursor, import_id, now)
    return counts


@contextmanager
def _foreign_keys_held_by_the_merge(cursor, import_id: int) -> Iterator[None]:
    """Spare PostgreSQL its row-by-row foreign-key checks where the merge holds them already.

    PostgreSQL checks each foreign key of each inserted row at commit, ≈10 µs a check, locking
    and logging the row referenced: at a million lines, four million checks, a third of the import.
    The merge's rows need none of them. Every contact and property id it writes was read from
    that table by a join after the table locks taken in ``merge``, which keep any of them from
    being deleted before the commit (the merge itself deletes nothing); the one import row that new
    contacts and rejections point at is locked here, as each check would have locked it. So the
    merge's statements run in replication mode (how pg_restore and logical replication load rows
    already known to hold), which leaves foreign-key triggers unfired; check, unique and not-null
    constraints still apply.
    Ordinary triggers are off too: one that must fire during imports has to be ENABLE ALWAYS.

    Replication mode needs a superuser or `GRANT SET ON PARAMETER session_replication_role`; a
    role without that right imports the same rows with the checks, only slower.
    """
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        logger.info(
            "Import %s: this database role may not set session_replication_role; checking row by row", import_id
        )
        yield
        return
    cursor.execute("SELECT 1 FROM contacts_contactimport WHERE id = %s FOR KEY SHARE", (import_id,))
    yield
    # Whatever follows in this transaction (campaign membership, the import record) is checked.
    cursor.execute("SET LOCAL session_replication_role = origin")


def _first_of_each(view: str, *, key: str, order: str, where: str) -> str:
    """The first row (by ``order``, a unique column) of each ``key`` among the rows of ``view`` that
    match ``where``. PostgreSQL does it in one sort, twice as fast as grouping and joining back,
    and the rows come out in key order: the INSERTs that follow fill the unique indexes in order."""
    if connection.vendor == "postgresql":
        return f"SELECT DISTINCT ON ({key}) * FROM {view} WHERE {where} ORDER BY {key}, {order}"
    return f"SELECT * FROM {view} WHERE {order} IN (SELECT MIN({order}) FROM {view} WHERE {where} GROUP BY {key})"


def _house_keys(staged: str) -> tuple[tuple[str, str, str], ...]:
    """How a house is known: by its APN, else by its address and ZIP among houses without one.
    For each way: the staged columns that key it, which rows of the staged table ``staged`` it
    keys, and when a stored house ``p`` is that row's house."""
    return (
        ("apn", f"{staged}.apn <> ''", f"p.apn = {staged}.apn"),
        (
            "address_key, zip_code",
            f"{staged}.apn = ''",
            f"p.apn = '' AND p.address_key = {staged}.address_key AND p.zip_code = {staged}.zip_code",
        ),
    )


def _merge_properties(cursor, counts: MergeCounts, now) -> None:
    # One row per house: the first line that names it wins, as for contacts. Each is classified
    # as it is gathered, by one join into the stored houses: which stored house it is, if any,
    # and whether the file changes it. The writes that follow touch only the rows they change.
    changed = " OR ".join(f"p.{c} IS DISTINCT FROM f.{c}" for c in PROPERTY_DATA_COLUMNS)
    moved = " OR ".join(f"p.{c} IS DISTINCT FROM f.{c}" for c in SEARCHED_PROPERTY_COLUMNS)
    classified = [
        f"""SELECT f.*, p.id AS stored_id, (p.id IS NOT NULL AND ({changed})) AS changed,
                   (p.id IS NOT NULL AND ({moved})) AS moved
            FROM ({_first_of_each("import_property", key=key, order="line_number", where=keyed)}) AS f
            LEFT JOIN contacts_property p ON {same}"""
        for (key, keyed, _), (_, _, same) in zip(_house_keys("import_property"), _house_keys("f"), strict=True)
    ]
    cursor.execute("CREATE TEMP TABLE import_property_first AS " + " UNION ALL ".join(classified))
    _analyze(cursor, "import_property_first", "stored_id, changed, moved")
    cursor.execute("SELECT COUNT(*), COUNT(stored_id) FROM import_property_first")
    distinct_houses, existing = cursor.fetchone()
    columns = ", ".join(PROPERTY_DATA_COLUMNS)
    assignments = ", ".join(f"{c} = f.{c}" for c in PROPERTY_DATA_COLUMNS)
    # Newer exports carry newer values (equity, listing): a house that changed is updated; one
    # that did not is not written at all, so a re-import costs reads only.
    cursor.execute(
        f"""UPDATE contacts_property AS p SET {assignments}, updated_at = %s
            FROM import_property_first f WHERE f.changed AND p.id = f.stored_id""",
        (now,),
    )
    counts.properties_updated = cursor.rowcount
    cursor.execute(
        f"""INSERT INTO contacts_property ({columns}, created_at, updated_at)
            SELECT {columns}, %s, %s FROM import_property_first f WHERE f.stored_id IS NULL""",
        (now, now),
    )
    counts.properties_created = cursor.rowcount
    counts.properties_unchanged = existing - counts.properties_updated
    if counts.properties_created != distinct_houses - existing or counts.properties_unchanged < 0:
        raise CountMismatch(
            f"properties: {distinct_houses} staged, {existing} existing, {counts.properties_created} created, "
            f"{counts.properties_updated} updated"
        )


def _find_residences(cursor) -> None:
    """Which house each phone of the file lives in, now that every house is stored: one row per
    phone and house, with its role ('primary' < 'secondary', so MIN keeps primary). Read twice: the
    houses of each new contact go in with its row, and the links are made from it."""
    households = " UNION ALL ".join(
        f"""SELECT h.phone, p.id AS property_id, h.role FROM import_household h JOIN contacts_property p ON {same}
            WHERE {keyed}"""
        for _, keyed, same in _house_keys("h")
    )
    cursor.execute(
        f"""CREATE TEMP TABLE import_residence AS
            SELECT phone, property_id, MIN(role) AS role FROM ({households}) AS household GROUP BY phone, property_id"""
    )
    _analyze(cursor, "import_residence", "phone, property_id")


# Which blanks of a stored contact ``c`` the file's entry ``f`` fills. A name and an address each
# move as a unit, so one person's first name never meets another's last name.
FILLS_NAME = "c.first_name = '' AND c.last_name = ''"
FILLS_ADDRESS = "c.address = '' AND c.city = '' AND c.zip_code = ''"
FILLS = f"""({FILLS_NAME} AND (f.first_name <> '' OR f.last_name <> ''))
    OR (c.email = '' AND f.email <> '')
    OR ({FILLS_ADDRESS} AND (f.address <> '' OR f.city <> '' OR f.zip_code <> ''))
    OR (c.state = '' AND f.state <> '')"""
# Whether the file's entry ``f`` sets the consent of its contact ``c`` (none when it is new): a
# basis given that differs from the one stored. A blank basis changes nothing.
SETS_CONSENT = """f.consent_basis <> '' AND (c.id IS NULL OR c.consent_basis <> f.consent_basis
    OR c.consent_at IS DISTINCT FROM f.consent_at OR c.consent_source <> f.consent_source
    OR c.consent_wording <> f.consent_wording)"""


def _merge_contacts(cursor, counts: MergeCounts, now, source: str, import_id: int) -> None:
    counts.entries_read = _scalar(cursor, "SELECT COUNT(*) FROM import_entry")
    counts.entries_rejected = _scalar(cursor, "SELECT COUNT(*) FROM import_entry WHERE reject_reason <> ''")
    # One phone is one contact: the first entry with a phone speaks for it, later ones fold in.
    # Classified as it is gathered, as the houses are: the stored contact, and whether the entry
    # fills any of its blanks. A number's line type is never changed by a file, so whether a
    # stored contact can be texted is known here.
    first_entries = _first_of_each("import_entry", key="phone", order="seq", where="phone <> ''")
    cursor.execute(
        f"""CREATE TEMP TABLE import_entry_first AS
            SELECT f.*, c.id AS stored_id, c.not_textable_because AS stored_not_textable_because,
                   (c.id IS NOT NULL AND ({FILLS})) AS fills, ({SETS_CONSENT}) AS sets_consent
            FROM ({first_entries}) AS f LEFT JOIN contacts_contact c ON c.phone = f.phone"""
    )
    cursor.execute("CREATE UNIQUE INDEX import_entry_first_phone ON import_entry_first (phone)")
    _analyze(cursor, "import_entry_first", "stored_id, fills, sets_consent")
    cursor.execute("SELECT COUNT(*), COUNT(stored_id) FROM import_entry_first")
    distinct_phones, existing = cursor.fetchone()
    counts.duplicates_folded = counts.entries_read - counts.entries_rejected - distinct_phones
    # Fill what is blank, never overwrite what staff or an earlier file put there, but the consent:
    # a file's basis is newer word of it (and is audited, see _audit_consent).
    # Opt-out state is not touched: a file cannot re-subscribe anybody.
    consent = ", ".join(
        f"{field} = CASE WHEN f.sets_consent THEN f.{field} ELSE c.{field} END" for field in CONSENT_COLUMNS
    )
    cursor.execute(
        f"""
        UPDATE contacts_contact AS c SET
            first_name = CASE WHEN {FILLS_NAME} THEN f.first_name ELSE c.first_name END,
            last_name = CASE WHEN {FILLS_NAME} THEN f.last_name ELSE c.last_name END,
            email = CASE WHEN c.email = '' THEN f.email ELSE c.email END,
            address = CASE WHEN {FILLS_ADDRESS} THEN f.address ELSE c.address END,
            city = CASE WHEN {FILLS_ADDRESS} THEN f.city ELSE c.city END,
            state = CASE WHEN c.state = '' THEN f.state ELSE c.state END,
            zip_code = CASE WHEN {FILLS_ADDRESS} THEN f.zip_code ELSE c.zip_code END,
            {consent},
            updated_at = %s
        FROM import_entry_first f
        WHERE (f.fills OR f.sets_consent) AND c.id = f.stored_id""",
        (now,),
    )
    counts.contacts_updated = cursor.rowcount
    counts.contacts_unchanged = existing - counts.contacts_updated
    # The ZIP's zone goes in with the row; assign_time_zones settles the few without a known ZIP.
    # So do the houses' part of its search text: a new contact's houses are the ones the file
    # names for its phone (its links are written after it, from the same lines), so the row is
    # written once, not again once it has its houses.
    houses = houses_sql(
        "r.phone",
        """import_residence r JOIN import_entry_first f ON f.phone = r.phone AND f.stored_id IS NULL
           JOIN contacts_property p ON p.id = r.property_id""",
    )
    cursor.execute(
        f"""
        INSERT INTO contacts_contact (
            phone, first_name, last_name, email, address, city, state, zip_code, source, line_type,
            time_zone, time_zone_source, opt_out_reason, source_import_id, created_at, updated_at,
            consent_basis, consent_at, consent_source, consent_wording, house_addresses, house_zip_codes
        )
        SELECT f.phone, f.first_name, f.last_name, f.email, f.address, f.city, f.state, f.zip_code, %s,
               f.line_type, COALESCE(z.time_zone, ''), CASE WHEN z.zip IS NULL THEN 'unknown' ELSE 'address' END,
               '', %s, %s, %s,
               CASE WHEN f.sets_consent THEN f.consent_basis ELSE 'none' END, f.consent_at, f.consent_source,
               f.consent_wording, COALESCE(houses.addresses, ''), COALESCE(houses.zip_codes, '')
        FROM import_entry_first f
        LEFT JOIN contacts_zipcode z ON z.zip = SUBSTR(f.zip_code, 1, 5)
        LEFT JOIN ({houses}) AS houses ON houses.key = f.phone
        WHERE f.stored_id IS NULL""",
        (source, import_id, now, now),
    )
    counts.contacts_created = cursor.rowcount
    if counts.contacts_created != distinct_phones - existing:
        raise CountMismatch(
            f"contacts: {distinct_phones} distinct phones, {existing} existing, {counts.contacts_created} created"
        )
    # The new contacts' not_textable_because is computed by the database as they are written.
    cursor.execute(
        """SELECT because, COUNT(*) FROM (SELECT stored_not_textable_because AS because FROM import_entry_first
           UNION ALL SELECT not_textable_because FROM contacts_contact WHERE source_import_id = %s) AS numbers
           WHERE because <> '' GROUP BY because""",
        (import_id,),
    )
    counts.not_textable_by_reason = dict(cursor.fetchall())
    counts.not_textable = sum(counts.not_textable_by_reason.values())


def _audit_consent(cursor, import_id: int, now) -> None:
    """A ConsentChange for each contact whose consent the merge set, made by whoever started the
    import. Written after the merge's replication mode, with every foreign key checked: the merge
    holds its contacts, but not the user's row."""
    columns = ", ".join(CONSENT_COLUMNS)
    cursor.execute(
        f"""
        INSERT INTO contacts_consentchange (contact_id, {columns}, via, changed_by_id, changed_at)
        SELECT c.id, {", ".join(f"f.{field}" for field in CONSENT_COLUMNS)}, %s,
               (SELECT created_by_id FROM contacts_contactimport WHERE id = %s), %s
        FROM import_entry_first f JOIN contacts_contact c ON c.phone = f.phone
        WHERE f.sets_consent ORDER BY c.id""",
        (ConsentChange.Via.IMPORT, import_id, now),
    )


def _link(cursor, import_id: int, now) -> None:
    # Every entry links its contact to its house, folded ones included: the same cell phone on
    # two houses is one contact with two properties (one residence each, ``_find_residences``).
    # The links are gathered first and written in key order, which fills the link table's unique
    # index in order: at a million links, 11 s instead of 13 s for writing them as the join yields them.
    cursor.execute(
        """CREATE TEMP TABLE import_link AS
            SELECT l.*, NOT EXISTS (
                SELECT 1 FROM contacts_propertycontact pc
                WHERE pc.property_id = l.property_id AND pc.contact_id = l.contact_id
            ) AS is_new
            FROM (SELECT r.property_id, c.id AS contact_id, r.role
                  FROM import_residence r JOIN contacts_contact c ON c.phone = r.phone) AS l
            ORDER BY property_id, contact_id"""
    )
    _analyze(cursor, "import_link", "property_id, contact_id, is_new")
    cursor.execute(
        """
        INSERT INTO contacts_propertycontact (property_id, contact_id, role, created_at)
        SELECT l.property_id, l.contact_id, l.role, %s FROM import_link l WHERE l.is_new""",
        (now,),
    )
    # The search text of the stored contacts given a house, or whose house moved (the new ones
    # were written with theirs).
    refresh_houses_sql(
        cursor,
        """SELECT l.contact_id FROM import_link l JOIN import_entry_first f ON f.stored_id = l.contact_id
           WHERE l.is_new
           UNION SELECT pc.contact_id FROM import_property_first h
           JOIN contacts_propertycontact pc ON pc.property_id = h.stored_id WHERE h.moved""",
    )
    cursor.execute(
        """
        INSERT INTO contacts_importrejection (contact_import_id, line_number, reason, raw)
        SELECT %s, line_number, reject_reason, raw FROM import_entry WHERE reject_reason <> '' ORDER BY seq""",
        (import_id,),
    )
