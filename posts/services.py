"""Every write to campaigns, accounts and posts. Views, admin, importers and tasks call these."""

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, NamedTuple, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from audit.erasure import Personal, key_owners, keys_create
from audit.services import EventSpec, event_record, events_record_many
from audit.versions import version_of
from consent.models import ConsentRecord, Subject
from consent.models import MediaKind as ConsentMediaKind
from core.bulk import (
    JsonText,
    column_set,
    instance_maker,
    keys_reserve,
    objects_insert,
    rows_insert,
    rows_insert_returning,
)
from core.inputs import text_storable
from core.locks import row_lock
from core.tasks import enqueue_after_commit
from people.models import User
from posts import linkcards, patient_data, platforms
from posts.claim_rules import claim_findings
from posts.content import (
    SNAPSHOT_VERSION,
    content_encoded,
    content_hash,
    content_snapshot,
    content_snapshot_of,
    snapshot_version,
)
from posts.gates import post_consent_problems
from posts.links import ordinary_web_link_valid
from posts.locks import post_lock, posts_lock
from posts.media import ProcessedImage
from posts.models import Account, Campaign, ContentType, FeaturedPerson, Media, Post, PostStatus, PostTarget, Revision
from posts.movechecks import MOVE_CONFIRM, move_confirmations
from posts.policy import (
    DECLARE_CRISIS,
    EDIT,
    MOVE,
    REQUEST_CRISIS,
    SCHEDULE,
    SET_TEAM,
    UNSCHEDULE,
    WITHDRAW,
    CampaignPolicy,
    PostPolicy,
    crisis_actions,
    may_declare_crisis,
)
from posts.scans import media_check, media_scan_queue
from posts.selectors import campaign_reviewer_candidates, campaign_team_candidates
from posts.sendgates import send_gate_problems
from posts.signals import (
    post_blocked,
    post_content_changed,
    post_out_consent_ended,
    post_retimed,
    post_retracted,
    post_status_changed,
    post_withdrawn,
)
from posts.stale import post_version_check
from posts.states import EDIT_RESETS, EDITABLE, may_move


@dataclass(frozen=True)
class TargetSpec:
    account: Account
    body_override: str = ""


@dataclass(frozen=True)
class FeatureSpec:
    """A person the post shows, what it shows of them, and the consent it relies on."""

    subject: Subject
    consent: ConsentRecord | None
    media_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewMedia:
    image: ProcessedImage
    alt_text: str


# Fields of a post an editor writes; everything else moves through a service of its own.
CONTENT_FIELDS = ("title", "body", "link", "hashtags", "content_type", "language", "sources")


# Campaigns ----------------------------------------------------------------------------------


def campaign_permissions_sync(*, campaign: Campaign) -> None:
    """Make guardian's object permissions match the campaign's team and reviewers."""
    editors = set(campaign.team.all()) | {campaign.owner}
    viewers = editors | set(campaign.reviewers.all())
    wanted = {"view_campaign": viewers, "change_campaign": editors}
    current: dict[User, list[str]] = get_users_with_perms(  # type: ignore[assignment]
        campaign, attach_perms=True, with_group_users=False, with_superusers=False
    )
    for codename, users in wanted.items():
        holders = {user for user, perms in current.items() if codename in perms}
        for user in users - holders:
            assign_perm(codename, user, campaign)
        for user in holders - users:
            remove_perm(codename, user, campaign)


def _campaign_people_check(*, team: Sequence[User], reviewers: Sequence[User]) -> None:
    """Refuse team members who are not Editors and reviewers who are in no reviewer group (SPEC section 1).

    Assignments made before this rule stay until the campaign's people are next saved; they no
    longer open signed consent forms, which only the deciding stage's reviewers read.
    """
    errors = {}
    outsiders = {user.pk for user in team} - set(campaign_team_candidates().values_list("pk", flat=True))
    if outsiders:
        errors["team"] = _("Only active Editors can be on a campaign's team.")
    outsiders = {user.pk for user in reviewers} - set(campaign_reviewer_candidates().values_list("pk", flat=True))
    if outsiders:
        errors["reviewers"] = _("Only active members of a reviewer group can be a campaign's reviewers.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    goal: str = "",
    colour: str = "#2563eb",
    hashtags: Sequence[str] = (),
    purpose: str = "education",
    team: Iterable[User] = (),
    reviewers: Iterable[User] = (),
) -> Campaign:
    """Create a campaign owned by ``actor``, who joins its team; returns it."""
    if not CampaignPolicy(actor).may_create:
        raise PermissionDenied(_("You may not create campaigns."))
    team, reviewers = list(team), list(reviewers)
    _campaign_people_check(team=team, reviewers=reviewers)
    campaign = Campaign(
        name=name.strip(),
        start_date=start_date,
        end_date=end_date,
        goal=goal,
        colour=colour,
        hashtags=platforms.normalise_hashtags(list(hashtags)),
        purpose=purpose,
        owner=actor,
    )
    campaign.full_clean()
    campaign.save()
    campaign.team.set({*team, actor})
    campaign.reviewers.set(reviewers)
    campaign_permissions_sync(campaign=campaign)
    event_record(
        actor=actor,
        action="campaign.created",
        obj=campaign,
        changes={
            "name": campaign.name,
            "start_date": campaign.start_date,
            "end_date": campaign.end_date,
            "purpose": campaign.purpose,
            "team": sorted(user.pk for user in campaign.team.all()),
            "reviewers": sorted(user.pk for user in reviewers),
        },
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    actor: User,
    data: dict[str, Any],
    team: Iterable[User] | None = None,
    reviewers: Iterable[User] | None = None,
) -> Campaign:
    """Change a campaign's fields and/or people; returns it.

    A new purpose is new content for the campaign's posts still open to edits: each gets a new
    revision, and review starts again (`_campaign_posts_revise`).
    """
    # No key changes: posts may still be created in the campaign meanwhile (their foreign key
    # check takes a key-share lock), and it then locks its posts (`_campaign_posts_revise`).
    campaign = row_lock(Campaign, campaign.pk, no_key=True)
    may = CampaignPolicy(actor).actions(campaign)
    if EDIT not in may:
        raise PermissionDenied(_("You may not change this campaign."))
    if (team is not None or reviewers is not None) and SET_TEAM not in may:
        raise PermissionDenied(_("Only the campaign's owner or Governance may choose its team and reviewers."))
    team = None if team is None else list(team)
    reviewers = None if reviewers is None else list(reviewers)
    _campaign_people_check(team=team or [], reviewers=reviewers or [])
    allowed = {"name", "goal", "start_date", "end_date", "colour", "hashtags", "purpose", "owner"}
    changes: dict[str, Any] = {}
    for field, value in data.items():
        if field not in allowed:
            raise ValueError(f"{field} is not a campaign field")
        if field == "hashtags":
            value = platforms.normalise_hashtags(list(value))
        old = getattr(campaign, field)
        if old != value:
            changes[field] = [
                str(old.pk) if hasattr(old, "pk") else old,
                str(value.pk) if hasattr(value, "pk") else value,
            ]
            setattr(campaign, field, value)
    if changes:
        campaign.full_clean()
        campaign.save(update_fields=list(changes))
    for relation, people in (("team", team), ("reviewers", reviewers)):
        if people is None:
            continue
        before = sorted(user.pk for user in getattr(campaign, relation).all())
        getattr(campaign, relation).set(list(people))
        after = sorted(user.pk for user in getattr(campaign, relation).all())
        if before != after:
            changes[relation] = [before, after]
    if changes:
        campaign_permissions_sync(campaign=campaign)
        event_record(actor=actor, action="campaign.updated", obj=campaign, changes=changes)
    if "purpose" in changes:
        _campaign_posts_revise(campaign=campaign, actor=actor)
    return campaign


def _campaign_posts_revise(*, campaign: Campaign, actor: User) -> None:
    """Give each post of ``campaign`` still open to edits a revision with the campaign's new purpose.

    The purpose is in the snapshot (the consent gate checks consent for it), so this is a change of
    content as an edit is (SPEC section 3): an approved or scheduled post goes back to review from
    the first stage, an open round is superseded. Posts that went out (published, partially
    published, failed) or ended (rejected, withdrawn) keep the revision they were reviewed as; a
    failed target's retry meets the send gate, which refuses content whose purpose changed since.
    """
    # The campaign is locked first, then its posts in id order; no path locks a post, then its campaign.
    post_ids = Post.objects.filter(campaign=campaign, status__in=EDITABLE).values_list("pk", flat=True)
    for post in posts_lock(post_ids):
        if post.status in EDITABLE:
            _revision_refresh(post=post, actor=actor, unseen_change=True)


# Accounts -----------------------------------------------------------------------------------


ACCOUNT_FIELDS = ("platform", "name", "handle", "time_zone", "active", "connector")


@transaction.atomic
def account_save(*, account: Account, actor: User, credentials: dict[str, Any] | None = None) -> Account:
    """Create or change a platform account (Governance); secrets are logged only as 'changed'."""
    is_new = account.pk is None
    before = {} if is_new else {f: getattr(Account.objects.get(pk=account.pk), f) for f in ACCOUNT_FIELDS}
    if credentials is not None:
        account.credentials = credentials
    account.full_clean()
    account.save()
    after = {f: getattr(account, f) for f in ACCOUNT_FIELDS}
    changes: dict[str, Any] = {f: [before.get(f), after[f]] for f in ACCOUNT_FIELDS if before.get(f) != after[f]}
    if credentials is not None:
        changes["credentials"] = "changed"
    if changes:
        event_record(
            actor=actor, action="account.created" if is_new else "account.updated", obj=account, changes=changes
        )
    return account


# Posts --------------------------------------------------------------------------------------


def _ensure(policy: PostPolicy, post: Post, action: str) -> None:
    refusal = policy.refusal(post, action, in_state=_("You may not do this with this post in its current state."))
    if refusal:
        raise PermissionDenied(refusal)


def post_transition(
    *, post: Post, to: str, actor: User | None, reason: str = "", changes: dict[str, Any] | None = None
) -> Post:
    """Move a locked post to status ``to`` if the life cycle allows it; writes the audit event.

    The caller holds the row lock (`posts.locks.post_lock`) inside its transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_transition must run inside a transaction")
    if not may_move(post.status, to):
        raise ValidationError(
            _("A post cannot go from “%(old)s” to “%(new)s”."),
            code="invalid_transition",
            params={"old": PostStatus(post.status).label, "new": PostStatus(to).label},
        )
    old = post.status
    post.status = to
    post.save(update_fields=["status", "updated_at"])
    event_record(
        actor=actor,
        action="post.status_changed",
        obj=post,
        content_hash=post.content_hash,
        changes={"status": [old, to], "reason": reason, **(changes or {})},
    )
    post_status_changed.send(sender=Post, post=post, old_status=old, actor=actor)
    return post


def _revision_refresh(*, post: Post, actor: User, unseen_change: bool = False) -> Revision | None:
    """Snapshot the post's content; make a new revision when its hash changed. Returns it or None.

    A revision in an older snapshot format keeps its hash: it stays current while the post still
    matches it in that format, unless ``unseen_change`` says something that format does not hold
    (the internal title, the campaign's purpose) changed.
    """
    snapshot = content_snapshot(post)
    digest = content_hash(snapshot)
    current = post.current_revision
    if current is not None and current.content_hash == digest:
        return None
    version = snapshot_version(current.content) if current is not None else SNAPSHOT_VERSION
    if current is not None and version != SNAPSHOT_VERSION and not unseen_change:
        older = content_snapshot(post, version=version)
        if content_hash(older) == current.content_hash:
            return None
    number = (current.number + 1) if current is not None else 1
    revision = Revision.objects.create(
        post=post, number=number, content=snapshot, content_hash=digest, created_by=actor
    )
    post.current_revision = revision
    post.save(update_fields=["current_revision", "updated_at"])
    event_record(
        actor=actor,
        action="post.revision_created",
        obj=post,
        content_hash=digest,
        changes={"revision": number, "previous_hash": current.content_hash if current else ""},
    )
    previous_status = post.status
    if previous_status in EDIT_RESETS:
        post_transition(post=post, to=PostStatus.DRAFT, actor=actor, reason="content changed after approval")
    post_content_changed.send(sender=Post, post=post, revision=revision, actor=actor, previous_status=previous_status)
    return revision


def _clean_content(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"not content fields: {sorted(unknown)}")
    cleaned = dict(data)
    if "hashtags" in cleaned:
        cleaned["hashtags"] = platforms.normalise_hashtags(cleaned["hashtags"])
    return cleaned


def _targets_check(targets: Sequence[TargetSpec]) -> set[int]:
    """Refuse an account listed twice or not active; returns the account ids."""
    seen: set[int] = set()
    for spec in targets:
        if spec.account.pk in seen:
            raise ValidationError(_("%(account)s is listed twice."), params={"account": spec.account}, code="duplicate")
        if not spec.account.active:
            raise ValidationError(
                _("%(account)s is not active."), params={"account": spec.account}, code="inactive_account"
            )
        seen.add(spec.account.pk)
    return seen


def _targets_set(*, post: Post, targets: Sequence[TargetSpec]) -> None:
    seen = _targets_check(targets)
    existing = {target.account_id: target for target in post.targets.all()}
    for account_id in set(existing) - seen:
        existing[account_id].delete()
    for spec in targets:
        target = existing.get(spec.account.pk)
        if target is None:
            PostTarget.objects.create(post=post, account=spec.account, body_override=spec.body_override)
        elif target.body_override != spec.body_override:
            target.body_override = spec.body_override
            target.save(update_fields=["body_override"])


def _featured_set(*, post: Post, featured: Sequence[FeatureSpec]) -> None:
    seen: set[int] = set()
    for spec in featured:
        if spec.subject.pk in seen:
            raise ValidationError(
                _("%(person)s is listed twice."), params={"person": spec.subject.display_name}, code="duplicate"
            )
        seen.add(spec.subject.pk)
        unknown = set(spec.media_kinds) - set(ConsentMediaKind.values)
        if unknown:
            raise ValidationError(_("Unknown kinds of content: %(kinds)s."), params={"kinds": ", ".join(unknown)})
        if spec.consent is not None and spec.consent.subject_id != spec.subject.pk:
            raise ValidationError(
                _("The consent chosen for %(person)s belongs to someone else."),
                params={"person": spec.subject.display_name},
                code="wrong_subject",
            )
    post.featured_people.all().delete()
    FeaturedPerson.objects.bulk_create(
        FeaturedPerson(post=post, subject=spec.subject, consent=spec.consent, media_kinds=sorted(set(spec.media_kinds)))
        for spec in featured
    )


def _media_add(*, post: Post, items: Sequence[NewMedia]) -> None:
    position = max((m.position for m in post.media.all()), default=-1) + 1
    for item in items:
        alt_text = item.alt_text.strip()
        if not alt_text:
            raise ValidationError(_("Every image needs alt text."), code="alt_text_required")
        image = item.image
        media = Media(
            post=post,
            position=position,
            alt_text=alt_text,
            checksum=image.checksum,
            width=image.width,
            height=image.height,
            format=image.format,
            byte_size=image.byte_size,
            original_had_location=image.had_location_metadata,
        )
        media.file.save(f"image.{image.extension}", ContentFile(image.content), save=False)
        media.thumbnail.save(f"thumb.{image.thumbnail_extension}", ContentFile(image.thumbnail), save=False)
        media.save()
        media_scan_queue(media)  # text and faces, in the background (posts.scans)
        position += 1


def _files_delete(*, storage: Storage, names: list[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)


def _media_change(*, post: Post, remove: Iterable[int], alt_texts: dict[int, str], order: Sequence[int] | None) -> None:
    media_by_id = {media.pk: media for media in post.media.all()}
    for media_id in remove:
        media = media_by_id.pop(media_id, None)
        if media is not None:
            files = [media.file.name, media.thumbnail.name]
            storage = media.file.storage
            media.delete()
            # Files go only once the removal is certain.
            transaction.on_commit(partial(_files_delete, storage=storage, names=files))
    for media_id, alt_text in alt_texts.items():
        media = media_by_id.get(media_id)
        if media is None:
            continue
        if not alt_text.strip():
            raise ValidationError(_("Every image needs alt text."), code="alt_text_required")
        if media.alt_text != alt_text.strip():
            media.alt_text = alt_text.strip()
            media.save(update_fields=["alt_text"])
    if order is not None:
        for position, media_id in enumerate(order):
            media = media_by_id.get(media_id)
            if media is not None and media.position != position:
                media.position = position
                media.save(update_fields=["position"])


def _schedule_clean(scheduled_at: dt.datetime | None, time_zone: str) -> None:
    if scheduled_at is not None and timezone.is_naive(scheduled_at):
        raise ValueError("scheduled_at must be timezone-aware")


@transaction.atomic
def post_create(
    *,
    actor: User,
    campaign: Campaign,
    data: dict[str, Any],
    targets: Sequence[TargetSpec] = (),
    media: Sequence[NewMedia] = (),
    featured: Sequence[FeatureSpec] = (),
    scheduled_at: dt.datetime | None = None,
    time_zone: str | None = None,
    external_id: str = "",
) -> Post:
    """Create a draft post with its first revision; returns it."""
    policy = PostPolicy(actor)
    if not policy.may_create_in(campaign):
        raise PermissionDenied(_("You may not add posts to this campaign."))
    _schedule_clean(scheduled_at, time_zone or "")
    crisis_choice_check(actor=actor, old="", new=str(data.get("content_type", "")))
    post = Post(
        campaign=campaign,
        author=actor,
        scheduled_at=scheduled_at,
        time_zone=time_zone or getattr(actor, "time_zone", "") or "UTC",
        external_id=external_id,
        **_clean_content(data),
    )
    post.full_clean(exclude=["current_revision"])
    post.save()
    _targets_set(post=post, targets=targets)
    _media_add(post=post, items=media)
    _featured_set(post=post, featured=featured)
    event_record(
        actor=actor,
        action="post.created",
        obj=post,
        changes={"campaign": campaign.pk, "scheduled_at": scheduled_at, "time_zone": post.time_zone},
    )
    _revision_refresh(post=post, actor=actor)
    _linkcards_request(post=post)
    return post


# What a caller of `posts_create_many` gives (the zone is checked on its own); every other field is
# set by the service itself or keeps its default, so checking it again for each post finds nothing.
_BULK_CLEAN_FIELDS = frozenset({*CONTENT_FIELDS, "scheduled_at", "external_id"})
_BULK_CLEAN_EXCLUDE = tuple(field.name for field in Post._meta.fields if field.name not in _BULK_CLEAN_FIELDS)
_LINK_MAX_LENGTH = Post._meta.get_field("link").max_length or 2000


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _NewTarget(NamedTuple):
    """A target account of a post being created in bulk, as the content snapshot reads it."""

    post_id: int
    account: Account
    body_override: str

    @property
    def account_id(self) -> int:
        return self.account.pk


@dataclass(frozen=True)
class PostDraft:
    """One new post for `posts_create_many`: what `post_create` takes besides actor and campaign."""

    data: dict[str, Any]
    targets: Sequence[TargetSpec] = ()
    scheduled_at: dt.datetime | None = None
    time_zone: str | None = None
    external_id: str = ""


@transaction.atomic
def posts_create_many(
    *,
    actor: User,
    campaign: Campaign,
    drafts: Sequence[PostDraft],
    source: dict[str, Any] | None = None,
    batch_size: int = 500,
) -> list[Post]:
    """Create draft posts as `post_create` does, in batches; returns them.

    The same checks, first revisions and audit events as one `post_create` per draft (without
    media or featured people), in a fixed number of queries per batch. ``source`` (e.g. a plan
    file's name and SHA-256) goes into each creation event.
    """
    if not PostPolicy(actor).may_create_in(campaign):
        raise PermissionDenied(_("You may not add posts to this campaign."))
    external_ids = [draft.external_id for draft in drafts if draft.external_id]
    if len(set(external_ids)) != len(external_ids):
        raise ValidationError(_("A plan row id is used twice."), code="duplicate_external_id")
    for start in range(0, len(external_ids), batch_size):
        if Post.objects.filter(external_id__in=external_ids[start : start + batch_size]).exists():
            raise ValidationError(_("A plan row id is already used by another post."), code="duplicate_external_id")
    for draft in drafts:
        crisis_choice_check(actor=actor, old="", new=str(draft.data.get("content_type", "")))
    default_zone = getattr(actor, "time_zone", "") or "UTC"
    post_new = instance_maker(Post)
    posts: list[Post] = []
    for draft in drafts:
        _schedule_clean(draft.scheduled_at, draft.time_zone or "")
        _targets_check(draft.targets)
        post = post_new(
            campaign_id=campaign.pk,
            author_id=actor.pk,
            scheduled_at=draft.scheduled_at,
            time_zone=draft.time_zone or default_zone,
            external_id=draft.external_id,
            **_clean_content(draft.data),
        )
        post.campaign = campaign  # the snapshot reads its purpose; no query per post
        # Uniqueness was checked above for the whole batch (the constraint still guards it);
        # campaign, author, status and approval are ours, not the caller's; the zone is checked
        # against a cached set, since the field's choices scan the zone database every time;
        # an ordinary link is shown valid without the URL validator's full run (posts.links).
        if post.time_zone not in _zone_names():
            raise ValidationError(_("“%(zone)s” is not a time zone."), params={"zone": post.time_zone}, code="zone")
        link_valid = ordinary_web_link_valid(post.link, max_length=_LINK_MAX_LENGTH)
        post.full_clean(
            exclude=[*_BULK_CLEAN_EXCLUDE, *(["link"] if link_valid else [])],
            validate_unique=False,
            validate_constraints=False,
        )
        posts.append(post)
    # Where keys can be had before the rows (PostgreSQL), each post is written pointing at its first
    # revision, which follows in the same transaction (the foreign key is checked at commit).
    reserved = keys_reserve(model=Revision, count=len(posts))
    if reserved is not None:
        for post, revision_id in zip(posts, reserved, strict=True):
            post.current_revision_id = revision_id
    objects_insert(objects=posts)
    targets_of = [
        [_NewTarget(post_id=post.pk, account=spec.account, body_override=spec.body_override) for spec in draft.targets]
        for post, draft in zip(posts, drafts, strict=True)
    ]
    rows_insert(
        model=PostTarget,
        fields=("post_id", "account_id", "body_override"),
        rows=((t.post_id, t.account_id, t.body_override) for targets in targets_of for t in targets),
    )
    now = timezone.now()
    hashes: list[str] = []

    def revision_rows() -> Iterator[tuple[Any, ...]]:
        for post, targets in zip(posts, targets_of, strict=True):
            # Encoded once: hashed, then stored as this very text.
            text, digest = content_encoded(content_snapshot_of(post=post, targets=targets, media=(), featured=()))
            hashes.append(digest)
            yield (post.pk, 1, JsonText(text), digest, actor.pk, now)

    revision_fields = ("post_id", "number", "content", "content_hash", "created_by_id", "created_at")
    if reserved is not None:
        # Streamed: the server stores each part of the COPY while the next snapshots are made.
        rows_insert(
            model=Revision,
            fields=("id", *revision_fields),
            rows=((key, *row) for key, row in zip(reserved, revision_rows(), strict=True)),
        )
    else:
        revision_ids = rows_insert_returning(model=Revision, fields=revision_fields, rows=list(revision_rows()))
        # Each post points at its own first revision.
        for post, revision_id in zip(posts, revision_ids, strict=True):
            post.current_revision_id = revision_id
        column_set(
            model=Post, field="current_revision_id", values=[(post.pk, post.current_revision_id) for post in posts]
        )
    events: list[EventSpec] = []
    for post, digest in zip(posts, hashes, strict=True):
        created = {"campaign": campaign.pk, "scheduled_at": post.scheduled_at, "time_zone": post.time_zone}
        events.append(EventSpec("post.created", post, {**created, "source": source} if source else created))
        events.append(
            EventSpec("post.revision_created", post, {"revision": 1, "previous_hash": ""}, content_hash=digest)
        )
    # The posts are new: their erasure keys are made in one go, with nothing to look up first.
    keys = keys_create(owner for post in posts for owner in key_owners(post))
    events_record_many(actor=actor, events=events, keys=keys)
    # ``post_content_changed`` is not sent: it restarts review, and a post that did not exist
    # has none (`post_create` sends it with previous_status "draft", which changes nothing).
    return posts


# A change of content to a post in these states undoes review work: the editor is asked first.
RESTART_ASKED = frozenset({PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED})
RESTART_CONFIRM = "restart_confirm"
RESTART_QUESTIONS = {
    PostStatus.IN_REVIEW: gettext_lazy(
        "This post is in review. Saving a change to its content starts the review again from the first stage."
    ),
    PostStatus.APPROVED: gettext_lazy(
        "This post is approved. Saving a change to its content ends the approval: it must be reviewed again."
    ),
    PostStatus.SCHEDULED: gettext_lazy(
        "This post is scheduled. Saving a change to its content takes it off the schedule and ends "
        "the approval: it must be reviewed again before it can be scheduled."
    ),
}


@transaction.atomic
def post_update(
    *,
    post: Post,
    actor: User,
    data: dict[str, Any] | None = None,
    targets: Sequence[TargetSpec] | None = None,
    media_add: Sequence[NewMedia] = (),
    media_remove: Iterable[int] = (),
    media_alt_texts: dict[int, str] | None = None,
    media_order: Sequence[int] | None = None,
    featured: Sequence[FeatureSpec] | None = None,
    scheduled_at: dt.datetime | None = None,
    time_zone: str | None = None,
    expected_version: int | None = None,
    compressed_ok: bool | None = None,
    restart_ok: bool | None = None,
) -> Post:
    """Apply an editor's changes in one step: one new revision if the content changed.

    A new time alone keeps the approval; any change of content sends an approved or
    scheduled post back to draft (the review chain restarts it). With ``expected_version``
    (what the editor was opened on, `audit.versions`) a post changed since is refused.
    With ``restart_ok=False`` (a person was asked and did not confirm) a change of content to a
    post in review, approved or scheduled is refused with code RESTART_CONFIRM and nothing saved.
    """
    post = post_lock(post.pk)
    post_version_check(post=post, expected=expected_version)
    _ensure(PostPolicy(actor), post, EDIT)
    status_before = post.status
    changes: dict[str, Any] = {}
    old_title = post.title
    crisis_choice_check(actor=actor, old=post.content_type, new=str((data or {}).get("content_type", "")))
    for field, value in _clean_content(data or {}).items():
        if getattr(post, field) != value:
            setattr(post, field, value)
            changes[field] = True
    if changes:
        post.full_clean(exclude=["current_revision"])
        post.save(update_fields=[*changes, "updated_at"])
    current = post.current_revision
    if "title" in changes and current is not None and "title" not in current.content:
        # A revision from before the title was content does not hold it, so the diff of the next
        # revision cannot show what it was: this event names the change in the stale notice.
        event_record(
            actor=actor, action="post.title_changed", obj=post, changes={"title": Personal([old_title, post.title])}
        )
    if targets is not None:
        _targets_set(post=post, targets=targets)
    _media_change(post=post, remove=media_remove, alt_texts=media_alt_texts or {}, order=media_order)
    _media_add(post=post, items=media_add)
    if featured is not None:
        _featured_set(post=post, featured=featured)
    if scheduled_at is not None or time_zone is not None:
        _move(
            post=post,
            actor=actor,
            scheduled_at=scheduled_at or post.scheduled_at,
            time_zone=time_zone,
            compressed_ok=compressed_ok,
        )
    revision = _revision_refresh(post=post, actor=actor, unseen_change="title" in changes)
    if revision is not None and restart_ok is False and status_before in RESTART_ASKED:
        # Raised inside the transaction: nothing of this save is kept.
        raise ValidationError(str(RESTART_QUESTIONS[PostStatus(status_before)]), code=RESTART_CONFIRM)
    _linkcards_request(post=post)
    return post


def _linkcards_request(*, post: Post) -> None:
    """Queue, after commit, the fetch of the link cards the post's text and link show (not part of its content)."""
    bodies = [post.body, *(target.body_override for target in post.targets.all() if target.body_override)]
    for body in bodies:
        url = linkcards.card_link(link=post.link, body=body)
        if url:
            linkcards.linkcard_request(url=url)


def _move(
    *,
    post: Post,
    actor: User,
    scheduled_at: dt.datetime | None,
    time_zone: str | None = None,
    compressed_ok: bool | None = None,
) -> None:
    _schedule_clean(scheduled_at, time_zone or "")
    new_zone = time_zone or post.time_zone
    if scheduled_at == post.scheduled_at and new_zone == post.time_zone:
        return
    if post.status == PostStatus.SCHEDULED and (scheduled_at is None or scheduled_at <= timezone.now()):
        raise ValidationError(_("A scheduled post can only move to a time in the future."), code="past")
    changes: dict[str, Any] = {}
    if scheduled_at != post.scheduled_at and (to_confirm := move_confirmations(post=post, scheduled_at=scheduled_at)):
        if compressed_ok is False:
            raise ValidationError(" ".join(to_confirm), code=MOVE_CONFIRM)
        if compressed_ok:
            # Only a person asked on a page confirms; a program's move (None) records no confirmation.
            changes["compressed_review_confirmed"] = True
    old = post.scheduled_at
    post.scheduled_at = scheduled_at
    post.time_zone = new_zone
    post.full_clean(exclude=["current_revision"])
    post.save(update_fields=["scheduled_at", "time_zone", "updated_at"])
    event_record(
        actor=actor,
        action="post.moved",
        obj=post,
        content_hash=post.content_hash,
        changes={"scheduled_at": [old, scheduled_at], "time_zone": new_zone, **changes},
    )
    post_retimed.send(sender=Post, post=post, actor=actor)


@transaction.atomic
def post_move(
    *,
    post: Post,
    actor: User,
    scheduled_at: dt.datetime,
    time_zone: str | None = None,
    expected_version: int | None = None,
    compressed_ok: bool | None = None,
) -> Post:
    """Plan a post for another time; its approvals stay, since the content did not change.

    A new time that needs confirming (`posts.movechecks`: for a post in review, one that leaves the
    remaining stages less than their turnarounds) is refused with ``compressed_ok=False``; the
    pages where a person moves a post pass whether they confirmed it (None: not asked, as for a
    program's move, which is let through and records no confirmation).
    """
    post = post_lock(post.pk)
    post_version_check(post=post, expected=expected_version)
    _ensure(PostPolicy(actor), post, MOVE)
    _move(post=post, actor=actor, scheduled_at=scheduled_at, time_zone=time_zone, compressed_ok=compressed_ok)
    return post


def post_findings(*, post: Post) -> dict[int, list[platforms.Finding]]:
    """Return the platform-rule findings per target account id of a saved post."""
    media = [
        platforms.MediaInfo(
            kind=m.kind, width=m.width, height=m.height, format=m.format, byte_size=m.byte_size, alt_text=m.alt_text
        )
        for m in post.media.all()
    ]
    return {
        target.account_id: platforms.findings_for_target(
            platform=target.account.platform,
            body=target.body_override or post.body,
            link=post.link,
            hashtags=post.hashtags,
            media=media,
            title=post.title,
        )
        for target in _targets_with_accounts(post)
    }


def _targets_with_accounts(post: Post) -> Iterable[PostTarget]:
    # A page that loaded the post with its targets (every such prefetch selects their accounts)
    # asks no second time; a service's freshly locked post reads them here.
    if "targets" in getattr(post, "_prefetched_objects_cache", {}):
        return post.targets.all()
    return post.targets.select_related("account")


def _media_with_checks(post: Post) -> Iterable[Media]:
    # Pages load the media with their checks (posts.selectors); a service's locked post reads them here, at once.
    if "media" in getattr(post, "_prefetched_objects_cache", {}):
        return post.media.all()
    return post.media.select_related("scan").order_by("position", "pk")


def post_content_findings(*, post: Post) -> list[platforms.Finding]:
    """Return the findings about the post as a whole: possible patient data, metadata, removed locations, claims."""
    targets = list(post.targets.all())
    texts = [post.title, post.body, *(target.body_override for target in targets if target.body_override)]
    images = [media for media in _media_with_checks(post) if media.file]
    featured = frozenset(person.subject_id for person in post.featured_people.all())
    kinds = frozenset(kind for person in post.featured_people.all() for kind in person.media_kinds)
    claims = list(post.claims.all())
    # A page asks twice for the same loaded post (its findings, then the review panel's): the second
    # time, with the same inputs, gets the same answer without reading the registry's names again.
    inputs = (
        get_language(),
        post.language,
        post.content_type,
        tuple(texts),
        featured,
        kinds,
        tuple((media.file.name, media.original_had_location, media_check(media)) for media in images),
        tuple((claim.pk, claim.passage, claim.source_kind, claim.source) for claim in claims),
    )
    kept = post.__dict__.get("_content_findings")
    if kept is not None and kept[0] == inputs:
        return list(kept[1])
    findings = patient_data.content_findings(
        texts=texts,
        language=post.language,
        featured_names=[person.subject.display_name for person in post.featured_people.all()],
        featured_kinds=kinds,
        featured_subject_ids=set(featured),
        image_paths=[media.file.path for media in images],
        located_images=[index for index, media in enumerate(images) if media.original_had_location],
        image_checks=[media_check(media) for media in images],
        photo_people=sum(ConsentMediaKind.PHOTO in person.media_kinds for person in post.featured_people.all()),
    )
    found = [*findings, *claim_findings(post=post, texts=texts, claims=claims)]
    post.__dict__["_content_findings"] = (inputs, tuple(found))
    return found


@transaction.atomic
def post_schedule(*, post: Post, actor: User) -> Post:
    """Commit an approved post to its time; refuses if anything would stop it going out."""
    post = post_lock(post.pk)
    _ensure(PostPolicy(actor), post, SCHEDULE)
    errors: list[str] = []
    if not post.is_approved_as_is:
        errors.append(_("The review chain has not approved this exact content."))
    if post.scheduled_at is None:
        errors.append(_("Set a date and time first."))
    elif post.scheduled_at <= timezone.now():
        errors.append(_("The scheduled time is in the past."))
    targets = list(post.targets.select_related("account"))
    if not targets:
        errors.append(_("Choose at least one target account."))
    for target in targets:
        if not target.account.active:
            errors.append(_("%(account)s is not active.") % {"account": target.account})
    for findings in post_findings(post=post).values():
        errors.extend(f.message for f in findings if f.severity == platforms.Severity.ERROR)
    errors.extend(f.message for f in post_content_findings(post=post) if f.severity == platforms.Severity.ERROR)
    errors.extend(problem.message for problem in post_consent_problems(post=post))
    if post.scheduled_at is not None:  # the gates of the apps above posts, at the scheduled time
        errors.extend(send_gate_problems(posts=[post], at=post.scheduled_at)[post.pk])
    if errors:
        raise ValidationError(errors, code="not_schedulable")
    return post_transition(post=post, to=PostStatus.SCHEDULED, actor=actor, reason="scheduled")


@transaction.atomic
def post_unschedule(*, post: Post, actor: User) -> Post:
    """Take a scheduled post off the schedule; it stays approved."""
    post = post_lock(post.pk)
    _ensure(PostPolicy(actor), post, UNSCHEDULE)
    return post_transition(post=post, to=PostStatus.APPROVED, actor=actor, reason="unscheduled")


@transaction.atomic
def post_withdraw(*, post: Post, actor: User, reason: str = "") -> Post:
    """Withdraw a post that has not gone out."""
    post = post_lock(post.pk)
    _ensure(PostPolicy(actor), post, WITHDRAW)
    text_storable(reason)
    post_transition(post=post, to=PostStatus.WITHDRAWN, actor=actor, reason=reason or "withdrawn")
    post_withdrawn.send(sender=Post, post=post, actor=actor, reason=reason or "withdrawn")
    return post


@transaction.atomic
def post_approval_record(*, post: Post, approved_hash: str, actor: User) -> Post:
    """Record that the review chain approved ``approved_hash``; the approvals app calls this.

    Refuses a hash that is not the post's current content: approval binds to content.
    """
    post = post_lock(post.pk)
    if approved_hash != post.content_hash:
        raise ValidationError(_("The approved content is no longer the post's content."), code="stale_approval")
    post.approved_hash = approved_hash
    post.save(update_fields=["approved_hash", "updated_at"])
    if post.status in UNSTOPPABLE:
        # Edited while going out: the live post is the earlier approved content and stays as it is;
        # this approves the edit (docs/publishing.md, "Edited while going out").
        event_record(
            actor=actor,
            action="post.edit_approved_after_publication",
            obj=post,
            content_hash=approved_hash,
            changes={"status": post.status},
        )
        return post
    return post_transition(post=post, to=PostStatus.APPROVED, actor=actor, reason="review chain complete")


@dataclass(frozen=True)
class Retraction:
    """What a rejection after publication did: whether the post was withdrawn, which takedowns it listed."""

    withdrawn: bool
    takedown_ids: list[int]


def post_retract(*, post: Post, stage: str, comment: str, actor: User, cause: str = "review_rejected") -> Retraction:
    """Withdraw what of a locked post has not gone out and have what is live listed for takedown.

    A review stage after publication rejected the post (`approvals.services.decision_record` calls
    this in its transaction, holding the post's lock). A post the life cycle lets withdraw is
    withdrawn (its publications not yet sent are cancelled); the chain's approval is cleared, so no
    send gate passes for this content again (a retry of a failed target, a post scheduled anew);
    then ``post_retracted`` lets publishing list a takedown for every live target.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_retract must run inside the decision's transaction")
    # ``cause`` names why for the takedowns: a stage after publication rejected the post, or a
    # reviewer withdrew it at re-certification (``recertification_withdrawn``).
    retraction = {"stage": stage, "comment": comment}
    if cause == "review_rejected":
        reason = f"rejected by the stage “{stage}”"[:200]
    else:
        reason = f"withdrawn at re-certification ({stage})"[:200]
        retraction["cause"] = cause
    withdrawn = may_move(post.status, PostStatus.WITHDRAWN)
    if withdrawn:
        post_transition(
            post=post, to=PostStatus.WITHDRAWN, actor=actor, reason=reason, changes={"retracted": retraction}
        )
        post_withdrawn.send(sender=Post, post=post, actor=actor, reason=reason)
    if post.approved_hash:
        post.approved_hash = ""
        post.save(update_fields=["approved_hash", "updated_at"])
    event_record(
        actor=actor,
        action="post.retracted",
        obj=post,
        content_hash=post.content_hash,
        changes={**retraction, "status": post.status, "withdrawn": withdrawn},
    )
    takedown_ids: list[int] = []
    responses = post_retracted.send(
        sender=Post, post=post, stage=stage, comment=comment, actor=actor, reason=reason, cause=cause
    )
    for _receiver, item_ids in responses:
        takedown_ids.extend(cast(list[int], item_ids))
    return Retraction(withdrawn=withdrawn, takedown_ids=takedown_ids)


# Consent ------------------------------------------------------------------------------------

UNSTOPPABLE = frozenset({PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED, PostStatus.FAILED})
FINISHED = frozenset({PostStatus.REJECTED, PostStatus.WITHDRAWN, PostStatus.BLOCKED})


def post_blocked_mail_queue(*, post: Post, reason: str) -> None:
    """Queue the "post blocked" mail for after commit; call in the transaction that blocked ``post``."""
    # The post's latest audit event, written by this transaction, names this block: the task
    # delivered twice mails once, yet a post blocked again later (same revision, same reason) is
    # a new event and is mailed again.
    event = version_of(model=Post, pk=post.pk)
    enqueue_after_commit("posts.notifications.post_blocked", post_id=post.pk, reason=reason, event=event)


def consent_cascade(*, record: ConsentRecord, actor: User | None, reason: str) -> tuple[list[int], list[int]]:
    """Block every post relying on ``record`` that is not out yet; list takedowns for what is out.

    Runs inside the revoking (or expiring) transaction, so the consent never ends half way.
    Returns the ids of blocked posts and of new takedown items.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("consent_cascade must run inside the consent's transaction")
    post_ids = sorted(set(FeaturedPerson.objects.filter(consent=record).values_list("post_id", flat=True)))
    blocked: list[int] = []
    takedowns: list[int] = []
    # Locks in id order, as everywhere, so two cascades never deadlock.
    for post in posts_lock(post_ids):
        if post.status in UNSTOPPABLE:
            # Publishing lists what must come down, in this transaction.
            responses = post_out_consent_ended.send(sender=Post, post=post, record=record, actor=actor, reason=reason)
            for _receiver, item_ids in responses:
                takedowns.extend(cast(list[int], item_ids))
        elif post.status not in FINISHED:
            post_transition(
                post=post, to=PostStatus.BLOCKED, actor=actor, reason=reason, changes={"consent": record.pk}
            )
            post_blocked.send(sender=Post, post=post, actor=actor, reason=reason)
            post_blocked_mail_queue(post=post, reason=reason)
            blocked.append(post.pk)
    return blocked, takedowns


# Crisis handling ------------------------------------------------------------------------------


def crisis_choice_check(*, actor: User, old: str, new: str) -> None:
    """Refuse making a post a crisis post unless ``actor`` may declare one; keeping one stays allowed."""
    if new == ContentType.CRISIS and old != ContentType.CRISIS and not may_declare_crisis(actor):
        raise ValidationError(
            {
                "content_type": _(
                    "Only Communications or Governance declare a crisis post; ask for crisis handling instead."
                )
            },
            code="crisis_not_allowed",
        )


@transaction.atomic
def post_crisis_request(*, post: Post, actor: User, reason: str) -> Post:
    """Ask Communications to handle ``post`` as a crisis; records who asked and why and tells them after commit."""
    post = post_lock(post.pk)
    if REQUEST_CRISIS not in crisis_actions(actor, post, post_actions=PostPolicy(actor).actions(post)):
        raise PermissionDenied(_("You may not ask for crisis handling of this post."))
    reason = reason.strip()
    text_storable(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why this post needs crisis handling.")}, code="reason_required")
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2,000 characters.")}, code="reason_too_long")
    post.crisis_requested_by, post.crisis_requested_at, post.crisis_request_reason = actor, timezone.now(), reason
    post.save(update_fields=["crisis_requested_by", "crisis_requested_at", "crisis_request_reason", "updated_at"])
    event_record(actor=actor, action="post.crisis_requested", obj=post, changes={"reason": reason})
    enqueue_after_commit("posts.notifications.crisis_requested", post_id=post.pk)
    return post


@transaction.atomic
def post_crisis_declare(*, post: Post, actor: User) -> Post:
    """Make ``post`` a crisis post: a new revision, so review restarts on the expedited chain; records who declared it.

    The declarer decides no stage of the post's review (`approvals.policy`, "declared_crisis").
    """
    post = post_lock(post.pk)
    if DECLARE_CRISIS not in crisis_actions(actor, post, post_actions=PostPolicy(actor).actions(post)):
        raise PermissionDenied(_("Only Communications or Governance declare a crisis post."))
    old = post.content_type
    post.content_type = ContentType.CRISIS
    post.crisis_declared_by, post.crisis_declared_at = actor, timezone.now()
    post.save(update_fields=["content_type", "crisis_declared_by", "crisis_declared_at", "updated_at"])
    event_record(
        actor=actor,
        action="post.crisis_declared",
        obj=post,
        changes={"content_type": [old, ContentType.CRISIS], "requested_by": post.crisis_requested_by_id},
    )
    _revision_refresh(post=post, actor=actor)
    return post
