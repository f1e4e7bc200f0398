"""``manage.py evidence_pack POST_ID -o FILE [--user USERNAME]``: write one post's signed evidence pack."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import SYSTEM_ACTOR
from evidence.packs import pack_build
from people.models import User
from posts.models import Post


class Command(BaseCommand):
    help = "Write the signed evidence pack (ZIP) of one post; the creation is audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("post_id", type=int)
        parser.add_argument("-o", "--output", required=True, help="the ZIP file to write")
        parser.add_argument("--user", help="the user the audit trail names (default: system)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            post = Post.objects.get(pk=options["post_id"])
        except Post.DoesNotExist as error:
            raise CommandError(f"There is no post {options['post_id']}.") from error
        actor: User | str = SYSTEM_ACTOR
        if options["user"]:
            try:
                actor = User.objects.get(username=options["user"], is_active=True)
            except User.DoesNotExist as error:
                raise CommandError(f"There is no active user {options['user']!r}.") from error
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        pack = pack_build(post=post, actor=actor, via="command")
        output.write_bytes(pack.data)
        self.stdout.write(
            f"{output}: evidence pack of post {post.pk}, {len(pack.data)} bytes, "
            f"manifest SHA-256 {pack.manifest_sha256}"
        )
