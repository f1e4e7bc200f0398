"""The canonical form of a post's content, whose SHA-256 every approval is bound to."""

import hashlib
import json
from typing import Any

from posts.models import Post


def content_snapshot(post: Post) -> dict[str, Any]:
    """Return everything that would be published (and was reviewed), in canonical order."""
    targets = sorted(post.targets.select_related("account"), key=lambda target: target.account_id)
    return {
        "body": post.body,
        "link": post.link,
        "hashtags": list(post.hashtags),
        "content_type": post.content_type,
        "language": post.language,
        "sources": post.sources,
        "media": [
            {"checksum": media.checksum, "alt_text": media.alt_text, "kind": media.kind}
            for media in post.media.order_by("position", "pk")
        ],
        "targets": [
            {
                "account_id": target.account_id,
                "platform": target.account.platform,
                "handle": target.account.handle,
                "body_override": target.body_override,
            }
            for target in targets
        ],
        "featured": [
            {
                "subject_id": person.subject_id,
                "consent_id": person.consent_id,
                "media_kinds": sorted(person.media_kinds),
            }
            for person in sorted(post.featured_people.all(), key=lambda person: person.subject_id)
        ],
    }


def content_hash(snapshot: dict[str, Any]) -> str:
    """Return the SHA-256 hex digest of a snapshot's canonical JSON."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
