"""A campaign: its texts, its split, its limits and its lifecycle; and the days the shop sends nothing."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from campaigns.errors import NoSendingNumber
from campaigns.texts import check_fits_one_text, validate_template
from contacts.models import E164_REGEX
from messaging.limits import MAX_TEXTS_PER_NUMBER_PER_DAY

MAX_DAILY_LIMIT = MAX_TEXTS_PER_NUMBER_PER_DAY
# A follow-up waits at most this many business days (three months) after the first text.
MAX_FOLLOW_UP_DAYS = 65
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
    # The clock's order (booking's runs, the forecasts): follow-ups first, then first texts, each
    # oldest campaign first. A follow-up is due on its day; first texts take what it leaves.
    CLOCK_ORDER = (models.F("follow_up_of").asc(nulls_last=True), "pk")
    # What staff set (the form, the API's serializers, the admin, the services); the rest the
    # lifecycle and the runs set. In the order the form shows them.
    EDITABLE_FIELDS = (
        "name",
        "template_a",
        "template_b",
        "daily_limit",
        "split_percent_a",
        "judged_on",
        "include_opt_out_footer",
        "frequency_cap_days",
        "prior_contact_policy",
        "purpose",
        "from_number",
        "starts_at",
    )
    # What a follow-up step takes from its campaign, kept equal by the services: it texts from the
    # same number under the same rules, starts when it does, and is named after it.
    FOLLOW_UP_MIRRORS = (
        "daily_limit",
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

    class JudgedOn(models.TextChoices):
        INTERESTED_REPLIES = "interested_replies", "Interested replies"
        BOOKED_INSPECTIONS = "booked_inspections", "Booked inspections"

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
    # What the A/B verdict compares, per text sent (campaigns/results.py): fixed once the campaign
    # has started, because changing the question after looking at the answers is how a test lies.
    judged_on = models.CharField(
        max_length=18,
        choices=JudgedOn.choices,
        default=JudgedOn.INTERESTED_REPLIES,
        help_text="What the A/B verdict compares per text sent: set before the campaign starts",
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
    # What the save that returned this instance made plain in its templates (campaigns.costs.PlainTemplate,
    # set by campaigns.services), for the page, the API and the admin to show. Never stored.
    made_plain: tuple = ()
    # A follow-up step is a campaign of its own (its texts, its split, its results), texting again
    # the members of the campaign it follows: those whose first text went ``follow_up_after_days``
    # business days ago and who have not written since (the rules' ``no_reply_yet``), and those
    # staff chose to text again on a date. Without days, only the latter. ``followed_up_through``
    # is the last of its campaign's days whose members have joined (`campaigns.follow_ups`).
    follow_up_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up", editable=False
    )
    follow_up_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FOLLOW_UP_DAYS)],
        help_text="Business days after the first text; blank: only the people staff choose to text again",
    )
    followed_up_through = models.DateField(null=True, blank=True, editable=False)
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
                condition=Q(judged_on__in=["interested_replies", "booked_inspections"]), name="campaign_judged_on_valid"
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
            models.CheckConstraint(
                condition=Q(follow_up_of__isnull=False)
                | Q(follow_up_after_days__isnull=True, followed_up_through__isnull=True),
                name="campaign_follow_up_days_only_on_a_follow_up",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_after_days__isnull=True)
                | Q(follow_up_after_days__gte=1, follow_up_after_days__lte=MAX_FOLLOW_UP_DAYS),
                name="campaign_follow_up_days_range",
            ),
            models.CheckConstraint(condition=~Q(follow_up_of=models.F("pk")), name="campaign_not_its_own_follow_up"),
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
    def is_launched(self) -> bool:
        """It has started (or ended): past draft and scheduled. What it is judged on is fixed from then."""
        return self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

    @property
    def is_follow_up(self) -> bool:
        return self.follow_up_of_id is not None

    @property
    def step_ids(self) -> tuple[int, ...]:
        """This campaign and, for a follow-up, the campaign whose text it follows: one conversation,
        whose texts the frequency cap does not hold against each other."""
        return (self.pk, self.follow_up_of_id) if self.follow_up_of_id else (self.pk,)

    @property
    def is_closed(self) -> bool:
        """Completed or cancelled: it goes nowhere (no transitions), takes no members, sends nothing."""
        return self.status in self.CLOSED_STATUSES


class Holiday(models.Model):
    """A day the shop sends no campaign texts, whatever the weekday."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
