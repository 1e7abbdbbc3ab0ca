"""A counter every write to what a campaign's run decides from moves (PostgreSQL only).

The clock skips a run whose inputs have not moved since the last run that changed nothing
(campaigns/decisions.py). Statement-level triggers, so an import of a million rows moves it once;
ENABLE ALWAYS, so they also fire under the import's session_replication_role = replica; where a
run itself writes (memberships, sends), and for messages, only statements that touched a row that
matters move it, so a run that changes nothing leaves it where it was.
"""

from django.db import migrations

# (table, which rows matter: a condition on the transition table, or None for every statement)
WATCHED = [
    ("campaigns_campaign", "true"),
    ("campaigns_campaigncontact", "true"),
    ("campaigns_campaignsend", "true"),
    ("campaigns_holiday", None),
    ("contacts_contact", None),
    ("contacts_property", None),
    ("contacts_propertycontact", None),
    ("messaging_consentreview", None),
    ("messaging_message", "direction = 'inbound'"),
]

FUNCTION = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed WHERE {condition}) THEN
        PERFORM nextval('campaigns_decision_inputs');
    END IF;
    RETURN NULL;
END $$;
"""
EVERY_STATEMENT = """
CREATE FUNCTION campaigns_decision_input_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('campaigns_decision_inputs');
    RETURN NULL;
END $$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("CREATE SEQUENCE campaigns_decision_inputs")
    run(EVERY_STATEMENT)
    for table, condition in WATCHED:
        if condition is None:
            run(
                f"CREATE TRIGGER {table}_decision_input AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION campaigns_decision_input_moved()"
            )
            run(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_decision_input")
            continue
        function = f"{table}_decision_input_rows"
        run(FUNCTION.format(name=function, condition=condition))
        for event, side in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            trigger = f"{table}_decision_input_{event.lower()}"
            run(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {side} TABLE AS changed "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
            run(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, condition in WATCHED:
        if condition is None:
            run(f"DROP TRIGGER IF EXISTS {table}_decision_input ON {table}")
            continue
        for event in ("insert", "update", "delete"):
            run(f"DROP TRIGGER IF EXISTS {table}_decision_input_{event} ON {table}")
        run(f"DROP FUNCTION IF EXISTS {table}_decision_input_rows()")
    run("DROP FUNCTION IF EXISTS campaigns_decision_input_moved()")
    run("DROP SEQUENCE IF EXISTS campaigns_decision_inputs")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0014_daily_limit_message"),
        # The watched tables' own first migrations, no later: migrating an app back (as a test
        # does) need not take these triggers with it.
        ("messaging", "0007_possible_opt_outs_wait_for_a_person"),
    ]

    operations = [migrations.RunPython(create, drop)]
