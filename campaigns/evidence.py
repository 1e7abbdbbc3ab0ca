"""One person's compliance history, for the owner's lawyer: the consent on record and every change
to it, what the Do-Not-Call lists say of their number and which copies were loaded, every campaign
text with the basis it relied on and the checks it passed, and their opt-outs.

It reads contacts and messaging; the API (``campaigns.evidence_api``) and the contact page's
download give the same document. Lists run oldest first, as a history reads.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist

from campaigns.models import ComplianceRecord
from contacts import dnc, lawful_basis
from contacts.models import ConsentChange, Contact, DoNotCallLoad


def compliance_history(contact: Contact) -> dict[str, Any]:
    """The whole record of what the business relied on to text ``contact``, and what it did."""
    return {
        "contact": {"id": contact.pk, "phone": contact.phone, "name": contact.full_name},
        "consent": {
            "basis": contact.consent_basis,
            "at": contact.consent_at,
            "source": contact.consent_source,
            "wording": contact.consent_wording,
            "description": lawful_basis.describe(contact),
        },
        "consent_changes": [
            {
                "basis": change.consent_basis,
                "at": change.consent_at,
                "source": change.consent_source,
                "wording": change.consent_wording,
                "via": change.via,
                "changed_by": _username(change.changed_by),
                "changed_at": change.changed_at,
            }
            for change in ConsentChange.objects.filter(contact=contact)
            .select_related("changed_by")
            .order_by("changed_at", "id")
        ],
        "do_not_call": {
            "listings": [listing.as_record() for listing in dnc.listings([contact.phone])[contact.phone]],
            "loads": [
                {
                    "list": load.list,
                    "kind": load.kind,
                    "as_of": load.as_of,
                    "loaded_at": load.loaded_at,
                    "file_name": load.file_name,
                }
                for load in _loads_covering(contact.phone)
            ],
        },
        "texts": [_text(record) for record in _records_of(contact)],
        "opted_out_at": contact.opted_out_at,
        "opt_out_events": [
            {"kind": event.kind, "reason": event.reason, "created_at": event.created_at}
            for event in contact.opt_out_events.order_by("created_at", "id")
        ],
    }


def _username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user is not None else None


def _loads_covering(phone: str):
    """The loads of any list whose file covered the number's area code (``area_codes`` is the
    comma-separated list of the codes a file brought up to its date)."""
    if not phone.startswith("+1"):
        return DoNotCallLoad.objects.none()
    area_code = phone[2:5]
    return DoNotCallLoad.objects.filter(area_codes__regex=rf"(^|,){area_code}(,|$)").order_by("loaded_at", "id")


def _records_of(contact: Contact):
    return (
        ComplianceRecord.objects.filter(contact=contact)
        .select_related("campaign", "send__message")
        .order_by("booked_at", "id")
    )


def _text(record: ComplianceRecord) -> dict[str, Any]:
    # A booking released to be made again is deleted with its text's link: its record stays alone.
    try:
        message = record.send.message if record.send is not None else None
    except ObjectDoesNotExist:
        message = None
    return {
        "campaign": {"id": record.campaign_id, "name": record.campaign.name},
        "purpose": record.campaign.purpose,
        "slot": record.slot,
        "booked_at": record.booked_at,
        "dispatched_at": record.dispatched_at,
        "dispatch_outcome": record.dispatch_outcome,
        "consent_basis": record.consent_basis,
        "lists_checked": record.lists_checked,
        "booking_checks": record.booking_checks,
        "dispatch_checks": record.dispatch_checks,
        "status": message.status if message is not None else None,
        "sent_at": message.sent_at if message is not None else None,
    }
