from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    # The mail ledger comes from approvals with its table (approvals.0004_notification_to_audit
    # forgets it there and moves its content type): take it over in the state only. On a new
    # database the table is made by approvals.0001_initial, as it always was.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=100, unique=True, verbose_name='event')),
                        ('recipients', models.JSONField(default=list, verbose_name='recipients')),
                        ('sent_at', models.DateTimeField(auto_now_add=True, verbose_name='sent')),
                    ],
                    options={
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'db_table': 'approvals_notification',
                        'ordering': ['-sent_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
