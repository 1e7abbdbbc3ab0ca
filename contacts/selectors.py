import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from attackacrack.estimates import planner_rows
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


# A list of contacts is read whole, as ids, when it holds no more than this many; past it, it is
# "more than 1,000" (the list of every contact: the planner's estimate, "about", once it is large),
# and is paged through by walking the primary key newest first. Counting a search that finds half
# the table would read half the table on every page.
COUNTED_UP_TO = 1_000
COUNTED_IN_FULL_BELOW = 100_000


def few_contact_ids(contacts: QuerySet[Contact]) -> list[int] | None:
    """The ids of ``contacts``, newest first, when there are no more than ``COUNTED_UP_TO``; None
    when there are more. One read in no order, which stops at the limit: a selective search is an
    index lookup, a common one finds enough among the first rows it reads."""
    ids = list(contacts.order_by().values_list("pk", flat=True)[: COUNTED_UP_TO + 1])
    return sorted(ids, reverse=True) if len(ids) <= COUNTED_UP_TO else None


def contacts_to_page(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """``contacts``, ready to be paged newest first: when they are few, as their list of ids, so a
    page reads its rows by primary key instead of walking the table from the newest contact until
    enough match (slow when the few that do are old)."""
    ids = few_contact_ids(contacts)
    return contacts if ids is None else Contact.objects.filter(pk__in=ids)


@dataclass(frozen=True)
class ContactPage:
    """One page of a list of contacts, newest first; how many the whole list holds and where in it
    the page starts; and the cursors of the links to the pages either side, None where there is no
    page to go to."""

    contacts: list[Contact]
    total: int
    # The place of the page's first contact in the list, from 1 (0 when the page is empty); None
    # when more than COUNTED_UP_TO are newer.
    start: int | None
    previous_before: int | None  # ?before= of the newer page
    next_after: int | None  # ?after= of the older page
    total_is: str = ""  # "" when ``total`` is exact, else "more than" or "about"

    @property
    def end(self) -> int | None:
        if self.start is None:
            return None
        return self.start + len(self.contacts) - 1 if self.contacts else 0

    @property
    def is_whole_list(self) -> bool:
        return not self.total_is and len(self.contacts) == self.total


def contact_page(
    contacts: QuerySet[Contact],
    *,
    size: int,
    after: int | None = None,
    before: int | None = None,
    every_contact: bool = False,
) -> ContactPage:
    """The ``size`` contacts of ``contacts`` just older than id ``after``, or just newer than id
    ``before``, or else the newest ``size``; with the list's total and the page's place in it.
    ``every_contact``: the list is the whole table, counted in full while it is small.

    A list of no more than ``COUNTED_UP_TO`` is read as ids (``few_contact_ids``), placed and
    counted from them, and its page read by id. A longer one is paged by keyset on the primary
    key, so a page deep in it is one range read on the index, and a page keeps its place when
    contacts are added or deleted elsewhere. The edges:
    1. Each page reads one contact more on the side it walks towards, and asks whether one exists
       on the other side (one EXISTS), so a link is shown only where there is a page to go to.
    2. Fewer than ``size`` contacts newer than ``before`` (the newer ones deleted since the link
       was made, or the list starts there): the first page.
    3. No contact older than ``after`` (deleted since): the last page, the oldest ``size``.
    """
    # The planner's figure from the statistics autovacuum keeps; None on SQLite, where `make run`'s few are counted.
    estimate = planner_rows(Contact.objects.all()) if every_contact else None
    in_full = every_contact and (estimate is None or estimate < COUNTED_IN_FULL_BELOW)
    ids = None if in_full else few_contact_ids(contacts)
    if ids is not None:
        return _page_of_few(ids, size=size, after=after, before=before)
    newest_first, oldest_first = contacts.order_by("-id"), contacts.order_by("id")

    def page(shown: list[Contact], *, has_newer: bool, has_older: bool) -> ContactPage:
        return _page(contacts, shown, has_newer=has_newer, has_older=has_older, in_full=in_full, estimate=estimate)

    if before is not None:
        newer = list(oldest_first.filter(id__gt=before)[: size + 1])
        if len(newer) > size:
            shown = newer[:size][::-1]
            return page(shown, has_newer=True, has_older=contacts.filter(id__lt=shown[-1].pk).exists())
    elif after is not None:
        older = list(newest_first.filter(id__lt=after)[: size + 1])
        shown = older[:size] or list(oldest_first[:size])[::-1]
        has_newer = bool(shown) and contacts.filter(id__gt=shown[0].pk).exists()
        return page(shown, has_newer=has_newer, has_older=len(older) > size)
    first = list(newest_first[: size + 1])
    return page(first[:size], has_newer=False, has_older=len(first) > size)


def _page_of_few(ids: list[int], *, size: int, after: int | None, before: int | None) -> ContactPage:
    """The page of the list whose ids, newest first, are ``ids``: placed as ``contact_page`` says,
    and read by id."""
    at = 0  # where in ``ids`` the page starts
    if before is not None:
        newer = sum(1 for pk in ids if pk > before)
        at = newer - size if newer > size else 0
    elif after is not None:
        at = next((index for index, pk in enumerate(ids) if pk < after), max(len(ids) - size, 0))
    wanted = ids[at : at + size]
    shown = list(Contact.objects.filter(pk__in=wanted).order_by("-id")) if wanted else []
    return ContactPage(
        contacts=shown,
        total=len(ids),
        start=at + 1 if shown else 0,
        previous_before=shown[0].pk if shown and at > 0 else None,
        next_after=shown[-1].pk if shown and at + size < len(ids) else None,
    )


def _page(
    contacts: QuerySet[Contact],
    shown: list[Contact],
    *,
    has_newer: bool,
    has_older: bool,
    in_full: bool,
    estimate: int | None,
) -> ContactPage:
    """A page of a long list, counted: in full (``in_full``, one COUNT with the contacts newer
    than the page), else only how many are newer than the page, up to ``COUNTED_UP_TO``."""
    total_is = ""
    if in_full and has_newer:
        counts = contacts.aggregate(total=Count("pk"), newer=Count("pk", filter=Q(pk__gt=shown[0].pk)))
        total, place = counts["total"], counts["newer"] + 1
    elif in_full:
        total, place = contacts.count(), 1 if shown else 0
    else:
        place = 1 if shown else 0
        if has_newer:
            newer = contacts.filter(pk__gt=shown[0].pk).order_by()[: COUNTED_UP_TO + 1].count()
            place = newer + 1 if newer <= COUNTED_UP_TO else None
        if estimate is not None and estimate > COUNTED_UP_TO:
            total, total_is = estimate, "about"
        else:
            total, total_is = COUNTED_UP_TO, "more than"
    return ContactPage(
        contacts=shown,
        total=total,
        start=place,
        previous_before=shown[0].pk if has_newer else None,
        next_after=shown[-1].pk if has_older else None,
        total_is=total_is,
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
