"""Statistics on members' campaign and status together, so the planner's estimate of a large
audience's count at a status (campaigns.progress, shown as "about") is the campaign's own and not
the product of two columns' shares. CREATE STATISTICS takes no lock beyond a moment's; the next
ANALYZE (autovacuum's, or one by hand) fills it in. PostgreSQL only: SQLite counts."""

from django.db import migrations


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE STATISTICS IF NOT EXISTS campaign_member_status_stats (mcv) ON campaign_id, status "
            "FROM campaigns_campaigncontact"
        )


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS campaign_member_status_stats")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0029_follow_up_steps")]

    operations = [migrations.RunPython(create_statistics, drop_statistics)]
