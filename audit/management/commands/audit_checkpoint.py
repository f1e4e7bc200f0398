from typing import Any

from django.core.management.base import BaseCommand

from audit.checkpoints import checkpoint_anchor_line, checkpoint_file, checkpoint_write


class Command(BaseCommand):
    help = "Sign the audit chain's newest event now and append the checkpoint to ROUNDS_AUDIT_CHECKPOINT_FILE."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_write()
        self.stdout.write(self.style.SUCCESS(f"Checkpoint of event #{checkpoint.seq} written to {checkpoint_file()}."))
        self.stdout.write(checkpoint_anchor_line(checkpoint))
