"""What waits on one person, gathered from the apps that own it: the home page's sections and the counts.

Each app keeps its own reads (approvals.selectors, publishing.attention, consent.selectors,
plans.jobs, people); this module only asks them, for the sections the user's roles concern.
The counts of all sections cost one query (the campaigns a user acts for are nested in it; a
reviewer's due re-certifications take one or two more), made once per request and only if a page
shows them, and kept until the next state change (audit.selectors.state_cached). The state version
and the unread notices (the menu's count too) are read afresh on every page, in one query.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from approvals.recertifications import recertifications_due
from approvals.selectors import inbox_for_user, stage_runs_awaiting
from audit.selectors import state_cached
from consent.selectors import records_expiring, records_reconsent_due
from core.i18n import message_display
from core.pagination import count_subquery
from people.models import Notice, User
from people.rights import request_state
from people.selectors import notice_count_for
from plans.jobs import SESSION_KEY, jobs_waiting
from posts.models import Post, PostStatus
from posts.policy import PostPolicy
from posts.selectors import posts_for_user
from publishing.attention import (
    RETRY_PERM,
    TAKEDOWN_PERM,
    posts_blocked_for,
    publications_stuck_for,
    takedowns_to_act_for,
)

# How many items a section lists; its count and its link say how many there are in all. The links'
# words never contain a menu item's name (a journey that clicks "My reviews" finds one link).
ITEMS_SHOWN = 10
# How long a rejected post stays on its author's home.
REJECTED_SHOWN_FOR = dt.timedelta(days=30)

REVIEWS = "reviews"
RECERTIFICATIONS = "recertifications"
SENT_BACK = "sent_back"
PUBLICATIONS = "publications"
TAKEDOWNS = "takedowns"
CONSENTS = "consents"
RECONSENTS = "reconsents"
IMPORTS = "imports"
NOTICES = "notices"
# The order of the sections on the page.
SECTIONS = (REVIEWS, RECERTIFICATIONS, SENT_BACK, PUBLICATIONS, TAKEDOWNS, CONSENTS, RECONSENTS, IMPORTS, NOTICES)
# What every reviewer role holds.
REVIEWER_PERM = "approvals.view_reviewchain"
# The sections the Publishing menu item counts.
PUBLISHING_SECTIONS = (PUBLICATIONS, TAKEDOWNS)


@dataclass(frozen=True)
class Item:
    """One thing to act on: what it is, where the user acts on it, and what to know before."""

    title: str
    url: str
    note: str = ""
    when: dt.datetime | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    count: int
    items: list[Item]
    more_url: str
    more_label: str | Promise
    overdue: int = 0
    extra: dict[str, object] = field(default_factory=dict)


class Attention:
    """What waits on one user in one request; every part is read on first use and kept."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user: User | AnonymousUser = request.user
        self.user_id: int = request.user.pk or 0

    # Whom each section concerns --------------------------------------------------------------

    @cached_property
    def concerns(self) -> tuple[str, ...]:
        """Return the sections that concern the user's roles, in page order."""
        user = self.user
        if not user.is_authenticated or not user.is_active:
            return ()
        shown = {NOTICES}
        # The reviewer roles hold it (and Governance, whose count stays empty: it is in no stage's group).
        if user.has_perm(REVIEWER_PERM):
            shown |= {REVIEWS, RECERTIFICATIONS}
        editor = PostPolicy(user).is_editor
        if editor:
            shown.add(SENT_BACK)
        # A team's editors and the roles that retry and take down; which campaigns, the queries say.
        if editor or user.has_perm(RETRY_PERM):
            shown.add(PUBLICATIONS)
        if editor or user.has_perm(TAKEDOWN_PERM):
            shown.add(TAKEDOWNS)
        if user.has_perm("consent.add_consentrecord"):
            shown |= {CONSENTS, RECONSENTS}
        if user.has_perm("posts.import_plan"):
            shown.add(IMPORTS)
        return tuple(key for key in SECTIONS if key in shown)

    # The reads, one per section ------------------------------------------------------------

    def _sent_back(self) -> QuerySet[Post]:
        since = timezone.now() - REJECTED_SHOWN_FOR
        return (
            posts_for_user(user=self.user)
            .filter(author_id=self.user_id)
            .filter(Q(status=PostStatus.CHANGES_REQUESTED) | Q(status=PostStatus.REJECTED, updated_at__gte=since))
            .select_related("campaign")
            .defer("sources")
            .order_by("-updated_at", "-pk")
        )

    def _notices(self) -> QuerySet[Notice]:
        return Notice.objects.filter(user_id=self.user_id, read_at__isnull=True).order_by("-created_at", "-pk")

    def _queries(self) -> dict[str, QuerySet]:  # type: ignore[type-arg]
        """Return the counted query of each database section the user's roles concern (reviews: always counted)."""
        now = timezone.now()
        reads: dict[str, Callable[[], QuerySet]] = {  # type: ignore[type-arg]
            SENT_BACK: self._sent_back,
            PUBLICATIONS: lambda: publications_stuck_for(user=self.user),
            TAKEDOWNS: lambda: takedowns_to_act_for(user=self.user),
            CONSENTS: lambda: records_expiring(now=now),
            RECONSENTS: lambda: records_reconsent_due(now=now),
        }
        return {key: read() for key, read in reads.items() if key in self.concerns}

    @cached_property
    def _imports(self) -> list:  # type: ignore[type-arg]
        if IMPORTS not in self.concerns or not isinstance(self.user, User):
            return []
        return jobs_waiting(user=self.user, tokens=list(self.request.session.get(SESSION_KEY, [])))

    @cached_property
    def _recertifications(self) -> list:  # type: ignore[type-arg]
        if RECERTIFICATIONS not in self.concerns:
            return []
        return recertifications_due(user=self.user)

    # Counts -------------------------------------------------------------------------------

    @cached_property
    def _live(self) -> dict[str, int]:
        """Return what every page reads once, in one query: the state version and the unread notices.

        The same read as the rights kept across requests (people.rights.request_state): whichever asks first reads.
        """
        if not isinstance(self.user, User) or self.user.pk is None:
            return {"version": 0, "unread": 0}
        version, unread = request_state(self.user)
        return {"version": version, "unread": unread}

    def unread_notices(self) -> int:
        """Return the user's unread notices (the menu's count, people.selectors.notice_count_for)."""
        return self._live.get("unread", 0)

    @cached_property
    def _row(self) -> dict[str, int]:
        # Every page shows these counts: counted again only after a state change (or a minute).
        key = f"attention:{self.user_id}:{','.join(self.concerns)}"
        return state_cached(key, self._database_counts, version=self._live.get("version", 0))

    @cached_property
    def counts(self) -> dict[str, int]:
        """Return how many items wait in each section the user's roles concern (one query for all)."""
        if not self.concerns:
            return {}
        row = self._row
        counts = {key: row.get(f"n_{key}", 0) for key in self.concerns}
        if PUBLICATIONS in counts:
            counts[PUBLICATIONS] += row.get("n_blocked_posts", 0)
        counts["reviews_overdue"] = row.get("n_reviews_overdue", 0)
        # The menu's unread-notice count already read them (people.selectors): no second query.
        counts[NOTICES] = notice_count_for(self.request).unread
        counts[IMPORTS] = len(self._imports)
        counts[RECERTIFICATIONS] = row.get("n_recertifications", 0)
        return counts

    def _database_counts(self) -> dict[str, int]:
        """Count every database section the user's roles concern, in one query (re-certifications: three)."""
        subqueries = {f"n_{key}": count_subquery(queryset) for key, queryset in self._queries().items()}
        # The menu's review counts, whatever the roles (a stage's group may hold someone of no reviewer role).
        subqueries[f"n_{REVIEWS}"] = count_subquery(stage_runs_awaiting(user=self.user))
        overdue = stage_runs_awaiting(user=self.user).filter(deadline__lt=timezone.now())
        subqueries["n_reviews_overdue"] = count_subquery(overdue)
        if PUBLICATIONS in self.concerns:
            # Posts stopped before going out are counted with the publications that did not go out.
            subqueries["n_blocked_posts"] = count_subquery(posts_blocked_for(user=self.user, acting=True))
        found = User.objects.filter(pk=self.user_id).values(**subqueries).first() or {}
        row = {key: int(value) if isinstance(value, int) else 0 for key, value in found.items()}
        row["n_recertifications"] = len(self._recertifications)
        return row

    def review_counts(self) -> dict[str, int] | None:
        """Return the menu's review counts from this request's count query (``None`` for an inactive user)."""
        if not self.concerns:
            return None
        return {"waiting": self._row.get(f"n_{REVIEWS}", 0), "overdue": self._row.get("n_reviews_overdue", 0)}

    @property
    def total(self) -> int:
        """Return how many things wait on the user in all sections."""
        return sum(self.counts.get(key, 0) for key in self.concerns)

    @property
    def publishing(self) -> int:
        """Return how many publications did not go out and takedowns wait, of the campaigns the user acts for."""
        return sum(self.counts.get(key, 0) for key in PUBLISHING_SECTIONS)

    # The home page ------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        """Return the sections the user's roles concern, each with its count and first items."""
        builders = {
            REVIEWS: self._reviews_section,
            RECERTIFICATIONS: self._recertifications_section,
            SENT_BACK: self._sent_back_section,
            PUBLICATIONS: self._publications_section,
            TAKEDOWNS: self._takedowns_section,
            CONSENTS: self._consents_section,
            RECONSENTS: self._reconsents_section,
            IMPORTS: self._imports_section,
            NOTICES: self._notices_section,
        }
        return [builders[key]() for key in self.concerns]

    def _reviews_section(self) -> Section:
        items = inbox_for_user(user=self.user)
        return Section(
            key=REVIEWS,
            title=_("Reviews waiting for you"),
            count=len(items),
            overdue=sum(1 for item in items if item.is_overdue),
            items=[
                Item(
                    title=str(item.post),
                    url=reverse("approvals:review", args=[item.post.pk]),
                    note=f"{item.stage_run.stage.display_name} · {item.post.campaign.name}",
                    when=item.stage_run.deadline,
                    urgent=item.is_overdue,
                )
                for item in items[:ITEMS_SHOWN]
            ],
            more_url=reverse("approvals:inbox"),
            more_label=_("Open the review inbox"),
        )

    def _recertifications_section(self) -> Section:
        due = self._recertifications
        return Section(
            key=RECERTIFICATIONS,
            title=_("Due for re-certification"),
            count=len(due),
            items=[
                Item(
                    title=str(item.post),
                    url=reverse("approvals:inbox") + "#recertifications-title",
                    note=item.post.campaign.name,
                    when=item.due_at,
                    urgent=True,
                )
                for item in due[:ITEMS_SHOWN]
            ],
            more_url=reverse("approvals:inbox") + "#recertifications-title",
            more_label=_("Open the re-certifications"),
        )

    def _sent_back_section(self) -> Section:
        posts = list(self._sent_back()[: ITEMS_SHOWN + 1])
        return Section(
            key=SENT_BACK,
            title=_("Your posts sent back"),
            count=self.counts.get(SENT_BACK, 0),
            items=[
                Item(
                    title=str(post),
                    url=reverse("posts:post_detail", args=[post.pk]),
                    note=f"{post.get_status_display()} · {post.campaign.name}",
                    when=post.updated_at,
                    urgent=post.status == PostStatus.CHANGES_REQUESTED,
                )
                for post in posts[:ITEMS_SHOWN]
            ],
            more_url=reverse("approvals:my_posts"),
            more_label=_("See every post you wrote"),
        )

    def _publications_section(self) -> Section:
        publications = list(publications_stuck_for(user=self.user)[:ITEMS_SHOWN])
        blocked = list(posts_blocked_for(user=self.user, acting=True)[:ITEMS_SHOWN])
        items = [
            Item(
                title=str(post),
                url=reverse("posts:post_detail", args=[post.pk]),
                note=" · ".join(filter(None, [str(post.get_status_display()), message_display(post.blocked_reason)])),  # type: ignore[attr-defined]
                when=post.updated_at,
                urgent=True,
            )
            for post in blocked
        ] + [
            Item(
                title=str(publication.post),
                url=reverse("posts:post_detail", args=[publication.post_id]),
                note=" · ".join(
                    filter(
                        None,
                        [
                            str(publication.get_status_display()),
                            f"{publication.account.name} ({publication.account.get_platform_display()})",
                            message_display(publication.last_error),
                        ],
                    )
                ),
                when=publication.due_at,
                urgent=True,
            )
            for publication in publications
        ]
        return Section(
            key=PUBLICATIONS,
            title=pgettext_lazy("home section", "Failed or blocked publications"),
            count=self.counts.get(PUBLICATIONS, 0),
            items=items[:ITEMS_SHOWN],
            more_url=reverse("publishing:publishing"),
            more_label=_("See everything that did not go out"),
        )

    def _takedowns_section(self) -> Section:
        takedowns = list(takedowns_to_act_for(user=self.user)[:ITEMS_SHOWN])
        return Section(
            key=TAKEDOWNS,
            title=_("Open takedowns"),
            count=self.counts.get(TAKEDOWNS, 0),
            items=[
                Item(
                    title=str(item.post),
                    url=reverse("publishing:publishing") + "#takedowns",
                    note=f"{item.get_cause_display()} · {item.account.name} ({item.account.get_platform_display()})",
                    when=item.created_at,
                    urgent=True,
                )
                for item in takedowns
            ],
            more_url=reverse("publishing:publishing") + "#takedowns",
            more_label=_("See every open takedown"),
        )

    def _consents_section(self) -> Section:
        records = list(records_expiring()[:ITEMS_SHOWN])
        return Section(
            key=CONSENTS,
            title=_("Consents ending within 30 days"),
            count=self.counts.get(CONSENTS, 0),
            items=[
                Item(
                    title=record.subject.display_name,
                    url=reverse("consent:record_detail", args=[record.pk]),
                    note=str(_("ends on %(date)s") % {"date": formats.date_format(record.expires_on or "")}),
                )
                for record in records
            ],
            more_url=reverse("consent:registry") + "?state=expiring_soon",
            more_label=_("See every record ending soon"),
        )

    def _reconsents_section(self) -> Section:
        records = list(records_reconsent_due()[:ITEMS_SHOWN])
        return Section(
            key=RECONSENTS,
            title=_("Re-consent needed: turned 18"),
            count=self.counts.get(RECONSENTS, 0),
            items=[
                Item(
                    title=record.subject.display_name,
                    url=reverse("consent:record_detail", args=[record.pk]),
                    note=str(
                        _("turns 18 on %(date)s: consent signed as a minor")
                        % {"date": formats.date_format(record.reconsent_due_on or "")}
                    ),
                    urgent=record.reconsent_due_on is not None and record.reconsent_due_on <= timezone.localdate(),
                )
                for record in records
            ],
            more_url=reverse("consent:registry"),
            more_label=_("Open the consent registry"),
        )

    def _imports_section(self) -> Section:
        jobs = self._imports
        return Section(
            key=IMPORTS,
            title=_("Plan imports waiting for confirmation"),
            count=len(jobs),
            items=[
                Item(title=job.file_name, url=reverse("plans:preview", args=[job.token]), note=str(_("previewed")))
                for job in jobs[:ITEMS_SHOWN]
            ],
            more_url=reverse("plans:import"),
            more_label=_("Start another import"),
        )

    def _notices_section(self) -> Section:
        notices = list(self._notices()[:ITEMS_SHOWN])
        return Section(
            key=NOTICES,
            title=_("Unread notices"),
            count=self.counts.get(NOTICES, 0),
            items=[
                Item(title=notice.subject, url=reverse("people:notice_open", args=[notice.pk]), when=notice.created_at)
                for notice in notices
            ],
            more_url=reverse("people:notices"),
            more_label=_("Read every notice"),
        )


def attention_for(request: HttpRequest) -> Attention:
    """Return the request's attention, made once per request however many templates and views ask."""
    attention: Attention | None = getattr(request, "_rounds_attention", None)
    if attention is None:
        attention = Attention(request)
        request._rounds_attention = attention  # type: ignore[attr-defined]
        # The menu's unread count is a column of the query that reads the state version.
        notice_count_for(request, counted=attention.unread_notices)
    return attention
