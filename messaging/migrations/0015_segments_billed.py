from django.db import migrations, models

from messaging.segments import sms_cost

BATCH = 2000


def count_segments_of_written_texts(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    written = Message.objects.filter(direction="outbound").exclude(body="").only("pk", "body").order_by("pk")
    last = 0
    while batch := list(written.filter(pk__gt=last)[:BATCH]):
        for message in batch:
            message.segments = sms_cost(message.body).segments
        Message.objects.bulk_update(batch, ["segments"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0014_help_is_answered_whatever_the_contacts_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="segments",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="The SMS segments an outbound text is billed as: set when its words are written",
                null=True,
            ),
        ),
        migrations.RunPython(count_segments_of_written_texts, migrations.RunPython.noop),
    ]
