"""Who is in a campaign's audience, and what booking decided for each of its texts."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign, Variant
from contacts.models import E164_REGEX, Contact
from contacts.not_texted import NotTexted, Reason


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

    A pending member may be passed over until ``not_before`` (a cap, a closed window, the day staff
    chose to text them again): it keeps its place, and the run judges it again from then. A
    follow-up step's members join it by themselves (`campaigns.follow_ups`) or by staff's chosen
    day (`campaigns.text_again`), and what they write after ``quiet_since`` keeps them out.
    Whatever holds a member (kept out, flagged, passed over) says why in the one vocabulary
    (``held_because``, contacts/not_texted.py), with the detail of its case (``ineligible_reason``)."""

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
        # A follow-up's members: its campaign's, when their follow-up is due; or staff's choice.
        FOLLOW_UP = "follow_up", "No reply to the first text"
        TEXT_AGAIN = "text_again", "Staff chose a day to text again"

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
    # A follow-up's member: anything they write after this (a phone answering by itself aside)
    # stops the follow-up (the rules' ``no_reply_yet``): when their first text went, or when staff
    # chose to text them again.
    quiet_since = models.DateTimeField(null=True, blank=True)
    # Staff chose to text them again on this day, answering their reply, and so approved the text
    # (they had texted us): who, and which reply.
    text_again_on = models.DateField(null=True, blank=True)
    text_again_reply = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text_again_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
            models.CheckConstraint(
                condition=Q(text_again_on__isnull=True) | Q(quiet_since__isnull=False),
                name="campaign_contact_text_again_has_its_moment",
            ),
        ]
        indexes = [
            # A campaign's members in the order they joined, read id by id without its table (an
            # index-only read: campaigns.selectors.first_members); by the primary key alone
            # PostgreSQL would walk past other campaigns' members.
            models.Index(fields=["campaign", "id"], name="campaign_member_order"),
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
            # Who staff chose to text again, by the day.
            models.Index(
                fields=["text_again_on", "id"],
                condition=Q(text_again_on__isnull=False),
                name="campaign_member_text_again",
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
            # A campaign's texts in the order they went, day by day: the A/B test's first texts of each
            # variant and the days they went, read without a look at the rest; and a follow-up's
            # question, whose first text went on the days now due.
            models.Index(fields=["campaign", "business_date", "scheduled_for", "id"], name="campaign_send_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.contact} at {self.scheduled_for:%Y-%m-%d %H:%M}"
