"""Every campaign text becomes a message from its booking on: it names its campaign, keeps when it
was delivered, and may end ``cancelled`` (never sent). The data moves in campaigns 0020."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0019_a_decision_keeps_its_member_counts"),
        ("messaging", "0010_webhook_events_wait_in_the_database"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="texts",
                to="campaigns.campaign",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="delivered_at",
            field=models.DateTimeField(blank=True, help_text="When OpenPhone reported it delivered", null=True),
        ),
        migrations.AlterField(
            model_name="message",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("delivered", "Delivered"),
                    ("failed", "Failed"),
                    ("unknown", "Unknown"),
                    ("cancelled", "Cancelled (never sent)"),
                    ("received", "Received"),
                ],
                max_length=12,
            ),
        ),
    ]
