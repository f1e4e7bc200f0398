from django.db import migrations, models

import consent.models


def references_fill(apps, schema_editor):
    """Give every existing consent record its own form reference."""
    ConsentRecord = apps.get_model("consent", "ConsentRecord")
    taken = set()
    for record in ConsentRecord.objects.filter(form_reference__isnull=True).only("pk"):
        reference = consent.models.form_reference_new()
        while reference in taken:
            reference = consent.models.form_reference_new()
        taken.add(reference)
        ConsentRecord.objects.filter(pk=record.pk).update(form_reference=reference)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_dates_within_1900_2100"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentrecord",
            name="form_reference",
            field=models.CharField(editable=False, max_length=20, null=True, verbose_name="form reference"),
        ),
        migrations.RunPython(references_fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="consentrecord",
            name="form_reference",
            field=models.CharField(
                default=consent.models.form_reference_new,
                editable=False,
                help_text="Printed on the consent form; the person gives it to withdraw online.",
                max_length=20,
                unique=True,
                verbose_name="form reference",
            ),
        ),
    ]
