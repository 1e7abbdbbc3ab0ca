"""A run books at the head of a stored queue, so nothing it decides is logged or kept any more.

Each member keeps its place in the queue (``queue_position``: the k-th member of a variant whose
share is s stands at (k - ½) / s, the order the runs computed each time), indexed for those
waiting. The decision log (migrations 0015 to 0019: its triggers, sequence, records and kept
counts), the members' forecast day (``queued_for``, now worked out when a page asks) and the
half-full pages of 0018 go; members queued for a later day wait as ``pending``.
"""

import importlib

from django.db import migrations, models

_0015 = importlib.import_module("campaigns.migrations.0015_decision_inputs")
_0017 = importlib.import_module("campaigns.migrations.0017_decisions_follow_each_member")

PLACES = """
UPDATE campaigns_campaigncontact
SET queue_position = numbered.place
FROM (
    SELECT member.id,
           (ROW_NUMBER() OVER (PARTITION BY member.campaign_id, member.variant ORDER BY member.id) - 0.5)
           / CASE
               WHEN campaign.template_b = '' THEN 1.0
               WHEN member.variant = 'A' THEN NULLIF(campaign.split_percent_a, 0) / 100.0
               ELSE NULLIF(100 - campaign.split_percent_a, 0) / 100.0
             END AS place
    FROM campaigns_campaigncontact AS member
    JOIN campaigns_campaign AS campaign ON campaign.id = member.campaign_id
) AS numbered
WHERE campaigns_campaigncontact.id = numbered.id
"""


def forget_decisions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _0017.drop(apps, schema_editor)  # back to 0015's triggers
    _0015.drop(apps, schema_editor)  # and those go too, with their sequence
    schema_editor.execute("ALTER TABLE campaigns_campaigncontact RESET (fillfactor)")


def log_decisions_again(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _0015.create(apps, schema_editor)
    _0017.create(apps, schema_editor)
    schema_editor.execute("ALTER TABLE campaigns_campaigncontact SET (fillfactor = 50)")


def set_places(apps, schema_editor):
    schema_editor.execute(PLACES)
    # A member whose place cannot be told (its variant has no share: the split changed since it
    # joined) goes to the back, in the order it joined.
    schema_editor.execute(
        "UPDATE campaigns_campaigncontact SET queue_position = 1e12 + id WHERE queue_position IS NULL"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0020_one_row_per_text"),
    ]

    operations = [
        migrations.RunPython(forget_decisions, log_decisions_again),
        migrations.DeleteModel(name="CampaignDecision"),
        migrations.DeleteModel(name="DecisionChange"),
        migrations.RemoveConstraint(model_name="campaigncontact", name="campaign_contact_queued_has_day"),
        migrations.RunSQL(
            "UPDATE campaigns_campaigncontact SET status = 'pending' WHERE status = 'queued'",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveField(model_name="campaigncontact", name="queued_for"),
        migrations.AddField(
            model_name="campaigncontact",
            name="queue_position",
            field=models.FloatField(null=True),
        ),
        migrations.RunPython(set_places, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="campaigncontact",
            name="queue_position",
            field=models.FloatField(),
        ),
        migrations.AddField(
            model_name="campaigncontact",
            name="not_before",
            field=models.DateTimeField(blank=True, help_text="Passed over until then (a cap, a window)", null=True),
        ),
        migrations.AlterField(
            model_name="campaigncontact",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting"),
                    ("scheduled", "Send booked"),
                    ("sent", "Sent"),
                    ("ineligible", "Ineligible"),
                    ("flagged", "Flagged for review"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigncontact",
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=["pending", "scheduled", "sent", "ineligible", "flagged"]),
                name="campaign_contact_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigncontact",
            constraint=models.CheckConstraint(
                condition=models.Q(not_before__isnull=True) | models.Q(status="pending"),
                name="campaign_contact_passed_over_while_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="campaigncontact",
            index=models.Index(fields=["campaign", "status"], name="campaign_member_status"),
        ),
        migrations.AddIndex(
            model_name="campaigncontact",
            index=models.Index(
                condition=models.Q(status="pending"),
                fields=["campaign", "queue_position", "id"],
                name="campaign_member_queue",
            ),
        ),
    ]
