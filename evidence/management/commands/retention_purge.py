"""``manage.py retention_purge [--dry-run]``: purge what is past its retention and under no legal hold."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidence.retention import retention_purge


class Command(BaseCommand):
    help = "Delete files past their retention rule and under no legal hold, and write a purge report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be purged and kept; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        report = retention_purge(dry_run=dry_run, actor="manage.py retention_purge")
        heading = "Would purge" if dry_run else f"Purge report #{report.pk}: purged"
        for kind in sorted(report.counts):
            self.stdout.write(
                f"{heading} {report.counts[kind]} {kind}; kept under a legal hold: {report.held_counts.get(kind, 0)}"
            )
        for item in report.purged:
            self.stdout.write(
                f"  {'would purge' if dry_run else 'purged'} {item['kind']} #{item['id']}: {item['reason']}"
            )
        for item in report.held:
            holds = ", ".join(f"#{hold}" for hold in item["holds"])
            self.stdout.write(f"  kept {item['kind']} #{item['id']}: legal hold {holds}")
