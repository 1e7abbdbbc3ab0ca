"""A contact's lawful basis for marketing texts, and its record.

The bases (FCC 23-107 brought texts under the Do-Not-Call rules; the Telemarketing Sales Rule
defines the relationship windows):

- ``express_written``: the person agreed in writing to marketing texts from the business; it
  lasts until they opt out. We keep where and how, and the words they agreed to.
- ``customer``: a job, payment or delivery; an established business relationship for 18 months
  after the last one.
- ``inquiry``: the person asked the business about its work; a relationship for 3 months.
- ``none``: nothing on record. Such a person may get a marketing text only if no Do-Not-Call list
  holds their number, and never in Connecticut.

An opt-out ends every basis: the person is on the business's own list for good, whatever the
record says. The record is kept after an opt-out, as proof of what the business relied on.
"""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from contacts.models import ConsentBasis, ConsentChange, Contact

CUSTOMER_MONTHS = 18
INQUIRY_MONTHS = 3

# Sent when contacts' lawful basis changed (``contact_ids``, ``now``): their consent, or a list
# no longer holds their number. Members a rule kept out for the lack of it may be texted now:
# campaigns listen (contacts does not import them).
changed = Signal()


def relationship_ends(basis: str, at: dt.datetime | None) -> dt.datetime | None:
    """When a relationship basis stops counting; None for written consent (it lasts) or none."""
    if at is None:
        return None
    if basis == ConsentBasis.CUSTOMER:
        return at + relativedelta(months=CUSTOMER_MONTHS)
    if basis == ConsentBasis.INQUIRY:
        return at + relativedelta(months=INQUIRY_MONTHS)
    return None


def in_force(basis: str, at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the basis lets a marketing text reach a number on a Do-Not-Call list at ``now``."""
    if basis == ConsentBasis.EXPRESS_WRITTEN:
        return True
    ends = relationship_ends(basis, at)
    return ends is not None and at <= now < ends


def relationship_q(now: dt.datetime, prefix: str = "") -> Q:
    """Contacts with an established business relationship at ``now`` (``prefix`` reaches them from
    another model): a job, payment or delivery within 18 months, an inquiry within 3."""
    basis, at = f"{prefix}consent_basis", f"{prefix}consent_at"
    return Q(**{basis: ConsentBasis.CUSTOMER, f"{at}__gt": now - relativedelta(months=CUSTOMER_MONTHS)}) | Q(
        **{basis: ConsentBasis.INQUIRY, f"{at}__gt": now - relativedelta(months=INQUIRY_MONTHS)}
    )


def in_force_q(now: dt.datetime, prefix: str = "") -> Q:
    """``in_force`` as a filter on contacts (``prefix`` reaches them from another model)."""
    return Q(**{f"{prefix}consent_basis": ConsentBasis.EXPRESS_WRITTEN}) | relationship_q(now, prefix)


def describe(contact: Contact) -> str:
    """The basis in the owner's words, e.g. "Customer (job, payment or delivery) on 2026-03-02"."""
    if contact.consent_basis == ConsentBasis.NONE:
        return "No consent on record"
    when = timezone.localtime(contact.consent_at).date()
    return f"{contact.get_consent_basis_display()} on {when:%Y-%m-%d}"


CONSENT_FIELDS = ("consent_basis", "consent_at", "consent_source", "consent_wording")


def validate_consent(values: dict, *, now: dt.datetime) -> dict:
    """The consent fields made whole, or a ValidationError naming the field at fault."""
    basis = values.get("consent_basis") or ConsentBasis.NONE
    if basis not in ConsentBasis.values:
        raise ValidationError({"consent_basis": f"Choose one of {', '.join(ConsentBasis.values)}."})
    at, source, wording = (
        values.get("consent_at"),
        values.get("consent_source") or "",
        values.get("consent_wording") or "",
    )
    if basis == ConsentBasis.NONE:
        return {"consent_basis": basis, "consent_at": None, "consent_source": source, "consent_wording": wording}
    errors = {}
    if at is None:
        errors["consent_at"] = "Say when: the date consent was given, or of the last job, payment or inquiry."
    elif at > now:
        errors["consent_at"] = "The date is in the future."
    if basis == ConsentBasis.EXPRESS_WRITTEN:
        if not source.strip():
            errors["consent_source"] = "Say where and how the written consent was given."
        if not wording.strip():
            errors["consent_wording"] = "Keep the words the person agreed to."
    if errors:
        raise ValidationError(errors)
    return {"consent_basis": basis, "consent_at": at, "consent_source": source, "consent_wording": wording}


def record_consent(
    contact: Contact, values: dict, *, via: str, by=None, now: dt.datetime | None = None
) -> ConsentChange | None:
    """Set the contact's basis from ``values`` (the consent fields given) and keep the change with
    who made it and how. Returns the change, or None when nothing changed."""
    now = now or timezone.now()
    # As stored: a form may already have set the new values on the instance.
    current = Contact.objects.filter(pk=contact.pk).values(*CONSENT_FIELDS).get()
    wanted = validate_consent({**current, **values}, now=now)
    if wanted == current:
        return None
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(**wanted, updated_at=now)
        for field, value in wanted.items():
            setattr(contact, field, value)
        change = ConsentChange.objects.create(contact=contact, **wanted, via=via, changed_by=by, changed_at=now)
        changed.send(sender=Contact, contact_ids=[contact.pk], now=now)
    return change
