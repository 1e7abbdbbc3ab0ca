"""Who may do what: the owner and staff roles, as Django groups of permissions.

Staff work conversations and contacts and run campaigns. The owner may do everything, and is
the only one who may export every contact, manage users and API tokens, delete or archive
campaigns, change a campaign's sending number or daily limit, and load Do-Not-Call lists. The
API, the pages and the admin all ask ``user.has_perm`` about the same permissions, so a refusal
is the same everywhere.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction

OWNER = "owner"
STAFF = "staff"
ROLES = (OWNER, STAFF)
GROUP_NAMES = {OWNER: "Owner", STAFF: "Staff"}

# Each owner-only permission, with what it lets the owner do (the refusal names it).
OWNER_ONLY = {
    "contacts.export_contact": "export every contact",
    "campaigns.delete_campaign": "delete campaigns",
    "campaigns.archive_campaign": "archive campaigns",
    "campaigns.change_campaign_sending": "change a campaign's sending number or daily limit",
    "authtoken.add_token": "hand out API tokens",
    "contacts.add_donotcallload": "load Do-Not-Call lists",
}
# Staff hold these apps' permissions, less the owner's above; every other app's (users, groups,
# API tokens, sign-in lockouts) is the owner's alone.
STAFF_APPS = ("contacts", "campaigns", "messaging")

# Campaign fields that decide what leaves the business's number each day.
SENDING_FIELDS = ("from_number", "daily_limit")


def require(user: AbstractBaseUser, permission: str) -> None:
    """Refuse (PermissionDenied, 403 everywhere) unless the user holds the permission."""
    if not user.has_perm(permission):
        raise PermissionDenied(f"Only the owner can {OWNER_ONLY[permission]}.")


def require_sending_unchanged(user: AbstractBaseUser, *, current: Any, changes: dict[str, Any]) -> None:
    """Refuse a change to a campaign's sending number or daily limit by someone not allowed it.

    ``current`` is the campaign as stored, or a new unsaved one with the defaults: setting a field
    to the value it already has changes nothing and needs no right."""
    if any(name in changes and changes[name] != getattr(current, name) for name in SENDING_FIELDS):
        require(user, "campaigns.change_campaign_sending")


def permissions_of(role: str):
    everything = Permission.objects.all()
    if role == OWNER:
        return everything
    owner_only = [name.split(".", 1) for name in OWNER_ONLY]
    staff = everything.filter(content_type__app_label__in=STAFF_APPS)
    for app_label, codename in owner_only:
        staff = staff.exclude(content_type__app_label=app_label, codename=codename)
    return staff


@transaction.atomic
def sync_groups(**kwargs: Any) -> None:
    """Make each role's group hold exactly its permissions (run after every migrate)."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.set(permissions_of(role))


@transaction.atomic
def assign_role(user: AbstractBaseUser, role: str | None) -> None:
    """Give the user one role (staff sign-in and that role's group), or none (no staff sign-in)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"The role must be one of {', '.join(ROLES)}, not {role!r}")
    groups = {group.name: group for group in Group.objects.filter(name__in=GROUP_NAMES.values())}
    if len(groups) < len(ROLES):  # every migrate syncs them; a database emptied since has none
        sync_groups()
        groups = {group.name: group for group in Group.objects.filter(name__in=GROUP_NAMES.values())}
    user.groups.remove(*groups.values())
    if role is not None:
        user.groups.add(groups[GROUP_NAMES[role]])
    user.is_staff = role is not None
    user.save(update_fields=["is_staff"])
