"""The database guards the outbox now that every campaign text is a message (after campaigns 0020
carried the sends over): one live text per campaign member, and no text goes without its words."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0020_one_row_per_text"),
        ("messaging", "0011_campaign_texts_in_the_outbox"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(("campaign__isnull", True), ("kind", "campaign"), _connector="OR"),
                name="message_campaign_only_for_campaign_texts",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(("campaign_send__isnull", True), ("campaign__isnull", False), _connector="OR"),
                name="message_booked_text_names_its_campaign",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("body", ""), _negated=True),
                    ("direction", "inbound"),
                    models.Q(("kind", "campaign"), ("status__in", ["queued", "cancelled"])),
                    _connector="OR",
                ),
                name="message_outbound_written_before_it_goes",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "sending", "sent", "delivered", "unknown"])),
                fields=("campaign", "contact"),
                name="message_one_live_campaign_text_per_member",
            ),
        ),
    ]
