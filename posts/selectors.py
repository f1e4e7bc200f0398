from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Cast, RowNumber, TruncDate
from guardian.models import GroupObjectPermission, UserObjectPermission

from audit.versions import version_annotation
from consent.gate import PURPOSE, Feature, record_problems
from consent.models import ConsentRecord
from people import rights, roles
from people.models import User
from posts.models import Account, Campaign, Claim, FeaturedPerson, Media, Post, PostTarget, post_name

VIEW_CAMPAIGN = "posts.view_campaign"
CHANGE_CAMPAIGN = "posts.change_campaign"


# The most consents one search answers with: enough to pick from, small enough for a page.
CONSENT_OPTIONS_MAX = 20


def consents_offered(
    *,
    at: datetime,
    platforms: Iterable[str],
    purpose: str | None,
    ids: Iterable[int] = (),
    references: Iterable[str] = (),
    words: Iterable[str] = (),
    limit: int | None = None,
) -> list[ConsentRecord]:
    """Return the consents an editor may link to a featured person: those the consent gate lets through.

    A record is offered when `consent.gate.record_problems` (what submission, approval, scheduling
    and publishing ask) finds nothing against it at ``at`` for these ``platforms`` and ``purpose``
    (no purpose yet: not asked); what the post shows of the person is checked when the form is saved.
    Only records among ``ids`` or of the people with these ``references`` are read, if either is
    given; each of ``words`` must occur in the person's name or reference (case-insensitively; accents count).
    At most ``limit`` records are returned: the registry is read in batches until that many pass.
    """
    platforms = list(platforms)
    ids, references = list(ids), list(references)
    candidates = ConsentRecord.objects.active_at(at)
    if ids or references:
        candidates = candidates.filter(Q(pk__in=ids) | Q(subject__reference__in=references))
    for word in words:
        # SQLite folds the case of ASCII letters only: the word's own cases find "MÜLLER" by "mül" there too.
        matches = Q()
        for variant in dict.fromkeys((word, word.lower(), word.upper(), word.title())):
            matches |= Q(subject__display_name__icontains=variant) | Q(subject__reference__icontains=variant)
        candidates = candidates.filter(matches)
    candidates = (
        candidates.select_related("subject")
        .prefetch_related("signers")
        .order_by("subject__display_name", "-signed_on", "pk")
    )
    batch = limit * 2 if limit is not None else None
    offered: list[ConsentRecord] = []
    start = 0
    while limit is None or len(offered) < limit:
        chunk = list(candidates[start : start + batch] if batch is not None else candidates)
        for record in chunk:
            feature = Feature(subject_id=record.subject_id, consent_id=record.pk)
            problems = record_problems(
                record=record, feature=feature, platforms=platforms, purpose=purpose or "", at=at
            )
            if not [problem for problem in problems if purpose or problem.code != PURPOSE]:
                offered.append(record)
        if batch is None or len(chunk) < batch:
            break
        start += batch
    return offered[:limit]


def campaign_team_candidates() -> QuerySet[User]:
    """Return who may join a campaign's team: active Editors."""
    return User.objects.filter(is_active=True, groups__name=roles.EDITOR).distinct().order_by("username")


def campaign_reviewer_candidates() -> QuerySet[User]:
    """Return who may be assigned as a campaign's reviewer: active members of a reviewer group."""
    return User.objects.filter(is_active=True, groups__name__in=roles.REVIEWER_ROLES).distinct().order_by("username")


def campaigns_for_user(*, user: User | AnonymousUser, perm: str = VIEW_CAMPAIGN) -> QuerySet[Campaign]:
    """Return the campaigns the user holds ``perm`` on: globally (Governance, Viewer) or as team."""
    if not user.is_authenticated or not user.is_active:
        return Campaign.objects.none()
    if user.is_superuser or user.has_perm(perm):
        return Campaign.objects.all()
    # The keys written out (read once per request): a planner estimates a list of keys well.
    return Campaign.objects.filter(pk__in=sorted(_campaign_ids_granted(user, perm)))


def campaigns_of_team(*, user: User | AnonymousUser) -> QuerySet[Campaign]:
    """Return the campaigns the user is on the team (or owner) of: the relation, not a global right."""
    if not user.is_authenticated or not user.is_active:
        return Campaign.objects.none()
    if user.is_superuser:
        return Campaign.objects.all()
    return Campaign.objects.filter(pk__in=sorted(_campaign_ids_granted(user, CHANGE_CAMPAIGN)))


def campaign_ids_for_user(*, user: User | AnonymousUser, perm: str = VIEW_CAMPAIGN) -> frozenset[int]:
    """Return the keys of ``campaigns_for_user``, read once per request (people.rights) for every policy."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser or user.has_perm(perm):
        return rights.kept(user, "campaigns", lambda: frozenset(Campaign.objects.values_list("pk", flat=True)))
    return _campaign_ids_granted(user, perm)


def campaign_ids_of_team(*, user: User | AnonymousUser) -> frozenset[int]:
    """Return the keys of ``campaigns_of_team``, read once per request (people.rights) for every policy."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return campaign_ids_for_user(user=user, perm=CHANGE_CAMPAIGN)
    return _campaign_ids_granted(user, CHANGE_CAMPAIGN)


def _campaign_ids_granted(user: User, perm: str) -> frozenset[int]:
    # Object permissions only (the user's and their groups'): for change_campaign that is the team
    # (and owner), for view_campaign the team and the assigned reviewers.
    return _campaign_grants(user).get(perm.split(".", 1)[1], frozenset())


def _campaign_grants(user: User) -> dict[str, frozenset[int]]:
    """Return, per permission codename, the campaigns the user holds it on as an object permission.

    One query (kept until the next state change, people.rights) for every permission a page asks about, where guardian's
    get_objects_for_user takes one each. The same rows: the user's own grants and their groups',
    on campaigns that still exist.
    """

    def read() -> dict[str, frozenset[int]]:
        kind = ContentType.objects.get_for_model(Campaign)
        existing = Campaign.objects.annotate(key=Cast("pk", CharField())).values("key")
        own = UserObjectPermission.objects.filter(user=user, content_type=kind, object_pk__in=existing)
        shared = GroupObjectPermission.objects.filter(
            group_id__in=sorted(rights.group_ids(user)), content_type=kind, object_pk__in=existing
        )
        rows = own.values_list("permission__codename", "object_pk").union(
            shared.values_list("permission__codename", "object_pk")
        )
        grants: dict[str, set[int]] = {}
        for codename, key in rows:
            grants.setdefault(codename, set()).add(int(key))
        return {codename: frozenset(keys) for codename, keys in grants.items()}

    return rights.kept(user, "campaign grants", read)


def posts_for_user(*, user: User | AnonymousUser) -> QuerySet[Post]:
    """Return the posts of every campaign the user may see."""
    if user.is_superuser or user.has_perm(VIEW_CAMPAIGN):
        return Post.objects.all()
    return Post.objects.filter(campaign__in=campaigns_for_user(user=user).values("pk"))


def posts_for_calendar(
    *,
    user: User | AnonymousUser,
    start: datetime,
    end: datetime,
    campaign_ids: list[int] | None = None,
    account_ids: list[int] | None = None,
    platforms: list[str] | None = None,
    statuses: list[str] | None = None,
) -> QuerySet[Post]:
    """Return the visible posts planned in [start, end), with what a calendar card shows."""
    posts = posts_for_user(user=user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    if campaign_ids:
        posts = posts.filter(campaign_id__in=campaign_ids)
    # Exists rather than a join: no duplicate rows to remove with DISTINCT, which would stop a
    # caller from numbering the rows of a day (posts_for_calendar_cards) or counting them.
    if account_ids:
        posts = posts.filter(Exists(PostTarget.objects.filter(post=OuterRef("pk"), account_id__in=account_ids)))
    if platforms:
        posts = posts.filter(Exists(PostTarget.objects.filter(post=OuterRef("pk"), account__platform__in=platforms)))
    if statuses:
        posts = posts.filter(status__in=statuses)
    return (
        posts.select_related("campaign")
        .prefetch_related(
            Prefetch("targets", queryset=PostTarget.objects.select_related("account").order_by("account__platform"))
        )
        .order_by("scheduled_at", "pk")
    )


def post_for_editor(*, user: User | AnonymousUser, pk: int) -> Post:
    """Return one visible post with everything the editor and detail page show; raises DoesNotExist."""
    return (
        posts_for_user(user=user)
        .select_related("campaign", "author", "current_revision")
        .prefetch_related(
            Prefetch("targets", queryset=PostTarget.objects.select_related("account")),
            Prefetch("media", queryset=Media.objects.select_related("scan").order_by("position", "pk")),
        )
        .get(pk=pk)
    )


def post_for_page(*, user: User | AnonymousUser, pk: int) -> Post:
    """Return one visible post as ``post_for_editor`` does, with its featured people and claims too.

    The editor and the detail page read them several times (form, findings, consent gate, claims
    block): once here, whatever their number. Raises DoesNotExist.
    """
    return (
        posts_for_user(user=user)
        .select_related("campaign", "author", "current_revision")
        .prefetch_related(
            Prefetch("targets", queryset=PostTarget.objects.select_related("account")),
            Prefetch("media", queryset=Media.objects.select_related("scan").order_by("position", "pk")),
            Prefetch("featured_people", queryset=FeaturedPerson.objects.select_related("subject", "consent")),
            Prefetch("claims", queryset=Claim.objects.order_by("pk")),  # one post's: no join for the posts' order
        )
        .get(pk=pk)
    )


def accounts_active() -> QuerySet[Account]:
    return Account.objects.filter(active=True).order_by("platform", "name")


@dataclass(frozen=True, slots=True)
class CardCampaign:
    name: str
    colour: str


@dataclass(frozen=True, slots=True)
class CardPost:
    """What a calendar card shows of a post, and what ``PostPolicy.actions`` reads: plain values.

    A month draws a hundred cards or more; built as models (the post, its campaign, its revision)
    they cost 40 µs each before anything was drawn (issue 17).
    """

    pk: int
    campaign_id: int
    title: str
    body: str
    language: str
    status: str
    scheduled_at: datetime
    approved_hash: str
    content_hash: str  # the current revision's
    campaign: CardCampaign
    version: int  # the version the card's move form was drawn from (audit.versions)
    thumbnail: str  # the first image's thumbnail file, "" without one
    thumbnail_alt: str
    accounts: tuple[tuple[str, str], ...]  # its targets' (platform, account name), in order

    def __str__(self) -> str:
        return post_name(self.title, self.body, self.pk)

    @property
    def is_approved_as_is(self) -> bool:
        """As ``Post.is_approved_as_is``: the review chain approved exactly the current content."""
        return bool(self.approved_hash) and self.approved_hash == self.content_hash


CARD_VALUES = (
    "pk",
    "campaign_id",
    "title",
    "body",
    "language",
    "status",
    "scheduled_at",
    "approved_hash",
    "current_revision__content_hash",
    "campaign__name",
    "campaign__colour",
    "version",
    "card_thumbnail",
    "card_thumbnail_alt",
)


def posts_for_calendar_cards(
    *,
    user: User | AnonymousUser,
    start: datetime,
    end: datetime,
    campaign_ids: list[int] | None = None,
    account_ids: list[int] | None = None,
    platforms: list[str] | None = None,
    statuses: list[str] | None = None,
    per_day: int | None = None,
    zone: tzinfo | None = None,
) -> QuerySet[Post]:
    """Return ``posts_for_calendar`` with what a card shows, for ``card_posts`` to read in two queries.

    Each post carries its ``version``, and ``card_thumbnail`` and ``card_thumbnail_alt``: the
    thumbnail file and alt text of its first image (None without one), read in the same query
    rather than once per card.
    With ``per_day``, only the first ``per_day`` posts of each day in ``zone`` are loaded (how many
    each day has: ``calendar_day_counts``): a month grid stays the same size however busy its days.
    """
    first_media = Media.objects.filter(post=OuterRef("pk")).order_by("position", "pk")
    posts = posts_for_calendar(
        user=user,
        start=start,
        end=end,
        campaign_ids=campaign_ids,
        account_ids=account_ids,
        platforms=platforms,
        statuses=statuses,
    )
    if per_day is not None:
        day = TruncDate("scheduled_at", tzinfo=zone)
        shown = posts.annotate(
            day_rank=Window(RowNumber(), partition_by=[day], order_by=[F("scheduled_at").asc(), F("pk").asc()]),
        ).filter(day_rank__lte=per_day)
        # Ranked on the posts' own columns in a subquery: what a card shows (the revision, the
        # version, the thumbnail) is then read for the shown posts only, not for every post of the period.
        posts = posts.filter(pk__in=shown.values("pk"))
    return (
        # Each card's move form carries the version it was drawn from (audit.versions).
        posts.annotate(version=version_annotation(Post))
        .annotate(
            card_thumbnail=Subquery(first_media.values("thumbnail")[:1]),
            card_thumbnail_alt=Subquery(first_media.values("alt_text")[:1]),
        )
        .prefetch_related(None)
    )


def card_posts(posts: QuerySet[Post]) -> list[CardPost]:
    """Return the cards' posts of ``posts`` (from ``posts_for_calendar_cards``), in its order, in two queries.

    Only what a card shows and what the policy reads: not the rest of a post's columns (dates,
    crisis fields, sources), nor its revision's snapshot, nor an account's secrets. The targets
    come in one query of plain values for all posts: a card shows two words per target.
    """
    rows = list(posts.values_list(*CARD_VALUES))
    accounts: dict[int, list[tuple[str, str]]] = {row[0]: [] for row in rows}
    targets = (
        PostTarget.objects.filter(post_id__in=list(accounts))
        .order_by("account__platform", "account__name", "pk")
        .values_list("post_id", "account__platform", "account__name")
    )
    for post_id, platform, name in targets:
        accounts[post_id].append((platform, name))
    return [
        CardPost(
            pk=pk,
            campaign_id=campaign_id,
            title=title,
            body=body,
            language=language,
            status=status,
            scheduled_at=scheduled_at,
            approved_hash=approved_hash,
            content_hash=content_hash or "",
            campaign=CardCampaign(name=campaign_name, colour=colour),
            version=version or 0,
            thumbnail=thumbnail or "",
            thumbnail_alt=thumbnail_alt or "",
            accounts=tuple(accounts[pk]),
        )
        for (
            pk,
            campaign_id,
            title,
            body,
            language,
            status,
            scheduled_at,
            approved_hash,
            content_hash,
            campaign_name,
            colour,
            version,
            thumbnail,
            thumbnail_alt,
        ) in rows
    ]


def calendar_day_counts(
    *,
    user: User | AnonymousUser,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    campaign_ids: list[int] | None = None,
    account_ids: list[int] | None = None,
    platforms: list[str] | None = None,
    statuses: list[str] | None = None,
) -> dict[date, int]:
    """Return how many visible posts each day in ``zone`` has in [start, end), in one query; empty days are left out."""
    posts = posts_for_calendar(
        user=user,
        start=start,
        end=end,
        campaign_ids=campaign_ids,
        account_ids=account_ids,
        platforms=platforms,
        statuses=statuses,
    )
    rows = (
        posts.prefetch_related(None)
        .select_related(None)
        .order_by()
        .values(day=TruncDate("scheduled_at", tzinfo=zone))
        .annotate(posts=Count("pk"))
    )
    return {row["day"]: row["posts"] for row in rows}


def accounts_for_filter() -> QuerySet[Account]:
    """Return every account (active or not) for filter choices, without decrypting credentials."""
    return Account.objects.defer("credentials").order_by("platform", "name")
