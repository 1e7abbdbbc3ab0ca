"""A campaign member's row is rewritten in place (PostgreSQL's heap-only update).

A run's forecast rewrites every waiting member's row in one statement: 100,000 rows at the first
run of a large campaign. A row rewritten where it stands writes no index entry, but only when no
index holds a column that changed and its page has room: so no index holds `status`, the campaign's
own index goes (the unique constraint's leads with the campaign), and new pages are filled half
way. Rows stored before this keep their pages; a new audience's rows get the room.
"""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 50


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE campaigns_campaigncontact SET (fillfactor = {FILLFACTOR})")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE campaigns_campaigncontact RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0017_decisions_follow_each_member"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="campaigncontact",
            name="campaigns_c_campaig_77ea88_idx",
        ),
        migrations.AlterField(
            model_name="campaigncontact",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunPython(leave_room, fill_pages),
    ]
