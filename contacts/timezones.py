"""A contact's time zone, for the recipient's legal texting window.

From the best evidence first: the ZIP code (the contact's, else the house's), then the state,
then the phone's area code. Where the evidence points at more than one zone (a state or an area
code that spans two), all of them are kept and the window is the intersection. The ZIP data is
the `zipcodes` data set, copied into the ZipCode table so that SQL can join on it, and the
area-code data is `phonenumbers`' — nothing hand-typed.
"""

from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
import zipcodes
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Subquery
from django.db.models.functions import Substr
from phonenumbers import timezone as phone_timezone

from contacts.models import Contact, PropertyContact, ZipCode

# More candidates than this says nothing useful (a toll-free number "is" in 40 zones).
MAX_ZONES = 3


def load_zip_codes(model: type[ZipCode]) -> int:
    """Fill the ZIP code table from the installed `zipcodes` data set; the migration's model may be
    passed. Returns how many ZIP codes it holds."""
    iana_zones = available_timezones()  # the data set has a few rows whose zone is a place name
    rows = [
        model(zip=row["zip_code"], state=row["state"], time_zone=row["timezone"])
        for row in zipcodes.list_all()
        if row.get("timezone") in iana_zones
    ]
    with transaction.atomic():
        model.objects.all().delete()
        model.objects.bulk_create(rows, batch_size=5000)
    zip_facts.cache_clear()
    zones_for_state.cache_clear()
    return len(rows)


@lru_cache(maxsize=65536)
def zip_facts(zip_code: str) -> tuple[str, str] | None:
    """(zone, state) for a US ZIP code, or None when the data set does not know it."""
    five = zip_code.strip()[:5]
    if len(five) != 5 or not five.isdigit():
        return None
    return ZipCode.objects.filter(zip=five).values_list("time_zone", "state").first()


@lru_cache(maxsize=64)
def zones_for_state(state: str) -> tuple[str, ...]:
    state = state.strip().upper()
    return zones_for_states([state]) if len(state) == 2 else ()


def zones_for_states(states: Iterable[str]) -> tuple[str, ...]:
    """Every zone of the ZIP codes in these states (two-letter, upper case), in one query."""
    zones = ZipCode.objects.filter(state__in=list(states)).values_list("time_zone", flat=True)
    return tuple(zones.distinct().order_by("time_zone"))


@lru_cache(maxsize=1)
def _area_code_states() -> dict[str, tuple[str, ...]]:
    states: dict[str, set[str]] = {}
    for row in zipcodes.list_all():
        for area_code in row.get("area_codes") or []:
            states.setdefault(area_code, set()).add(row["state"])
    return {area_code: tuple(sorted(found)) for area_code, found in states.items()}


def states_for_phone(phone: str) -> tuple[str, ...]:
    return _area_code_states().get(phone[2:5], ()) if phone.startswith("+1") else ()


@lru_cache(maxsize=4096)
def zones_for_phone(phone: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(zone for zone in phone_timezone.time_zones_for_number(number) if zone != "Etc/Unknown")
    return zones if len(zones) <= MAX_ZONES else ()


def recipient_state(state: str, home_state: str | None, phone: str) -> str:
    """The state whose texting rules apply: the contact's, else their house's, else the area code's."""
    if state or home_state:
        return (state or home_state or "").upper()
    from_phone = states_for_phone(phone)
    return from_phone[0] if len(from_phone) == 1 else ""


def zone_fields(contact: Contact) -> dict[str, str]:
    """The zone fields for one contact from what it knows (its own address, else its house's): the
    ZIP's zone, else the state's where it lies in few zones, else the phone's area code's."""
    house = contact.home
    zip_code = contact.zip_code or (house.zip_code if house else "")
    state = contact.state or (house.state if house else "")
    if facts := zip_facts(zip_code):
        return {"time_zone": facts[0], "time_zone_source": Contact.TimeZoneSource.ADDRESS}
    zones = zones_for_state(state)
    if zones and len(zones) <= MAX_ZONES:
        return {"time_zone": ",".join(zones), "time_zone_source": Contact.TimeZoneSource.ADDRESS}
    zones = zones_for_phone(contact.phone)
    source = Contact.TimeZoneSource.AREA_CODE if zones else Contact.TimeZoneSource.UNKNOWN
    return {"time_zone": ",".join(zones), "time_zone_source": source}


def assign_time_zones() -> int:
    """Fill in the zone of every contact that has none (staff overrides are never touched).

    The import gives new contacts their ZIP's zone as it inserts them; this settles the rest,
    set-based: one UPDATE per evidence tier, then one per distinct state or area code.
    """
    unknown = Contact.objects.filter(time_zone_source=Contact.TimeZoneSource.UNKNOWN)
    updated = 0

    def apply(contacts, zones, source: str) -> None:
        nonlocal updated
        updated += contacts.filter(time_zone_source=Contact.TimeZoneSource.UNKNOWN).update(
            time_zone=zones, time_zone_source=source
        )

    # 1. The contact's own ZIP, then its house's (the primary listing first).
    own_zip = ZipCode.objects.filter(zip=Substr(OuterRef("zip_code"), 1, 5)).values("time_zone")[:1]
    apply(unknown.exclude(zip_code="").filter(Exists(own_zip)), Subquery(own_zip), Contact.TimeZoneSource.ADDRESS)
    house_zip = ZipCode.objects.filter(zip=Substr(OuterRef("property__zip_code"), 1, 5)).values("time_zone")[:1]
    house_zone = (
        PropertyContact.objects.filter(contact=OuterRef("pk"))
        .annotate(zone=Subquery(house_zip))
        .exclude(zone=None)
        .order_by("role", "property_id")
        .values("zone")[:1]
    )
    apply(unknown.filter(zip_code="").filter(Exists(house_zone)), Subquery(house_zone), Contact.TimeZoneSource.ADDRESS)
    # 2. The state, where it lies in few zones.
    for state in set(unknown.exclude(state="").values_list("state", flat=True).distinct()):
        zones = zones_for_state(state)
        if zones and len(zones) <= MAX_ZONES:
            apply(unknown.filter(state=state), ",".join(zones), Contact.TimeZoneSource.ADDRESS)
    # 3. The phone's area code.
    area_codes = unknown.filter(phone__startswith="+1").annotate(area=Substr("phone", 3, 3))
    for area, phone in area_codes.values_list("area").annotate(sample=Min("phone")).order_by():
        zones = zones_for_phone(phone)
        if zones:
            apply(unknown.filter(phone__startswith=f"+1{area}"), ",".join(zones), Contact.TimeZoneSource.AREA_CODE)
    return updated
