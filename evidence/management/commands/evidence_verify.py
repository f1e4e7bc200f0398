"""``manage.py evidence_verify FILE``: exit 0 "verified", or exit 1 with one line per problem."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidence.packs import pack_verify


class Command(BaseCommand):
    help = (
        "Verify an evidence pack: the signature with this instance's key, each file against the manifest, "
        "the ZIP's bytes, and each audit event against the live chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            self.stderr.write(f"{path}: cannot be read ({error.strerror})")
            sys.exit(1)
        problems = pack_verify(data)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            sys.exit(1)
        self.stdout.write("verified")
