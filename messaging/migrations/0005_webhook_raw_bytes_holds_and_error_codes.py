import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_bodies_to_bytes(apps, schema_editor):
    WebhookEvent = apps.get_model("messaging", "WebhookEvent")
    for event in WebhookEvent.objects.only("pk", "body").iterator(chunk_size=500):
        WebhookEvent.objects.filter(pk=event.pk).update(raw_body=event.body.encode("utf-8"))


def copy_bytes_to_bodies(apps, schema_editor):
    WebhookEvent = apps.get_model("messaging", "WebhookEvent")
    for event in WebhookEvent.objects.only("pk", "raw_body").iterator(chunk_size=500):
        WebhookEvent.objects.filter(pk=event.pk).update(body=bytes(event.raw_body).decode("utf-8", "replace"))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0004_dashboard_indexes_and_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="error_code",
            field=models.CharField(
                blank=True, help_text="OpenPhone's or the carrier's code for the error (e.g. 0206400)", max_length=16
            ),
        ),
        # The body as bytes: a signed event is kept exactly as received, whatever it holds.
        migrations.AddField(
            model_name="webhookevent",
            name="raw_body",
            field=models.BinaryField(default=b"", help_text="The request body, byte for byte as received"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_bodies_to_bytes, copy_bytes_to_bodies, elidable=True),
        migrations.RemoveField(model_name="webhookevent", name="body"),
        migrations.AddField(
            model_name="webhookevent",
            name="delivery_id",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="event_id",
            field=models.CharField(max_length=80, unique=True),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="payload",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("delivery_id", ""), _negated=True),
                fields=("delivery_id",),
                name="webhook_delivery_id_unique",
            ),
        ),
        migrations.CreateModel(
            name="OutboxHold",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(blank=True, help_text="OpenPhone's error code", max_length=16)),
                ("reason", models.TextField()),
                ("started_at", models.DateTimeField()),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                (
                    "message",
                    models.ForeignKey(
                        blank=True,
                        help_text="The text that met it",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="messaging.message",
                    ),
                ),
                (
                    "released_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        models.Value(True),
                        condition=models.Q(("released_at__isnull", True)),
                        name="outbox_hold_one_open",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("released_at__isnull", True), ("released_at__gte", models.F("started_at")), _connector="OR"
                        ),
                        name="outbox_hold_released_after_start",
                    ),
                ],
            },
        ),
    ]
