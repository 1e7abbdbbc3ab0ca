"""Campaigns: A/B-tested outreach, who is in each one, and every text it will send."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from campaigns.errors import NoSendingNumber
from campaigns.texts import check_fits_one_text, validate_template
from contacts.models import E164_REGEX, Contact
from contacts.not_texted import NotTexted, Reason
from messaging.limits import MAX_TEXTS_PER_NUMBER_PER_DAY

MAX_DAILY_LIMIT = MAX_TEXTS_PER_NUMBER_PER_DAY
DAILY_LIMIT_TOO_HIGH = (
    f"A registered number can send about {MAX_DAILY_LIMIT:,} texts a day: the limit cannot be above {MAX_DAILY_LIMIT}."
)


def validate_sending_number(value: str) -> None:
    """The sending number is written in E.164. OpenPhone would also take its id (PN...), but the
    daily limit, the pacing and every record count texts per number: one number under two names
    would get two limits."""
    if value.startswith("PN"):
        raise ValidationError(
            "Write the sending number itself in E.164 (e.g. +16175550100), not its OpenPhone id '%(value)s': "
            "the daily limit is counted per number.",
            code="phone_number_id",
            params={"value": value},
        )
    if not re.fullmatch(E164_REGEX, value):
        raise ValidationError(
            "%(value)s is not a phone number in E.164 form (e.g. +16175550100).",
            code="not_e164",
            params={"value": value},
        )


class Variant(models.TextChoices):
    A = "A", "Variant A"
    B = "B", "Variant B"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Campaign(models.Model):
    Status = CampaignStatus

    # draft → scheduled → active ⇄ paused → completed, or cancelled from any open state. (A
    # completed campaign is reopened only by staff trying a member's failed text again.)
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.DRAFT: frozenset({Status.SCHEDULED, Status.CANCELLED}),
        Status.SCHEDULED: frozenset({Status.DRAFT, Status.ACTIVE, Status.CANCELLED}),
        Status.ACTIVE: frozenset({Status.PAUSED, Status.COMPLETED, Status.CANCELLED}),
        Status.PAUSED: frozenset({Status.ACTIVE, Status.COMPLETED, Status.CANCELLED}),
        Status.COMPLETED: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    CLOSED_STATUSES = frozenset(status for status, allowed in TRANSITIONS.items() if not allowed)
    # What staff set (the form, the API's serializers, the admin, the services); the rest the
    # lifecycle and the runs set. In the order the form shows them.
    EDITABLE_FIELDS = (
        "name",
        "template_a",
        "template_b",
        "daily_limit",
        "split_percent_a",
        "include_opt_out_footer",
        "frequency_cap_days",
        "prior_contact_policy",
        "purpose",
        "from_number",
        "starts_at",
    )

    class PriorContactPolicy(models.TextChoices):
        SKIP = "skip", "Skip contacts who texted us before"
        FLAG = "flag", "Flag them for review"

    class Purpose(models.TextChoices):
        MARKETING = "marketing", "Marketing (offers to homeowners)"
        INFORMATIONAL = "informational", "Informational (customers, about their own jobs)"

    name = models.CharField(max_length=200)
    template_a = models.TextField(validators=[validate_template])
    template_b = models.TextField(
        blank=True, validators=[validate_template], help_text="Leave blank to send variant A to everyone"
    )
    daily_limit = models.PositiveIntegerField(
        default=125,
        validators=[
            MinValueValidator(1),
            MaxValueValidator(MAX_DAILY_LIMIT, DAILY_LIMIT_TOO_HIGH),
        ],
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    split_percent_a = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Share of the audience that gets variant A, in percent",
    )
    winner = models.CharField(max_length=1, choices=Variant.choices, blank=True)
    winner_declared_at = models.DateTimeField(null=True, blank=True)
    include_opt_out_footer = models.BooleanField(
        default=True, help_text="Append 'Reply STOP to unsubscribe' to a contact's first text"
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        default=30, help_text="Skip contacts texted by any campaign within this many days"
    )
    prior_contact_policy = models.CharField(
        max_length=4, choices=PriorContactPolicy.choices, default=PriorContactPolicy.SKIP
    )
    purpose = models.CharField(
        max_length=13,
        choices=Purpose.choices,
        default=Purpose.MARKETING,
        help_text="Informational texts go only to customers; marketing texts need a lawful basis on a Do-Not-Call list",
    )
    from_number = models.CharField(
        max_length=16,
        blank=True,
        validators=[validate_sending_number],
        help_text="Sending number (E.164); blank uses OPENPHONE_FROM_NUMBER",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    # A finished campaign is archived, never deleted once it has texted anyone: hidden from the
    # lists, kept in the record the caps and the compliance log read.
    archived_at = models.DateTimeField(null=True, blank=True)
    # Why the system paused it (carriers filtering its texts), shown on Today until staff resume it.
    pause_reason = models.TextField(blank=True)
    # The last run that failed unexpectedly (shown on Today until a run succeeds).
    last_run_failed_at = models.DateTimeField(null=True, blank=True)
    last_run_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Owners' rights (attackacrack/roles.py), beside Django's own delete_campaign.
        permissions = [
            ("archive_campaign", "Can archive campaigns"),
            ("change_campaign_sending", "Can change a campaign's sending number and daily limit"),
        ]
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_limit__gte=1, daily_limit__lte=MAX_DAILY_LIMIT),
                name="campaign_daily_limit_range",
            ),
            models.CheckConstraint(condition=Q(split_percent_a__lte=100), name="campaign_split_percent"),
            models.CheckConstraint(condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"),
            models.CheckConstraint(
                condition=Q(purpose__in=["marketing", "informational"]), name="campaign_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(winner="", winner_declared_at__isnull=True)
                | (Q(winner__in=["A", "B"]) & Q(winner_declared_at__isnull=False)),
                name="campaign_winner_has_time",
            ),
            models.CheckConstraint(
                condition=Q(from_number="") | Q(from_number__regex=E164_REGEX),
                name="campaign_from_number_e164",
            ),
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True) | Q(status__in=["completed", "cancelled"]),
                name="campaign_archived_only_when_finished",
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for field in ("template_a", "template_b"):
            try:
                check_fits_one_text(getattr(self, field), with_footer=self.include_opt_out_footer)
            except ValidationError as error:
                if error.code == "too_long":  # a template that does not parse is the field's own error
                    errors[field] = error
        if errors:
            raise ValidationError(errors)

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    def template_for(self, variant: str) -> str:
        """The text a member of this variant gets: B's, or A's when there is no B."""
        return self.template_b if variant == Variant.B and self.template_b else self.template_a

    def variant_for(self, assigned: str) -> str:
        """The variant a member gets when booked: the declared winner's, else the one assigned to them.
        A booking keeps the variant it was made with: its text and its count in the results are that one's."""
        return self.winner or assigned

    @property
    def sending_number(self) -> str:
        """The number its texts go from: its own, else the business's (OPENPHONE_FROM_NUMBER)."""
        number = self.from_number or settings.OPENPHONE_FROM_NUMBER
        if not number:
            raise NoSendingNumber(
                "The campaign has no sending number: set its from_number or the OPENPHONE_FROM_NUMBER setting."
            )
        return number

    @property
    def is_closed(self) -> bool:
        """Completed or cancelled: it goes nowhere (no transitions), takes no members, sends nothing."""
        return self.status in self.CLOSED_STATUSES


class CampaignContact(models.Model):
    """A contact in a campaign's audience: its variant, its place in the queue, and what booking
    decided of it::

        pending ──(booked at the head of the queue)──▶ scheduled ──(its text went)──▶ sent
          │  ▲                                            │  └──(failed, cancelled)──▶ ineligible
          │  └──────────(its slot went by: released)──────┘                                │
          │  ▲                                                                             │
          │  └──(a person approves, a resubscribe, a possible opt-out that was none; ──────┤
          │      a failed text staff try again)                                            │
          └──(a lasting refusal: opted out, not textable, texted us)──▶ ineligible / flagged┘

    Booking writes these (``campaigns.booking``, ``campaigns.audience``); what becomes of a booked
    text reaches them only through ``campaigns.sends.record_outcome``.

    A pending member may be passed over until ``not_before`` (a cap, a closed window): it keeps
    its place, and the run judges it again from then. Whatever holds a member (kept out, flagged,
    passed over) says why in the one vocabulary (``held_because``, contacts/not_texted.py), with
    the detail of its case (``ineligible_reason``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SCHEDULED = "scheduled", "Send booked"
        SENT = "sent", "Sent"
        INELIGIBLE = "ineligible", "Kept out"
        FLAGGED = "flagged", "Flagged for review"

    class AddedVia(models.TextChoices):
        UPLOAD = "upload", "CSV upload"
        IDS = "ids", "Contact ids"
        FILTER = "filter", "Filter"
        ADMIN = "admin", "Admin"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="campaign_memberships")
    variant = models.CharField(max_length=1, choices=Variant.choices)
    # Where the member stands in the campaign's queue, set when it joins: the k-th member of a
    # variant whose share of the audience is s stands at (k - ½) / s, so any stretch of the queue
    # is balanced between A and B in proportion to the split. Ties go by id.
    queue_position = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Why the member is not texted: for good (ineligible), until a person decides (flagged), or
    # until ``not_before`` (pending): the reason, and the detail of its case (which list, which
    # campaign, the provider's words). A database default too: audiences are added in SQL.
    held_because = models.CharField(max_length=32, choices=Reason.choices, blank=True, default="", db_default="")
    ineligible_reason = models.CharField(max_length=255, blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="Passed over until then (a cap, a window)")
    # Staff reviewed a flagged member (they had texted us before) and allowed the campaign text.
    review_approved = models.BooleanField(default=False)
    # Staff chose to try this member's failed text again: sends made before it are history.
    retry_requested_at = models.DateTimeField(null=True, blank=True)
    added_via = models.CharField(max_length=10, choices=AddedVia.choices, default=AddedVia.IDS)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaign_contact_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "scheduled", "sent", "ineligible", "flagged"]),
                name="campaign_contact_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="ineligible") | (~Q(ineligible_reason="") & ~Q(held_because="")),
                name="campaign_contact_ineligible_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="flagged") | ~Q(held_because=""), name="campaign_contact_flagged_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(held_because__in=["", *Reason.values]), name="campaign_contact_held_because_valid"
            ),
            models.CheckConstraint(
                condition=Q(held_because="", ineligible_reason="") | (~Q(held_because="") & ~Q(ineligible_reason="")),
                name="campaign_contact_reason_has_its_detail",
            ),
            models.CheckConstraint(
                condition=Q(not_before__isnull=True) | Q(status="pending"),
                name="campaign_contact_passed_over_while_pending",
            ),
        ]
        indexes = [
            # How many members stand at each status; is anyone left to text?
            models.Index(fields=["campaign", "status"], name="campaign_member_status"),
            # The run's question: who stands next in the queue?
            models.Index(
                fields=["campaign", "queue_position", "id"],
                condition=Q(status="pending"),
                name="campaign_member_queue",
            ),
            # How many members each reason holds; who they are.
            models.Index(
                fields=["campaign", "held_because", "id"], condition=~Q(held_because=""), name="campaign_member_held"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} in {self.campaign} ({self.variant})"

    @property
    def not_texted(self) -> NotTexted | None:
        """Why the campaign does not text this member now, or None."""
        return NotTexted(Reason(self.held_because), self.ineligible_reason) if self.held_because else None


class CampaignSend(models.Model):
    """What booking decided for one campaign text: to whom, which variant, from which number, on
    which business day and at which slot (with its ComplianceRecord). The text itself, and all
    that becomes of it, is its ``message`` (messaging.models.Message, made with the booking): one
    row per text, one state machine. A booking whose slot went by unsent is released (deleted)
    and the member booked afresh; its compliance record stays."""

    # A booking is the record of a text (the caps and the compliance log count it): a campaign
    # that has one cannot be deleted, only cancelled and archived.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sends")
    # A booking is a record of whom we texted: the contact cannot vanish from under it.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="campaign_sends")
    variant = models.CharField(max_length=1, choices=Variant.choices)
    from_number = models.CharField(max_length=16, help_text="The number it is sent from (E.164)")
    # The local business day whose daily limit this text counts against.
    business_date = models.DateField()
    scheduled_for = models.DateTimeField(help_text="Its slot: it goes then, or within the missed-slot grace")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_for", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(from_number__regex=E164_REGEX), name="campaign_send_from_e164"),
        ]
        indexes = [
            # The daily limit's question: how many texts has this number booked today?
            models.Index(fields=["from_number", "business_date"], name="campaign_send_daily_usage"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.contact} at {self.scheduled_for:%Y-%m-%d %H:%M}"


class Holiday(models.Model):
    """A day the shop sends no campaign texts, whatever the weekday."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class ComplianceRecord(models.Model):
    """Why a person was texted when they were: the rules a send passed when it was booked and
    again just before it went out, kept so the owner can answer for it months later.

    A record outlives its send: a booking released to be made again (a missed slot, a retry that
    could no longer go in time) leaves its record, with what became of it, naming the campaign
    and the contact; the rebooking gets a record of its own."""

    send = models.OneToOneField(
        CampaignSend, null=True, blank=True, on_delete=models.SET_NULL, related_name="compliance"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="compliance_records")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="compliance_records")
    recipient_zones = models.CharField(max_length=128, blank=True, help_text="Blank: unknown (strictest window)")
    zone_source = models.CharField(max_length=10)
    recipient_state = models.CharField(max_length=2, blank=True, help_text="Blank: unknown (strictest rules)")
    recipient_hours = models.CharField(max_length=11, help_text="Local hours the state allows, e.g. 08:00-20:00")
    allowed_from = models.DateTimeField(help_text="Business window ∩ recipient window, on the booked day")
    allowed_until = models.DateTimeField()
    booked_at = models.DateTimeField()
    slot = models.DateTimeField()
    booking_checks = models.JSONField(help_text="Each rule checked at booking, true when passed")
    consent_basis = models.CharField(max_length=16, blank=True, help_text="The lawful basis the text relied on")
    lists_checked = models.JSONField(
        default=list, blank=True, help_text="The Do-Not-Call lists checked: list, area code, copy's date, listed"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_checks = models.JSONField(default=dict, blank=True, help_text="Each rule checked just before sending")
    dispatch_outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-slot", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot__gte=F("allowed_from"), slot__lt=F("allowed_until")),
                name="compliance_slot_inside_allowed_window",
            ),
        ]
        indexes = [models.Index(fields=["slot"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.contact_id} at {self.slot:%Y-%m-%d %H:%M}"
