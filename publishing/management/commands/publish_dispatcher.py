"""``manage.py publish_dispatcher``: hand due publications to the task queue until stopped."""

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connection

from publishing.services import dispatch_once

logger = logging.getLogger("publishing.services")


class Command(BaseCommand):
    help = (
        "Every --interval seconds: take back expired leases, flag overdue publications, claim the due "
        "ones and queue one send task each (several dispatchers may run at once). Ctrl-C or SIGTERM stops it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.ROUNDS_DISPATCHER_INTERVAL,
            help="Seconds between passes (default: ROUNDS_DISPATCHER_INTERVAL, 0.2).",
        )
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        self.stdout.write(f"publish dispatcher: one pass every {interval:g} s")
        while not stop.is_set():
            _connections_refresh()
            try:
                report = dispatch_once()
            except DatabaseError:
                # The database may be restarting: keep the process, try again next pass.
                logger.exception("dispatcher pass failed")
                report = {"claimed": 0}
            if any(report.values()):
                logger.info("dispatcher pass: %s", report)
            if once:
                break
            # A full batch means more are due: go again at once.
            if report.get("claimed", 0) < settings.ROUNDS_PUBLISH_BATCH:
                stop.wait(interval)
        _connections_refresh()
        self.stdout.write("publish dispatcher stopped")


def _connections_refresh() -> None:
    # A long-lived process drops broken or expired connections between passes, like a request
    # cycle does. Inside a caller's transaction (call_command in a test) there is nothing to drop.
    if not connection.in_atomic_block:
        close_old_connections()
