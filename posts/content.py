"""The canonical form of a post's content, whose SHA-256 every approval is bound to."""

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

from posts.models import Account, Claim, FeaturedPerson, Media, Post

# What ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes,
# without building an encoder for every post.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

# The snapshot's format. A revision keeps the format it was made in, and its hash stays what was
# approved; whoever checks live content against a revision snapshots it in that revision's format.
# 1 (no "v" key): text, link, hashtags, content type, language, sources, media, targets, featured
#   people. The internal title and the campaign's purpose were outside it.
# 2: adds "v", the internal title (YouTube, TikTok and LinkedIn publish it; it is in every
#   webhook and outbox payload) and the campaign's purpose (the consent gate checks it).
# 3: adds "claims": each marked claim with its source and quoted sentence (the medical stage checks
#   each source), sorted by their values, so row ids and the order of marking never change a hash.
#   Formats 1 and 2 never hold claims: a revision in them keeps its hash whatever claims the post has.
SNAPSHOT_VERSION = 3
SNAPSHOT_VERSIONS = (1, 2, 3)


def snapshot_version(snapshot: dict[str, Any]) -> int:
    """Return the format a stored snapshot was made in (`SNAPSHOT_VERSION` at the time)."""
    return int(snapshot.get("v", 1))


def content_snapshot(post: Post, *, version: int = SNAPSHOT_VERSION) -> dict[str, Any]:
    """Return everything that would be published (and was reviewed), in canonical order."""
    return content_snapshot_of(
        post=post,
        targets=list(post.targets.select_related("account")),
        media=list(post.media.order_by("position", "pk")),
        featured=list(post.featured_people.all()),
        claims=list(post.claims.all()) if version >= 3 else (),
        version=version,
    )


class TargetParts(Protocol):
    """What a snapshot reads of a target account: a `PostTarget` or one about to be inserted."""

    @property
    def account_id(self) -> int: ...

    @property
    def account(self) -> Account: ...

    @property
    def body_override(self) -> str: ...


def content_snapshot_of(
    *,
    post: Post,
    targets: Sequence[TargetParts],
    media: Sequence[Media],
    featured: Sequence[FeaturedPerson],
    claims: Sequence[Claim] = (),
    version: int = SNAPSHOT_VERSION,
) -> dict[str, Any]:
    """Return `content_snapshot` of a post from its parts in memory (media in position order)."""
    if version not in SNAPSHOT_VERSIONS:
        raise ValueError(f"unknown snapshot version {version}")
    targets = sorted(targets, key=lambda target: target.account_id)
    snapshot: dict[str, Any] = {
        "body": post.body,
        "link": post.link,
        "hashtags": list(post.hashtags),
        "content_type": post.content_type,
        "language": post.language,
        "sources": post.sources,
        "media": [{"checksum": item.checksum, "alt_text": item.alt_text, "kind": item.kind} for item in media],
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
            for person in sorted(featured, key=lambda person: person.subject_id)
        ],
    }
    if version >= 2:
        snapshot["v"] = version
        snapshot["title"] = post.title
        # The consent gate checks featured people's consent for this purpose: a new purpose is
        # new content to review (`posts.services.campaign_update` makes the new revisions).
        snapshot["purpose"] = post.campaign.purpose
    if version >= 3:
        snapshot["claims"] = sorted((claim_snapshot(claim) for claim in claims), key=_claim_order)
    return snapshot


def claim_snapshot(claim: Claim) -> dict[str, str]:
    """Return one claim as a snapshot holds it (format 3 on)."""
    return {"passage": claim.passage, "kind": claim.source_kind, "source": claim.source, "quote": claim.quote}


def claim_hash(claim: Claim) -> str:
    """Return the SHA-256 of one claim's canonical form: what a "source checked" mark names."""
    return content_hash(claim_snapshot(claim))


def _claim_order(item: dict[str, str]) -> tuple[str, ...]:
    return (item["passage"], item["kind"], item["source"], item["quote"])


def content_hash(snapshot: dict[str, Any]) -> str:
    """Return the SHA-256 hex digest of a snapshot's canonical JSON."""
    return content_encoded(snapshot)[1]


def content_encoded(snapshot: dict[str, Any]) -> tuple[str, str]:
    """Return a snapshot's canonical JSON and its `content_hash`, for a writer that stores that text."""
    text = _CANONICAL.encode(snapshot)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()
