"""Writes with business meaning for contacts: create, change and delete them. The API, admin,
pages, commands and tasks call these; imports go through ``contacts.importing.pipeline``."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from attackacrack.errors import ApplicationError
from contacts import lawful_basis
from contacts.models import Contact
from contacts.timezones import zone_fields

# What a person may set on a contact (the API, the pages, the admin); the rest is the system's.
CONTACT_FIELDS = frozenset(
    {"phone", "first_name", "last_name", "email", "address", "city", "state", "zip_code", "source", "time_zone",
     "line_type"}
)  # fmt: skip


class DuplicatePhone(ApplicationError):
    code = "duplicate_phone"

    def __init__(self, phone: str, existing_id: int) -> None:
        super().__init__(f"Contact {existing_id} already has the phone {phone}.")
        self.existing_id = existing_id


class ContactInUse(ApplicationError):
    """The contact has texts or campaign sends on record: it can be opted out, not deleted."""

    code = "contact_in_use"


def create_contact(**fields: Any) -> Contact:
    return update_contact(contact=Contact(), **fields)


def update_contact(*, contact: Contact, **changes: Any) -> Contact:
    unknown = set(changes) - CONTACT_FIELDS
    if unknown:
        raise TypeError(f"Not fields a person may set on a contact: {', '.join(sorted(unknown))}")
    if changes.get("time_zone"):
        changes["time_zone_source"] = Contact.TimeZoneSource.STAFF  # staff know better than the data
    for field, value in changes.items():
        setattr(contact, field, value)
    staff_set = contact.time_zone_source == Contact.TimeZoneSource.STAFF and changes.get("time_zone") != ""
    if not staff_set and ({"zip_code", "state", "phone", "time_zone"} & set(changes)):
        changes.update(zone_fields(contact))
        for field, value in changes.items():
            setattr(contact, field, value)
    # A phone another contact has is DuplicatePhone whether validation sees it or the unique index
    # does (two requests racing for one phone cannot both win).
    try:
        contact.full_clean(validate_unique=False)
        with transaction.atomic():
            contact.save(update_fields=[*changes, "updated_at"] if contact.pk else None)
    except ValidationError as error:
        if not any(problem.code == "unique" for problem in getattr(error, "error_dict", {}).get("phone", [])):
            raise
        raise DuplicatePhone(contact.phone, Contact.objects.get(phone=contact.phone).id) from None
    except IntegrityError:
        taken_by = Contact.objects.exclude(pk=contact.pk).filter(phone=contact.phone).first()
        if taken_by is None:
            raise
        raise DuplicatePhone(contact.phone, taken_by.id) from None
    # Why the number cannot be texted is computed by the database from what was just saved.
    contact.refresh_from_db(fields=["not_textable_because", "not_textable_reason"])
    return contact


def save_contact(*, contact: Contact, changes: dict[str, Any], by=None, via: str) -> Contact:
    """A contact's fields (``CONTACT_FIELDS``) and its consent (``lawful_basis.CONSENT_FIELDS``)
    from ``changes``, changed together or not at all; the consent's change is audited with ``by``
    and ``via``. Anything else in ``changes`` is ignored (the system's fields)."""
    fields = {name: value for name, value in changes.items() if name in CONTACT_FIELDS}
    consent = {name: value for name, value in changes.items() if name in lawful_basis.CONSENT_FIELDS}
    with transaction.atomic():
        if contact.pk is None:
            for field in lawful_basis.CONSENT_FIELDS:  # written below, audited, not with the contact
                setattr(contact, field, Contact._meta.get_field(field).get_default())
        if fields or contact.pk is None:
            contact = update_contact(contact=contact, **fields)
        if consent:
            lawful_basis.record_consent(contact, consent, via=via, by=by)
    return contact


def delete_contact(*, contact: Contact) -> None:
    try:
        with transaction.atomic():
            contact.delete()
    except ProtectedError as error:
        raise ContactInUse(
            f"Contact {contact.id} has texts or campaign sends on record; opt them out instead of deleting."
        ) from error
