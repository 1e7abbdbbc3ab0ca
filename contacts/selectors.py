import datetime as dt
import re

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.models import Contact, ContactImport, PropertyContact

# "617-555-0123", "(617) 555 0123", "+1 617..." : a query made only of phone characters.
PHONE_QUERY = re.compile(r"^[\d\s().+-]+$")
ZIP_QUERY = re.compile(r"^\d{5}(-\d{0,4})?$")


# How a search word is looked for in an address, the contact's own and each of its houses'.
ADDRESS_LOOKUPS = {"address": "icontains", "city": "icontains", "zip_code": "startswith"}


def _in_an_address(word: str, fields: tuple[str, ...] = tuple(ADDRESS_LOOKUPS)) -> Q:
    """The contact's own address, or any of its houses', holds ``word`` in one of ``fields``."""
    own, houses = Q(), Q()
    for field in fields:
        lookup = f"{field}__{ADDRESS_LOOKUPS[field]}"
        own |= Q(**{lookup: word})
        houses |= Q(**{f"property__{lookup}": word})
    return own | Exists(PropertyContact.objects.filter(houses, contact_id=OuterRef("pk")))


def contact_search(*, query: str = "", opted_out: bool | None = None) -> QuerySet[Contact]:
    """Contacts matching a free-text query: phone digits (or a ZIP), else words each found in the
    name, the email, or an address the contact page shows (street, city, ZIP; its own or a house's)."""
    contacts = Contact.objects.all()
    if opted_out is not None:
        contacts = contacts.filter(opted_out_at__isnull=not opted_out)
    query = query.strip()
    if not query:
        return contacts
    digits = re.sub(r"\D", "", query)
    if PHONE_QUERY.match(query) and len(digits) >= 3:
        # 02169 is both phone digits and a ZIP.
        by_zip = _in_an_address(query, ("zip_code",)) if ZIP_QUERY.match(query) else Q(pk__in=[])
        return contacts.filter(Q(phone__contains=digits) | by_zip)
    condition = Q()
    for word in query.split():
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | _in_an_address(word)
        )
    return contacts.filter(condition)


def home_links() -> QuerySet[PropertyContact]:
    """A contact's links to its houses, its home first (as ``Contact.home``), for a subquery:
    ``home_links().values("property__state")[:1]`` is the state of the house the row's contact
    (``OuterRef("contact_id")``) is texted about."""
    return PropertyContact.objects.filter(contact_id=OuterRef("contact_id")).order_by(*PropertyContact.HOME_FIRST)


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

    contacts = contact_search(query=query, opted_out=opted_out).order_by()
    exact = {"city__iexact": city, "zip_code": zip_code, "state__iexact": state, "source__iexact": source}
    contacts = contacts.filter(**{lookup: value.strip() for lookup, value in exact.items() if value})
    if import_id is not None:
        contacts = contacts.filter(source_import_id=import_id)
    if has_texted_us is not None:
        texted = Exists(Message.objects.filter(contact_id=OuterRef("pk"), direction=Message.Direction.INBOUND))
        contacts = contacts.filter(texted if has_texted_us else ~texted)
    return contacts


def waiting_imports(*, now: dt.datetime) -> QuerySet[ContactImport]:
    """Imports no worker has taken within the hand-over's grace, and running ones that have
    given no sign of life for IMPORT_STALLED_MINUTES (the sweep queues them again or fails them)."""
    queued_before = now - dt.timedelta(seconds=settings.IMPORT_HANDOVER_SECONDS)
    stalled_before = now - dt.timedelta(minutes=settings.IMPORT_STALLED_MINUTES)
    return ContactImport.objects.filter(
        Q(status=ContactImport.Status.QUEUED, started_at__lt=queued_before)
        | Q(status=ContactImport.Status.RUNNING, progress_at__lt=stalled_before)
    )
