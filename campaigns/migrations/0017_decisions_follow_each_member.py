"""The database logs which members each write concerns, so a run decides again only those (PostgreSQL).

Migration 0015's triggers moved one counter on every write to what a run reads: any write made
every campaign decide all its members again. These log a `DecisionChange` row per contact a write
concerns instead, numbered from the same sequence (campaigns/decisions.py reads them):

- a contact's row, house or link: that contact, and it may move the member's window (``reorders``);
- a membership: that member of that campaign, ``reorders`` when it was or is waiting (pending or
  queued), so joining or leaving the queue moves the places after it; not logged while a run
  writes its own decisions (``attackacrack.deciding``);
- a send, an inbound text, a consent review: that contact, in every campaign;
- a campaign's row: every member of that campaign; a holiday, a TRUNCATE, a bulk write (the import
  says so with ``attackacrack.bulk_write``; it also runs in replication mode): every member of every
  campaign. A statement that names more than 1,000 members logs them as their campaign (or all).

The contacts' tables, which the import writes by the million, log from row triggers that the bulk
flag or replication mode turns off, and one statement trigger (``ENABLE ALWAYS``) logs the bulk
write: no transition table of a million rows is kept. The other tables' triggers read the
statement's transition tables, as 0015's did.
"""

import importlib

from django.db import migrations, models

_0015 = importlib.import_module("campaigns.migrations.0015_decision_inputs")

BULK = "current_setting('attackacrack.bulk_write', true) = 'on'"
LOG = "INSERT INTO campaigns_decisionchange (seq, contact_id, campaign_id, reorders)"
SEQ = "nextval('campaigns_decision_inputs')"
MANY = 1000

# The contacts' tables: (table, the contacts a row names, as SQL over the row ``{row}``).
ROW_LOGGED = [
    ("contacts_contact", "SELECT {row}.id"),
    ("contacts_propertycontact", "SELECT {row}.contact_id"),
    ("contacts_property", "SELECT link.contact_id FROM contacts_propertycontact link WHERE link.property_id = {row}.id"),
]

# OLD is null for an INSERT and NEW for a DELETE; an UPDATE names each contact once.
ROW_FUNCTION = f"""
CREATE FUNCTION {{table}}_decision_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {LOG} SELECT {SEQ}, named.contact_id, NULL, true
    FROM ({{old}} UNION {{new}}) AS named(contact_id) WHERE named.contact_id IS NOT NULL;
    RETURN NULL;
END $$;
"""

BULK_FUNCTION = f"""
CREATE FUNCTION campaigns_decision_bulk_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' OR {BULK} OR current_setting('session_replication_role') = 'replica' THEN
        {LOG} VALUES ({SEQ}, NULL, NULL, true);
    END IF;
    RETURN NULL;
END $$;
"""

EVERYTHING_FUNCTION = f"""
CREATE FUNCTION campaigns_decision_change_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {LOG} VALUES ({SEQ}, NULL, NULL, true);
    RETURN NULL;
END $$;
"""

# The other tables: (table, what one changed row ``r`` names: contact, campaign, reorders; or None,
# a guard that skips the statement).
STATEMENT_LOGGED = [
    ("campaigns_campaign", "NULL::bigint, r.id, true", None),
    (
        "campaigns_campaigncontact",
        "r.contact_id, r.campaign_id, r.status IN ('pending', 'queued')",
        "current_setting('attackacrack.deciding', true) = 'on'",
    ),
    ("campaigns_campaignsend", "r.contact_id, NULL::bigint, false", None),
    ("messaging_consentreview", "r.contact_id, NULL::bigint, false", None),
    ("messaging_message", "r.contact_id, NULL::bigint, false", None),
]
STATEMENT_ROWS = {"messaging_message": "r.direction = 'inbound'"}

STATEMENT_FUNCTION = f"""
CREATE FUNCTION {{name}}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {{guard}} THEN
        RETURN NULL;
    END IF;
    WITH named AS (
        SELECT contact_id, campaign_id, bool_or(reorders) AS reorders
        FROM ({{rows}}) AS c(contact_id, campaign_id, reorders) GROUP BY 1, 2
    ), many AS (SELECT count(*) > {MANY} AS yes FROM named)
    {LOG}
    SELECT {SEQ}, contact_id, campaign_id, reorders FROM named WHERE NOT (SELECT yes FROM many)
    UNION ALL
    SELECT {SEQ}, NULL, campaign_id, true FROM (SELECT DISTINCT campaign_id FROM named) AS c
    WHERE (SELECT yes FROM many);
    RETURN NULL;
END $$;
"""


def _statement_rows(table: str, columns: str, sides: list[str]) -> str:
    where = STATEMENT_ROWS.get(table, "true")
    return " UNION ALL ".join(f"SELECT {columns} FROM {side} AS r WHERE {where}" for side in sides)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    _drop_0015(apps, schema_editor)
    run(BULK_FUNCTION)
    for table, contacts in ROW_LOGGED:
        run(ROW_FUNCTION.format(table=table, old=contacts.format(row="OLD"), new=contacts.format(row="NEW")))
        run(
            f"CREATE TRIGGER {table}_decision_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW WHEN (current_setting('attackacrack.bulk_write', true) IS DISTINCT FROM 'on') "
            f"EXECUTE FUNCTION {table}_decision_change()"
        )
        run(
            f"CREATE TRIGGER {table}_decision_bulk_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION campaigns_decision_bulk_change()"
        )
        run(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_decision_bulk_change")
    for table, columns, guard in STATEMENT_LOGGED:
        for event, sides, referencing in (
            ("INSERT", ["new_rows"], "NEW TABLE AS new_rows"),
            ("UPDATE", ["old_rows", "new_rows"], "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", ["old_rows"], "OLD TABLE AS old_rows"),
        ):
            name = f"{table}_decision_{event.lower()}"
            rows = _statement_rows(table, columns, sides)
            run(STATEMENT_FUNCTION.format(name=name, guard=guard or "false", rows=rows))
            run(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
            run(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")
    for table, _, _ in STATEMENT_LOGGED:
        run(
            f"CREATE TRIGGER {table}_decision_bulk_change AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION campaigns_decision_bulk_change()"
        )
        run(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_decision_bulk_change")
    # A holiday moves every later day's forecast.
    run(EVERYTHING_FUNCTION)
    run(
        "CREATE TRIGGER campaigns_holiday_decision_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON campaigns_holiday FOR EACH STATEMENT EXECUTE FUNCTION campaigns_decision_change_everything()"
    )
    run("ALTER TABLE campaigns_holiday ENABLE ALWAYS TRIGGER campaigns_holiday_decision_change")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, _ in ROW_LOGGED:
        run(f"DROP TRIGGER IF EXISTS {table}_decision_change ON {table}")
        run(f"DROP TRIGGER IF EXISTS {table}_decision_bulk_change ON {table}")
        run(f"DROP FUNCTION IF EXISTS {table}_decision_change()")
    for table, _, _ in STATEMENT_LOGGED:
        for event in ("insert", "update", "delete"):
            run(f"DROP TRIGGER IF EXISTS {table}_decision_{event} ON {table}")
            run(f"DROP FUNCTION IF EXISTS {table}_decision_{event}()")
        run(f"DROP TRIGGER IF EXISTS {table}_decision_bulk_change ON {table}")
    run("DROP TRIGGER IF EXISTS campaigns_holiday_decision_change ON campaigns_holiday")
    run("DROP FUNCTION IF EXISTS campaigns_decision_change_everything()")
    run("DROP FUNCTION IF EXISTS campaigns_decision_bulk_change()")
    _create_0015(apps, schema_editor)


def _drop_0015(apps, schema_editor) -> None:
    """0015's triggers go; the sequence they moved stays, numbering the log."""
    run = schema_editor.execute
    run("ALTER SEQUENCE campaigns_decision_inputs RENAME TO campaigns_decision_inputs_kept")
    _0015.drop(apps, schema_editor)
    run("ALTER SEQUENCE campaigns_decision_inputs_kept RENAME TO campaigns_decision_inputs")


def _create_0015(apps, schema_editor) -> None:
    """Back to 0015: its triggers, on the sequence it created (which stays)."""
    run = schema_editor.execute
    run("ALTER SEQUENCE campaigns_decision_inputs RENAME TO campaigns_decision_inputs_kept")
    _0015.create(apps, schema_editor)
    run("DROP SEQUENCE campaigns_decision_inputs")
    run("ALTER SEQUENCE campaigns_decision_inputs_kept RENAME TO campaigns_decision_inputs")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0016_campaign_decision"),
    ]

    operations = [
        # What the runs recorded was a counter this replaces: each campaign decides afresh once.
        migrations.RunSQL("DELETE FROM campaigns_campaigndecision", migrations.RunSQL.noop),
        migrations.RemoveField(model_name="campaigndecision", name="inputs"),
        migrations.AddField(
            model_name="campaigndecision",
            name="seen_through",
            field=models.BigIntegerField(
                default=0, help_text="The last logged change (DecisionChange.seq) the run decided"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="campaigndecision",
            name="settings_digest",
            field=models.CharField(default="", help_text="The settings the run decided under", max_length=16),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="DecisionChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "seq",
                    models.BigIntegerField(db_index=True, help_text="From the campaigns_decision_inputs sequence"),
                ),
                ("contact_id", models.BigIntegerField(null=True)),
                ("campaign_id", models.BigIntegerField(null=True)),
                ("reorders", models.BooleanField(help_text="May move a member's place or window in the queue")),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
