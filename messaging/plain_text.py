"""Plain text for SMS: the characters phones and word processors type in place of plain ones
(curly quotes, long dashes, the ellipsis, unusual spaces, invisible characters), replaced by
their GSM-7 equivalents.

One such character makes a whole text UCS-2: 70 characters a segment instead of 160, often
twice the cost, and OpenPhone's own "smart encoding" is known to miss some. What has no plain
equivalent (an emoji, a letter outside GSM-7 such as "ç" or "ł") is left as it is: it is the
writer's to keep or change, and `name_of` says what it is.
"""

import unicodedata
from dataclasses import dataclass

from messaging.segments import GSM7, is_gsm7, sms_cost

# Each kind of look-alike (as staff are told: singular, plural) and its characters with their
# plain equivalents ("" removes an invisible one).
LOOK_ALIKES: dict[tuple[str, str], dict[str, str]] = {
    ("curly apostrophe", "curly apostrophes"): dict.fromkeys("\u2019\u02bc", "'"),
    ("curly single quote", "curly single quotes"): dict.fromkeys("\u2018\u201a\u201b\u2039\u203a", "'"),
    ("curly double quote", "curly double quotes"): dict.fromkeys(
        "\u201c\u201d\u201e\u201f\u00ab\u00bb\u301d\u301e", '"'
    ),
    ("accent typed as an apostrophe", "accents typed as apostrophes"): dict.fromkeys("`\u00b4\u02bb\u02ca\u02cb", "'"),
    ("foot or inch mark", "foot or inch marks"): {"\u2032": "'", "\u2033": '"'},
    ("long dash", "long dashes"): dict.fromkeys("\u2012\u2013\u2014\u2015\ufe58", "-"),
    ("minus sign", "minus signs"): dict.fromkeys("\u2212\ufe63", "-"),
    ("special hyphen", "special hyphens"): dict.fromkeys("\u2010\u2011", "-"),
    ("bullet", "bullets"): dict.fromkeys("\u2022\u25e6\u2023\u2043\u2219\u25cf\u25aa\u00b7", "-"),
    ("ellipsis", "ellipses"): {"\u2026": "..."},
    ("non-breaking space", "non-breaking spaces"): dict.fromkeys("\u00a0\u202f\u2007", " "),
    ("unusual space", "unusual spaces"): dict.fromkeys(
        "\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000", " "
    ),
    ("tab", "tabs"): {"\t": " "},
    ("unusual line break", "unusual line breaks"): dict.fromkeys("\u2028\u2029\u0085\u000b", "\n"),
    ("invisible character", "invisible characters"): dict.fromkeys(
        "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", ""
    ),
    ("fraction", "fractions"): {"\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4", "\u2153": "1/3", "\u2154": "2/3"},
    ("fraction slash", "fraction slashes"): {"\u2044": "/"},
    ("symbol", "symbols"): {"\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "TM"},
    ("ligature", "ligatures"): {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"},
    # Full-width forms (East Asian keyboards, some PDFs): each ASCII character, the backtick as an apostrophe.
    ("full-width character", "full-width characters"): {
        chr(code): "'" if chr(code - 0xFEE0) == "`" else chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)
    },
}
PLAIN: dict[str, str] = {char: plain for chars in LOOK_ALIKES.values() for char, plain in chars.items()}
KIND: dict[str, tuple[str, str]] = {char: kind for kind, chars in LOOK_ALIKES.items() for char in chars}
ZERO_WIDTH_JOINER = "\u200d"


@dataclass(frozen=True)
class Replacement:
    """One character replaced wherever it was: what it was, by what, how many times."""

    character: str
    replaced_by: str  # "" when removed
    kind: str
    count: int


@dataclass(frozen=True)
class Normalised:
    text: str
    replacements: tuple[Replacement, ...] = ()
    typed: str = ""  # the text as it was typed

    @property
    def changed(self) -> bool:
        return bool(self.replacements)

    @property
    def segments_before(self) -> int:
        return sms_cost(self.typed).segments

    @property
    def segments_after(self) -> int:
        return sms_cost(self.text).segments

    @property
    def message(self) -> str:
        """What was done and what it saved: "Replaced 1 curly apostrophe with a plain one: 1
        segment instead of 2"."""
        before, after = self.segments_before, self.segments_after
        unit = "segment" if after == 1 else "segments"
        saved = f"{after} {unit} instead of {before}" if after < before else f"{after} {unit}, as before"
        return f"{self.summary()}: {saved}."

    def summary(self) -> str:
        return summary(self.replacements)


def summary(replacements: tuple[Replacement, ...]) -> str:
    """What was done, in the words staff read: "Replaced 2 curly apostrophes and 1 long dash with
    plain ones; removed 1 invisible character"."""
    replaced: dict[tuple[str, str], int] = {}
    removed: dict[tuple[str, str], int] = {}
    for replacement in replacements:
        counts = removed if replacement.replaced_by == "" else replaced
        kind = KIND[replacement.character]
        counts[kind] = counts.get(kind, 0) + replacement.count
    parts = []
    if replaced:
        ones = "a plain one" if sum(replaced.values()) == 1 else "plain ones"
        parts.append(f"replaced {_listed(replaced)} with {ones}")
    if removed:
        parts.append(f"removed {_listed(removed)}")
    said = "; ".join(parts)
    return said[:1].upper() + said[1:]


def _listed(counts: dict[tuple[str, str], int]) -> str:
    named = [f"{count} {singular if count == 1 else plural}" for (singular, plural), count in counts.items()]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


def normalise(text: str) -> Normalised:
    """``text`` with every look-alike that has a plain GSM-7 equivalent replaced, and what was
    replaced. A GSM-7 text is returned as it is, and no text ever costs more segments after.

    Replacing one character by several (the ellipsis by three dots) lengthens the text, so it is
    done only when the whole text then becomes GSM-7 and costs no more: with an emoji left in
    it, "…" stays one character. A zero-width joiner inside an emoji (👨‍👩‍👧) stays, or the emoji
    would fall apart."""
    if is_gsm7(text):
        return Normalised(text, typed=text)
    one_for_one, plain_everywhere = _replaced(text), _replaced(text, expand=True)
    expand = is_gsm7(plain_everywhere) and sms_cost(plain_everywhere).segments <= sms_cost(one_for_one).segments
    plain = plain_everywhere if expand else one_for_one
    counts: dict[str, int] = {}
    for position, char in enumerate(text):
        if _replaces(text, position, expand=expand):
            counts[char] = counts.get(char, 0) + 1
    replacements = tuple(
        Replacement(character=char, replaced_by=PLAIN[char], kind=KIND[char][0], count=count)
        for char, count in counts.items()
    )
    return Normalised(plain, replacements, typed=text)


def _replaces(text: str, position: int, *, expand: bool) -> bool:
    char = text[position]
    plain = PLAIN.get(char)
    if plain is None or (len(plain) > 1 and not expand):
        return False
    if char == ZERO_WIDTH_JOINER:
        before, after = text[position - 1 : position], text[position + 1 : position + 2]
        return not (_kept(before) and _kept(after))
    return True


def _kept(char: str) -> bool:
    """A character that stays as it is outside GSM-7 (an emoji, say)."""
    return bool(char) and char not in GSM7 and char not in PLAIN


def _replaced(text: str, *, expand: bool = False) -> str:
    return "".join(
        PLAIN[char] if _replaces(text, position, expand=expand) else char for position, char in enumerate(text)
    )


def name_of(char: str) -> str:
    """What a character with no plain equivalent is, as staff would say it: "the emoji 😀",
    "the letter ç", "the character °"."""
    category = unicodedata.category(char)
    if ord(char) >= 0x1F000 or 0x2600 <= ord(char) <= 0x27BF:
        return f"the emoji {char}"
    if category.startswith("L"):
        return f"the letter {char}"
    return f"the character {char}"


def names_of(chars: list[str]) -> str:
    """Several characters named (name_of) in one phrase, leaving out the marks that only join or
    vary the character before them (a variation selector, a joiner)."""
    shown = [name_of(char) for char in chars if unicodedata.category(char) not in ("Mn", "Me", "Cf")]
    shown = shown or [name_of(char) for char in chars]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
