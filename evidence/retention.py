"""Retention and legal holds: what is past its rule's period is purged, unless a hold covers it.

A purge deletes files, never the rows that prove what existed: a signed consent form's file goes,
its record and SHA-256 stay (and a `PurgedRecord` marks it); a post's media files go, their rows
with checksums and the post's revisions stay; an archive's ZIP goes, its job row stays. Audit
events are never purged (append-only, hash-chained): purging only adds events. Each run leaves
a `PurgeReport` with ids, kinds and reasons, never personal data.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Actor, event_record
from consent.models import ConsentRecord, Subject
from evidence.archive import archive_path, job_move, job_posts
from evidence.models import (
    ArchiveJob,
    ArchiveStatus,
    LegalHold,
    PurgedRecord,
    PurgeReport,
    RecordKind,
    RetentionRule,
    RetentionUnit,
)
from people.models import User
from posts.models import Campaign, FeaturedPerson, Media, Post, PostStatus

logger = logging.getLogger(__name__)

HOLD_PERM = "evidence.add_legalhold"
RELEASE_PERM = "evidence.change_legalhold"
# Posts whose media may go once their rule's period has passed since their last change.
FINISHED_POST_STATES = (PostStatus.WITHDRAWN, PostStatus.REJECTED, PostStatus.PUBLISHED)


# Legal holds ------------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(
    *,
    actor: User,
    reason: str,
    campaign: Campaign | None = None,
    post: Post | None = None,
    subject: Subject | None = None,
) -> LegalHold:
    """Place a hold on exactly one campaign, post or subject; audited."""
    if not actor.has_perm(HOLD_PERM):
        raise PermissionDenied(_("Only Governance may place a legal hold."))
    hold = LegalHold(
        campaign=campaign, post=post, subject=subject, reason=reason.strip(), placed_by=actor, placed_at=timezone.now()
    )
    if sum(target is not None for target in (campaign, post, subject)) != 1:
        raise ValidationError(_("A legal hold is on exactly one campaign, one post or one subject."))
    hold.full_clean()
    hold.save()
    event_record(
        actor=actor,
        action="legal_hold.placed",
        obj=hold,
        changes={"campaign": hold.campaign_id, "post": hold.post_id, "subject": hold.subject_id, "reason": hold.reason},
    )
    return hold


@transaction.atomic
def legal_hold_release(*, actor: User, hold: LegalHold) -> LegalHold:
    """Release ``hold``; from now on what it covered follows its retention rules again. Audited."""
    if not actor.has_perm(RELEASE_PERM):
        raise PermissionDenied(_("Only Governance may release a legal hold."))
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError(_("This legal hold was already released."))
    hold.released_at, hold.released_by = timezone.now(), actor
    hold.save(update_fields=["released_at", "released_by"])
    event_record(actor=actor, action="legal_hold.released", obj=hold, changes={"released_at": hold.released_at})
    return hold


@dataclass
class Holds:
    """The active holds, by what they hold: target id -> hold ids."""

    campaigns: dict[int, list[int]] = field(default_factory=dict)
    posts: dict[int, list[int]] = field(default_factory=dict)
    subjects: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def active(cls) -> "Holds":
        holds = cls()
        rows = LegalHold.objects.filter(released_at__isnull=True).values_list(
            "pk", "campaign_id", "post_id", "subject_id"
        )
        for pk, campaign_id, post_id, subject_id in rows:
            if campaign_id is not None:
                holds.campaigns.setdefault(campaign_id, []).append(pk)
            elif post_id is not None:
                holds.posts.setdefault(post_id, []).append(pk)
            elif subject_id is not None:
                holds.subjects.setdefault(subject_id, []).append(pk)
        return holds

    def of_posts(self, pairs: Iterable[tuple[int, int]], subject_ids: Iterable[int] = ()) -> list[int]:
        """Return the holds on any of the (post id, campaign id) ``pairs`` or the subjects ``subject_ids``."""
        found: set[int] = set()
        for post_id, campaign_id in pairs:
            found.update(self.posts.get(post_id, []))
            found.update(self.campaigns.get(campaign_id, []))
        for subject_id in subject_ids:
            found.update(self.subjects.get(subject_id, []))
        return sorted(found)


def consent_holds(record: ConsentRecord, holds: Holds) -> list[int]:
    """Return the holds covering a consent form: on its subject, or on a post (or campaign) relying on it."""
    pairs = FeaturedPerson.objects.filter(Q(consent_id=record.pk) | Q(subject_id=record.subject_id)).values_list(
        "post_id", "post__campaign_id"
    )
    return holds.of_posts(pairs, [record.subject_id])


def post_holds(post_id: int, campaign_id: int, holds: Holds) -> list[int]:
    """Return the holds covering a post: on it, its campaign, or a person it features."""
    subject_ids = FeaturedPerson.objects.filter(post_id=post_id).values_list("subject_id", flat=True)
    return holds.of_posts([(post_id, campaign_id)], subject_ids)


def archive_holds(job: ArchiveJob, holds: Holds) -> list[int]:
    """Return the holds covering an archive: on any post, campaign or featured person inside it."""
    posts = job_posts(job)
    found: set[int] = set()
    for campaign_id, ids in holds.campaigns.items():
        if posts.filter(campaign_id=campaign_id).exists():
            found.update(ids)
    for post_id, ids in holds.posts.items():
        if posts.filter(pk=post_id).exists():
            found.update(ids)
    for subject_id, ids in holds.subjects.items():
        if posts.filter(featured_people__subject_id=subject_id).exists():
            found.update(ids)
    return sorted(found)


# Rules ------------------------------------------------------------------------------------------


def rule_cutoff(rule: RetentionRule, now: dt.datetime) -> dt.datetime:
    """Return the moment before which a record of ``rule``'s kind must have ended to be purged now."""
    if rule.unit == RetentionUnit.DAYS:
        return now - dt.timedelta(days=rule.keep_for)
    year = now.year - rule.keep_for
    try:
        return now.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return now.replace(year=year, day=28)


def _purged_ids(kind: str) -> Any:
    return PurgedRecord.objects.filter(kind=kind).values("object_id")


@dataclass
class Candidate:
    kind: str
    pk: int
    ended: dt.date
    holds: list[int]
    sha256: str = ""
    files: list[str] = field(default_factory=list)
    post_id: int | None = None


def consent_candidates(rule: RetentionRule, now: dt.datetime, holds: Holds) -> Iterable[Candidate]:
    """Yield the signed forms whose consent ended (expired or revoked) before the rule's cutoff."""
    cutoff = rule_cutoff(rule, now)
    records = (
        ConsentRecord.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_on__lt=cutoff.date()))
        .exclude(document="")
        .exclude(pk__in=_purged_ids(RecordKind.CONSENT_DOCUMENT))
        .order_by("pk")
    )
    for record in records.iterator(chunk_size=500):
        ends = [day for day in (record.revoked_at.date() if record.revoked_at else None, record.expires_on) if day]
        yield Candidate(
            kind=RecordKind.CONSENT_DOCUMENT,
            pk=record.pk,
            ended=min(ends),
            holds=consent_holds(record, holds),
            sha256=record.document_checksum,
            files=[record.document.name],
        )


def media_candidates(rule: RetentionRule, now: dt.datetime, holds: Holds) -> Iterable[Candidate]:
    """Yield the media of withdrawn, rejected or published posts unchanged since before the rule's cutoff."""
    cutoff = rule_cutoff(rule, now)
    media = (
        Media.objects.filter(post__status__in=FINISHED_POST_STATES, post__updated_at__lt=cutoff)
        .exclude(pk__in=_purged_ids(RecordKind.POST_MEDIA))
        .select_related("post")
        .order_by("post_id", "position", "pk")
    )
    for item in media.iterator(chunk_size=500):
        yield Candidate(
            kind=RecordKind.POST_MEDIA,
            pk=item.pk,
            ended=timezone.localdate(item.post.updated_at),
            holds=post_holds(item.post_id, item.post.campaign_id, holds),
            sha256=item.checksum,
            files=[name for name in (item.file.name, item.thumbnail.name) if name],
            post_id=item.post_id,
        )


def archive_candidates(rule: RetentionRule, now: dt.datetime, holds: Holds) -> Iterable[Candidate]:
    """Yield the finished archives older than the rule's cutoff."""
    cutoff = rule_cutoff(rule, now)
    jobs = ArchiveJob.objects.filter(status=ArchiveStatus.DONE, finished_at__lt=cutoff).order_by("pk")
    for job in jobs.iterator(chunk_size=100):
        assert job.finished_at is not None
        yield Candidate(
            kind=RecordKind.ARCHIVE_FILE,
            pk=job.pk,
            ended=timezone.localdate(job.finished_at),
            holds=archive_holds(job, holds),
            sha256=job.sha256,
        )


FINDERS = {
    RecordKind.CONSENT_DOCUMENT: consent_candidates,
    RecordKind.POST_MEDIA: media_candidates,
    RecordKind.ARCHIVE_FILE: archive_candidates,
}


# The purge --------------------------------------------------------------------------------------


def _purge_one(candidate: Candidate, *, report: PurgeReport, rule: RetentionRule, actor: Actor) -> None:
    """Mark one record purged and audit it in one transaction; delete its files after the commit."""
    reason = f"{rule.kind}: {rule.keep_for} {rule.unit} after {candidate.ended.isoformat()}"
    with transaction.atomic():
        PurgedRecord.objects.create(
            kind=candidate.kind, object_id=candidate.pk, sha256=candidate.sha256, report=report, purged_at=report.ran_at
        )
        changes = {"kind": candidate.kind, "rule": reason, "report": report.pk, "sha256": candidate.sha256}
        if candidate.kind == RecordKind.CONSENT_DOCUMENT:
            record = ConsentRecord.objects.get(pk=candidate.pk)
            storage = record.document.storage
            event_record(
                actor=actor,
                action="consent.document_purged",
                obj=record,
                changes=changes,
                content_hash=candidate.sha256,
            )
            # The record keeps its SHA-256; its page and download now say the form was removed.
            ConsentRecord.objects.filter(pk=record.pk).update(document="")
        elif candidate.kind == RecordKind.POST_MEDIA:
            media = Media.objects.select_related("post").get(pk=candidate.pk)
            storage = media.file.storage
            event_record(
                actor=actor, action="post.media_purged", obj=media.post, changes={**changes, "media": media.pk}
            )
        else:
            job = ArchiveJob.objects.get(pk=candidate.pk)
            path = archive_path(job)
            job_move(job=job, to=ArchiveStatus.PURGED, actor=actor, purged_at=report.ran_at)
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
            return
        for name in candidate.files:
            transaction.on_commit(lambda name=name: storage.delete(name))  # type: ignore[misc]


def retention_purge(
    *, dry_run: bool = False, actor: Actor = "retention purge", now: dt.datetime | None = None
) -> PurgeReport:
    """Purge what is past its retention and under no hold; return the report (unsaved on a dry run).

    A dry run finds the same records and writes nothing: no file, row or event changes.
    """
    now = now or timezone.now()
    report = PurgeReport(ran_at=now, ran_by=str(actor or "system")[:200], dry_run=dry_run)
    if not dry_run:
        report.save()
    holds = Holds.active()
    counts: dict[str, int] = {}
    held_counts: dict[str, int] = {}
    purged: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for rule in RetentionRule.objects.filter(active=True).order_by("kind"):
        counts.setdefault(rule.kind, 0)
        held_counts.setdefault(rule.kind, 0)
        for candidate in FINDERS[RecordKind(rule.kind)](rule, now, holds):
            if not dry_run and not candidate.holds:
                # A hold placed while the run went on counts too: ask again just before deleting.
                holds = Holds.active()
                candidate.holds = _holds_now(candidate, holds)
            if candidate.holds:
                held_counts[rule.kind] += 1
                held.append({"kind": candidate.kind, "id": candidate.pk, "holds": candidate.holds})
                continue
            if not dry_run:
                _purge_one(candidate, report=report, rule=rule, actor=actor)
            counts[rule.kind] += 1
            purged.append(
                {
                    "kind": candidate.kind,
                    "id": candidate.pk,
                    "post": candidate.post_id,
                    "ended": candidate.ended.isoformat(),
                    "reason": f"{rule.keep_for} {rule.unit} after {candidate.ended.isoformat()}",
                }
            )
    report.counts, report.held_counts, report.purged, report.held = counts, held_counts, purged, held
    if not dry_run:
        with transaction.atomic():
            report.save(update_fields=["counts", "held_counts", "purged", "held"])
            event_record(
                actor=actor,
                action="retention.purged",
                obj=report,
                changes={"purged": counts, "kept_under_hold": held_counts},
            )
    return report


def _holds_now(candidate: Candidate, holds: Holds) -> list[int]:
    if candidate.kind == RecordKind.CONSENT_DOCUMENT:
        return consent_holds(ConsentRecord.objects.get(pk=candidate.pk), holds)
    if candidate.kind == RecordKind.POST_MEDIA:
        media = Media.objects.select_related("post").get(pk=candidate.pk)
        return post_holds(media.post_id, media.post.campaign_id, holds)
    return archive_holds(ArchiveJob.objects.get(pk=candidate.pk), holds)


def retention_purge_task() -> None:
    """Task: the daily purge (calendar_project.schedules)."""
    retention_purge(dry_run=False, actor="retention purge (daily)")


@transaction.atomic
def retention_rule_save(*, rule: RetentionRule, actor: User, changed: dict[str, list[Any]]) -> RetentionRule:
    """Save a rule Governance edited (``changed``: field -> [before, after]); audited."""
    if not actor.has_perm("evidence.change_retentionrule"):
        raise PermissionDenied(_("Only Governance may change retention rules."))
    rule.full_clean()
    rule.save()
    event_record(actor=actor, action="retention.rule_changed", obj=rule, changes={"kind": rule.kind, **changed})
    return rule
