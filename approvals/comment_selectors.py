"""Reads of review comments: a post's threads, each anchored again in the post's current content.

Where a passage stands now is computed here, on read, from the current revision's snapshot
(`approvals.anchors.anchor_locate`): two queries for any number of threads (threads with their
people, replies with theirs), nothing stored that a new revision would make wrong.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from approvals.anchors import CHANGED, KEPT, MOVED, Segment, anchor_locate, text_normalise, text_segments
from approvals.models import AnchorKind, ReviewComment, ReviewCommentReply, StageRun
from approvals.policy import COMMENT, MARK_BLOCKING, REPLY, VIEW_COMMENTS, CommentPolicy
from people.models import User
from posts.models import Post


@dataclass(frozen=True)
class Thread:
    """One comment with its replies, where its anchor stands now and what the user may do with it."""

    comment: ReviewComment
    replies: list[ReviewCommentReply]
    status: str  # anchors.KEPT, MOVED or CHANGED
    start: int | None  # where its passage stands in the current text (None: changed, or an image)
    end: int | None
    actions: frozenset[str]
    target_label: str  # what it is anchored to, as people read it

    @property
    def is_open(self) -> bool:
        return self.comment.resolved_at is None

    @property
    def passage_changed(self) -> bool:
        return self.status == CHANGED


@dataclass(frozen=True)
class AnchorChoice:
    """One thing a new comment may point at, as the form's ``anchor`` field names it."""

    value: str
    label: str


@dataclass(frozen=True)
class TextSource:
    """A text reviewers select passages in: the post's text or one account's own text."""

    anchor: str
    label: str
    segments: list[Segment]


@dataclass
class ReviewComments:
    """What the comments panel shows of one post to one user."""

    post: Post
    threads: list[Thread]
    actions: frozenset[str]
    sources: list[TextSource] = field(default_factory=list)
    choices: list[AnchorChoice] = field(default_factory=list)
    stage_blocking: list[Thread] = field(default_factory=list)  # open blocking threads the current stage needs resolved
    stage_requires_resolution: bool = False

    @property
    def visible(self) -> bool:
        return VIEW_COMMENTS in self.actions

    @property
    def may_comment(self) -> bool:
        return COMMENT in self.actions

    @property
    def may_mark_blocking(self) -> bool:
        return MARK_BLOCKING in self.actions

    @property
    def may_reply(self) -> bool:
        return REPLY in self.actions

    @property
    def open_threads(self) -> list[Thread]:
        return [thread for thread in self.threads if thread.is_open]

    @property
    def resolved_threads(self) -> list[Thread]:
        return [thread for thread in self.threads if not thread.is_open]


def _threads_query(post: Post) -> list[ReviewComment]:
    return list(
        ReviewComment.objects.filter(post=post)
        .select_related("author", "resolved_by", "account", "group", "revision")
        # A thread names its revision's number; each revision's whole snapshot was read and decoded too.
        .defer("revision__content")
        .prefetch_related(
            Prefetch(
                "replies", queryset=ReviewCommentReply.objects.select_related("author").order_by("created_at", "pk")
            )
        )
        .order_by("created_at", "pk")
    )


def review_comments(
    *, user: User | AnonymousUser, post: Post, stage_run: StageRun | None = None, open_only: bool = False
) -> ReviewComments:
    """Return the post's threads for ``user``, each anchored in the current content; two queries for any number.

    With ``stage_run`` (the stage the user's decision form is for), also the open blocking threads
    that stage must see resolved before it approves.
    """
    policy = CommentPolicy(user)
    actions = policy.actions(post)
    if VIEW_COMMENTS not in actions:
        return ReviewComments(post=post, threads=[], actions=actions)
    content: dict[str, Any] = post.current_revision.content if post.current_revision is not None else {}
    body = text_normalise(str(content.get("body") or ""))
    overrides = {
        target.get("account_id"): text_normalise(str(target.get("body_override") or ""))
        for target in content.get("targets") or []
    }
    handles = {target.get("account_id"): target.get("handle") or "" for target in content.get("targets") or []}
    media = [str(item.get("checksum") or "") for item in content.get("media") or []]
    threads: list[Thread] = []
    for comment in _threads_query(post):
        if open_only and comment.resolved_at is not None:
            continue
        start: int | None = None
        end: int | None = None
        if comment.anchor_kind == AnchorKind.MEDIA:
            position = media.index(comment.media_checksum) + 1 if comment.media_checksum in media else 0
            status = KEPT if position else CHANGED
            label = _("Image %(n)s") % {"n": position} if position else _("An image since removed")
        else:
            source = body if comment.anchor_kind == AnchorKind.BODY else overrides.get(comment.account_id) or None
            found = None
            if source is not None:
                found = anchor_locate(
                    source, quote=comment.quote, prefix=comment.prefix, suffix=comment.suffix, hint=comment.start
                )
            if found is None:
                status = CHANGED
            else:
                start, end = found.start, found.end
                status = KEPT if (start, end) == (comment.start, comment.end) else MOVED
            if comment.anchor_kind == AnchorKind.BODY:
                label = _("Text")
            else:
                handle = handles.get(comment.account_id) or (comment.account.handle if comment.account else "")
                label = _("Text for @%(handle)s") % {"handle": handle.lstrip("@")}
        threads.append(
            Thread(
                comment=comment,
                replies=list(comment.replies.all()),
                status=status,
                start=start,
                end=end,
                actions=policy.comment_actions(comment, post),
                target_label=label,
            )
        )
    result = ReviewComments(post=post, threads=threads, actions=actions)
    marks = [
        (thread.comment.anchor_kind, thread.comment.account_id, thread.start, thread.end, thread.comment.pk)
        for thread in threads
        if thread.is_open and thread.start is not None and thread.end is not None
    ]
    result.sources = [
        TextSource(
            anchor=AnchorKind.BODY,
            label=_("Text"),
            segments=text_segments(body, [(s, e, i) for kind, _a, s, e, i in marks if kind == AnchorKind.BODY]),
        )
    ]
    for account_id, text in overrides.items():
        if text:
            ranges = [(s, e, i) for kind, a, s, e, i in marks if kind == AnchorKind.TARGET and a == account_id]
            result.sources.append(
                TextSource(
                    anchor=f"{AnchorKind.TARGET}:{account_id}",
                    label=_("Text for @%(handle)s") % {"handle": str(handles.get(account_id, "")).lstrip("@")},
                    segments=text_segments(text, ranges),
                )
            )
    result.choices = [AnchorChoice(value=source.anchor, label=source.label) for source in result.sources] + [
        AnchorChoice(value=f"{AnchorKind.MEDIA}:{checksum}", label=_("Image %(n)s") % {"n": position})
        for position, checksum in enumerate(media, start=1)
    ]
    if stage_run is not None and stage_run.stage.blocking_comments_resolved:
        result.stage_requires_resolution = True
        result.stage_blocking = [
            thread
            for thread in threads
            if thread.is_open and thread.comment.blocking and thread.comment.group_id == stage_run.stage.group_id
        ]
    return result
