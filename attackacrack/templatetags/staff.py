import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from contacts.phones import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+16175550123 → (617) 555-0123."""
    return format_phone(value or "")


@register.simple_tag(takes_context=True)
def current(context, *sections: str) -> str:
    """' aria-current="page"' on the nav link of the page's section: a namespace ('campaigns'), a
    namespaced page ('contacts:import') or a page without one ('dashboard')."""
    request = context.get("request")
    if request is None or request.resolver_match is None:
        return ""
    match = request.resolver_match
    here = {match.namespace, f"{match.namespace}:{match.url_name}"} if match.namespace else {match.url_name}
    return mark_safe(' aria-current="page"') if here & set(sections) else ""


@register.filter
def percent(value: float | None) -> str:
    """0.125 → 12.5%; nothing to divide by → –."""
    return "–" if value is None else f"{value:.1%}"


@register.filter
def dollars(value: Decimal | None) -> str:
    """Decimal("1234.5") → $1,234.50; nothing to divide by → –."""
    return "–" if value is None else f"${value:,.2f}"


WORDS_IN_CAPITALS = {"zip": "ZIP", "apn": "APN", "id": "ID", "url": "URL", "sms": "SMS"}


@register.filter
def label(field_name: str) -> str:
    """A stored field's name as a person reads it: zip_code → ZIP code, apn → APN."""
    words = [WORDS_IN_CAPITALS.get(word, word) for word in str(field_name).split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@register.filter
def ago(moment: dt.datetime) -> str:
    """How long ago, as a person says it: "just now" within the first minute, else "3 minutes ago"."""
    if timezone.now() - moment < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
