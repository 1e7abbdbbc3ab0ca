"""What came of a conversation: an inspection booked or done, an estimate, a job won with its
amount, or the lead lost; and the campaign text it is owed to."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign, Variant
from contacts.models import Contact


class OutcomeQuerySet(models.QuerySet):
    def current(self) -> "OutcomeQuerySet":
        """What counts: outcomes no correction replaced, and not withdrawn."""
        return self.filter(replaced_by__isnull=True, withdrawn=False)


class Outcome(models.Model):
    """One thing that came of a conversation, attributed when recorded to the campaign and variant
    whose text the person last answered (``answered``: their reply), or to none.

    Nothing is edited in place: a correction is a new outcome that ``replaces`` the old one (a
    withdrawal is a correction with ``withdrawn``), so what was recorded, by whom and when stays."""

    class Kind(models.TextChoices):
        INSPECTION_BOOKED = "inspection_booked", "Inspection booked"
        INSPECTION_DONE = "inspection_done", "Inspection done"
        ESTIMATE_SENT = "estimate_sent", "Estimate sent"
        JOB_WON = "job_won", "Job won"
        LOST = "lost", "Lost"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    on = models.DateField(help_text="The day it happened")
    amount = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="A job won's amount, in dollars"
    )
    note = models.TextField(blank=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="outcomes", db_index=False
    )
    variant = models.CharField(max_length=1, choices=Variant.choices, blank=True)
    answered = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The reply the attribution rests on: the person's answer to the campaign's text",
    )
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    withdrawn = models.BooleanField(default=False, help_text="A correction saying it did not happen")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-recorded_at"]
        indexes = [
            models.Index(fields=["campaign", "kind"], name="outcome_campaign_kind"),
            # Today's month of results: the outcomes of this month's days.
            models.Index(fields=["on"], name="outcome_day"),
        ]
        constraints = [
            models.CheckConstraint(
                name="outcome_amount_only_for_a_job_won",
                condition=Q(kind="job_won", amount__isnull=False, amount__gt=0)
                | (~Q(kind="job_won") & Q(amount__isnull=True)),
                violation_error_message="A job won has an amount above zero; other outcomes have none.",
            ),
            models.CheckConstraint(
                name="outcome_variant_with_its_campaign",
                condition=Q(campaign__isnull=True, variant="") | (Q(campaign__isnull=False) & ~Q(variant="")),
                violation_error_message="An outcome attributed to a campaign names its variant.",
            ),
            models.CheckConstraint(
                name="outcome_attribution_rests_on_a_reply",
                condition=Q(campaign__isnull=True) | Q(answered__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.contact} on {self.on:%Y-%m-%d}"
