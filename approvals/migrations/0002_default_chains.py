import datetime as dt

from django.db import migrations

DEFAULT = [
    ("Medical review", "Medical reviewer", dt.timedelta(hours=48), False, False),
    ("Legal review", "Legal reviewer", dt.timedelta(hours=48), True, False),
    ("Communications review", "Communications reviewer", dt.timedelta(hours=24), False, False),
]
EXPEDITED = [
    ("Medical review", "Medical reviewer", dt.timedelta(hours=2), False, False),
    ("Communications review", "Communications reviewer", dt.timedelta(hours=1), False, False),
    ("Legal review after publishing", "Legal reviewer", dt.timedelta(hours=24), True, True),
]


def create_chains(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ReviewChain = apps.get_model("approvals", "ReviewChain")
    ReviewStage = apps.get_model("approvals", "ReviewStage")
    for name, description, is_default, is_expedited, stages in [
        ("Standard", "Medical → Legal → Communications", True, False, DEFAULT),
        ("Expedited (crisis)", "Medical → Communications; Legal within 24 h after publishing", False, True, EXPEDITED),
    ]:
        chain, created = ReviewChain.objects.get_or_create(
            name=name, defaults={"description": description, "is_default": is_default, "is_expedited": is_expedited}
        )
        if not created:
            continue
        for position, (stage_name, group_name, turnaround, acknowledge, after) in enumerate(stages, start=1):
            group, _ = Group.objects.get_or_create(name=group_name)
            ReviewStage.objects.create(
                chain=chain,
                position=position,
                name=stage_name,
                group=group,
                turnaround=turnaround,
                must_acknowledge_findings=acknowledge,
                after_publication=after,
            )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial"), ("people", "0002_groups")]

    operations = [migrations.RunPython(create_chains, migrations.RunPython.noop)]
