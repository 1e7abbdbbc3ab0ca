"""What a text costs: its encoding and the SMS segments it is billed as."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

# GSM 03.38: the basic set costs one septet per character, the extension set two (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENSION)
GSM7_ENCODING, UCS2_ENCODING = "GSM-7", "UCS-2"


@dataclass(frozen=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7 for char in text)


def outside_gsm7(text: str) -> list[str]:
    """The characters of ``text`` that make it UCS-2, each once, in the order they first appear."""
    return list(dict.fromkeys(char for char in text if char not in GSM7))


def sms_cost(text: str) -> SmsCost:
    """Characters and segments: GSM-7 fits 160 in one segment, 153 per part of a longer text;
    anything outside GSM-7 (an emoji, curly quotes) makes it UCS-2, 70 and 67."""
    encoding, units = encoded_length(text)
    return SmsCost(encoding=encoding, characters=len(text), segments=segments_of(units, encoding=encoding))


def encoded_length(text: str) -> tuple[str, int]:
    """The encoding a text goes in and its length in that encoding's units: septets for GSM-7
    (an extension character takes two), UTF-16 code units for UCS-2 (an emoji often takes two)."""
    if is_gsm7(text):
        return GSM7_ENCODING, sum(2 if char in GSM7_EXTENSION else 1 for char in text)
    return UCS2_ENCODING, len(text.encode("utf-16-le")) // 2


def segments_of(units: int, *, encoding: str) -> int:
    """The segments a text of ``units`` units is billed as: one up to 160 septets (70 UCS-2
    units); a longer text goes in parts of 153 (67), each part's header taking the rest."""
    single, part = (160, 153) if encoding == GSM7_ENCODING else (70, 67)
    return 1 if units <= single else -(-units // part)


def dollars(segments: int) -> Decimal:
    """What ``segments`` segments cost at OpenPhone's price (SMS_COST_PER_SEGMENT)."""
    return settings.SMS_COST_PER_SEGMENT * segments
