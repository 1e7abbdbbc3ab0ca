"""A recorded run keeps its members' counts by status: a run that decides nothing reports them
instead of counting every member again (campaigns/decisions.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0018_membership_rows_are_rewritten_in_place"),
    ]

    operations = [
        # The records kept so far have no counts: each campaign decides afresh once, and counts.
        migrations.RunSQL("DELETE FROM campaigns_campaigndecision", migrations.RunSQL.noop),
        migrations.AddField(
            model_name="campaigndecision",
            name="member_counts",
            field=models.JSONField(
                default=dict,
                help_text="Members at each status after the run: what a run that decides nothing reports"
            ),
            preserve_default=False,
        ),
    ]
