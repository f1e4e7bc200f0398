from django.db import migrations


class Migration(migrations.Migration):
    """Joins issue 16's three consent changes, made side by side: the law, online withdrawal, erasure."""

    dependencies = [
        ("consent", "0004_consent_law_2026"),
        ("consent", "0004_consent_online_withdrawal"),
        ("consent", "0004_subject_erasure"),
    ]

    operations = []
