"""One row per text: a campaign send keeps what booking decided, and its message is the text.

Each send without a message (booked and not yet taken, or cancelled before it was) gets one, in
the send's state; what a send knew of its text (status, sent and delivered times) moves to the
message, which was already the record wherever the two existed. A text that never went was kept
``failed`` with "Not sent: why"; it is ``cancelled`` now. Then the sends' outbox columns go.

The decision log (0017) learns of campaign texts from their messages now: a text that is sent,
fails or is cancelled changes what the caps count for its contact in every campaign.
"""

import importlib

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

_0017 = importlib.import_module("campaigns.migrations.0017_decisions_follow_each_member")

BATCH = 2000
# A send's status, as its message's: a send left "sending" with no message had lost its attempt.
MESSAGE_STATUS = {
    "queued": "queued",
    "sending": "unknown",
    "sent": "sent",
    "failed": "failed",
    "unknown": "unknown",
    "cancelled": "cancelled",
}
NOT_SENT = "Not sent: "


def carry_over(apps, schema_editor):
    Send = apps.get_model("campaigns", "CampaignSend")
    Message = apps.get_model("messaging", "Message")
    outbound = Message.objects.filter(direction="outbound")
    outbound.filter(status="undelivered").update(status="failed")  # never written; a refusal is failed
    outbound.filter(status="failed", error__startswith=NOT_SENT).update(status="cancelled")
    send = Send.objects.filter(pk=OuterRef("campaign_send_id"))
    Message.objects.filter(campaign_send__isnull=False).update(
        campaign_id=Subquery(send.values("campaign_id")[:1]),
        delivered_at=Subquery(send.values("delivered_at")[:1]),
    )
    # Cancelled while its text waited for a retry (an opt-out, a cancelled campaign).
    for message in Message.objects.filter(campaign_send__status="cancelled", status__in=["queued", "sending"]):
        message.status = "cancelled"
        message.error = f"{NOT_SENT}{message.campaign_send.cancelled_reason}"
        message.save(update_fields=["status", "error"])
    texts = []
    for send in Send.objects.filter(message__isnull=True).select_related("contact").iterator(chunk_size=BATCH):
        status = MESSAGE_STATUS[send.status]
        written = status not in ("queued", "cancelled")
        texts.append(
            Message(
                direction="outbound",
                kind="campaign",
                body="(text not recorded)" if written else "",
                from_number=send.from_number,
                to_number=send.contact.phone,
                contact_id=send.contact_id,
                status=status,
                status_changed_at=send.updated_at,
                created_at=send.claimed_at or send.created_at,
                next_attempt_at=send.scheduled_for if status == "queued" else None,
                claimed_at=send.claimed_at,
                sent_at=send.sent_at,
                delivered_at=send.delivered_at,
                attempts=send.attempts,
                error=f"{NOT_SENT}{send.cancelled_reason}" if status == "cancelled" else send.last_error,
                campaign_id=send.campaign_id,
                campaign_send_id=send.pk,
            )
        )
        if len(texts) == BATCH:
            Message.objects.bulk_create(texts)
            texts = []
    Message.objects.bulk_create(texts)


SEND_STATUS = {"delivered": "sent", "queued": "queued"}


def carry_back(apps, schema_editor):
    Send = apps.get_model("campaigns", "CampaignSend")
    Message = apps.get_model("messaging", "Message")
    sends = []
    for send in Send.objects.select_related("message").iterator(chunk_size=BATCH):
        message = getattr(send, "message", None)
        if message is None:
            continue
        status = SEND_STATUS.get(message.status, message.status)
        if message.status == "queued" and message.attempts:
            status = "sending"  # a text waiting for a retry was its send's "sending"
        send.status = status
        send.sent_at = message.sent_at
        send.delivered_at = message.delivered_at
        send.claimed_at = message.claimed_at
        send.attempts = message.attempts
        send.cancelled_reason = message.error.removeprefix(NOT_SENT)[:255] if status == "cancelled" else ""
        send.last_error = "" if status == "cancelled" else message.error
        sends.append(send)
    fields = ["status", "sent_at", "delivered_at", "claimed_at", "attempts", "cancelled_reason", "last_error"]
    Send.objects.bulk_update(sends, fields, batch_size=BATCH)
    # Texts booked and never written were no message before; a cancelled text was failed.
    schema_editor.execute("DELETE FROM messaging_message WHERE kind = 'campaign' AND body = ''")
    Message.objects.filter(status="cancelled").update(status="failed")


def _watch_messages(where: str):
    """Point 0017's statement triggers on messages at the rows ``where`` names (if they still exist)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'messaging_message_decision_insert'")
            if cursor.fetchone() is None:
                return
        for event, sides in (("insert", ["new_rows"]), ("update", ["old_rows", "new_rows"]), ("delete", ["old_rows"])):
            rows = " UNION ALL ".join(
                f"SELECT r.contact_id, NULL::bigint, false FROM {side} AS r WHERE {where}" for side in sides
            )
            function = _0017.STATEMENT_FUNCTION.format(name=f"messaging_message_decision_{event}", guard="false", rows=rows)
            schema_editor.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0019_a_decision_keeps_its_member_counts"),
        ("messaging", "0011_campaign_texts_in_the_outbox"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="campaignsend", name="campaign_send_once_per_contact"),
        migrations.RemoveConstraint(model_name="campaignsend", name="campaign_send_status_valid"),
        migrations.RemoveConstraint(model_name="campaignsend", name="campaign_send_sent_has_time"),
        migrations.RemoveConstraint(model_name="campaignsend", name="campaign_send_cancelled_has_reason"),
        migrations.RunPython(carry_over, carry_back),
        migrations.RunPython(
            _watch_messages("r.direction = 'inbound' OR r.kind = 'campaign'"),
            _watch_messages("r.direction = 'inbound'"),
        ),
        migrations.RemoveIndex(model_name="campaignsend", name="campaign_send_due"),
        migrations.RemoveIndex(model_name="campaignsend", name="campaign_send_sending"),
        migrations.RemoveIndex(model_name="campaignsend", name="campaign_send_contact_sent"),
        migrations.RemoveField(model_name="campaignsend", name="attempts"),
        migrations.RemoveField(model_name="campaignsend", name="cancelled_reason"),
        migrations.RemoveField(model_name="campaignsend", name="claimed_at"),
        migrations.RemoveField(model_name="campaignsend", name="delivered_at"),
        migrations.RemoveField(model_name="campaignsend", name="enqueued_at"),
        migrations.RemoveField(model_name="campaignsend", name="last_error"),
        migrations.RemoveField(model_name="campaignsend", name="sent_at"),
        migrations.RemoveField(model_name="campaignsend", name="status"),
        migrations.RemoveField(model_name="campaignsend", name="updated_at"),
        migrations.AlterField(
            model_name="campaignsend",
            name="scheduled_for",
            field=models.DateTimeField(help_text="Its slot: it goes then, or within the missed-slot grace"),
        ),
    ]
