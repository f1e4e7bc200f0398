"""The default retention rules; Governance changes them in the admin."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

DEFAULTS = [
    (
        "consent_document",
        10,
        "years",
        "HIPAA 45 CFR 164.530(j)(2): six years from the date the authorization was last in effect, the minimum; "
        "ten years after the consent ended (expiry or revocation) also cover the usual limitation periods for "
        "claims about publication (e.g. BGB 195/199). The record and the form's SHA-256 are kept.",
    ),
    (
        "post_media",
        6,
        "years",
        "Six years after the post was withdrawn, rejected or published (its last change), as HIPAA 164.530(j) "
        "keeps documentation. The media rows with their checksums, the revisions and the audit trail are kept.",
    ),
    (
        "archive_file",
        30,
        "days",
        "An archive is a copy made for one request and can be made again while the records exist; "
        "the job row with the file's SHA-256 is kept.",
    ),
]


def rules_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rule = apps.get_model("evidence", "RetentionRule")
    for kind, keep_for, unit, basis in DEFAULTS:
        rule.objects.get_or_create(kind=kind, defaults={"keep_for": keep_for, "unit": unit, "basis": basis})


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_archive_retention_holds")]

    operations = [migrations.RunPython(rules_create, migrations.RunPython.noop)]
