"""``manage.py import_plan FILE``: import a campaign plan all or nothing (SPEC section 6)."""

import re
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people.models import User
from plans.importing import CREATED, UNCHANGED, UPDATED, PlanInvalid, PlanOptions, plan_commit, plan_preview
from plans.reading import MAX_BYTES

USAGE_ERROR = 2


def command_user(username: str | None) -> User:
    """Return the importing user: ``username``, or the only active superuser."""
    users = get_user_model().objects.filter(is_active=True)
    if username:
        try:
            return users.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no active user {username!r}.", returncode=USAGE_ERROR) from None
    superusers = list(users.filter(is_superuser=True)[:2])
    if len(superusers) != 1:
        raise CommandError("Give --user USERNAME: the posts are imported as that user.", returncode=USAGE_ERROR)
    return superusers[0]


class Command(BaseCommand):
    help = (
        "Import a campaign plan (CSV, .xlsx, or a Hootsuite bulk file with --hootsuite). All or nothing: "
        "exit 0 printing how many posts were created, updated and unchanged; exit 1 with one line per "
        "error (row N, column C: message) and nothing written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the plan: .csv or .xlsx")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--user", help="import as this user (default: the only superuser)")
        parser.add_argument("--hootsuite", choices=["dmy", "mdy"], help="a Hootsuite bulk file and its date order")
        parser.add_argument("--campaign", default="", help="Hootsuite: the campaign for its posts")
        parser.add_argument("--accounts", default="", help="Hootsuite: target accounts, separated by ; or |")

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["campaign"] or options["accounts"]) and not options["hootsuite"]:
            raise CommandError("--campaign and --accounts go with --hootsuite dmy|mdy.", returncode=USAGE_ERROR)
        user = command_user(options["user"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"There is no file {path}.", returncode=USAGE_ERROR)
        if path.stat().st_size > MAX_BYTES:
            self.stderr.write(f"file: The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            raise CommandError("Nothing was imported.", returncode=1)
        data = path.read_bytes()
        plan_options = PlanOptions(
            hootsuite=options["hootsuite"] or "",
            campaign=options["campaign"].strip(),
            accounts=tuple(token.strip() for token in re.split(r"[;|]", options["accounts"]) if token.strip()),
        )
        if options["dry_run"]:
            preview = plan_preview(data=data, actor=user, options=plan_options)
        else:
            try:
                preview = plan_commit(data=data, file_name=path.name, actor=user, options=plan_options)
            except PlanInvalid as invalid:
                preview = invalid.preview
        if not preview.ok:
            for error in preview.errors:
                self.stderr.write(error.line())
            count = len(preview.errors)
            raise CommandError(f"{count} error{'s' if count != 1 else ''}; nothing was imported.", returncode=1)
        for name in preview.new_campaigns:
            self.stdout.write(f"new campaign: {name}")
        for row in preview.rows:
            for note in row.notes:
                self.stdout.write(f"row {row.number}: {note}")
        counts = preview.counts
        summary = f"{counts[CREATED]} created, {counts[UPDATED]} updated, {counts[UNCHANGED]} unchanged."
        if options["dry_run"]:
            summary = (
                f"Dry run, nothing written: {counts[CREATED]} to create, {counts[UPDATED]} to update, "
                f"{counts[UNCHANGED]} unchanged."
            )
        self.stdout.write(summary)
