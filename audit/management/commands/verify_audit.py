from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.selectors import chain_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit 1 naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = chain_verify()
        if broken is not None:
            raise CommandError(f"Audit trail broken at event #{broken.seq}: {broken.reason}.", returncode=1)
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {count} events."))
