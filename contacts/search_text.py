r"""What the contact search reads: two columns of each contact, so that one trigram index serves a
word wherever the contact page shows it.

- ``search_text``: the search keys (contacts/search_key.py) of the name, email, street and city,
  the contact's own and each of its houses', one after another with ``SEPARATOR`` between them.
  A word is found when its key is in the text: "conn" in "pat\x1foconnor\x1f...".
- ``search_zip_codes``: ``SEPARATOR`` before each ZIP, the contact's own and its houses'. A word
  that starts a ZIP follows a separator: "02169" in "\x1f02169-1234\x1f02170".

``SEPARATOR`` is a character no typed word holds (``str.split`` takes it for a space) and the key
keeps, so a word cannot span two fields, and a ZIP is matched from its start: each column finds
exactly what the per-field comparisons it replaces found.

The database computes both columns (generated) from the row and from the houses' part, which it
cannot see: ``house_addresses`` and ``house_zip_codes``, kept here. Whatever links a house to a
contact, unlinks it, or changes a house's address calls ``refresh_houses`` (the models' save and
delete, the admin's bulk delete) or does the same set-based (the import's merge, with
``houses_sql`` for the contacts it creates).

PostgreSQL: a trigram GIN index on each column and on the phone (migration 0015) serves the
search's ``LIKE '%…%'``; SQLite reads the same columns without it.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import CharField, Expression, F, Func, QuerySet, Value

from contacts.search_key import search_key

SEPARATOR = "\x1f"  # the ASCII unit separator

# The fields of the contact whose keys make its search text, in order; the houses' part last.
TEXT_FIELDS = ("first_name", "last_name", "email", "address", "city", "house_addresses")


def _joined(*parts: Expression) -> Func:
    """The parts one after another: ``a || b || c``, flat (Concat nests a COALESCE per part, too
    deep for SQLite's parser under the key's ten REPLACEs; these columns are never NULL)."""
    return Func(*parts, template="(%(expressions)s)", arg_joiner=" || ", output_field=CharField())


def search_text_expression() -> Expression:
    """``search_text`` as the database computes it: one key over the fields joined by the
    separator, which the key keeps, so it is the fields' keys joined."""
    parts = []
    for field in TEXT_FIELDS:
        parts += [F(field), Value(SEPARATOR)]
    return search_key(_joined(*parts[:-1]))


def search_zip_codes_expression() -> Expression:
    return _joined(Value(SEPARATOR), F("zip_code"), F("house_zip_codes"))


def houses_sql(key: str, houses: str) -> str:
    """SQL: ``key, addresses, zip_codes`` for each value of the SQL ``key`` among the rows ``houses``
    (a FROM clause in which ``p`` is a house, NULL where there is none): the house_addresses and
    house_zip_codes of whoever lives in those houses."""
    if connection.vendor == "postgresql":
        separator, joined = "chr(31)", "string_agg({value}, {separator} ORDER BY p.id)"
    else:
        separator, joined = "char(31)", "group_concat({value}, {separator})"
    addresses = joined.format(value=f"p.address || {separator} || p.city", separator=separator)
    zip_codes = joined.format(value=f"{separator} || p.zip_code", separator="''")
    return f"""SELECT {key} AS key, COALESCE({addresses}, '') AS addresses, COALESCE({zip_codes}, '') AS zip_codes
        FROM {houses} GROUP BY {key}"""


def refresh_houses_sql(cursor, contact_ids: str, params: Iterable = ()) -> int:
    """Recompute the houses' part of the contacts whose ids the SQL ``contact_ids`` selects,
    writing only those that changed; how many did."""
    houses = houses_sql(
        "t.id",
        f"""contacts_contact t LEFT JOIN contacts_propertycontact pc ON pc.contact_id = t.id
            LEFT JOIN contacts_property p ON p.id = pc.property_id WHERE t.id IN ({contact_ids})""",
    )
    cursor.execute(
        f"""UPDATE contacts_contact AS c SET house_addresses = h.addresses, house_zip_codes = h.zip_codes
            FROM ({houses}) AS h
            WHERE c.id = h.key AND (c.house_addresses <> h.addresses OR c.house_zip_codes <> h.zip_codes)""",
        list(params),
    )
    return cursor.rowcount


def refresh_houses(*, contacts: QuerySet | Iterable[int]) -> int:
    """Recompute the houses' part of ``contacts`` (ids, or a queryset of contact ids), after their
    links or their houses' addresses changed; how many changed."""
    if isinstance(contacts, QuerySet):
        sql, params = contacts.query.sql_with_params()
    else:
        ids = [int(contact_id) for contact_id in contacts]
        if not ids:
            return 0
        sql, params = ", ".join(["%s"] * len(ids)), ids
    with connection.cursor() as cursor:
        return refresh_houses_sql(cursor, sql, params)
