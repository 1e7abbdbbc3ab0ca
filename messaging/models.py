"""Messaging: every text in or out, and every webhook delivery OpenPhone made to us."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contacts.models import E164_REGEX, Contact
from messaging.backends.base import AccountRefusal
from messaging.intent import ReplyIntent


class MessageQuerySet(models.QuerySet):
    def written(self) -> "MessageQuerySet":
        """Without the campaign texts booked and not yet written (their words come when they go):
        no part of a conversation yet, and no text anyone has had."""
        return self.exclude(kind=Message.Kind.CAMPAIGN, body="")

    def waiting_for_a_person(self) -> "MessageQuerySet":
        """Texts people sent us that nobody has read, but for the STOP, START or HELP the system
        already answered: Today's replies waiting and the conversations marked new."""
        return self.filter(direction=Message.Direction.INBOUND, read_at__isnull=True, handled_automatically=False)

    def from_people(self) -> "MessageQuerySet":
        """Replies a person wrote to us: not STOP, START or HELP (the system answers those), nor an
        opt-out in other words, nor a phone answering by itself ("I'm driving…"), by their label
        (staff's correction when there is one)."""
        return self.filter(handled_automatically=False).exclude(intent__in=[ReplyIntent.OPT_OUT, ReplyIntent.AUTOMATIC])


class Message(models.Model):
    """One text, in or out: the outbox of every text we send (campaign, staff, automatic) and the
    one record of what became of it. An outbound text moves only along these arrows (the outbox,
    messaging/outbox.py, moves it; a delivery report moves it on from ``sent``)::

        queued ──(a worker takes it: compare-and-set)──▶ sending ──(OpenPhone took it)──▶ sent
        sending ──(refused for now: 429, 5xx, network; or the account is held)──▶ queued (retried)
        sending ──(refused for good, or out of attempts)──▶ failed
        sending ──(it may have gone, and OpenPhone cannot say)──▶ unknown (a person decides)
        sent ──(delivery report)──▶ delivered;  sent, delivered ──(the carrier refused it)──▶ failed
        queued ──(it may not go: opted out, campaign cancelled, a rule it fails now,
                  a slot it can no longer keep)──▶ cancelled ("Not sent: why"; it never went)

    A campaign text is made ``queued`` when booking decides it (``campaign_send`` holds the
    booking), due at its slot, and written when a worker first takes it: its body is empty until
    then, because the opt-out footer depends on whether it is the contact's first text as it goes.
    A campaign member follows its text through ``campaigns.sends.record_outcome``, in the same
    transaction. ``failed``, ``unknown`` and ``cancelled`` are final (a person may retry a failed
    campaign text: a new booking and a new text). An inbound text is ``received``.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign text"
        STAFF = "staff", "Staff text"
        AUTOMATIC = "automatic", "Automatic reply (re-subscribed)"
        # The texts an opted-out number may still get: the one confirmation, right after it opted
        # out; and the answer to each HELP or INFO, which carriers require whatever their state.
        OPT_OUT_CONFIRMATION = "optout", "Opt-out confirmation"
        HELP_REPLY = "help", "Answer to HELP"
        REPLY = "reply", "Reply from the contact"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"
        CANCELLED = "cancelled", "Cancelled (never sent)"
        RECEIVED = "received", "Received"

    # A campaign text on its way or gone: one per member of a campaign (the database says so),
    # beside any failed or cancelled ones staff asked to try again.
    LIVE_STATUSES = (Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNKNOWN)

    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField()
    segments = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The SMS segments an outbound text is billed as: set when its words are written",
    )
    from_number = models.CharField(max_length=16)
    to_number = models.CharField(max_length=16)
    # Messages are the conversation record: a contact with texts cannot be deleted.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="messages")
    status = models.CharField(max_length=12, choices=Status.choices)
    status_changed_at = models.DateTimeField()
    external_id = models.CharField(max_length=64, blank=True, help_text="OpenPhone message id (AC...)")
    error = models.TextField(blank=True)
    error_code = models.CharField(
        max_length=16, blank=True, help_text="OpenPhone's or the carrier's code for the error (e.g. 0206400)"
    )
    # A campaign text's campaign, kept when its booking is released; and the booking itself.
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="texts",
        db_index=False,  # message_campaign_texts below
    )
    campaign_send = models.OneToOneField(
        "campaigns.CampaignSend", null=True, blank=True, on_delete=models.SET_NULL, related_name="message"
    )
    # A reply is attributed to the campaign send it answers (within 72 hours).
    in_reply_to_send = models.ForeignKey(
        "campaigns.CampaignSend", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(help_text="When the text was written or received")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When OpenPhone reported it delivered")
    read_at = models.DateTimeField(null=True, blank=True, help_text="When staff read an inbound text")
    # What an inbound reply says (messaging/intent.py), or what staff corrected it to.
    intent = models.CharField(max_length=16, choices=ReplyIntent.choices, blank=True)
    # STOP, START and HELP are answered by the system: nobody needs to read them to act.
    handled_automatically = models.BooleanField(default=False)
    # The outbound state machine (above): attempts made, when the next is due, and the current one.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When the current attempt started")

    objects = MessageQuerySet.as_manager()

    # What writing a staff text made plain (messaging.plain_text.Normalised, set by
    # messaging.services.send_staff_text), for the page and the API to show. Never stored.
    made_plain = None

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="message_external_id_unique"
            ),
            models.CheckConstraint(condition=Q(from_number__regex=E164_REGEX), name="message_from_e164"),
            models.CheckConstraint(condition=Q(to_number__regex=E164_REGEX), name="message_to_e164"),
            models.CheckConstraint(
                condition=(Q(direction="inbound") & Q(kind="reply")) | (Q(direction="outbound") & ~Q(kind="reply")),
                name="message_kind_matches_direction",
            ),
            models.CheckConstraint(
                condition=Q(campaign_send__isnull=True) | Q(kind="campaign"),
                name="message_campaign_send_only_for_campaign_texts",
            ),
            models.CheckConstraint(
                condition=Q(campaign__isnull=True) | Q(kind="campaign"), name="message_campaign_only_for_campaign_texts"
            ),
            models.CheckConstraint(
                condition=Q(campaign_send__isnull=True) | Q(campaign__isnull=False),
                name="message_booked_text_names_its_campaign",
            ),
            # Only a campaign text not yet written (booked, or cancelled before it was) has no words.
            models.CheckConstraint(
                condition=~Q(body="") | Q(direction="inbound") | Q(kind="campaign", status__in=["queued", "cancelled"]),
                name="message_outbound_written_before_it_goes",
            ),
            models.UniqueConstraint(
                fields=["campaign", "contact"],
                condition=Q(status__in=["queued", "sending", "sent", "delivered", "unknown"]),
                name="message_one_live_campaign_text_per_member",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued", direction="outbound"),
                name="message_outbox_due",
            ),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="message_outbox_sending"),
            models.Index(fields=["contact", "-created_at"], name="message_contact_time"),
            # The webhooks' silence, read at every dispatch: the first text sent after a moment; and
            # Today's spend this month, read from the index alone (it carries the kind and segments).
            models.Index(
                fields=["sent_at"],
                include=["kind", "segments"],
                condition=Q(direction="outbound"),
                name="message_outbound_sent",
            ),
            # The dashboard's questions: replies nobody has read; texts that failed lately.
            models.Index(
                fields=["-created_at"],
                condition=Q(direction="inbound", read_at__isnull=True),
                name="message_unread_replies",
            ),
            models.Index(
                fields=["-status_changed_at"], condition=Q(status__in=["failed", "unknown"]), name="message_failures"
            ),
            models.Index(fields=["-created_at"], name="message_time"),
            # A campaign's texts, with what its results add up (what went, what it cost) and its
            # progress counts (what went, was delivered, failed) read from the index alone: a
            # 100,000-text campaign's results in one pass over it.
            models.Index(
                fields=["campaign"],
                include=["campaign_send", "status", "segments", "delivered_at"],
                condition=Q(campaign__isnull=False),
                name="message_campaign_texts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.arrow} {self.contact_id}: {self.body[:40]}"

    @property
    def is_inbound(self) -> bool:
        return self.direction == self.Direction.INBOUND

    @property
    def written_after_opt_out(self) -> bool:
        """A text the contact wrote after they had opted out. It does not opt them back in: only
        START or UNSTOP does (``services.handle_keywords``), or staff at their request."""
        opted_out_at = self.contact.opted_out_at
        return self.is_inbound and opted_out_at is not None and self.created_at > opted_out_at

    @property
    def arrow(self) -> str:
        """← for a text the contact sent us, → for one we sent them."""
        return "←" if self.is_inbound else "→"


class WebhookEvent(models.Model):
    """One event OpenPhone delivered to us, stored raw before anything is done with it.

    The row is the record and the broker only a nudge (``messaging.webhook_processing``)::

        pending ──(a worker applies it, once)──────────────────────▶ processed
          │  ▲
          │  └─(a failure that may pass: tried again at next_attempt_at)
          └──(nothing can be done with it, or out of attempts)─────▶ failed ──(a person: process again)──▶ pending

    A pending event is handed to a worker when it is stored, and again by beat's hand-over
    whenever it is due and was not taken within WEBHOOK_HANDOVER_SECONDS (a lost task, a killed
    worker, a broker that was down or wiped).
    """

    class SignatureScheme(models.TextChoices):
        LEGACY = "legacy", "openphone-signature (legacy)"
        STANDARD = "standard", "Standard Webhooks"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    # The event's own id when it has a short one; a longer one is kept whole in the body and
    # keyed by its digest ("sha256:..."), so two long ids never collide by truncation.
    event_id = models.CharField(max_length=80, unique=True)
    # Standard Webhooks' ``webhook-id``: one per delivery, the same on OpenPhone's retries.
    delivery_id = models.CharField(max_length=80, blank=True)
    event_type = models.CharField(max_length=64)
    signature_scheme = models.CharField(max_length=8, choices=SignatureScheme.choices)
    raw_body = models.BinaryField(help_text="The request body, byte for byte as received")
    # What could be read from the body, made storable (NaN, NUL, lone surrogates replaced), and
    # what processing reads; None when the body could not be read at all.
    payload = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # When a pending event is next due for a worker (now, or later after a failure that may pass).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery_id"], condition=~Q(delivery_id=""), name="webhook_delivery_id_unique"
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(next_attempt_at__isnull=False) & Q(processed_at__isnull=True))
                | (Q(status="processed") & Q(next_attempt_at__isnull=True) & Q(processed_at__isnull=False))
                | (Q(status="failed") & Q(next_attempt_at__isnull=True) & Q(processed_at__isnull=True)),
                name="webhook_event_status_consistent",
            ),
        ]
        indexes = [
            # The hand-over's question, and /healthz's: pending events by when they are due.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_pending_due"),
            models.Index(fields=["-received_at"], condition=Q(status="failed"), name="webhook_failed"),
            # The last event of any kind (the webhooks' silence), read at every dispatch.
            models.Index(fields=["received_at"], name="webhook_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    @property
    def body(self) -> str:
        """The raw body as text, for reading in the admin (undecodable bytes shown as U+FFFD)."""
        return bytes(self.raw_body).decode("utf-8", errors="replace")


class OutboxHold(models.Model):
    """A text was refused for a reason that would refuse every text: nothing more is sent until a
    person fixes what its ``cause`` names (set our API key, replace the key OpenPhone refuses, or
    the account in OpenPhone: A2P registration, credits) and resumes."""

    cause = models.CharField(max_length=12, choices=AccountRefusal.choices)
    code = models.CharField(max_length=16, blank=True, help_text="OpenPhone's error code")
    reason = models.TextField()
    started_at = models.DateTimeField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The text that met it"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One hold at a time: every worker that meets the refusal joins the open one.
            models.UniqueConstraint(
                models.Value(True), condition=Q(released_at__isnull=True), name="outbox_hold_one_open"
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(released_at__gte=models.F("started_at")),
                name="outbox_hold_released_after_start",
            ),
            models.CheckConstraint(condition=Q(cause__in=AccountRefusal.values), name="outbox_hold_cause_known"),
        ]

    def __str__(self) -> str:
        state = "open" if self.released_at is None else f"released {self.released_at:%Y-%m-%d %H:%M}"
        return f"Sending held since {self.started_at:%Y-%m-%d %H:%M} ({self.get_cause_display()}, {state})"


class WorkerHeartbeat(models.Model):
    """When the Celery worker last ran the dispatcher's tick: the dashboard warns when it is stale."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"


class CatchUp(models.Model):
    """One catch-up from OpenPhone's own message history: what the webhooks should have told us
    (replies, STOPs, delivery reports), found and applied the way a webhook would have been."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=20, help_text="hourly, morning, overdue, staff or command")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # OpenPhone was asked for the texts created in [covers_from, started_at).
    covers_from = models.DateTimeField()
    conversations = models.PositiveIntegerField(default=0, help_text="(sending number, contact) pairs asked about")
    requests = models.PositiveIntegerField(default=0, help_text="Requests made to OpenPhone")
    replies_found = models.PositiveIntegerField(default=0, help_text="Inbound texts the webhooks had missed")
    reports_found = models.PositiveIntegerField(default=0, help_text="Delivery reports the webhooks had missed")
    # Each missed opt-out: who, when they wrote, what was cancelled, and what reached them after.
    missed_opt_outs = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["running", "succeeded", "failed"]), name="catch_up_status"),
            models.CheckConstraint(condition=Q(covers_from__lte=models.F("started_at")), name="catch_up_covers_past"),
            # One catch-up at a time: a second trigger finds it running and leaves it be.
            models.UniqueConstraint(models.Value(True), condition=Q(status="running"), name="catch_up_one_running"),
        ]

    def __str__(self) -> str:
        return f"Catch-up {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ConsentReview(models.Model):
    """An inbound text that may be a revocation of consent but is not clearly one ("can you stop by
    Tuesday?", "don't stop, I'm interested"): a person decides, and until then no campaign texts
    the contact (the rules table's ``consent_clear``)."""

    class Decision(models.TextChoices):
        OPT_OUT = "opt_out", "An opt-out: opted out"
        NOT_OPT_OUT = "not_opt_out", "Not an opt-out"

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="consent_review")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consent_reviews")
    created_at = models.DateTimeField()
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(decision="") & Q(decided_at__isnull=True))
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                name="consent_review_decided_has_time",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["", "opt_out", "not_opt_out"]), name="consent_review_decision_valid"
            ),
        ]
        indexes = [models.Index(fields=["contact"], condition=Q(decision=""), name="consent_review_open")]

    def __str__(self) -> str:
        return f"Possible opt-out from {self.contact_id}: {self.get_decision_display() or 'waiting'}"


class IntentCorrection(models.Model):
    """Staff corrected what a reply says: the audit of every change of label."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="intent_corrections")
    from_intent = models.CharField(max_length=16, choices=ReplyIntent.choices, blank=True)
    to_intent = models.CharField(max_length=16, choices=ReplyIntent.choices)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    corrected_at = models.DateTimeField()

    class Meta:
        ordering = ["-corrected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.from_intent or '-'} → {self.to_intent}"
