"""The facts of one post's record, read in a fixed number of queries: what every part of the pack shows.

`post_facts` returns plain JSON-ready values (strings, numbers, lists, dicts; times as ISO 8601 in
UTC), so the PDF, the JSON and the FHIR bundle all show the same facts, and the archive can call
it once per post without N+1 queries (about a dozen queries, whatever the number of rows).
"""

import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Prefetch, Q
from django.db.models.functions import Cast

from approvals.models import Decision, ReviewComment, ReviewRound, StageRun
from audit.models import AuditEvent, object_type_of
from consent.models import ConsentRecord, ConsentState
from posts.models import FeaturedPerson, Media, Post, PostTarget, Revision
from publishing.models import Publication, TakedownItem

Facts = dict[str, Any]


def _when(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name() or user.get_username()}


def consent_state_at(record: ConsentRecord, when: dt.datetime) -> str:
    """Return the state ``record`` was in at ``when``: a verification or revocation after it did not count yet."""
    then = copy.copy(record)
    if then.revoked_at is not None and then.revoked_at > when:
        then.revoked_at = None
    if then.verified_at is not None and then.verified_at > when:
        then.verified_at = None
    return str(then.state_at(when))


def _revision(revision: Revision) -> Facts:
    content = revision.content or {}
    return {
        "number": revision.number,
        "content_hash": revision.content_hash,
        "created_at": _when(revision.created_at),
        "created_by": _person(revision.created_by),
        "content": content,
    }


def _target_text(content: dict[str, Any], account_id: int) -> str | None:
    """Return the text a revision gave one account (its own text, else the post's), None if not a target."""
    for target in content.get("targets", []):
        if target.get("account_id") == account_id:
            return str(target.get("body_override") or content.get("body", ""))
    return None


def _decision(decision: Decision, run: StageRun, round_: ReviewRound) -> Facts:
    return {
        "id": decision.pk,
        "round_id": round_.pk,
        "stage": run.stage.name,
        "stage_position": run.stage.position,
        "group": run.stage.group.name,
        "reviewer": _person(decision.reviewer),
        "signer_name": decision.signer_name or decision.reviewer.get_full_name() or decision.reviewer.get_username(),
        "signer_role": decision.signer_role or run.stage.group.name,
        "signer_time_zone": decision.signer_time_zone,
        "confirmation": decision.confirmation,
        "verdict": decision.verdict,
        "comment": decision.comment,
        "created_at": _when(decision.created_at),
        "revision": round_.revision.number,
        "content_hash": decision.content_hash,
        "acknowledged_findings": list(decision.acknowledged_findings or []),
    }


def _consent(record: ConsentRecord, *, published_at: dt.datetime | None, now: dt.datetime) -> Facts:
    return {
        "id": record.pk,
        "form_reference": getattr(record, "form_reference", "") or "",
        "subject": {"reference": record.subject.reference, "name": record.subject.display_name},
        "media_kinds": list(record.media_kinds),
        "description": record.description,
        "all_platforms": record.all_platforms,
        "platforms": list(record.platforms),
        "purposes": list(record.purposes),
        "recipients": record.recipients,
        "disclosing_organisation": record.disclosing_organisation,
        "signed_on": _when(record.signed_on),
        "expires_on": _when(record.expires_on),
        "expiry_event": record.expiry_event,
        "signers": [
            {"role": signer.role, "name": signer.name, "authority": signer.authority} for signer in record.signers.all()
        ],
        "document_sha256": record.document_checksum,
        "recorded_at": _when(record.recorded_at),
        "recorded_by": _person(record.recorded_by),
        "verified_at": _when(record.verified_at),
        "verified_by": _person(record.verified_by),
        "revoked_at": _when(record.revoked_at),
        "revoked_by": _person(record.revoked_by),
        "revocation_received_via": record.revocation_received_via,
        "revocation_reason": record.revocation_reason,
        "state_at_publishing": consent_state_at(record, published_at) if published_at else None,
        "state_now": str(ConsentState(record.state_at(now))),
    }


def _event(event: AuditEvent) -> Facts:
    return {
        "seq": event.seq,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "created_at": _when(event.created_at),
        "action": event.action,
        "actor": event.actor_repr,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "content_hash": event.content_hash,
    }


def _ids(values: Iterable[object]) -> list[str]:
    return [str(value) for value in values]


def post_events(
    *,
    post: Post,
    publication_ids: Iterable[int],
    takedown_ids: Iterable[int],
    run_ids: Iterable[int],
    round_ids: Iterable[int],
    consent_ids: Iterable[int],
) -> list[AuditEvent]:
    """Return the events of the post and of the rows of its record (rounds, stages, comments, publications,
    takedowns, the consents it relied on), oldest first, in one query."""
    groups = [
        (object_type_of(Post), [str(post.pk)]),
        (object_type_of(Publication), _ids(publication_ids)),
        (object_type_of(TakedownItem), _ids(takedown_ids)),
        (object_type_of(StageRun), _ids(run_ids)),
        (object_type_of(ReviewRound), _ids(round_ids)),
        (object_type_of(ConsentRecord), _ids(consent_ids)),
    ]
    # Events keep object ids as text: compare with the comments' ids as text (PostgreSQL has no varchar = bigint).
    comment_ids = ReviewComment.objects.filter(post=post).annotate(id_text=Cast("pk", CharField())).values("id_text")
    where = Q(object_type=object_type_of(ReviewComment), object_id__in=comment_ids)
    for object_type, ids in groups:
        if ids:
            where |= Q(object_type=object_type, object_id__in=ids)
    return list(AuditEvent.objects.filter(where).order_by("seq"))


@dataclass(frozen=True)
class PostRecord:
    """A post's facts, and the consent records they name (the FHIR export reads the records themselves)."""

    facts: Facts
    consents: list[ConsentRecord]


def post_facts(*, post: Post, now: dt.datetime) -> PostRecord:
    """Return everything the pack shows about ``post``, as JSON-ready values (a bounded number of queries)."""
    post = Post.objects.select_related("campaign", "author", "current_revision").get(pk=post.pk)
    revisions = list(Revision.objects.filter(post=post).select_related("created_by").order_by("number"))
    by_hash = {revision.content_hash: revision for revision in revisions}
    targets = list(PostTarget.objects.filter(post=post).select_related("account").defer("account__credentials"))
    media = list(Media.objects.filter(post=post).order_by("position", "pk"))
    featured = list(FeaturedPerson.objects.filter(post=post).select_related("subject"))
    rounds = list(
        ReviewRound.objects.filter(post=post)
        .select_related("chain", "submitted_by", "revision")
        .prefetch_related(
            Prefetch(
                "stage_runs",
                StageRun.objects.select_related("stage__group").prefetch_related(
                    Prefetch("decisions", Decision.objects.select_related("reviewer").order_by("created_at", "pk"))
                ),
            )
        )
        .order_by("submitted_at", "pk")
    )
    publications = list(
        Publication.objects.filter(post=post).select_related("account").defer("account__credentials").order_by("pk")
    )
    takedowns = list(
        TakedownItem.objects.filter(post=post)
        .select_related("account", "confirmed_by", "deletion_by")
        .defer("account__credentials")
        .order_by("created_at", "pk")
    )
    # The consents relied on: those linked now, those any revision named, and those a takedown names.
    consent_ids = {person.consent_id for person in featured if person.consent_id}
    for revision in revisions:
        consent_ids |= {item.get("consent_id") for item in (revision.content or {}).get("featured", [])} - {None}
    consent_ids |= {item.consent_id for item in takedowns if item.consent_id}
    consents = list(
        ConsentRecord.objects.filter(pk__in=consent_ids)
        .select_related("subject", "recorded_by", "verified_by", "revoked_by")
        .prefetch_related("signers")
        .order_by("pk")
    )
    published = [p.published_at for p in publications if p.published_at is not None]
    first_published = min(published) if published else None
    runs = [run for round_ in rounds for run in round_.stage_runs.all()]
    events = post_events(
        post=post,
        publication_ids=[p.pk for p in publications],
        takedown_ids=[t.pk for t in takedowns],
        run_ids=[run.pk for run in runs],
        round_ids=[round_.pk for round_ in rounds],
        consent_ids=[record.pk for record in consents],
    )

    round_facts = []
    for round_ in rounds:
        decisions = [
            _decision(decision, run, round_)
            for run in sorted(round_.stage_runs.all(), key=lambda run: run.stage.position)
            for decision in run.decisions.all()
        ]
        round_facts.append(
            {
                "id": round_.pk,
                "chain": round_.chain.name,
                "revision": round_.revision.number,
                "content_hash": round_.content_hash,
                "status": round_.status,
                "submitted_by": _person(round_.submitted_by),
                "submitted_at": _when(round_.submitted_at),
                "finished_at": _when(round_.finished_at),
                "decisions": decisions,
            }
        )

    publication_facts = []
    for publication in publications:
        sent = by_hash.get(publication.content_hash)
        content = sent.content if sent is not None else {}
        publication_facts.append(
            {
                "id": publication.pk,
                "account": {
                    "id": publication.account_id,
                    "platform": publication.account.platform,
                    "name": publication.account.name,
                    "handle": publication.account.handle,
                },
                "status": publication.status,
                "external_id": publication.external_id,
                "url": publication.url,
                "published_at": _when(publication.published_at),
                "content_hash": publication.content_hash,
                "revision": sent.number if sent is not None else None,
                "text": _target_text(content, publication.account_id) if sent is not None else None,
                "link": content.get("link", ""),
                "hashtags": list(content.get("hashtags", [])),
                "media": list(content.get("media", [])),
                "attempts": publication.attempts,
            }
        )

    facts = {
        "post": {
            "id": post.pk,
            "title": post.title,
            "campaign": {"id": post.campaign_id, "name": post.campaign.name, "purpose": post.campaign.purpose},
            "author": _person(post.author),
            "status": post.status,
            "content_type": post.content_type,
            "language": post.language,
            "scheduled_at": _when(post.scheduled_at),
            "body": post.body,
            "link": post.link,
            "hashtags": list(post.hashtags),
            "content_hash": post.content_hash,
            "approved_hash": post.approved_hash,
            "current_revision": post.current_revision.number if post.current_revision else None,
            "targets": [
                {
                    "account_id": target.account_id,
                    "platform": target.account.platform,
                    "name": target.account.name,
                    "handle": target.account.handle,
                    "text": target.body_override or post.body,
                }
                for target in targets
            ],
            "media": [
                {
                    "position": item.position,
                    "kind": item.kind,
                    "alt_text": item.alt_text,
                    "sha256": item.checksum,
                    "format": item.format,
                    "width": item.width,
                    "height": item.height,
                    "bytes": item.byte_size,
                }
                for item in media
            ],
            "featured": [
                {
                    "subject_reference": person.subject.reference,
                    "consent_id": person.consent_id,
                    "media_kinds": list(person.media_kinds),
                }
                for person in featured
            ],
        },
        "revisions": [_revision(revision) for revision in revisions],
        "rounds": round_facts,
        "consents": [_consent(record, published_at=first_published, now=now) for record in consents],
        "publications": publication_facts,
        "takedowns": [
            {
                "id": item.pk,
                "account": {
                    "platform": item.account.platform,
                    "name": item.account.name,
                    "handle": item.account.handle,
                },
                "cause": item.cause,
                "consent_id": item.consent_id,
                "url": item.url,
                "reason": item.reason,
                "comment": item.comment,
                "created_at": _when(item.created_at),
                "confirmed_at": _when(item.confirmed_at),
                "confirmed_by": _person(item.confirmed_by),
                "deletion_status": item.deletion_status,
                "deletion_at": _when(item.deletion_at),
                "deletion_by": _person(item.deletion_by),
                "deletion_response": item.deletion_response,
                "deletion_note": item.deletion_note,
            }
            for item in takedowns
        ],
        "events": [_event(event) for event in events],
    }
    return PostRecord(facts=facts, consents=consents)
