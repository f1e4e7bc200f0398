"""Preview and import a campaign plan: every row checked, nothing written unless all are valid.

`plan_preview` says what each row would do; `plan_commit` checks again inside one transaction
and writes through the posts services (`campaign_create`, `posts_create_many`, `post_update`),
so the audit trail records who imported which file. The web views, the admin, the command
line and the background task all call these two functions.
"""

import datetime as dt
import gc
import threading
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.services import event_record
from people.models import User
from plans import reading
from plans.reading import Line, PlanFileError, file_sha256, read_lines
from plans.rows import DEFAULT_CONTENT_TYPE, DEFAULT_LANGUAGE, DMY, MDY, AccountIndex, PlanRow, RowParser
from posts.models import Account, Campaign, ContentType, Post, PostStatus, PostTarget
from posts.policy import EDIT, PostPolicy, may_declare_crisis
from posts.services import PostDraft, TargetSpec, campaign_create, post_update, posts_create_many

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
ERROR = "error"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, ERROR)

# Content that is part of a post's revision: changing any of it restarts review.
REVISION_FIELDS = ("body", "link", "hashtags", "content_type", "language", "targets")
REVIEW_STATES = frozenset(
    {PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.BLOCKED}
)
CHUNK = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PlanOptions:
    """How to read the file: a plan with a header, or a Hootsuite file with its choices."""

    hootsuite: str = ""  # "", "dmy" or "mdy"
    campaign: str = ""
    accounts: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"hootsuite": self.hootsuite, "campaign": self.campaign, "accounts": list(self.accounts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PlanOptions":
        return cls(
            hootsuite=data.get("hootsuite", ""),
            campaign=data.get("campaign", ""),
            accounts=tuple(data.get("accounts", ())),
        )


@dataclass(frozen=True)
class PlanError:
    """One problem: at a row and column, or (row None) with the file as a whole."""

    row: int | None
    column: str
    message: str

    def line(self) -> str:
        """Return the error as the command line prints it: ``row N, column C: message``."""
        if self.row is None:
            return f"column {self.column}: {self.message}" if self.column else f"file: {self.message}"
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class RowResult:
    """What one row would do, as the preview shows it."""

    number: int
    outcome: str
    campaign: str = ""
    when: str = ""
    accounts: str = ""
    title: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    post_id: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowResult":
        data = dict(data)
        data["errors"] = [tuple(pair) for pair in data.get("errors", [])]
        return cls(**data)


@dataclass
class Preview:
    """Every row's outcome and every error; ``ok`` when the import may go ahead."""

    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[PlanError] = field(default_factory=list)
    new_campaigns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(row.outcome != ERROR for row in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    @property
    def errors(self) -> list[PlanError]:
        """Return the file's errors, then each row's, in row order."""
        return [
            *self.file_errors,
            *(PlanError(row.number, column, message) for row in self.rows for column, message in row.errors),
        ]

    @property
    def writes(self) -> bool:
        return any(row.outcome in {CREATED, UPDATED} for row in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": [asdict(row) for row in self.rows],
            "file_errors": [asdict(error) for error in self.file_errors],
            "new_campaigns": self.new_campaigns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preview":
        return cls(
            rows=[RowResult.from_dict(row) for row in data.get("rows", [])],
            file_errors=[PlanError(**error) for error in data.get("file_errors", [])],
            new_campaigns=list(data.get("new_campaigns", [])),
        )


class PlanInvalid(Exception):
    """The plan has errors; nothing was written. ``preview`` says which."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(f"{len(preview.errors)} errors")
        self.preview = preview


@dataclass
class _Decision:
    row: PlanRow
    result: RowResult
    campaign: Campaign | None = None
    new_campaign: str = ""
    post: Post | None = None
    data: dict[str, Any] = field(default_factory=dict)
    targets: list[TargetSpec] = field(default_factory=list)


def default_zone(actor: User) -> str:
    return getattr(actor, "time_zone", "") or settings.TIME_ZONE


def _local_when(row: PlanRow) -> str:
    if row.scheduled_at is None or not row.time_zone:
        return row.local_time
    local = row.scheduled_at.astimezone(zoneinfo.ZoneInfo(row.time_zone))
    return f"{local:%Y-%m-%d %H:%M} {row.time_zone}"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Analysis:
    """Parse, look up and classify every row of one file for one importer."""

    def __init__(self, *, actor: User, options: PlanOptions, progress: Progress | None) -> None:
        self.actor = actor
        self.options = options
        self.progress = progress
        self.preview = Preview()
        self.decisions: list[_Decision] = []
        self.policy = PostPolicy(actor)
        self.accounts = AccountIndex(Account.objects.defer("credentials"))
        self.parser = RowParser(accounts=self.accounts, default_zone=default_zone(actor))
        self.now = timezone.now()
        self._targets: dict[int, TargetSpec] = {}

    def run(self, data: bytes, *, keep: bool) -> None:
        """Classify every row; ``keep`` holds the parsed file for the commit that may follow."""
        parsed = self._parsed(data, keep=keep)
        self.preview.file_errors.extend(parsed.file_errors)
        if self.preview.file_errors:
            return
        # Rows pick up errors while they are classified: the kept ones stay as the file gave them.
        rows = [_fresh(row, self.accounts) for row in parsed.rows] if parsed.shared else list(parsed.rows)
        campaigns = self._campaigns({row.campaign for row in rows if row.campaign})
        by_external_id = self._posts_by_external_id(rows)
        by_natural_key = self._posts_by_natural_key(rows, campaigns)
        total = len(rows)
        new_campaigns: dict[str, None] = {}
        for index, row in enumerate(rows, start=1):
            decision = self._decide(row, campaigns, by_external_id, by_natural_key)
            if decision.new_campaign and decision.result.outcome != ERROR:
                new_campaigns[decision.new_campaign] = None
            self.decisions.append(decision)
            self.preview.rows.append(decision.result)
            if self.progress and index % CHUNK == 0:
                self.progress(index, total)
        self.preview.new_campaigns = list(new_campaigns)

    def _target(self, account: Account) -> TargetSpec:
        # Specs are immutable: a new post's targets share one per account.
        if account.pk not in self._targets:
            self._targets[account.pk] = TargetSpec(account=account)
        return self._targets[account.pk]

    @cached_property
    def may_add_campaign(self) -> bool:
        return bool(self.actor.has_perm("posts.add_campaign"))  # asked once, not once a row

    # Reading ----------------------------------------------------------------------------

    def _parsed(self, data: bytes, *, keep: bool) -> "_Parsed":
        key = self._parse_key(data)
        parsed = _parsed_take(key, consume=not keep)
        if parsed is not None:
            return parsed
        rows = self._read(data)
        parsed = _Parsed(key=key, file_errors=tuple(self.preview.file_errors), rows=tuple(rows), shared=keep)
        self.preview.file_errors.clear()
        if keep:
            _parsed_keep(parsed)
        return parsed

    def _parse_key(self, data: bytes) -> tuple[Any, ...]:
        """Return everything reading and checking the rows depends on; the rest is looked up each time."""
        accounts = sorted((a.pk, a.platform, a.name, a.handle, a.active) for a in self.accounts.accounts.values())
        return (
            file_sha256(data),
            len(data),
            self.options,
            self.parser.default_zone,
            get_language(),
            tuple(accounts),
            reading.MAX_BYTES,
            reading.MAX_ROWS,
        )

    def _read(self, data: bytes) -> list[PlanRow]:
        try:
            lines = read_lines(data, has_header=not self.options.hootsuite)
        except PlanFileError as exc:
            self.preview.file_errors.append(PlanError(exc.row, exc.column, exc.message))
            return []
        rows = self._parse(lines)
        if self.preview.file_errors:
            return []
        if not rows:
            self.preview.file_errors.append(PlanError(None, "", _("The plan has no rows.")))
            return []
        self._duplicates(rows)
        return rows

    def _parse(self, lines: list[Line]) -> list[PlanRow]:
        if self.options.hootsuite:
            return self._parse_hootsuite(lines)
        header, *body = lines
        for column, message in self.parser.header(header):
            self.preview.file_errors.append(PlanError(header.number, column, message))
        if self.preview.file_errors:
            return []
        language = get_language()  # one look-up for the file: the same thread parses every row
        return [self.parser.plan_row(line, language=language) for line in body]

    def _parse_hootsuite(self, lines: list[Line]) -> list[PlanRow]:
        order = self.options.hootsuite
        if order not in {DMY, MDY}:
            self.preview.file_errors.append(PlanError(None, "date", _("Choose the date order: dmy or mdy.")))
        campaign = self.options.campaign.strip()
        if not campaign:
            self.preview.file_errors.append(PlanError(None, "campaign", _("Choose the campaign for these posts.")))
        accounts: list[Account] = []
        for token in self.options.accounts:
            if not token.strip():
                continue
            account, problem = self.accounts.find(token.strip())
            if account is None:
                self.preview.file_errors.append(PlanError(None, "accounts", problem))
            elif not account.active:
                message = _("%(account)s is not active.") % {"account": account}
                self.preview.file_errors.append(PlanError(None, "accounts", message))
            elif account not in accounts:
                accounts.append(account)
        if not accounts and not any(error.column == "accounts" for error in self.preview.file_errors):
            self.preview.file_errors.append(PlanError(None, "accounts", _("Choose at least one account.")))
        if self.preview.file_errors:
            return []
        return [self.parser.hootsuite_row(line, order=order, campaign=campaign, accounts=accounts) for line in lines]

    def _duplicates(self, rows: list[PlanRow]) -> None:
        first: dict[str, int] = {}
        for row in rows:
            if not row.external_id:
                continue
            if row.external_id in first:
                message = _("“%(id)s” is already used in row %(row)d.")
                row.error("external_id", message % {"id": row.external_id, "row": first[row.external_id]})
            else:
                first[row.external_id] = row.number

    # Looking up -------------------------------------------------------------------------

    def _campaigns(self, names: set[str]) -> dict[str, Campaign]:
        found = {campaign.name: campaign for campaign in Campaign.objects.filter(name__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            query = Q()
            for name in missing:
                query |= Q(name__iexact=name)
            by_key = {campaign.name.casefold(): campaign for campaign in Campaign.objects.filter(query)}
            for name in missing:
                if name.casefold() in by_key:
                    found[name] = by_key[name.casefold()]
        return found

    def _with_targets(self, posts: list[Post]) -> list[Post]:
        targets: dict[int, list[PostTarget]] = defaultdict(list)
        for chunk in _chunks([post.pk for post in posts]):
            for target in PostTarget.objects.filter(post_id__in=chunk).only("post_id", "account_id", "body_override"):
                targets[target.post_id].append(target)
        for post in posts:
            post.plan_targets = targets[post.pk]  # type: ignore[attr-defined]
        return posts

    def _post_query(self) -> Any:
        return Post.objects.select_related("current_revision", "campaign").defer(
            "current_revision__content", "campaign__goal"
        )

    def _posts_by_external_id(self, rows: list[PlanRow]) -> dict[str, Post]:
        ids = sorted({row.external_id for row in rows if row.external_id})
        posts: list[Post] = []
        for chunk in _chunks(ids):
            posts.extend(self._post_query().filter(external_id__in=chunk))
        return {post.external_id: post for post in self._with_targets(posts)}

    def _posts_by_natural_key(
        self, rows: list[PlanRow], campaigns: dict[str, Campaign]
    ) -> dict[tuple[int, dt.datetime, str], list[Post]]:
        # Rows without an id (Hootsuite files, exports of posts made by hand) match a post of
        # the same campaign at the same time with the same text, so re-importing them is a no-op.
        wanted = [
            row for row in rows if not row.external_id and row.scheduled_at is not None and row.campaign in campaigns
        ]
        if not wanted:
            return {}
        campaign_ids = sorted({campaigns[row.campaign].pk for row in wanted})
        moments = sorted({row.scheduled_at for row in wanted if row.scheduled_at is not None})
        posts: list[Post] = []
        for chunk in _chunks(moments):
            posts.extend(
                self._post_query().filter(external_id="", campaign_id__in=campaign_ids, scheduled_at__in=chunk)
            )
        pool: dict[tuple[int, dt.datetime, str], list[Post]] = defaultdict(list)
        for post in sorted(self._with_targets(posts), key=lambda post: post.pk):
            if post.scheduled_at is not None:
                pool[(post.campaign_id, post.scheduled_at, post.body)].append(post)
        return pool

    # Deciding ---------------------------------------------------------------------------

    def _decide(
        self,
        row: PlanRow,
        campaigns: dict[str, Campaign],
        by_external_id: dict[str, Post],
        by_natural_key: dict[tuple[int, dt.datetime, str], list[Post]],
    ) -> _Decision:
        result = RowResult(
            number=row.number,
            outcome=ERROR,
            campaign=row.campaign,
            when=_local_when(row),
            accounts=", ".join(account.name for account in row.accounts),
            title=row.title or row.body[:80],
            errors=row.errors,
        )
        decision = _Decision(row=row, result=result)
        if row.errors:
            return decision
        campaign = campaigns.get(row.campaign)
        if campaign is not None and not self.policy.may_create_in(campaign):
            # Another team's campaign answers as one that does not exist: a plan reveals no names.
            row.error("campaign", _("Unknown campaign “%(name)s”.") % {"name": row.campaign})
            return decision
        if campaign is None:
            if not self.may_add_campaign:
                row.error("campaign", _("Unknown campaign “%(name)s”.") % {"name": row.campaign})
                return decision
            decision.new_campaign = row.campaign
        decision.campaign = campaign
        post = by_external_id.get(row.external_id) if row.external_id else None
        if post is None and not row.external_id and campaign is not None and row.scheduled_at is not None:
            candidates = by_natural_key.get((campaign.pk, row.scheduled_at, row.body))
            if candidates:
                post = candidates.pop(0)
        if post is None:
            return self._created(decision)
        return self._existing(decision, post)

    def _past(self, decision: _Decision) -> bool:
        row = decision.row
        if row.scheduled_at is not None and row.scheduled_at <= self.now:
            column = "date"
            row.error(column, _("%(when)s is in the past.") % {"when": decision.result.when})
            return True
        return False

    def _content(self, row: PlanRow, post: Post | None) -> dict[str, Any]:
        return {
            "title": row.title,
            "body": row.body,
            "link": row.link,
            "hashtags": list(row.hashtags),
            "content_type": row.content_type or (post.content_type if post else DEFAULT_CONTENT_TYPE),
            "language": row.language or (post.language if post else DEFAULT_LANGUAGE),
        }

    @cached_property
    def may_declare_crisis(self) -> bool:
        return may_declare_crisis(self.actor)

    def _crisis_refused(self, row: PlanRow, *, old: str) -> bool:
        if row.content_type != ContentType.CRISIS or old == ContentType.CRISIS or self.may_declare_crisis:
            return False
        row.error(
            "content_type",
            _(
                "Only Communications or Governance declare a crisis post; import it with another content type "
                "and ask for crisis handling on the post."
            ),
        )
        return True

    def _created(self, decision: _Decision) -> _Decision:
        if self._past(decision) or self._crisis_refused(decision.row, old=""):
            return decision
        decision.data = self._content(decision.row, None)
        decision.targets = [self._target(account) for account in decision.row.accounts]
        decision.result.outcome = CREATED
        return decision

    def _existing(self, decision: _Decision, post: Post) -> _Decision:
        row, result = decision.row, decision.result
        result.post_id = post.pk
        if not self.policy.may_create_in(post.campaign):
            # A post of a campaign the importer cannot edit: say so without naming that campaign.
            row.error("external_id", _("Unknown post “%(id)s”.") % {"id": row.external_id})
            return decision
        if decision.campaign is None or post.campaign_id != decision.campaign.pk:
            row.error(
                "campaign",
                _("“%(id)s” is a post of the campaign “%(name)s”; a plan cannot move it to another campaign.")
                % {"id": row.external_id, "name": post.campaign.name},
            )
            return decision
        data = self._content(row, post)
        changed = [name for name, value in data.items() if getattr(post, name) != value]
        existing_targets: list[PostTarget] = post.plan_targets  # type: ignore[attr-defined]
        if {target.account_id for target in existing_targets} != row.account_ids:
            changed.append("targets")
        moved = post.scheduled_at != row.scheduled_at or post.time_zone != row.time_zone
        decision.post = post
        if not changed and not moved:
            result.outcome = UNCHANGED
            return decision
        if EDIT not in self.policy.actions(post):
            row.error(
                "external_id" if row.external_id else "body",
                _("This post is “%(status)s” and may not be changed by you.")
                % {"status": PostStatus(post.status).label},
            )
            return decision
        if self._past(decision) or self._crisis_refused(row, old=post.content_type):
            return decision
        overrides = {target.account_id: target.body_override for target in existing_targets}
        decision.data = data
        decision.targets = [
            TargetSpec(account=account, body_override=overrides.get(account.pk, "")) for account in row.accounts
        ]
        if post.status in REVIEW_STATES and any(name in REVISION_FIELDS for name in changed):
            result.notes.append(_("The content changes: a new revision, and review starts again."))
        elif post.status in REVIEW_STATES and changed:
            result.notes.append(_("Only the title changes; the review goes on."))
        elif post.status in REVIEW_STATES:
            result.notes.append(_("Moves to another time; the review and approvals stay."))
        result.outcome = UPDATED
        return decision


@dataclass(frozen=True)
class _Parsed:
    """A file read and its rows checked: what depends only on the key, never on posts, campaigns,
    rights or the time, which every analysis looks up again."""

    key: tuple[Any, ...]
    file_errors: tuple[PlanError, ...]
    rows: tuple[PlanRow, ...]
    shared: bool  # kept for a later analysis: rows must be copied before use


# The last previewed file of this process, for the commit that usually follows it.
_kept: list[_Parsed] = []
_kept_lock = threading.Lock()


def _parsed_keep(parsed: _Parsed) -> None:
    with _kept_lock:
        _kept[:] = [parsed]


def _parsed_take(key: tuple[Any, ...], *, consume: bool) -> _Parsed | None:
    """Return the kept parse of exactly this input, or None; ``consume`` lets it go."""
    with _kept_lock:
        if not _kept or _kept[0].key != key:
            return None
        parsed = _kept[0]
        if consume:
            _kept.clear()
        return parsed


def _fresh(row: PlanRow, accounts: AccountIndex) -> PlanRow:
    copied = object.__new__(PlanRow)  # a shallow copy, four times as fast as copy.copy
    copied.__dict__.update(row.__dict__)
    copied.errors = list(row.errors)
    copied.accounts = tuple(accounts.accounts[account.pk] for account in row.accounts)
    return copied


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (not reference counting) while a plan is imported.

    An import builds tens of thousands of long-lived objects without reference cycles (rows,
    posts, events); each time they pile up, the collector walks the whole heap again for
    nothing, about a fifth of the import's time. Everything is still freed when its last
    reference goes; the collector resumes, as it was, when the import ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(*, data: bytes, actor: User, options: PlanOptions, progress: Progress | None, keep: bool) -> _Analysis:
    analysis = _Analysis(actor=actor, options=options, progress=progress)
    analysis.run(data, keep=keep)
    return analysis


def plan_preview(
    *, data: bytes, actor: User, options: PlanOptions | None = None, progress: Progress | None = None
) -> Preview:
    """Return what importing ``data`` would do, row by row; writes nothing.

    The parsed rows stay in this process for a `plan_commit` of the same file, options, importer's
    zone, language and accounts; the commit still looks up everything else again.
    """
    options = options or PlanOptions()
    with _cycle_collector_paused():
        return _analyse(data=data, actor=actor, options=options, progress=progress, keep=True).preview


def _campaign_period(rows: Iterable[PlanRow]) -> tuple[dt.date, dt.date]:
    days = [
        row.scheduled_at.astimezone(zoneinfo.ZoneInfo(row.time_zone)).date()
        for row in rows
        if row.scheduled_at is not None
    ]
    return min(days), max(days)


def plan_commit(
    *,
    data: bytes,
    file_name: str,
    actor: User,
    options: PlanOptions | None = None,
    progress: Progress | None = None,
) -> Preview:
    """Import ``data`` all or nothing in one transaction; returns what was done.

    Raises `PlanInvalid` (nothing written) if any row has an error. Rows that do not change
    anything are not written; a file that changes nothing writes nothing at all.
    """
    sha256 = file_sha256(data)
    with _cycle_collector_paused(), transaction.atomic():
        # Checked again inside the transaction: the preview the user saw may be stale.
        analysis = _analyse(data=data, actor=actor, options=options or PlanOptions(), progress=None, keep=False)
        preview = analysis.preview
        if not preview.ok:
            raise PlanInvalid(preview)
        if not preview.writes:
            return preview
        source = {"file": file_name, "sha256": sha256}
        writing = [d for d in analysis.decisions if d.result.outcome in {CREATED, UPDATED}]
        total = len(writing)
        done = 0
        campaigns: dict[str, Campaign] = {}
        for name in preview.new_campaigns:
            start, end = _campaign_period(d.row for d in writing if d.new_campaign == name)
            campaigns[name] = campaign_create(actor=actor, name=name, start_date=start, end_date=end)
        creating: dict[int, tuple[Campaign, list[_Decision]]] = {}
        for decision in writing:
            if decision.result.outcome == CREATED:
                campaign = decision.campaign or campaigns[decision.new_campaign]
                creating.setdefault(campaign.pk, (campaign, []))[1].append(decision)
        for campaign, decisions in creating.values():
            for chunk in _chunks(decisions, 1000):
                posts = posts_create_many(
                    actor=actor,
                    campaign=campaign,
                    drafts=[
                        PostDraft(
                            data=d.data,
                            targets=d.targets,
                            scheduled_at=d.row.scheduled_at,
                            time_zone=d.row.time_zone,
                            external_id=d.row.external_id,
                        )
                        for d in chunk
                    ],
                    source=source,
                )
                for decision, post in zip(chunk, posts, strict=True):
                    decision.result.post_id = post.pk
                done += len(chunk)
                if progress:
                    progress(done, total)
        for decision in writing:
            if decision.result.outcome != UPDATED or decision.post is None:
                continue
            post_update(
                post=decision.post,
                actor=actor,
                data=decision.data,
                targets=decision.targets,
                scheduled_at=decision.row.scheduled_at,
                time_zone=decision.row.time_zone,
            )
            done += 1
            if progress and done % CHUNK == 0:
                progress(done, total)
        touched = {campaign.pk: campaign for campaign in (d.campaign or campaigns[d.new_campaign] for d in writing)}
        event_record(
            actor=actor,
            action="plan.imported",
            # One campaign's plan shows in that campaign's history; a mixed plan in the importer's.
            obj=next(iter(touched.values())) if len(touched) == 1 else actor,
            changes={
                **source,
                "created": preview.counts[CREATED],
                "updated": preview.counts[UPDATED],
                "unchanged": preview.counts[UNCHANGED],
                "campaigns": sorted(campaign.name for campaign in touched.values()),
            },
        )
        if progress:
            progress(total, total)
    return preview
