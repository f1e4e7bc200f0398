from django.db import migrations, models


def signatures_backfill(apps, schema_editor):
    """Name the signer of every earlier decision as well as can be told now.

    The name and zone are the reviewer's today (what they were at signing was not kept), the role
    is the stage's group; how they confirmed was not recorded and stays blank ("not recorded").
    """
    decision_model = apps.get_model("approvals", "Decision")
    db = schema_editor.connection.alias
    batch = []
    decisions = decision_model.objects.using(db).select_related("reviewer", "stage_run__stage__group").order_by("pk")
    for decision in decisions.iterator(chunk_size=500):
        reviewer = decision.reviewer
        full_name = f"{reviewer.first_name} {reviewer.last_name}".strip()
        decision.signer_name = full_name or reviewer.username
        decision.signer_time_zone = reviewer.time_zone
        decision.signer_role = decision.stage_run.stage.group.name
        batch.append(decision)
        if len(batch) >= 500:
            decision_model.objects.using(db).bulk_update(batch, ["signer_name", "signer_time_zone", "signer_role"])
            batch = []
    if batch:
        decision_model.objects.using(db).bulk_update(batch, ["signer_name", "signer_time_zone", "signer_role"])


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0004_notification_to_audit'),
    ]

    operations = [
        migrations.AddField(
            model_name='decision',
            name='confirmation',
            field=models.CharField(blank=True, choices=[('password', 'password'), ('totp', 'authenticator app code'), ('webauthn', 'security key or passkey'), ('recovery_code', 'recovery code'), ('code', 'code sent by e-mail'), ('sign_in', 'recent sign-in'), ('', 'not recorded')], default='', max_length=20, verbose_name='confirmed by'),
        ),
        migrations.AddField(
            model_name='decision',
            name='signer_name',
            field=models.CharField(blank=True, max_length=300, verbose_name='printed name'),
        ),
        migrations.AddField(
            model_name='decision',
            name='signer_role',
            field=models.CharField(blank=True, max_length=150, verbose_name='signed as'),
        ),
        migrations.AddField(
            model_name='decision',
            name='signer_time_zone',
            field=models.CharField(blank=True, max_length=64, verbose_name="signer's time zone"),
        ),
        migrations.RunPython(signatures_backfill, migrations.RunPython.noop, elidable=True),
    ]
