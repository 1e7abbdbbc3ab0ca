"""A compliance record names its campaign and contact and survives its send: a booking released
to be made again no longer takes its record with it."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def name_campaign_and_contact(apps, schema_editor):
    ComplianceRecord = apps.get_model("campaigns", "ComplianceRecord")
    CampaignSend = apps.get_model("campaigns", "CampaignSend")
    send = CampaignSend.objects.filter(pk=OuterRef("send_id"))
    ComplianceRecord.objects.update(
        campaign_id=Subquery(send.values("campaign_id")[:1]), contact_id=Subquery(send.values("contact_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0010_index_the_sends_going_out"),
        ("contacts", "0007_fewer_indexes_on_imported_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="compliancerecord",
            name="campaign",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="compliance_records",
                to="campaigns.campaign",
            ),
        ),
        migrations.AddField(
            model_name="compliancerecord",
            name="contact",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="compliance_records",
                to="contacts.contact",
            ),
        ),
        migrations.RunPython(name_campaign_and_contact, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="compliancerecord",
            name="campaign",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="compliance_records",
                to="campaigns.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="compliancerecord",
            name="contact",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="compliance_records",
                to="contacts.contact",
            ),
        ),
        migrations.AlterField(
            model_name="compliancerecord",
            name="send",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="compliance",
                to="campaigns.campaignsend",
            ),
        ),
    ]
