"""Members counted by what their values add to their text.

A member's text is its template filled in with their own values (``texts.render``) and, on their
first text, the opt-out footer. What it costs depends on the values only through their length and
whether each is plain GSM-7, so members are counted by exactly that: which values are empty,
which are outside GSM-7, their summed length in septets and in UTF-16 units, whether the footer
goes. PostgreSQL counts it in one statement (``_grouped_in_sql``); elsewhere (SQLite, for
`make run`) Python counts the same from the values (``_grouped_in_python``), and the suite holds
the two to each other.
"""

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, Exists, F, Func, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from campaigns import texts
from campaigns.models import CampaignContact
from contacts.selectors import home_links
from messaging.models import Message
from messaging.segments import GSM7, GSM7_EXTENSION, is_gsm7

# What str.strip() takes off a value (texts.render strips each): every such character is in the BMP.
WHITESPACE = "".join(char for char in map(chr, range(0x10000)) if char.isspace())
# Characters beyond the BMP (most emoji) take two UTF-16 units.
ASTRAL = r"[\U00010000-\U0010FFFF]"


def value_units(value: str) -> tuple[bool, bool, int, int]:
    """What a value adds to a text, as ``texts.render`` uses it (stripped): whether it is empty,
    whether it is plain GSM-7, and its length in septets (a character outside GSM-7 counted as
    one, as if it were plain) and in UTF-16 units. The database counts the same (``_grouped_in_sql``)."""
    value = value.strip()
    septets = len(value) + sum(char in GSM7_EXTENSION for char in value)
    return value == "", is_gsm7(value), septets, len(value.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Readers:
    """Members whose texts cost the same: one group of the count."""

    variant: str  # the text they read
    first_text: bool  # their first text from us: it carries the footer, when the campaign adds it
    empty: frozenset[str]  # tokens of their text they have no value for (they read the fallback)
    not_plain: frozenset[str]  # tokens of their text whose value is outside GSM-7
    septets: int  # their values' length, summed over their text's tokens
    ucs2_units: int
    members: int
    examples: dict[str, str] = field(default_factory=dict)  # a value outside GSM-7, per token
    estimated: bool = False  # ``members`` stands for more, counted from a sample


def _raw_value(token: str) -> Func:
    """The value ``token`` reads on a membership row, as ``texts.contact_values`` reads it: the
    contact's, else its home's (``Contact.home``: looked up only when the contact has none)."""
    if token in ("name", "first_name", "last_name"):
        return Coalesce(F(f"contact__{'last_name' if token == 'last_name' else 'first_name'}"), Value(""))
    if token == "year_built":
        year = Subquery(home_links().values("property__year_built")[:1])
        return Coalesce(Cast(NullIf(year, Value(0)), CharField()), Value(""))
    home = Subquery(home_links().values(f"property__{token}")[:1])
    return Coalesce(NullIf(F(f"contact__{token}"), Value("")), home, Value(""), output_field=CharField())


def _with_values(members: QuerySet[CampaignContact], tokens: list[str], *, footer: bool) -> QuerySet:
    """One row a member: the text it reads, whether it carries the footer, each token's raw value."""
    written = Message.objects.written().filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.OUTBOUND)
    first_text = ~Exists(written) if footer else Value(False)
    return (
        members.order_by()
        .annotate(first_text=first_text, **{f"raw_{token}": _raw_value(token) for token in tokens})
        .values("reads", "first_text", *(f"raw_{token}" for token in tokens))
    )


def readers(members: QuerySet[CampaignContact], templates: dict[str, str], *, footer: bool) -> list[Readers]:
    """``members`` (annotated with ``reads``, the variant whose template in ``templates`` they
    get) counted by what their values cost."""
    uses = {variant: token_uses(template) for variant, template in templates.items()}
    members = members.filter(reads__in=list(templates))
    rows = _with_values(members, sorted({token for used in uses.values() for token in used}), footer=footer)
    if connection.vendor == "postgresql":
        return _grouped_in_sql(rows, uses)
    return _grouped_in_python(rows, uses)


def token_uses(template: str) -> collections.Counter:
    """How many times the template writes each token."""
    return collections.Counter(piece.name for piece in texts.parse_template(template) if isinstance(piece, texts.Token))


def _grouped_in_python(rows: QuerySet, uses: dict[str, collections.Counter]) -> list[Readers]:
    groups: dict[tuple, Readers] = {}
    for row in rows:
        used = uses[row["reads"]]
        values = {token: row[f"raw_{token}"].strip() for token in used}
        units = {token: value_units(value) for token, value in values.items()}
        key = (
            row["reads"],
            bool(row["first_text"]),
            frozenset(token for token, (empty, _, _, _) in units.items() if empty),
            frozenset(token for token, (_, plain, _, _) in units.items() if not plain),
            sum(used[token] * septets for token, (_, _, septets, _) in units.items()),
            sum(used[token] * ucs2 for token, (_, _, _, ucs2) in units.items()),
        )
        group = groups.get(key) or Readers(*key, members=0)
        examples = {token: values[token] for token in key[3]} | group.examples
        groups[key] = Readers(*key, members=group.members + 1, examples=examples)
    return list(groups.values())


def _class(characters: Iterable[str]) -> str:
    """A regular expression's bracket of these characters, each escaped (PostgreSQL's \\uXXXX)."""
    return "".join(f"\\u{ord(char):04x}" for char in sorted(characters))


GSM7_OUTSIDE = f"[^{_class(GSM7)}]"  # a character outside GSM-7
ONE_UNIT_EACH = f"^[{_class(GSM7 - GSM7_EXTENSION)}]*$"  # GSM-7 without the extension: a septet, a unit each
EXTENSION = "".join(sorted(GSM7_EXTENSION))


def _grouped_in_sql(rows: QuerySet, uses: dict[str, collections.Counter]) -> list[Readers]:
    """The count ``_grouped_in_python`` makes (by ``value_units``), in one statement on
    PostgreSQL. Each value is stripped once and measured once, in subqueries kept apart from the
    count (OFFSET 0), so the home's subqueries run once a member; most values are plain GSM-7
    without extension characters, one septet and one UTF-16 unit a character, which one
    regular expression tells, and only the others are measured character by character."""
    try:
        members_sql, members_params = rows.query.sql_with_params()
    except EmptyResultSet:  # no member can match (an empty head)
        return []
    tokens = sorted({token for used in uses.values() for token in used})
    stripped = "".join(f", btrim(raw_{t}, %s) AS v_{t}" for t in tokens)
    measured = "".join(
        f", v_{t}, v_{t} = '' AS e_{t}, v_{t} !~ %s AS p_{t},"
        f" CASE WHEN v_{t} ~ %s THEN length(v_{t}) ELSE 2 * length(v_{t}) - length(translate(v_{t}, %s, '')) END"
        f" AS s_{t},"
        f" CASE WHEN v_{t} ~ %s THEN length(v_{t}) ELSE 2 * length(v_{t}) - length(regexp_replace(v_{t}, %s, '', 'g'))"
        f" END AS u_{t}"
        for t in tokens
    )
    measured_params = [GSM7_OUTSIDE, ONE_UNIT_EACH, EXTENSION, ONE_UNIT_EACH, ASTRAL] * len(tokens)

    def by_variant(column: str) -> str:
        # What a member's text adds up to: only its own template's tokens, each as often as it is written.
        sums = [
            f"WHEN %s THEN {' + '.join(f'{count} * {column}_{t}' for t, count in used.items()) or '0'}"
            for used in uses.values()
        ]
        return f"CASE reads {' '.join(sums)} END"

    def of_its_text(column: str, token: str) -> tuple[str, list[str]]:
        # A token another text writes tells nothing of this member's: left out of the key.
        readers = [variant for variant, used in uses.items() if token in used]
        return f"CASE WHEN reads IN ({', '.join(['%s'] * len(readers))}) THEN {column}_{token} END", readers

    keys, key_params = ["reads", "first_text"], []
    for t in tokens:
        for column in ("e", "p"):
            key, params = of_its_text(column, t)
            keys.append(key)
            key_params += params
    keys += [by_variant("s"), by_variant("u")]
    key_params += list(uses) * 2
    examples = [f"min(v_{t}) FILTER (WHERE NOT p_{t})" for t in tokens]
    sql = (
        f"SELECT {', '.join([*keys, 'count(*)', *examples])} FROM ("
        f"SELECT reads, first_text{measured} FROM ("
        f"SELECT reads, first_text{stripped} FROM ({members_sql}) AS members OFFSET 0"
        ") AS valued OFFSET 0) AS measured "
        f"GROUP BY {', '.join(str(position) for position in range(1, len(keys) + 1))}"
    )
    # In the order their placeholders appear: the keys, the measures, the strip, the members.
    params = [*key_params, *measured_params, *[WHITESPACE] * len(tokens), *members_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    groups = []
    for variant, first_text, *columns in found:
        flags, (septets, ucs2_units, members, *example_values) = columns[: 2 * len(tokens)], columns[2 * len(tokens) :]
        used = uses[variant]
        groups.append(
            Readers(
                variant=variant,
                first_text=bool(first_text),
                empty=frozenset(t for t, empty in zip(tokens, flags[0::2], strict=True) if t in used and empty),
                not_plain=frozenset(t for t, plain in zip(tokens, flags[1::2], strict=True) if t in used and not plain),
                septets=septets,
                ucs2_units=ucs2_units,
                members=members,
                examples={t: value for t, value in zip(tokens, example_values, strict=True) if t in used and value},
            )
        )
    return groups
