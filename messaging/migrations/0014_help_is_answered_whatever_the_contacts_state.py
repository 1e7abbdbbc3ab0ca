"""Answers to HELP are a kind of their own: the one automatic text, beside the opt-out's
confirmation, that reaches an opted-out number. Earlier answers stay "automatic" (they went to
people who had not opted out)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0013_a_hold_records_its_cause"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="kind",
            field=models.CharField(
                choices=[
                    ("campaign", "Campaign text"),
                    ("staff", "Staff text"),
                    ("automatic", "Automatic reply (re-subscribed)"),
                    ("optout", "Opt-out confirmation"),
                    ("help", "Answer to HELP"),
                    ("reply", "Reply from the contact"),
                ],
                max_length=10,
            ),
        ),
    ]
