import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from contacts.models import Contact, ContactImport, PropertyContact
from contacts.search_key import query_key
from contacts.search_text import SEPARATOR

# "617-555-0123", "(617) 555 0123", "+1 617..." : a query made only of phone characters.
PHONE_QUERY = re.compile(r"^[\d\s().+-]+$")
ZIP_QUERY = re.compile(r"^\d{5}(-\d{0,4})?$")


def _starts_a_zip(word: str) -> Q:
    """A ZIP the contact page shows (its own or a house's) starts with ``word``."""
    return Q(search_zip_codes__contains=SEPARATOR + word)


def _word_found(word: str) -> Q:
    """``word`` is in the contact's name, email or an address (street, city; its own or a
    house's), punctuation and spacing aside, or starts one of its ZIPs."""
    return Q(search_text__contains=query_key(word)) | _starts_a_zip(word)


def contact_search(*, query: str = "", opted_out: bool | None = None) -> QuerySet[Contact]:
    """Contacts matching a free-text query: phone digits (or a ZIP), else words each found in the
    name, the email, or an address the contact page shows (street, city, ZIP; its own or a
    house's), compared by search key (contacts/search_key.py): "oconnor" finds "O’Connor".

    Each word is one condition on one column (contacts/search_text.py), which a trigram index
    serves on PostgreSQL; a word of one or two letters has no trigram to look up, and is found
    by reading the contacts (newest first, so a common one fills a page at once)."""
    contacts = Contact.objects.all()
    if opted_out is not None:
        contacts = contacts.filter(opted_out_at__isnull=not opted_out)
    query = query.strip()
    if not query:
        return contacts
    digits = re.sub(r"\D", "", query)
    if PHONE_QUERY.match(query) and len(digits) >= 3:
        # 02169 is both phone digits and a ZIP.
        by_zip = _starts_a_zip(query) if ZIP_QUERY.match(query) else Q(pk__in=[])
        return contacts.filter(Q(phone__contains=digits) | by_zip)
    # A word of punctuation alone ("-", "'") has an empty key, which every text contains.
    words = [word for word in query.split() if query_key(word)]
    if not words:
        return contacts.none()
    condition = Q()
    for word in words:
        condition &= _word_found(word)
    return contacts.filter(condition)


@dataclass(frozen=True)
class ContactPage:
    """One page of a list of contacts, newest first; how many the whole list holds and where in it
    the page starts; and the cursors of the links to the pages either side, None where there is no
    page to go to."""

    contacts: list[Contact]
    total: int
    start: int  # the place of the page's first contact in the list, from 1 (0 when the page is empty)
    previous_before: int | None  # ?before= of the newer page
    next_after: int | None  # ?after= of the older page

    @property
    def end(self) -> int:
        return self.start + len(self.contacts) - 1 if self.contacts else 0

    @property
    def is_whole_list(self) -> bool:
        return len(self.contacts) == self.total


def contact_page(
    contacts: QuerySet[Contact], *, size: int, after: int | None = None, before: int | None = None
) -> ContactPage:
    """The ``size`` contacts of ``contacts`` just older than id ``after``, or just newer than id
    ``before``, or else the newest ``size``; with the list's total and the page's place in it, one
    COUNT of the same filter.

    Keyset paging on the primary key, so a page deep in a large list is one range read on the
    index, and a page keeps its place when contacts are added or deleted elsewhere. The edges:
    1. Each page reads one contact more on the side it walks towards, and asks whether one exists
       on the other side (one EXISTS), so a link is shown only where there is a page to go to.
    2. Fewer than ``size`` contacts newer than ``before`` (the newer ones deleted since the link
       was made, or the list starts there): the first page.
    3. No contact older than ``after`` (deleted since): the last page, the oldest ``size``.
    """
    newest_first, oldest_first = contacts.order_by("-id"), contacts.order_by("id")
    if before is not None:
        newer = list(oldest_first.filter(id__gt=before)[: size + 1])
        if len(newer) > size:
            shown = newer[:size][::-1]
            return _page(contacts, shown, has_newer=True, has_older=contacts.filter(id__lt=shown[-1].pk).exists())
    elif after is not None:
        older = list(newest_first.filter(id__lt=after)[: size + 1])
        shown = older[:size] or list(oldest_first[:size])[::-1]
        has_newer = bool(shown) and contacts.filter(id__gt=shown[0].pk).exists()
        return _page(contacts, shown, has_newer=has_newer, has_older=len(older) > size)
    first = list(newest_first[: size + 1])
    return _page(contacts, first[:size], has_newer=False, has_older=len(first) > size)


def _page(contacts: QuerySet[Contact], shown: list[Contact], *, has_newer: bool, has_older: bool) -> ContactPage:
    if has_newer:  # the page starts after the contacts newer than its first, counted with the total
        counts = contacts.aggregate(total=Count("pk"), newer=Count("pk", filter=Q(pk__gt=shown[0].pk)))
        total, start = counts["total"], counts["newer"] + 1
    else:
        total = contacts.count()
        start = 1 if shown else 0
    return ContactPage(
        contacts=shown,
        total=total,
        start=start,
        previous_before=shown[0].pk if has_newer else None,
        next_after=shown[-1].pk if has_older else None,
    )


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
