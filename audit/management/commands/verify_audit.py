from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import anchor_verify, audit_verify, checkpoint_anchor_line, checkpoint_latest
from audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain and its signed checkpoints; exit 1 naming the first broken "
        "event. --print-checkpoint prints the newest checkpoint as a line to file outside Rounds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--print-checkpoint",
            action="store_true",
            help="After a successful check, print the newest checkpoint as one line (to send to the DPO).",
        )

        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="LINE",
            help="Also check a line printed by --print-checkpoint and filed outside Rounds (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit_verify()
        for line in options["anchor"]:
            broken = broken or anchor_verify(line)
        if broken is not None:
            raise CommandError(f"Audit trail broken at event #{broken.seq}: {broken.reason}.", returncode=1)
        count = AuditEvent.objects.count()
        latest = checkpoint_latest()
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {count} events."))
        if latest is None:
            self.stdout.write("No checkpoint yet.")
        else:
            self.stdout.write(f"Newest checkpoint: event #{latest.seq}, {latest.at.isoformat()}.")
        if options["print_checkpoint"]:
            if latest is None:
                raise CommandError("There is no checkpoint to print: run manage.py audit_checkpoint.", returncode=1)
            self.stdout.write(checkpoint_anchor_line(latest))
