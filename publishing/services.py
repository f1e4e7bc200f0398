"""Publishing: the publications of scheduled posts, the dispatcher's pass and the send tasks.

Each target account of a scheduled post gets one `Publication`. A dispatcher claims the
publications falling due within the lookahead by compare-and-set and deals them into one
`publications_send` task per worker; the task waits for each due time, re-checks every gate under
the row locks, marks the publications ``sent`` *before* calling the connectors, and records the
answers. A call whose outcome is unknown is looked up on the platform before any retry
(`publication_send`, the careful single path). docs/publishing.md explains the guarantees.
"""

import datetime as dt
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_q.tasks import async_task

from audit.models import AuditEvent
from audit.services import event_record
from audit.versions import version_of
from consent.gate import consent_records_load
from consent.models import ConsentRecord, ConsentState
from core.i18n import StoredMessage
from core.locks import Related, row_lock, rows_lock
from core.mail import mail_once
from core.site import site_url
from core.tasks import enqueue_after_commit
from people.models import User
from people.roles import COMMUNICATIONS_REVIEWER
from posts import services as post_services
from posts.content import SNAPSHOT_VERSION, content_hash, content_snapshot_of, snapshot_version
from posts.gates import post_consent_problems
from posts.locks import POST_RELATED, post_lock, posts_lock
from posts.models import Account, FeaturedPerson, Media, Post, PostStatus, PostTarget
from posts.models import Claim as MarkedClaim  # a claim in the text; `Claim` here is a claimed publication
from posts.platforms import compose_text
from posts.sendgates import send_gate_problems
from posts.signals import post_blocked
from posts.states import may_move
from publishing.connectors.base import (
    AccountRef,
    Connector,
    ConnectorError,
    MediaRef,
    Payload,
    PermanentError,
    Result,
    TransientError,
    UnknownOutcome,
)
from publishing.connectors.outbound import secrets_redact
from publishing.connectors.registry import connector_for
from publishing.models import AttemptOutcome, Publication, PublicationAttempt, TakedownCause, TakedownItem
from publishing.models import PublicationStatus as P
from publishing.policy import RETRY, RETRYABLE, PublishingPolicy
from publishing.takedowns import takedowns_for_review

logger = logging.getLogger(__name__)

# Messages stored on publications and attempts: written in English (`.english`) and kept so in the
# audit trail, shown in the reader's language (core.i18n.message_display). The gate's own reasons
# (`.shown`) are in the active language: English in the worker, the reader's in a request.
WORKER_STOPPED = StoredMessage(
    gettext_noop("The worker stopped during the call; the post is looked up before any retry.")
)
OUTCOME_UNKNOWN = StoredMessage(
    gettext_noop("The outcome of the last call is unknown; it is looked up before any retry.")
)
NOT_SENT_LATE = StoredMessage(
    gettext_noop("Not sent: %(minutes)s minutes late. Retry publishing, or withdraw the post.")
)
RATE_BUDGET_SPENT = StoredMessage(gettext_noop("Waiting: the rate budget of %(account)s is spent."))
LOOKUP_FAILED = StoredMessage(gettext_noop("Could not look the post up (%(error)s); trying again later."))
NOT_FOUND_AFTER_UNKNOWN = StoredMessage(
    gettext_noop("The outcome was unknown and the post was not found on the platform.")
)
POST_NOT_SCHEDULED = StoredMessage(gettext_noop("The post is “%(status)s”, not scheduled."))
CONTENT_CHANGED = StoredMessage(gettext_noop("The content is no longer the content the review chain approved."))
ACCOUNT_DISABLED = StoredMessage(gettext_noop("The account %(account)s is disabled."))

# The publication life cycle, as data. Claims (pending/retry_wait -> claimed) are taken by a
# compare-and-set UPDATE in `publications_claim_due`; every other move goes through
# `publication_transition`, which writes the audit event.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.CLAIMED, P.CANCELLED, P.OVERDUE}),
    P.CLAIMED: frozenset({P.SENT, P.PENDING, P.RETRY_WAIT, P.CONFIRMED, P.FAILED, P.BLOCKED, P.CANCELLED}),
    P.SENT: frozenset({P.CONFIRMED, P.RETRY_WAIT, P.FAILED}),
    P.RETRY_WAIT: frozenset({P.CLAIMED, P.PENDING, P.CANCELLED}),
    P.OVERDUE: frozenset({P.PENDING, P.CANCELLED}),
    P.FAILED: frozenset({P.PENDING}),
    P.BLOCKED: frozenset({P.PENDING}),
    P.CANCELLED: frozenset({P.PENDING}),
    P.CONFIRMED: frozenset(),
}
CLAIMABLE = frozenset({P.PENDING, P.RETRY_WAIT})
# Not yet handed to a platform: a post leaving the schedule takes these with it.
CANCELLABLE = frozenset({P.PENDING, P.CLAIMED, P.RETRY_WAIT, P.OVERDUE})
TERMINAL = frozenset({P.CONFIRMED, P.FAILED, P.CANCELLED, P.BLOCKED})
# What the Publishing page lists: people can act on these.
NEEDS_ATTENTION = (P.FAILED, P.BLOCKED, P.OVERDUE, P.RETRY_WAIT)

# Post states a publication may go out in (a partly published post may finish its other targets).
SENDABLE = frozenset({PostStatus.SCHEDULED, PostStatus.PARTIALLY_PUBLISHED})
# A post moving to one of these takes its publications off the line.
POST_STOPS = frozenset(
    {PostStatus.APPROVED, PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.BLOCKED, PostStatus.WITHDRAWN}
)
# Attempts that reached (or may have reached) a platform: they count against a rate budget.
CALLS = (AttemptOutcome.CONFIRMED, AttemptOutcome.TRANSIENT, AttemptOutcome.PERMANENT, AttemptOutcome.UNKNOWN)


@dataclass(frozen=True)
class Budget:
    """At most ``calls`` publish calls per account within ``window``."""

    calls: int
    window: dt.timedelta


# Known per-account budgets (Instagram Graph API: 50 posts / 24 h; TikTok: 6 init calls / minute).
# X answers 429 with x-rate-limit-reset, which the retry honours. ROUNDS_PUBLISH_BUDGETS
# ({platform: (calls, seconds)}) replaces this table.
BUDGETS: dict[str, Budget] = {
    "instagram": Budget(50, dt.timedelta(hours=24)),
    "tiktok": Budget(6, dt.timedelta(minutes=1)),
}


def budgets() -> dict[str, Budget]:
    configured = getattr(settings, "ROUNDS_PUBLISH_BUDGETS", None)
    if configured is None:
        return BUDGETS
    return {platform: Budget(calls, dt.timedelta(seconds=seconds)) for platform, (calls, seconds) in configured.items()}


def publication_key(publication: Publication) -> str:
    """Return the idempotency key sent with every call: the publication's own key and its content."""
    return f"rounds-{publication.key}-{publication.content_hash[:16]}"


# The one state move ---------------------------------------------------------------------------


def publication_transition(
    *,
    publication: Publication,
    to: str,
    actor: User | None = None,
    reason: str = "",
    fields: dict[str, Any] | None = None,
    audit: bool = True,
) -> Publication:
    """Move a locked publication to ``to`` with ``fields`` if the life cycle allows; writes the audit event.

    ``audit=False`` is for taking the in-flight lease (``sent``) only: like a claim it is a lease,
    and the audit chain's single lock must stay off the path to the call. Whatever that attempt
    ends in (confirmed, retry, failed, or the lease running out) is audited.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publication_transition must run inside a transaction")
    if to not in ALLOWED_MOVES[publication.status]:
        raise ValidationError(
            _("A publication cannot go from “%(old)s” to “%(new)s”."),
            code="invalid_transition",
            params={"old": P(publication.status).label, "new": P(to).label},
        )
    old = publication.status
    publication.status = to
    for name, value in (fields or {}).items():
        setattr(publication, name, value)
    publication.save(update_fields=["status", "updated_at", *(fields or {})])
    if not audit:
        return publication
    event_record(
        actor=actor,
        action="publication.status_changed",
        obj=publication,
        content_hash=publication.content_hash,
        changes={
            "status": [old, to],
            "reason": reason,
            "post": publication.post_id,
            "account": publication.account_id,
            **{name: value for name, value in (fields or {}).items() if name in {"external_id", "url", "last_error"}},
        },
    )
    return publication


_NO_LEASE: dict[str, Any] = {"lease_token": "", "lease_until": None}


# Following the post ---------------------------------------------------------------------------


def publications_follow_post(*, post: Post, old_status: str, actor: User | None) -> None:
    """Keep a locked post's publications in step with its new status.

    Scheduling opens one publication per target (or reopens a cancelled or blocked one);
    leaving the schedule (unschedule, withdraw, edit, block) cancels the ones not yet sent.
    """
    if post.status == PostStatus.SCHEDULED and old_status != PostStatus.SCHEDULED:
        publications_open(post=post, actor=actor)
    elif old_status == PostStatus.SCHEDULED and post.status in POST_STOPS:
        publications_cancel(post=post, actor=actor, reason=f"post {post.status}")


def publications_open(*, post: Post, actor: User | None) -> list[Publication]:
    """Give every target of a scheduled post a pending publication due at its time; returns them."""
    now = timezone.now()
    due = max(post.scheduled_at or now, now)
    locked = rows_lock(Publication.objects.filter(post=post).order_by("pk"), no_key=True)
    existing = {pub.account_id: pub for pub in locked}
    opened: list[Publication] = []
    for account_id in post.targets.order_by("account_id").values_list("account_id", flat=True):
        publication = existing.get(account_id)
        fields = {
            "due_at": due,
            "next_attempt_at": due,
            "content_hash": post.approved_hash,
            "last_error": "",
            **_NO_LEASE,
        }
        if publication is None:
            publication = Publication.objects.create(
                post=post,
                account_id=account_id,
                status=P.PENDING,
                attempt_limit=settings.ROUNDS_PUBLISH_MAX_ATTEMPTS,
                **fields,
            )
            event_record(
                actor=actor,
                action="publication.created",
                obj=publication,
                content_hash=publication.content_hash,
                changes={"post": post.pk, "account": account_id, "due_at": due},
            )
        elif publication.status in {P.CANCELLED, P.BLOCKED}:
            fields["attempt_limit"] = publication.attempts + settings.ROUNDS_PUBLISH_MAX_ATTEMPTS
            publication_transition(
                publication=publication, to=P.PENDING, actor=actor, reason="post scheduled", fields=fields
            )
        else:
            continue
        opened.append(publication)
    return opened


def publications_cancel(*, post: Post, actor: User | None, reason: str) -> int:
    """Cancel every publication of ``post`` not yet handed to a platform; returns how many."""
    publications = rows_lock(Publication.objects.filter(post=post, status__in=CANCELLABLE).order_by("pk"), no_key=True)
    count = 0
    for publication in publications:
        publication_transition(publication=publication, to=P.CANCELLED, actor=actor, reason=reason, fields=_NO_LEASE)
        count += 1
    return count


def publications_retime(*, post: Post, actor: User | None) -> int:
    """Move the waiting publications of a scheduled post to its new time; returns how many."""
    if post.status != PostStatus.SCHEDULED or post.scheduled_at is None:
        return 0
    due = post.scheduled_at
    count = 0
    waiting = {P.PENDING, P.RETRY_WAIT, P.OVERDUE, P.CLAIMED}
    for publication in rows_lock(Publication.objects.filter(post=post, status__in=waiting).order_by("pk"), no_key=True):
        fields = {"due_at": due, "next_attempt_at": due, **_NO_LEASE}
        if publication.status == P.PENDING:
            old = publication.due_at
            for name, value in fields.items():
                setattr(publication, name, value)
            publication.save(update_fields=[*fields, "updated_at"])
            event_record(
                actor=actor,
                action="publication.retimed",
                obj=publication,
                content_hash=publication.content_hash,
                changes={"due_at": [old, due]},
            )
        else:
            # A claim in progress is taken back: its worker's token no longer matches.
            publication_transition(
                publication=publication, to=P.PENDING, actor=actor, reason="post moved", fields=fields
            )
        count += 1
    return count


# The dispatcher's pass ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    publication_id: int
    token: str


def _lease(seconds: float, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=seconds)


def _cutoff(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=settings.ROUNDS_PUBLISH_CUTOFF_MINUTES)


def _claimable(now: dt.datetime, until: dt.datetime | None = None) -> QuerySet[Publication]:
    """Publications that may be claimed at ``now`` and fall due by ``until`` (default: now)."""
    # A first attempt past the cutoff is not sent: it waits for a person (publications_flag_overdue).
    return Publication.objects.filter(
        Q(status=P.RETRY_WAIT) | Q(status=P.PENDING, due_at__gte=_cutoff(now)), next_attempt_at__lte=until or now
    )


def publication_claim(*, publication_id: int, now: dt.datetime | None = None) -> str | None:
    """Claim one due publication by compare-and-set; returns the lease token, or None if another won."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    changed = (
        _claimable(now)
        .filter(pk=publication_id)
        .update(
            status=P.CLAIMED,
            lease_token=token,
            lease_until=_lease(settings.ROUNDS_PUBLISH_LEASE_SECONDS, now),
            updated_at=now,
        )
    )
    return token if changed == 1 else None


def publications_claim_due(
    *, now: dt.datetime | None = None, limit: int | None = None, lookahead: float | None = None
) -> list[Claim]:
    """Claim up to ``limit`` publications due within ``lookahead`` seconds for this caller alone.

    Compare-and-set: the UPDATE only touches rows still claimable, and only rows carrying this
    call's token are ours. On PostgreSQL the candidates are locked with SKIP LOCKED, so several
    dispatchers split the work instead of queueing behind each other. Claiming a little ahead
    (ROUNDS_PUBLISH_LOOKAHEAD_SECONDS) puts the work in a worker's hands before the due second;
    the worker waits for it and checks every gate then (`publications_send`).
    """
    now = now or timezone.now()
    limit = limit or settings.ROUNDS_PUBLISH_BATCH
    ahead = settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS if lookahead is None else lookahead
    until = now + dt.timedelta(seconds=ahead)
    if not _claimable(now, until).exists():  # the idle pass stays read-only (SQLite locks per transaction)
        return []
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = _claimable(now, until).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, no_key=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        _claimable(now, until).filter(pk__in=ids).update(
            status=P.CLAIMED,
            lease_token=token,
            lease_until=_lease(ahead + settings.ROUNDS_PUBLISH_LEASE_SECONDS, now),
            updated_at=now,
        )
        won = list(
            Publication.objects.filter(pk__in=ids, status=P.CLAIMED, lease_token=token)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)
        )
    return [Claim(publication_id=pk, token=token) for pk in won]


def publications_recover(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Take back leases that ran out; returns how many.

    A claim no worker took goes back in line (nothing was sent). A call in flight whose lease ran
    out (the worker died) waits for a retry, which looks the post up on the platform first.
    """
    now = now or timezone.now()
    count = 0
    stale = Publication.objects.filter(status__in=[P.CLAIMED, P.SENT], lease_until__lt=now)
    for pk in list(stale.order_by("lease_until").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            publication = Publication.objects.select_for_update(no_key=True).get(pk=pk)
            if publication.status not in {P.CLAIMED, P.SENT} or not publication.lease_until:
                continue
            if publication.lease_until >= now:
                continue
            if publication.status == P.SENT:
                # The call started when the publication was marked sent, a full lease ago; its
                # worker died without an answer. The attempt log keeps it, and the time of the call
                # is what `published_at` records if the lookup finds the post.
                _attempt(
                    publication,
                    outcome=AttemptOutcome.UNKNOWN,
                    started=publication.lease_until - dt.timedelta(seconds=settings.ROUNDS_PUBLISH_SENT_LEASE_SECONDS),
                    error=WORKER_STOPPED.english(),
                )
                publication_transition(
                    publication=publication,
                    to=P.RETRY_WAIT,
                    reason="lease expired during the call",
                    fields={
                        "next_attempt_at": now,
                        "last_error": OUTCOME_UNKNOWN.english(),
                        **_NO_LEASE,
                    },
                )
            else:
                _claim_return(publication, reason="claim expired before a worker took it")
            count += 1
    return count


def _claim_return(publication: Publication, *, reason: str) -> None:
    # Nothing was sent. A first attempt goes back to pending, where the overdue cutoff applies again.
    publication_transition(
        publication=publication, to=P.RETRY_WAIT if publication.attempts else P.PENDING, reason=reason, fields=_NO_LEASE
    )


def claims_touch(*, publication_ids: list[int], token: str, now: dt.datetime | None = None) -> int:
    """Renew the lease of the claims this token still holds (a worker's heartbeat); returns how many.

    A started worker holds its claims for ROUNDS_PUBLISH_CLAIM_STALE_SECONDS at a time, so the
    claims of a worker that died come back within seconds. Rows locked at this moment (being
    marked sent) are skipped: they are leaving the claim.
    """
    now = now or timezone.now()
    mine = Publication.objects.filter(pk__in=publication_ids, status=P.CLAIMED, lease_token=token)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(mine.select_for_update(skip_locked=True, no_key=True).values_list("pk", flat=True))
        else:
            ids = list(mine.values_list("pk", flat=True))
        if not ids:
            return 0
        return Publication.objects.filter(pk__in=ids, status=P.CLAIMED, lease_token=token).update(
            lease_until=_lease(settings.ROUNDS_PUBLISH_CLAIM_STALE_SECONDS, now)
        )


class _Heartbeat:
    """Renew a task's claims at most every ROUNDS_PUBLISH_HEARTBEAT_SECONDS, when called."""

    def __init__(self, publication_ids: list[int], token: str) -> None:
        self.publication_ids = publication_ids
        self.token = token
        self.last = -float("inf")

    def __call__(self, *, force: bool = False) -> None:
        clock = time.monotonic()
        if not force and clock - self.last < settings.ROUNDS_PUBLISH_HEARTBEAT_SECONDS:
            return
        self.last = clock
        if self.publication_ids:
            claims_touch(publication_ids=self.publication_ids, token=self.token)


class Beat(Protocol):
    """The dispatcher's heartbeat: called while waiting and sending (``force`` beats now)."""

    def __call__(self, *, force: bool = False) -> None: ...


def _no_beat(*, force: bool = False) -> None:
    return None


def publications_flag_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Mark first attempts more than the cutoff late as overdue (a person decides); returns how many."""
    now = now or timezone.now()
    cutoff = _cutoff(now)
    count = 0
    late = Publication.objects.filter(status=P.PENDING, due_at__lt=cutoff).order_by("due_at")
    for pk in list(late.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            publication = Publication.objects.select_for_update(no_key=True).get(pk=pk)
            if publication.status != P.PENDING or publication.due_at >= cutoff:
                continue
            minutes = int((now - publication.due_at).total_seconds() // 60)
            publication_transition(
                publication=publication,
                to=P.OVERDUE,
                reason="past the cutoff",
                fields={"last_error": NOT_SENT_LATE.english(minutes=minutes)},
            )
            count += 1
    return count


def _enqueue(publication_ids: list[int], token: str) -> None:
    # Successful sends are recorded on the publications; django-q need not keep them too.
    async_task(
        "publishing.services.publications_send",
        publication_ids,
        token,
        q_options={"save": False, "task_name": f"publish-{publication_ids[0]}-{len(publication_ids)}"},
    )


def _split(claims: list[Claim], parts: int) -> list[list[Claim]]:
    """Deal the claims (in due order) round-robin into at most ``parts`` tasks, none over the task size."""
    size = settings.ROUNDS_PUBLISH_TASK_SIZE
    count = max(1, min(len(claims), max(parts, -(-len(claims) // size))))
    return [chunk for chunk in (claims[n::count] for n in range(count)) if chunk]


def dispatch_once(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One pass: recover expired leases, flag overdue ones, claim due ones and queue their sends.

    The dispatcher command runs this every ROUNDS_DISPATCHER_INTERVAL seconds; the
    "publish-safety-net" schedule runs it every minute in case the dispatcher is down.
    """
    now = now or timezone.now()
    recovered = publications_recover(now=now)
    overdue = publications_flag_overdue(now=now)
    claims = publications_claim_due(now=now)
    # One task per worker, so that every worker holds its share when the due second comes.
    for chunk in _split(claims, settings.ROUNDS_PUBLISH_TASKS_PER_PASS):
        transaction.on_commit(partial(_enqueue, [claim.publication_id for claim in chunk], chunk[0].token))
    return {"recovered": recovered, "overdue": overdue, "claimed": len(claims)}


# Gates ----------------------------------------------------------------------------------------


def publication_gate_problems(
    *,
    publication: Publication,
    post: Post,
    account: Account,
    now: dt.datetime,
    post_states: Iterable[str] = SENDABLE,
    consent_records: dict[int, ConsentRecord] | None = None,
    gate_problems: list[str] | None = None,
) -> list[str]:
    """Return why ``publication`` may not go out now: schedule, approved content, consent, account.

    ``consent_records``: preloaded by `consent_records_load` when a batch is checked at once;
    ``gate_problems``: the registered gates' answer for the post (`posts.sendgates`), likewise.
    """
    problems: list[str] = []
    if post.status not in set(post_states):
        problems.append(POST_NOT_SCHEDULED.shown(status=PostStatus(post.status).label))
    approved = post.approved_hash
    # Recomputed from the live rows (title and campaign purpose too), in the format of the revision
    # it is compared with (posts.content): what would be sent is exactly what was approved.
    content = _content_of(post)
    revision = post.current_revision
    version = snapshot_version(revision.content) if revision is not None else SNAPSHOT_VERSION
    live = content_hash(
        content_snapshot_of(
            post=post,
            targets=content.targets,
            media=content.media,
            featured=content.featured,
            claims=content.claims,
            version=version,
        )
    )
    if not approved or len({approved, post.content_hash, publication.content_hash, live}) != 1:
        problems.append(CONTENT_CHANGED.shown())
    consent = post_consent_problems(
        post=post, at=now, records=consent_records, featured=content.featured, targets=content.targets
    )
    problems.extend(problem.message for problem in consent)
    if not account.active:
        problems.append(ACCOUNT_DISABLED.shown(account=account))
    if gate_problems is None:  # the gates of the apps above posts (the approval's validity)
        gate_problems = send_gate_problems(posts=[post], at=now)[post.pk]
    problems.extend(gate_problems)
    return problems


def budget_wait(*, account: Account, now: dt.datetime) -> float | None:
    """Return the seconds until the account's rate budget allows another call, None if it does now."""
    budget = budgets().get(account.platform)
    if budget is None:
        return None
    since = now - budget.window
    used = PublicationAttempt.objects.filter(
        publication__account=account, started_at__gte=since, outcome__in=CALLS
    ).aggregate(calls=Count("pk"), oldest=Min("started_at"))
    in_flight = Publication.objects.filter(account=account, status=P.SENT).count()
    if used["calls"] + in_flight < budget.calls:
        return None
    oldest: dt.datetime | None = used["oldest"]
    if oldest is None:
        return 5.0  # only calls in flight: look again shortly
    return max(1.0, (oldest + budget.window - now).total_seconds())


# The send task --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    publication_id: int
    token: str
    key: str
    account: AccountRef
    connector: Connector
    payload: Payload | None  # None: look the post up before publishing again


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(
        platform=account.platform,
        handle=account.handle,
        credentials=dict(account.credentials or {}),
        settings={"name": account.name, "time_zone": account.time_zone},
    )


def _payload(*, post: Post, account: Account) -> Payload:
    """Return what goes to ``account``: the post's current revision, which the gates just matched to the approval.

    Every part is read from the revision's snapshot, none from the live post; only the media
    files' paths come from the media rows, whose checksums (in the snapshot) the gate compared.
    """
    revision = post.current_revision
    assert revision is not None, "a post that passed the send gate has an approved revision"
    snapshot = revision.content
    target = next(target for target in snapshot["targets"] if target["account_id"] == account.pk)
    files = _content_of(post).media
    media = tuple(
        MediaRef(path=item.file.path, alt_text=shot["alt_text"], kind=shot["kind"])
        for item, shot in zip(files, snapshot["media"], strict=True)
    )
    link, hashtags = snapshot["link"], snapshot["hashtags"]
    return Payload(
        text=compose_text(
            body=target["body_override"] or snapshot["body"], link=link, hashtags=hashtags, platform=account.platform
        ),
        link=link,
        # A revision made before the title was content (snapshot format 1) does not hold it.
        title=snapshot.get("title", post.title),
        hashtags=tuple(hashtags),
        media=media,
        language=snapshot["language"],
    )


def _attempt(
    publication: Publication,
    *,
    outcome: str,
    started: dt.datetime,
    duration_ms: int = 0,
    error: str = "",
    excerpt: str = "",
) -> None:
    PublicationAttempt.objects.create(
        publication=publication,
        started_at=started,
        duration_ms=duration_ms,
        outcome=outcome,
        error=error[:5000],
        response_excerpt=excerpt[:500],
    )


def _backoff(*, attempts: int, retry_after: float | None) -> float:
    base = settings.ROUNDS_PUBLISH_BACKOFF_SECONDS * (2 ** max(0, attempts - 1))
    delay: float = min(settings.ROUNDS_PUBLISH_BACKOFF_MAX_SECONDS, base) * random.uniform(0.5, 1.0)  # noqa: S311  (jitter)
    return max(delay, retry_after or 0.0)


def _block(*, publication: Publication, post: Post, problems: list[str], now: dt.datetime) -> None:
    _block_publication(publication=publication, problems=problems, now=now)
    _block_post(post=post, reason=" ".join(problems))


def _block_publication(*, publication: Publication, problems: list[str], now: dt.datetime) -> None:
    """Block one locked claim whose gates failed; the post's own move is `_block_post`."""
    reason = " ".join(problems)
    publication_transition(
        publication=publication,
        to=P.BLOCKED,
        reason="gate failed at send time",
        fields={"last_error": reason, **_NO_LEASE},
    )
    _attempt(publication, outcome=AttemptOutcome.BLOCKED, started=now, error=reason)


def _block_post(*, post: Post, reason: str) -> None:
    """Block a locked scheduled post (which cancels its publications not yet sent), or settle one off the schedule."""
    if post.status == PostStatus.SCHEDULED:
        post_services.post_transition(post=post, to=PostStatus.BLOCKED, actor=None, reason=reason)
        post_blocked.send(sender=Post, post=post, actor=None, reason=reason)
        post_services.post_blocked_mail_queue(post=post, reason=reason)
    else:
        post_settle(post=post)  # a post that left the schedule may be live through its other targets


def _fail(
    *, publication: Publication, post: Post, reason: str, message: str, fields: dict[str, Any] | None = None
) -> None:
    publication_transition(
        publication=publication,
        to=P.FAILED,
        reason=reason,
        fields={"last_error": message, **_NO_LEASE, **(fields or {})},
    )
    # The failure's audit event names it: a publication retried and failing again is mailed again.
    event = version_of(model=Publication, pk=publication.pk)
    post_settle(post=post)
    enqueue_after_commit("publishing.services.publication_failed_notify", publication_id=publication.pk, event=event)


@dataclass(frozen=True)
class _Content:
    """A post's targets (with their accounts), media in order, featured people and claims, as loaded."""

    targets: list[PostTarget]
    media: list[Media]
    featured: list[FeaturedPerson]
    claims: list[MarkedClaim]


def _post_related(*, with_content: bool = True) -> Related:
    """What to read with a locked post: also what the gates and the payload read when ``with_content``."""
    if not with_content:
        return POST_RELATED
    targets = PostTarget.objects.select_related("account").defer("account__credentials")
    return (
        *POST_RELATED,
        Prefetch("targets", queryset=targets, to_attr="loaded_targets"),
        Prefetch("media", queryset=Media.objects.order_by("position", "pk"), to_attr="loaded_media"),
        Prefetch("featured_people", to_attr="loaded_featured"),
        Prefetch("claims", to_attr="loaded_claims"),
    )


def _content_of(post: Post) -> _Content:
    """Return what `_post_related` loaded with ``post`` (plain lists), or load it now."""
    loaded = vars(post)
    if "loaded_targets" in loaded:
        return _Content(
            loaded["loaded_targets"], loaded["loaded_media"], loaded["loaded_featured"], loaded["loaded_claims"]
        )
    return _Content(
        targets=list(post.targets.select_related("account")),
        media=list(post.media.order_by("position", "pk")),
        featured=list(post.featured_people.all()),
        claims=list(post.claims.all()),
    )


def _locked(publication_id: int, *, with_content: bool = True) -> tuple[Post, Account, Publication] | None:
    """Lock post, account and publication, always in this order; None if the publication is gone.

    ``with_content`` loads what the gates and the payload read (targets, media, featured people).
    """
    ids = Publication.objects.filter(pk=publication_id).values_list("post_id", "account_id").first()
    if ids is None:
        return None
    post = post_lock(ids[0], related=_post_related(with_content=with_content), no_key=True)
    account = row_lock(Account, ids[1], no_key=True)
    publication = row_lock(Publication, publication_id, no_key=True)
    publication.post = post  # the audit event names them; no second load
    publication.account = account
    return post, account, publication


@transaction.atomic
def _prepare(*, publication_id: int, token: str, looked_up: bool) -> _Job | str:
    """Check the claim and every gate under the row locks; mark ``sent`` and return the job."""
    now = timezone.now()
    locked = _locked(publication_id)
    if locked is None:
        return "gone"
    post, account, publication = locked
    return _admit(publication=publication, post=post, account=account, token=token, now=now, looked_up=looked_up)


def _admit(
    *,
    publication: Publication,
    post: Post,
    account: Account,
    token: str,
    now: dt.datetime,
    looked_up: bool,
    consent_records: dict[int, ConsentRecord] | None = None,
    mark_sent: bool = True,
    problems: list[str] | None = None,
) -> _Job | str:
    """Decide on one locked claim: block, fail, wait, or mark it ``sent`` and return its job.

    ``mark_sent=False``: the caller marks the admitted claims ``sent`` itself, all in one UPDATE,
    in the same transaction and before any call. ``problems``: the gates, already checked by the
    caller under the same locks.
    """
    # The token is the compare-and-set: a claim taken back or won by another worker is not ours.
    if publication.status != P.CLAIMED or publication.lease_token != token:
        return "stale"
    if problems is None:
        problems = publication_gate_problems(
            publication=publication, post=post, account=account, now=now, consent_records=consent_records
        )
    if problems:
        _block(publication=publication, post=post, problems=problems, now=now)
        return "blocked"
    try:
        connector = connector_for(connector=account.connector, platform=account.platform)
    except PermanentError as error:
        _fail(publication=publication, post=post, reason="no connector", message=error.message)
        return "failed"
    wait = budget_wait(account=account, now=now)
    if wait is not None:
        publication_transition(
            publication=publication,
            to=P.RETRY_WAIT,
            reason="rate budget spent",
            fields={
                "next_attempt_at": now + dt.timedelta(seconds=wait),
                "last_error": RATE_BUDGET_SPENT.english(account=account),
                **_NO_LEASE,
            },
        )
        return "waiting"
    job = _Job(
        publication_id=publication.pk,
        token=token,
        key=publication_key(publication),
        account=_account_ref(account),
        connector=connector,
        payload=None,
    )
    if publication.attempts and not looked_up:
        return job
    payload = _payload(post=post, account=account)
    if mark_sent:
        # Sent before the call: a crash from here on leaves "sent", which is reconciled, never re-sent blindly.
        publication_transition(
            publication=publication,
            to=P.SENT,
            reason="calling the connector",
            fields={
                "attempts": publication.attempts + 1,
                "lease_until": _lease(settings.ROUNDS_PUBLISH_SENT_LEASE_SECONDS, now),
            },
            audit=False,
        )
    return replace(job, payload=payload)


@transaction.atomic
def _settle(
    *,
    job: _Job,
    expect: str,
    outcome: str,
    started: dt.datetime,
    duration_ms: int,
    result: Result | None = None,
    error: ConnectorError | None = None,
    message: str = "",
) -> str:
    """Record one attempt's outcome and move the publication on; returns its new status."""
    now = timezone.now()
    locked = _locked(job.publication_id, with_content=False)
    if locked is None:
        return "gone"
    post, _account, publication = locked
    # What the platform echoed back is kept as proof, but never a credential it echoed with it.
    secrets = job.account.credentials
    answer = result.response_excerpt if result else error.response_excerpt if error else ""
    excerpt = secrets_redact(answer, credentials=secrets)
    text = secrets_redact(message or (error.message if error else ""), credentials=secrets)
    _attempt(publication, outcome=outcome, started=started, duration_ms=duration_ms, error=text, excerpt=excerpt)
    if publication.status != expect or publication.lease_token != job.token:
        # A late answer: the lease ran out and the publication moved on. The attempt stays on
        # record; a retry looks the post up before calling again.
        logger.warning("late outcome %s for publication %s", outcome, publication.pk)
        return "late"
    if result is not None:
        publication_transition(
            publication=publication,
            to=P.CONFIRMED,
            reason="found on the platform" if outcome == AttemptOutcome.RECONCILED else "published",
            fields={
                "external_id": result.external_id[:500],
                "url": result.url[:2000],
                "published_at": _published_at(publication, result=result, outcome=outcome, started=started, now=now),
                "last_error": "",
                **_NO_LEASE,
            },
        )
        post_settle(post=post)
        return P.CONFIRMED
    if outcome == AttemptOutcome.UNKNOWN:
        return P.SENT  # stays sent; the caller looks it up now, the recovery later
    attempts = publication.attempts + (1 if expect == P.CLAIMED else 0)
    if outcome == AttemptOutcome.PERMANENT or attempts >= publication.attempt_limit:
        _fail(publication=publication, post=post, reason=outcome, message=text, fields={"attempts": attempts})
        return P.FAILED
    retry_after = error.retry_after if isinstance(error, TransientError) else None
    delay = _backoff(attempts=attempts, retry_after=retry_after)
    publication_transition(
        publication=publication,
        to=P.RETRY_WAIT,
        reason=outcome,
        fields={
            "attempts": attempts,
            "next_attempt_at": now + dt.timedelta(seconds=delay),
            "last_error": text,
            **_NO_LEASE,
        },
    )
    return P.RETRY_WAIT


def _published_at(
    publication: Publication, *, result: Result, outcome: str, started: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """When the post went live: the platform's time if it gave one, else the start of the call that made it.

    A post found by a lookup was made by the last call on record (its answer was lost, or its
    worker died: `publications_recover` records that call); the lookup's own time is never used.
    """
    if result.published_at is not None:
        return result.published_at
    if outcome != AttemptOutcome.RECONCILED:
        return started
    last_call = (
        PublicationAttempt.objects.filter(publication=publication, outcome__in=CALLS)
        .order_by("-started_at", "-pk")
        .values_list("started_at", flat=True)
        .first()
    )
    return last_call or now


def _timed_lookup(job: _Job) -> tuple[Result | None, ConnectorError | None, dt.datetime, int]:
    started = timezone.now()
    clock = time.monotonic()
    try:
        found = job.connector.lookup(account=job.account, key=job.key)
    except ConnectorError as error:
        return None, error, started, int((time.monotonic() - clock) * 1000)
    return found, None, started, int((time.monotonic() - clock) * 1000)


def _reconcile(job: _Job, *, expect: str) -> str | None:
    """Look the post up; returns the new status if that settled it, None if it is not there."""
    found, error, started, duration = _timed_lookup(job)
    if found is not None:
        return _settle(
            job=job,
            expect=expect,
            outcome=AttemptOutcome.RECONCILED,
            started=started,
            duration_ms=duration,
            result=found,
        )
    if error is not None:
        return _settle(
            job=job,
            expect=expect,
            outcome=AttemptOutcome.TRANSIENT,
            started=started,
            duration_ms=duration,
            error=error,
            message=LOOKUP_FAILED.english(error=error.message),
        )
    return None


def publication_send(publication_id: int, token: str) -> str:
    """Task: publish one claimed publication at most once, if every gate passes; returns what happened."""
    prepared = _prepare(publication_id=publication_id, token=token, looked_up=False)
    if isinstance(prepared, str):
        return prepared
    if prepared.payload is None:
        # An earlier call may have gone out: look before publishing again, never re-send blindly.
        settled = _reconcile(prepared, expect=P.CLAIMED)
        if settled is not None:
            return settled
        prepared = _prepare(publication_id=publication_id, token=token, looked_up=True)
        if isinstance(prepared, str):
            return prepared
    assert prepared.payload is not None
    return _call(prepared, prepared.payload)


@dataclass(frozen=True)
class _Answer:
    """What one connector call came back with."""

    job: _Job
    outcome: str
    started: dt.datetime
    duration_ms: int
    result: Result | None = None
    error: ConnectorError | None = None


def _publish(job: _Job, payload: Payload) -> _Answer:
    """Call the connector once; never touches the database, so it may run in a thread."""
    started = timezone.now()
    clock = time.monotonic()
    result: Result | None = None
    error: ConnectorError | None = None
    try:
        result = job.connector.publish(account=job.account, payload=payload, key=job.key)
        outcome = AttemptOutcome.CONFIRMED
    except TransientError as caught:
        error, outcome = caught, AttemptOutcome.TRANSIENT
    except PermanentError as caught:
        error, outcome = caught, AttemptOutcome.PERMANENT
    except UnknownOutcome as caught:
        error, outcome = caught, AttemptOutcome.UNKNOWN
    except Exception as caught:
        # A connector bug may strike before or after the request left: treat it as unknown.
        logger.exception("connector failed on publication %s", job.publication_id)
        error, outcome = UnknownOutcome(repr(caught)), AttemptOutcome.UNKNOWN
    duration = int((time.monotonic() - clock) * 1000)
    return _Answer(job=job, outcome=outcome, started=started, duration_ms=duration, result=result, error=error)


def _call(job: _Job, payload: Payload) -> str:
    return _record(_publish(job, payload))


def _record(answer: _Answer) -> str:
    """Record a call's outcome; an unknown outcome is looked up on the platform at once."""
    job, outcome = answer.job, answer.outcome
    status = _settle(
        job=job,
        expect=P.SENT,
        outcome=outcome,
        started=answer.started,
        duration_ms=answer.duration_ms,
        result=answer.result,
        error=answer.error,
    )
    if outcome != AttemptOutcome.UNKNOWN or status != P.SENT:
        return status
    settled = _reconcile(job, expect=P.SENT)
    if settled is not None:
        return settled
    not_found = TransientError(NOT_FOUND_AFTER_UNKNOWN.english())
    return _settle(
        job=job,
        expect=P.SENT,
        outcome=AttemptOutcome.TRANSIENT,
        started=timezone.now(),
        duration_ms=0,
        error=not_found,
    )


# The batch task -------------------------------------------------------------------------------

# Claims falling due within this of the first one in a group go out together, at the latest one's time.
_GROUP_WINDOW = dt.timedelta(milliseconds=50)


def publications_send(publication_ids: list[int], token: str) -> dict[str, int]:
    """Task: send a dispatcher's batch of claims, each at its due time; returns what happened, counted.

    The claims falling due together are checked together under their row locks (every gate,
    exactly as `publication_send` checks one), marked ``sent``, and their connector calls made in
    parallel threads (ROUNDS_PUBLISH_CONCURRENCY); each answer is recorded as it comes. A claim
    whose earlier call may have gone out takes the careful path of `publication_send`: look the
    post up before publishing again.
    """
    report: Counter[str] = Counter()
    waiting = list(
        Publication.objects.filter(pk__in=publication_ids, status=P.CLAIMED, lease_token=token)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "next_attempt_at", "attempts")
    )
    report["stale"] += len(set(publication_ids)) - len(waiting)
    # The worker has started: from now on its heartbeat keeps the claims it has not reached yet.
    beat = _Heartbeat([row[0] for row in waiting], token)
    beat(force=True)
    while waiting:
        if not _wait_until(waiting[0][1], beat=beat):
            report["released"] += publications_release(publication_ids=[row[0] for row in waiting], token=token)
            break
        horizon = timezone.now() + _GROUP_WINDOW
        group = [row for row in waiting if row[1] <= horizon]
        waiting = waiting[len(group) :]
        beat.publication_ids = [row[0] for row in waiting]
        # The group goes out together, but never before the latest of its due times.
        _wait_until(group[-1][1], beat=beat)
        report.update(_send_group([pk for pk, _due, attempts in group if not attempts], token, beat=beat))
        for pk in (pk for pk, _due, attempts in group if attempts):
            report[publication_send(pk, token)] += 1
            beat()
    return {name: count for name, count in report.items() if count}


# How much longer than planned a worker waits for the clock to reach a due time.
_CLOCK_GRACE_SECONDS = 5.0


def _wait_until(when: dt.datetime, *, beat: Beat = _no_beat) -> bool:
    """Sleep until the clock reads ``when``, beating; False if it does not get there in time (a stopped clock)."""
    limit = time.monotonic() + max(0.0, (when - timezone.now()).total_seconds()) + _CLOCK_GRACE_SECONDS
    while (left := (when - timezone.now()).total_seconds()) > 0:
        if time.monotonic() > limit:
            return False
        beat()
        time.sleep(min(left, 0.25))
    return True


def publications_release(*, publication_ids: list[int], token: str) -> int:
    """Give claims this token holds back to the line (nothing was sent); returns how many."""
    count = 0
    for pk in publication_ids:
        with transaction.atomic():
            publication = Publication.objects.select_for_update(no_key=True).filter(pk=pk).first()
            if publication is None or publication.status != P.CLAIMED or publication.lease_token != token:
                continue
            _claim_return(publication, reason="claim released by its worker")
            count += 1
    return count


def _send_group(publication_ids: list[int], token: str, *, beat: Beat = _no_beat) -> Counter[str]:
    """Check, mark and call a group of first attempts, a slice at a time; then record the answers.

    Each slice (ROUNDS_PUBLISH_SLICE claims) is checked and marked ``sent`` in its own transaction
    and its calls start at once, while the next slice is checked; the answers are recorded when
    every call of the group has its answer, so recording never holds back a call.
    """
    report: Counter[str] = Counter()
    if not publication_ids:
        return report
    size = max(1, settings.ROUNDS_PUBLISH_SLICE)
    threads = max(1, min(len(publication_ids), settings.ROUNDS_PUBLISH_CONCURRENCY))
    careful: list[int] = []
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rounds-publish") as pool:
        calls = []
        for start in range(0, len(publication_ids), size):
            for admitted in _prepare_group(publication_ids=publication_ids[start : start + size], token=token):
                if isinstance(admitted, str):
                    report[admitted] += 1
                elif admitted.payload is None:  # not reached for first attempts; the careful path if ever
                    careful.append(admitted.publication_id)
                else:
                    calls.append(pool.submit(_publish, admitted, admitted.payload))
            beat()
        # Recording takes the database and the interpreter: it waits until every call is answered.
        # Meanwhile the heartbeat keeps the claims of later due times.
        pending = set(calls)
        while pending:
            pending = wait(pending, timeout=settings.ROUNDS_PUBLISH_HEARTBEAT_SECONDS).not_done
            beat()
        for call in calls:
            report[_record(call.result())] += 1
            beat()
    for pk in careful:
        report[publication_send(pk, token)] += 1
        beat()
    return report


@transaction.atomic
def _prepare_group(*, publication_ids: list[int], token: str) -> list[_Job | str]:
    """Lock posts, accounts and publications of a group (in that order, by id) and admit each claim."""
    now = timezone.now()
    ids = Publication.objects.filter(pk__in=publication_ids).values_list("post_id", "account_id")
    post_ids = sorted({post_id for post_id, _account_id in ids})
    account_ids = sorted({account_id for _post_id, account_id in ids})
    posts = {post.pk: post for post in posts_lock(post_ids, related=_post_related(), no_key=True)}
    # Only an account with a rate budget is locked: its calls are counted one claim at a time.
    # Reading "active" needs no lock: a disabling that commits after this read comes after the send.
    budgeted = set(budgets())
    accounts = {account.pk: account for account in Account.objects.filter(pk__in=account_ids)}
    locked = [pk for pk in account_ids if accounts[pk].platform in budgeted]
    if locked:
        accounts.update({a.pk: a for a in rows_lock(Account.objects.filter(pk__in=locked).order_by("pk"), no_key=True)})
    publications = rows_lock(Publication.objects.filter(pk__in=publication_ids).order_by("pk"), no_key=True)
    records = consent_records_load(
        person.consent_id for post in posts.values() for person in _content_of(post).featured if person.consent_id
    )
    by_post: dict[int, list[Publication]] = {}
    for publication in publications:
        publication.post = posts[publication.post_id]  # the audit events name them; no second load
        publication.account = accounts[publication.account_id]
        by_post.setdefault(publication.post_id, []).append(publication)
    gates = send_gate_problems(posts=list(posts.values()), at=now)
    decided: dict[int, _Job | str] = {}
    for post_id, claims in by_post.items():
        decided.update(
            _decide_post(
                post=posts[post_id], claims=claims, token=token, now=now, records=records, gates=gates[post_id]
            )
        )
    admitted = [decided[publication.pk] for publication in publications]
    sending = [job.publication_id for job in admitted if isinstance(job, _Job) and job.payload is not None]
    if sending:
        # Every admitted claim is a first attempt (`publications_send` sends only those this way).
        marked = Publication.objects.filter(pk__in=sending, status=P.CLAIMED, lease_token=token, attempts=0).update(
            status=P.SENT,
            attempts=1,
            lease_until=_lease(settings.ROUNDS_PUBLISH_SENT_LEASE_SECONDS, now),
            updated_at=now,
        )
        if marked != len(sending):  # the rows are locked: cannot happen, and must not go unnoticed
            raise RuntimeError(f"marked {marked} of {len(sending)} publications sent")
    return admitted


def _decide_post(
    *,
    post: Post,
    claims: list[Publication],
    token: str,
    now: dt.datetime,
    records: dict[int, ConsentRecord],
    gates: list[str] | None = None,
) -> dict[int, _Job | str]:
    """Decide on the locked claims of one post in a batch, all from one look at its gates.

    Every gate of every claim is checked before any claim is admitted: a claim that fails blocks
    the post, and blocking a scheduled post cancels its other publications not yet sent, so none
    of them may be admitted first (one bad target stops its post, never the rest of the batch).
    """
    decided: dict[int, _Job | str] = {}
    checked: list[tuple[Publication, list[str]]] = []
    for publication in claims:
        if publication.status != P.CLAIMED or publication.lease_token != token:
            decided[publication.pk] = "stale"
            continue
        problems = publication_gate_problems(
            publication=publication,
            post=post,
            account=publication.account,
            now=now,
            consent_records=records,
            gate_problems=gates,
        )
        checked.append((publication, problems))
    failing = [(publication, problems) for publication, problems in checked if problems]
    if failing:
        for publication, problems in failing:
            _block_publication(publication=publication, problems=problems, now=now)
            decided[publication.pk] = "blocked"
        reasons = dict.fromkeys(problem for _publication, problems in failing for problem in problems)
        _block_post(post=post, reason=" ".join(reasons))
    for publication, problems in checked:
        if problems:
            continue
        if failing:
            # The post's block may have cancelled this claim: go on from the row, not the copy read before.
            publication.refresh_from_db(fields=["status", "lease_token", "lease_until", "last_error", "updated_at"])
            if publication.status == P.CANCELLED:
                decided[publication.pk] = "cancelled"
                continue
        decided[publication.pk] = _admit(
            publication=publication,
            post=post,
            account=publication.account,
            token=token,
            now=now,
            looked_up=False,
            mark_sent=False,
            problems=[],
        )
    return decided


# Posts on their way out: they follow their publications.
SETTLING = frozenset({PostStatus.SCHEDULED, PostStatus.PARTIALLY_PUBLISHED, PostStatus.FAILED})


def post_settle(*, post: Post) -> str:
    """Give a locked post its outcome once every publication is final; returns its status."""
    if post.status not in SETTLING:
        return _post_went_out(post=post)
    statuses = [s for s in Publication.objects.filter(post=post).values_list("status", flat=True) if s != P.CANCELLED]
    if not statuses or any(status not in TERMINAL for status in statuses):
        return post.status
    confirmed = statuses.count(P.CONFIRMED)
    if confirmed == len(statuses):
        to = PostStatus.PUBLISHED
    elif confirmed:
        to = PostStatus.PARTIALLY_PUBLISHED
    else:
        to = PostStatus.FAILED
    if to != post.status and may_move(post.status, to):
        post_services.post_transition(
            post=post,
            to=to,
            actor=None,
            reason="publishing finished",
            changes={"confirmed": confirmed, "targets": len(statuses)},
        )
    return post.status


def _post_went_out(*, post: Post) -> str:
    """Record that a post which left the schedule while a call was in flight is live after all.

    The post was edited (or unscheduled, withdrawn, blocked) after its publications were marked
    sent; those calls went on and were confirmed. What went out is the approved content, so the
    post becomes ``published`` (every target out) or ``partially_published`` (the targets
    cancelled by the change did not go out), once nothing is on its way any more. An edit's
    new content stays in the review round the edit opened (docs/publishing.md, "Edited while
    going out").
    """
    publications = list(Publication.objects.filter(post=post).values_list("status", "content_hash"))
    confirmed = [digest for status, digest in publications if status == P.CONFIRMED]
    if not confirmed or any(status not in TERMINAL for status, _digest in publications):
        return post.status
    to = PostStatus.PUBLISHED if len(confirmed) == len(publications) else PostStatus.PARTIALLY_PUBLISHED
    if not may_move(post.status, to):
        return post.status
    left_as = post.status
    # Read before the move below: the event that took the post to where it is now.
    retracted = _retraction_of(post) if left_as == PostStatus.WITHDRAWN else None
    post_services.post_transition(
        post=post,
        to=to,
        actor=None,
        reason=f"went out while the post was {left_as}",
        changes={
            "confirmed": len(confirmed),
            "targets": len(publications),
            "left_as": left_as,
            "sent_hash": confirmed[0],
            "content_changed": post.content_hash not in confirmed,
        },
    )
    if left_as == PostStatus.BLOCKED:
        # Blocked by a consent that ended while the call was out: had the post been live then,
        # the consent's cascade would have listed its takedowns. It is live now: list them.
        live = Publication.objects.filter(post=post, status=P.CONFIRMED).values_list("account_id", flat=True)
        _takedowns_for_ended_consent(post=post, account_ids=sorted(live))
    if retracted is not None:
        # Withdrawn because a review stage after publication rejected it while this call was out:
        # what went live must come down like the rest.
        cause = retracted.get("cause", TakedownCause.REVIEW_REJECTED)
        takedowns_for_review(
            post=post,
            stage=retracted["stage"],
            comment=retracted["comment"],
            actor=None,
            reason=(
                f"rejected by the stage “{retracted['stage']}”"
                if cause == TakedownCause.REVIEW_REJECTED
                else f"withdrawn at re-certification ({retracted['stage']})"
            )[:200],
            cause=cause,
        )
    return post.status


def _retraction_of(post: Post) -> dict[str, str] | None:
    """Return the stage and comment of the rejection after publication that withdrew ``post``, if that withdrew it."""
    moved = (
        AuditEvent.objects.for_object(post)
        .filter(action="post.status_changed")
        .order_by("-seq")
        .values_list("changes", flat=True)
        .first()
    )
    retracted = (moved or {}).get("retracted")
    return retracted if isinstance(retracted, dict) else None


def _takedowns_for_ended_consent(*, post: Post, account_ids: list[int]) -> list[int]:
    """List a takedown per live target for each revoked or expired consent of ``post``; returns the new ones."""
    ended: dict[str, str] = {ConsentState.REVOKED: "consent revoked", ConsentState.EXPIRED: "consent expired"}
    accounts = list(Account.objects.filter(pk__in=account_ids).order_by("pk"))
    created: list[int] = []
    for person in post.featured_people.select_related("consent").filter(consent__isnull=False).order_by("pk"):
        assert person.consent is not None
        reason = ended.get(person.consent.state_at())
        if reason is None:
            continue
        for account in accounts:
            item, made = TakedownItem.objects.get_or_create(
                post=post,
                account=account,
                consent=person.consent,
                defaults={"cause": TakedownCause.CONSENT_ENDED, "reason": reason},
            )
            if made:
                created.append(item.pk)
                event_record(
                    actor=None,
                    action="takedown.created",
                    obj=item,
                    content_hash=post.content_hash,
                    changes={"post": post.pk, "account": account.pk, "reason": reason},
                )
    return created


# People act -----------------------------------------------------------------------------------


def publications_for_user(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> QuerySet[Publication]:
    """Return the publications the user may see, with what a list row shows (``policy``: the page's own, reused)."""
    policy = policy or PublishingPolicy(user)
    publications = Publication.objects.select_related("post", "post__campaign", "account").defer(
        "account__credentials", "post__sources"
    )
    return publications.filter(post__campaign_id__in=policy.publication_campaign_ids)


def publications_needing_attention(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> QuerySet[Publication]:
    """Return the visible failed, blocked, overdue and waiting publications, most urgent first."""
    return (
        publications_for_user(user=user, policy=policy)
        .filter(status__in=NEEDS_ATTENTION)
        .order_by("status", "due_at", "pk")
    )


# How long the Publishing page lists live posts edited while they went out.
EDITED_LIVE_DAYS = 30


def publications_live_edited(
    *, user: User | AnonymousUser, now: dt.datetime | None = None, policy: PublishingPolicy | None = None
) -> QuerySet[Publication]:
    """Return the visible publications that went out while their post was edited (its content differs).

    Only a post edited while a call was in flight can be live with content other than its own; the
    edit waits in its review round (docs/publishing.md, "Edited while going out").
    """
    since = (now or timezone.now()) - dt.timedelta(days=EDITED_LIVE_DAYS)
    return (
        publications_for_user(user=user, policy=policy)
        .filter(
            status=P.CONFIRMED,
            published_at__gte=since,
            post__status__in=[PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED],
        )
        .exclude(content_hash=F("post__current_revision__content_hash"))
        .order_by("-published_at", "pk")
    )


def publications_of_post(*, post: Post) -> QuerySet[Publication]:
    """Return a post's publications with their accounts, for the post detail panel."""
    return (
        Publication.objects.filter(post=post)
        .select_related("account")
        .defer("account__credentials")
        .order_by("account__platform", "account__name")
    )


@transaction.atomic
def publication_retry(*, publication: Publication, actor: User) -> Publication:
    """Put a failed or overdue publication back in line, due now, if its gates pass today."""
    locked = _locked(publication.pk)
    if locked is None:
        raise ValidationError(_("This publication no longer exists."))
    post, account, publication = locked
    if RETRY not in PublishingPolicy(actor).actions(publication):
        if publication.status not in RETRYABLE:
            raise ValidationError(_("Only failed or overdue publications can be retried."), code="not_retryable")
        raise PermissionDenied(_("You may not retry this publication."))
    now = timezone.now()
    problems = publication_gate_problems(
        publication=publication, post=post, account=account, now=now, post_states=SENDABLE | {PostStatus.FAILED}
    )
    if problems:
        raise ValidationError(problems, code="gates")
    publication_transition(
        publication=publication,
        to=P.PENDING,
        actor=actor,
        reason="retry requested",
        fields={
            "due_at": now,
            "next_attempt_at": now,
            "attempt_limit": publication.attempts + settings.ROUNDS_PUBLISH_MAX_ATTEMPTS,
            "last_error": "",
            **_NO_LEASE,
        },
    )
    if post.status == PostStatus.FAILED:
        post_services.post_transition(post=post, to=PostStatus.SCHEDULED, actor=actor, reason="publishing retried")
    return publication


def publication_failed_notify(*, publication_id: int, event: int = 0) -> int:
    """Tell the Communications reviewers that a publication failed for good, once per failure; returns mails sent.

    ``event`` is the publication's audit event of the failure (`_fail`).
    """
    from people.models import User

    # A task queued before failures carried their event has 0 here: one mail per publication for those.
    publication = Publication.objects.select_related("post", "post__campaign", "account").get(pk=publication_id)
    people = User.objects.filter(groups__name=COMMUNICATIONS_REVIEWER, is_active=True).distinct().order_by("pk")
    return mail_once(
        key=f"publication_failed:{publication.pk}:{event}",
        recipients=people,
        template="publishing/email/publication_failed",
        context={"publication": publication, "path": site_url(reverse("publishing:publishing"))},
        url=reverse("publishing:publishing"),
    )
