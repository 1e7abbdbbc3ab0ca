"""Reads with business meaning for contacts."""

import re

from django.db.models import Q, QuerySet

from contacts.models import Contact

# "617-555-0123", "(617) 555 0123", "+1 617..." : a query made only of phone characters.
PHONE_QUERY = re.compile(r"^[\d\s().+-]+$")


def contact_search(*, query: str = "", opted_out: bool | None = None) -> QuerySet[Contact]:
    """Contacts matching a free-text query (phone digits, or name / email / city words)."""
    contacts = Contact.objects.all()
    if opted_out is not None:
        contacts = contacts.filter(opted_out_at__isnull=not opted_out)
    query = query.strip()
    if not query:
        return contacts
    digits = re.sub(r"\D", "", query)
    if PHONE_QUERY.match(query) and len(digits) >= 3:
        return contacts.filter(phone__contains=digits)
    condition = Q()
    for word in query.split():
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(city__icontains=word)
        )
    return contacts.filter(condition)


def contact_filter(
    *,
    city: str = "",
    zip_code: str = "",
    state: str = "",
    source: str = "",
    import_id: int | None = None,
    opted_out: bool | None = None,
) -> QuerySet[Contact]:
    """Contacts matching every given criterion (an audience filter); exact, case-insensitive text."""
    contacts = Contact.objects.order_by()
    if city:
        contacts = contacts.filter(city__iexact=city.strip())
    if zip_code:
        contacts = contacts.filter(zip_code=zip_code.strip())
    if state:
        contacts = contacts.filter(state__iexact=state.strip())
    if source:
        contacts = contacts.filter(source__iexact=source.strip())
    if import_id is not None:
        contacts = contacts.filter(source_import_id=import_id)
    if opted_out is not None:
        contacts = contacts.filter(opted_out_at__isnull=not opted_out)
    return contacts
