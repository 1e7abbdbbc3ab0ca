"""A hold records what stands in the way, so Today tells a person what to fix: our API key is not
set, OpenPhone refuses our key, or OpenPhone refuses the account. Holds stored before this are
read from what they kept (the reason and OpenPhone's code)."""

from django.db import migrations, models
from django.db.models import Q

CAUSES = ["no_api_key", "key_refused", "account"]


def classify_earlier_holds(apps, schema_editor) -> None:
    holds = apps.get_model("messaging", "OutboxHold").objects
    holds.filter(reason__contains="OPENPHONE_API_KEY is not set").update(cause="no_api_key")
    holds.filter(
        Q(code__in=["0200401", "0202403"]) | Q(reason__contains="(401") | Q(reason__contains="(403")
    ).exclude(cause="no_api_key").update(cause="key_refused")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0012_one_live_campaign_text_per_member")]

    operations = [
        migrations.AddField(
            model_name="outboxhold",
            name="cause",
            field=models.CharField(
                choices=[
                    ("no_api_key", "No OpenPhone API key is set"),
                    ("key_refused", "OpenPhone refused the API key"),
                    ("account", "OpenPhone refused the account"),
                ],
                default="account",
                max_length=12,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(classify_earlier_holds, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="outboxhold",
            constraint=models.CheckConstraint(condition=Q(cause__in=CAUSES), name="outbox_hold_cause_known"),
        ),
    ]
