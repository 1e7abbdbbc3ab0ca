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


@dataclass(frozen=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int
    segments: int


def sms_cost(text: str) -> SmsCost:
    """Characters and segments: GSM-7 fits 160 in one segment, 153 per part of a longer text;
    anything outside GSM-7 (an emoji, curly quotes) makes it UCS-2, 70 and 67."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        # The units are septets for GSM-7, UTF-16 code units for UCS-2.
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SmsCost(encoding=encoding, characters=len(text), segments=segments)


def dollars(segments: int) -> Decimal:
    """What ``segments`` segments cost at OpenPhone's price (SMS_COST_PER_SEGMENT)."""
    return settings.SMS_COST_PER_SEGMENT * segments
