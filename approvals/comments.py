"""Every write of review comments: add a thread on a passage, reply, resolve, reopen, mark blocking.

Each service locks the post first (the lock `decision_record` takes, so an approval and a new
blocking comment never pass each other), then the comment, asks `approvals.policy.CommentPolicy`
and records its audit event on the comment (not on the post: a comment changes no content, so it
must not make an editor's or a reviewer's open form stale).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.anchors import anchor_locate, text_normalise
from approvals.models import AnchorKind, ReviewComment, ReviewCommentReply
from approvals.policy import (
    COMMENT,
    MARK_BLOCKING,
    REOPEN,
    REPLY,
    RESOLVE,
    CommentPolicy,
    open_stage_runs,
)
from audit.services import event_record
from core.inputs import text_problem, unstorable_error
from core.locks import row_lock
from people.models import User
from posts.locks import post_lock
from posts.models import Post

# Longest comment or reply, and longest passage one comment quotes.
TEXT_MAX = 5000
QUOTE_MAX = 2000


@dataclass(frozen=True)
class AnchorSpec:
    """Where a new comment points: ``kind`` and, by kind, the image's checksum or the account's id.

    ``quote`` is the passage (for text); ``start`` the offset where the reviewer selected it, a hint
    only: a quote typed by hand has none.
    """

    kind: str
    quote: str = ""
    media_checksum: str = ""
    account_id: int | None = None
    start: int | None = None


def anchor_parse(value: str) -> AnchorSpec:
    """Return the anchor a form's ``anchor`` field names: ``body``, ``media:<checksum>``, ``target:<account id>``."""
    kind, _sep, rest = (value or "").partition(":")
    if kind == AnchorKind.BODY and not rest:
        return AnchorSpec(kind=AnchorKind.BODY)
    if kind == AnchorKind.MEDIA and rest:
        return AnchorSpec(kind=AnchorKind.MEDIA, media_checksum=rest)
    if kind == AnchorKind.TARGET and rest.isdigit() and len(rest) < 12:
        return AnchorSpec(kind=AnchorKind.TARGET, account_id=int(rest))
    raise ValidationError({"anchor": _("Choose what the comment is about: the text, an image or an account's text.")})


def _text_clean(text: str, *, field: str, required: str) -> str:
    text = (text or "").strip()
    if text_problem(text):
        raise ValidationError({field: unstorable_error().messages})
    if not text:
        raise ValidationError({field: required})
    if len(text) > TEXT_MAX:
        raise ValidationError({field: _("Keep it under %(max)s characters.") % {"max": TEXT_MAX}})
    return text


def _content(post: Post) -> dict[str, Any]:
    return post.current_revision.content if post.current_revision is not None else {}


def _anchored_text(*, post: Post, anchor: AnchorSpec) -> str:
    """Return the current text the anchor's quote must stand in; raises ValidationError for a bad anchor."""
    content = _content(post)
    if anchor.kind == AnchorKind.BODY:
        return str(content.get("body") or "")
    for target in content.get("targets") or []:
        if target.get("account_id") == anchor.account_id and target.get("body_override"):
            return str(target["body_override"])
    raise ValidationError({"anchor": _("That account has no text of its own in this post.")})


@transaction.atomic
def comment_add(*, post: Post, actor: User, anchor: AnchorSpec, text: str, blocking: bool = False) -> ReviewComment:
    """Start a thread on a passage of the post's current text, an image or an account's own text; returns it.

    The quote must stand in the current revision (found as `approvals.anchors.anchor_locate`
    finds it later, the offset ``start`` deciding between repeats); the kept context is read from
    the text itself. Blocking comments are raised by reviewers only.
    """
    post = post_lock(post.pk)
    policy = CommentPolicy(actor)
    allowed = policy.actions(post)
    if COMMENT not in allowed:
        raise PermissionDenied(_("Only the post's reviewers comment on its content."))
    if blocking and MARK_BLOCKING not in allowed:
        raise PermissionDenied(_("Only the post's reviewers mark a comment as blocking."))
    text = _text_clean(text, field="text", required=_("Write what the comment says."))
    fields: dict[str, object] = {}
    if anchor.kind == AnchorKind.MEDIA:
        checksums = [item.get("checksum") for item in _content(post).get("media") or []]
        if anchor.media_checksum not in checksums:
            raise ValidationError({"anchor": _("That image is no longer in the post.")})
        fields = {"media_checksum": anchor.media_checksum}
    elif anchor.kind in (AnchorKind.BODY, AnchorKind.TARGET):
        quote = text_normalise(anchor.quote or "")
        if text_problem(quote):
            raise ValidationError({"quote": unstorable_error().messages})
        if not quote.strip():
            raise ValidationError({"quote": _("Select or paste the passage the comment is about.")})
        if len(quote) > QUOTE_MAX:
            raise ValidationError({"quote": _("Quote at most %(max)s characters.") % {"max": QUOTE_MAX}})
        source = _anchored_text(post=post, anchor=anchor)
        found = anchor_locate(source, quote=quote, hint=anchor.start or 0)
        if found is None:
            raise ValidationError({"quote": _("This passage is not in the post's current text; copy it exactly.")})
        fields = {
            "account_id": anchor.account_id if anchor.kind == AnchorKind.TARGET else None,
            "quote": found.quote,
            "prefix": found.prefix,
            "suffix": found.suffix,
            "start": found.start,
            "end": found.end,
        }
    else:
        raise ValidationError(
            {"anchor": _("Choose what the comment is about: the text, an image or an account's text.")}
        )
    assert post.current_revision is not None, "a saved post always has a revision"
    open_groups = tuple(run.stage.group_id for run in open_stage_runs(post=post))
    comment = ReviewComment(
        post=post,
        revision=post.current_revision,
        group_id=policy.group_for(post, open_group_ids=open_groups),
        anchor_kind=anchor.kind,
        text=text,
        blocking=blocking,
        author=actor,
        **fields,
    )
    comment.full_clean()
    comment.save()
    event_record(
        actor=actor,
        action="review.comment_added",
        obj=comment,
        content_hash=post.content_hash,
        changes={
            "post": post.pk,
            "revision": post.current_revision.number,
            "anchor": anchor.kind,
            "quote": comment.quote,
            "media": comment.media_checksum,
            "account": comment.account_id,
            "blocking": blocking,
            "text": text,
        },
    )
    return comment


def _comment_locked(*, comment: ReviewComment) -> tuple[Post, ReviewComment]:
    post = post_lock(comment.post_id)
    return post, row_lock(ReviewComment, comment.pk)


@transaction.atomic
def comment_reply(*, comment: ReviewComment, actor: User, text: str) -> ReviewCommentReply:
    """Answer a thread (reviewers and the post's editors); returns the reply."""
    post, comment = _comment_locked(comment=comment)
    if REPLY not in CommentPolicy(actor).comment_actions(comment, post):
        raise PermissionDenied(_("Only the post's reviewers and editors reply to its comments."))
    text = _text_clean(text, field="text", required=_("Write a reply."))
    reply = ReviewCommentReply(comment=comment, author=actor, text=text)
    reply.full_clean()
    reply.save()
    event_record(
        actor=actor,
        action="review.comment_replied",
        obj=comment,
        content_hash=post.content_hash,
        changes={"post": post.pk, "reply": reply.pk, "text": text},
    )
    return reply


@transaction.atomic
def comment_resolve(*, comment: ReviewComment, actor: User) -> ReviewComment:
    """Mark a thread resolved (its author, its review group, or an editor for one that does not block)."""
    post, comment = _comment_locked(comment=comment)
    if comment.resolved_at is not None:
        raise ValidationError(_("This comment is already resolved."), code="already_resolved")
    if RESOLVE not in CommentPolicy(actor).comment_actions(comment, post):
        raise PermissionDenied(
            _("A blocking comment is resolved by its author or a reviewer of its group.")
            if comment.blocking
            else _("You may not resolve this comment.")
        )
    comment.resolved_by, comment.resolved_at = actor, timezone.now()
    comment.save(update_fields=["resolved_by", "resolved_at"])
    event_record(
        actor=actor,
        action="review.comment_resolved",
        obj=comment,
        content_hash=post.content_hash,
        changes={"post": post.pk, "blocking": comment.blocking},
    )
    return comment


@transaction.atomic
def comment_reopen(*, comment: ReviewComment, actor: User) -> ReviewComment:
    """Open a resolved thread again (whoever may resolve it)."""
    post, comment = _comment_locked(comment=comment)
    if comment.resolved_at is None:
        raise ValidationError(_("This comment is open already."), code="already_open")
    if REOPEN not in CommentPolicy(actor).comment_actions(comment, post):
        raise PermissionDenied(_("You may not reopen this comment."))
    previous = comment.resolved_by_id
    comment.resolved_by, comment.resolved_at = None, None
    comment.save(update_fields=["resolved_by", "resolved_at"])
    event_record(
        actor=actor,
        action="review.comment_reopened",
        obj=comment,
        content_hash=post.content_hash,
        changes={"post": post.pk, "blocking": comment.blocking, "resolved_by": previous},
    )
    return comment


@transaction.atomic
def comment_blocking_set(*, comment: ReviewComment, actor: User, blocking: bool) -> ReviewComment:
    """Mark an open thread blocking or not (its author or a reviewer of its group)."""
    post, comment = _comment_locked(comment=comment)
    if MARK_BLOCKING not in CommentPolicy(actor).comment_actions(comment, post):
        raise PermissionDenied(_("Only the comment's author or a reviewer of its group marks it blocking."))
    if comment.blocking == blocking:
        return comment
    comment.blocking = blocking
    comment.save(update_fields=["blocking"])
    event_record(
        actor=actor,
        action="review.comment_blocking_set",
        obj=comment,
        content_hash=post.content_hash,
        changes={"post": post.pk, "blocking": [not blocking, blocking]},
    )
    return comment
