"""Campaign message templates: the tokens they may use, how a text is rendered, what it costs.

A template is plain text with tokens in braces: ``Hi {name}, ...``. A token may carry its own
fallback for contacts that lack the value, ``{city|your town}``; without one the token's default
fallback is used, so a text never shows a placeholder, "None" or a doubled space. ``{{`` and
``}}`` are literal braces.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError

from messaging.limits import MAX_TEXT_LENGTH

# What each token says when the contact has no value for it.
TOKEN_FALLBACKS: dict[str, str] = {
    "name": "there",  # how the contact is addressed: "Hi {name}," → "Hi there,"
    "first_name": "there",
    "last_name": "",
    "city": "your area",
    "year_built": "",
    "address": "your home",
}

# The fields each token reads (the contact's first, else its house's): a template is judged with
# every token at the longest value those fields can hold (a year is four digits), or its fallback.
TOKEN_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "name": (("contacts.Contact", "first_name"),),
    "first_name": (("contacts.Contact", "first_name"),),
    "last_name": (("contacts.Contact", "last_name"),),
    "city": (("contacts.Contact", "city"), ("contacts.Property", "city")),
    "address": (("contacts.Contact", "address"), ("contacts.Property", "address")),
}
YEAR_DIGITS = 4


def token_max_length(name: str) -> int:
    if name == "year_built":
        return YEAR_DIGITS
    return max(apps.get_model(model)._meta.get_field(field).max_length for model, field in TOKEN_FIELDS[name])


_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_TOKEN = re.compile(r"^\s*([a-z_]+)\s*(?:\|(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Token:
    name: str
    fallback: str


def parse_template(template: str) -> list[str | Token]:
    """Split a template into literal text and tokens; ValidationError names what is wrong."""
    pieces: list[str | Token] = []
    literal: list[str] = []
    position = 0
    for match in _PIECE.finditer(template):
        literal.append(template[position : match.start()])
        position = match.end()
        text = match.group(0)
        if text in ("{{", "}}"):
            literal.append(text[0])
            continue
        if text in ("{", "}"):
            raise ValidationError(
                "Unbalanced '%(brace)s' at character %(at)s; write {{ or }} for a literal brace.",
                code="unbalanced_brace",
                params={"brace": text, "at": match.start() + 1},
            )
        token = _TOKEN.match(match.group(1))
        if token is None or token.group(1) not in TOKEN_FALLBACKS:
            raise ValidationError(
                "Unknown token %(token)s; the tokens are %(known)s.",
                code="unknown_token",
                params={"token": text, "known": ", ".join(f"{{{name}}}" for name in TOKEN_FALLBACKS)},
            )
        name, own_fallback = token.group(1), token.group(2)
        pieces.append("".join(literal))
        literal = []
        pieces.append(Token(name, TOKEN_FALLBACKS[name] if own_fallback is None else own_fallback.strip()))
    literal.append(template[position:])
    pieces.append("".join(literal))
    return [piece for piece in pieces if piece != ""]


def validate_template(template: str) -> None:
    """Model-field validator: a template that cannot be rendered is refused when it is saved."""
    parse_template(template)


def check_fits_one_text(template: str, *, with_footer: bool) -> None:
    """A template whose text could be over OpenPhone's limit for some contact is refused when
    saved, not discovered when every recipient's send fails."""
    longest = sum(
        len(piece) if isinstance(piece, str) else max(token_max_length(piece.name), len(piece.fallback))
        for piece in parse_template(template)
    ) + (len(with_opt_out_footer("")) if with_footer else 0)
    if longest > MAX_TEXT_LENGTH:
        raise ValidationError(
            "With the longest names and addresses filled in%(footer)s this text can be %(longest)s characters; "
            "OpenPhone sends at most %(limit)s. Shorten it by %(over)s.",
            code="too_long",
            params={
                "footer": " and the opt-out footer" if with_footer else "",
                "longest": f"{longest:,}",
                "limit": f"{MAX_TEXT_LENGTH:,}",
                "over": f"{longest - MAX_TEXT_LENGTH:,}",
            },
        )


def contact_values(contact: Any, home: Any = None) -> dict[str, str]:
    """The token values for a contact and, if known, the house it is texted about."""
    year_built = getattr(home, "year_built", None)
    return {
        "name": contact.first_name,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "city": contact.city or getattr(home, "city", "") or "",
        "year_built": str(year_built) if year_built else "",
        "address": contact.address or getattr(home, "address", "") or "",
    }


def render(template: str, values: dict[str, str]) -> str:
    out = ""
    for piece in parse_template(template):
        if isinstance(piece, str):
            # An empty token left "Hi  ," behind: drop the space it would have followed.
            if out.endswith(" ") and (piece[:1] in (" ", ",", ".", "!", "?", ";", ":")):
                out = out[:-1]
            out += piece
            continue
        value = (values.get(piece.name) or "").strip() or piece.fallback
        out += value
    return out.strip()


def with_opt_out_footer(text: str) -> str:
    return f"{text}\n{settings.SMS_OPT_OUT_FOOTER}"
