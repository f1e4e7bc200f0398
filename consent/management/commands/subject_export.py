from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.models import Subject
from consent.services import subject_export

COMMAND_ACTOR = "manage.py subject_export"


class Command(BaseCommand):
    help = "Write everything stored about one person (GDPR Art. 15) as a ZIP of JSON and PDF; audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", help="The person's internal reference.")
        parser.add_argument("-o", "--output", required=True, help="The ZIP file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            subject = Subject.objects.get(reference=options["reference"])
        except Subject.DoesNotExist as exc:
            raise CommandError(f"No person has the reference {options['reference']!r}.", returncode=1) from exc
        content = subject_export(subject=subject, actor=COMMAND_ACTOR)
        Path(options["output"]).write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(content)} bytes to {options['output']}."))
