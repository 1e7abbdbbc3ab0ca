"""How the contact search compares text: lower case, without the apostrophes, hyphens, periods
and spaces people spell names and streets with or without ("O'Connor", "O’Connor", "Oconnor";
"Mary-Jane", "Mary Jane", "MaryJane"). The same key on both sides: ``search_key`` in SQL for a
column, ``query_key`` in Python for what was typed.

``search_key(F(column))`` is one expression per column, so a PostgreSQL trigram index
(``GIN ... gin_trgm_ops``) can be put on exactly that expression and serve the search's
``LIKE '%key%'``. It works on SQLite too, where LOWER folds ASCII letters only (as its LIKE does).
"""

from django.db.models import Expression, F, Value
from django.db.models.functions import Lower, Replace

# Straight and curly apostrophes, hyphens (ASCII, Unicode's, the non-breaking one, and the en
# dash a word processor puts in), periods, and spaces (the non-breaking one too).
IGNORED = ("'", "’", "‘", "-", "‐", "‑", "–", ".", " ", "\u00a0")


def search_key(expression: Expression | F | str) -> Expression:
    """The column or expression lower-cased, with every ``IGNORED`` character taken out."""
    key = Lower(expression)
    for character in IGNORED:
        key = Replace(key, Value(character), Value(""))
    return key


def query_key(text: str) -> str:
    """What ``search_key`` makes of ``text``, computed in Python for a typed search word."""
    key = text.lower()
    for character in IGNORED:
        key = key.replace(character, "")
    return key
