"""``manage.py export_plan``: write posts as a campaign plan that re-imports as "unchanged"."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plans.exporting import CSV, FORMATS, XLSX, plan_export, posts_for_plan_export
from posts.models import Campaign


class Command(BaseCommand):
    help = "Export planned posts (all, or one campaign's) as a plan in the import's columns, CSV or .xlsx."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", default="", help="only this campaign (its name)")
        parser.add_argument("--format", choices=FORMATS, default=CSV, help="csv (default) or xlsx")
        parser.add_argument("-o", "--output", default="", help="write to this file (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign_ids: list[int] | None = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(name=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"There is no campaign {options['campaign']!r}.", returncode=2)
            campaign_ids = [campaign.pk]
        data = plan_export(posts=posts_for_plan_export(campaign_ids=campaign_ids), file_format=options["format"])
        if options["output"]:
            Path(options["output"]).write_bytes(data)
            return
        if options["format"] == XLSX and sys.stdout.isatty():
            raise CommandError("An .xlsx file is binary: write it with -o FILE.", returncode=2)
        stream = getattr(self.stdout, "_out", sys.stdout)
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        elif options["format"] == CSV:
            stream.write(data.decode("utf-8-sig"))
        else:
            raise CommandError("An .xlsx file is binary: write it with -o FILE.", returncode=2)
