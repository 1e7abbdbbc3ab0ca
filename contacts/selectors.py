"""Reads with business meaning for contacts."""

import re

from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.models import Contact, PropertyContact

# "617-555-0123", "(617) 555 0123", "+1 617..." : a query made only of phone characters.
PHONE_QUERY = re.compile(r"^[\d\s().+-]+$")
ZIP_QUERY = re.compile(r"^\d{5}(-\d{0,4})?$")


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
        # Digits are part of a phone number, or a ZIP (02169 is both a ZIP and phone digits).
        by_zip = Q()
        if ZIP_QUERY.match(query):
            by_zip = Q(zip_code__startswith=query) | Exists(
                PropertyContact.objects.filter(contact_id=OuterRef("pk"), property__zip_code__startswith=query)
            )
        return contacts.filter(Q(phone__contains=digits) | by_zip)
    condition = Q()
    for word in query.split():
        # Every word is found somewhere: a name, the email, the address, city or ZIP the contact
        # page shows (the contact's own or a house's).
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(address__icontains=word)
            | Q(city__icontains=word)
            | Q(zip_code__startswith=word)
            | Exists(
                PropertyContact.objects.filter(contact_id=OuterRef("pk")).filter(
                    Q(property__address__icontains=word)
                    | Q(property__city__icontains=word)
                    | Q(property__zip_code__startswith=word)
                )
            )
        )
    return contacts.filter(condition)


def home_links(contact_id: OuterRef | None = None) -> QuerySet[PropertyContact]:
    """A contact's links to its houses, its home first (as ``Contact.home``), for a subquery:
    ``home_links().values("property__state")[:1]`` is the state of the house the row's contact
    (``OuterRef("contact_id")`` unless told otherwise) is texted about."""
    contact_id = OuterRef("contact_id") if contact_id is None else contact_id
    return PropertyContact.objects.filter(contact_id=contact_id).order_by(*PropertyContact.HOME_FIRST)


def contact_filter(
    *,
    query: str = "",
    city: str = "",
    zip_code: str = "",
    state: str = "",
    source: str = "",
    import_id: int | None = None,
    opted_out: bool | None = None,
    has_texted_us: bool | None = None,
) -> QuerySet[Contact]:
    """Contacts matching every given criterion (an audience filter): a free-text ``query`` as the
    search box reads it, and exact, case-insensitive city, ZIP, state and source."""
    from messaging.models import Message  # messaging's models import these: read here

    contacts = contact_search(query=query).order_by() if query else Contact.objects.order_by()
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
    if has_texted_us is not None:
        texted = Exists(Message.objects.filter(contact_id=OuterRef("pk"), direction=Message.Direction.INBOUND))
        contacts = contacts.filter(texted if has_texted_us else ~texted)
    return contacts
