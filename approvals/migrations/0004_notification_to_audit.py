from django.db import migrations


def _content_type_relabel(apps, schema_editor, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label=new, model="notification").exists():
        content_type.objects.using(db).filter(app_label=old, model="notification").update(app_label=new)


def content_type_move(apps, schema_editor):
    _content_type_relabel(apps, schema_editor, "approvals", "audit")


def content_type_move_back(apps, schema_editor):
    _content_type_relabel(apps, schema_editor, "audit", "approvals")


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0003_status_check_constraints'),
        ('audit', '0002_notification_from_approvals'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    # The mail ledger (Notification) moved to audit with its table, which keeps its name and rows:
    # forget it here, touch no table. Its content type moves along, so the permissions and admin
    # log entries on it stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Notification',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back),
    ]
