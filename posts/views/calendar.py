"""The editorial calendar (month, week and list) and moving a post to another day."""

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.versions import StaleVersion, version_of, version_parse
from core.inputs import BoundedDateField, date_param, local_moment
from core.rows import escape, url_of
from core.templatetags.rounds_labels import choice_labels
from core.web import safe_next, service_action
from people.http import AuthedHttpRequest
from posts.models import Account, Campaign, Platform, Post, PostStatus
from posts.movechecks import MOVE_CONFIRM
from posts.policy import MOVE, PostPolicy
from posts.selectors import (
    CardPost,
    accounts_for_filter,
    calendar_day_counts,
    campaigns_for_user,
    card_posts,
    posts_for_calendar_cards,
    posts_for_user,
)
from posts.services import post_move

MONTH = "month"
WEEK = "week"
LIST = "list"
VIEW_LABELS = {MONTH: gettext_lazy("Month"), WEEK: gettext_lazy("Week"), LIST: gettext_lazy("List")}
# How many cards a day of the grid shows before "+N more" (which opens that day in the list):
# the page stays the same size however busy the month, and a month cell stays readable.
CARDS_PER_DAY = {MONTH: 3, WEEK: 12}
LIST_PAGE = 50

# Short, language-neutral tags for the platforms of a card; the full name is the <abbr> title.
PLATFORM_ABBREVIATIONS: dict[str, str] = {
    Platform.FACEBOOK: "FB",
    Platform.INSTAGRAM: "IG",
    Platform.LINKEDIN: "LI",
    Platform.X: "X",
    Platform.YOUTUBE: "YT",
    Platform.TIKTOK: "TT",
    Platform.WEBHOOK: "WH",
    Platform.OUTBOX: "OB",
}


@dataclass(frozen=True)
class PlatformTag:
    abbreviation: str
    label: str
    platform: str = ""


@dataclass(frozen=True)
class Card:
    """What one post shows in the calendar, with the viewer's rights already decided."""

    post: CardPost
    local: dt.datetime
    platforms: list[PlatformTag]
    movable: bool
    move_url: str
    move_form_url: str
    detail_url: str
    status_label: str
    version: int = 0
    thumbnail_url: str = ""
    thumbnail_alt: str = ""

    @property
    def sort_key(self) -> int:
        return int(self.local.timestamp())

    @property
    def local_date(self) -> str:
        return self.local.date().isoformat()

    @property
    def local_time(self) -> str:
        return self.local.strftime("%H:%M")

    @property
    def moment(self) -> str:
        return self.local.isoformat()


def card_html(card: Card, *, labels: dict[str, str], move_next: str) -> SafeString:
    """Return one calendar card's markup: a ``<li>`` with the post's link, campaign, platforms and state.

    Built in Python rather than by a template per card: a month draws a hundred cards, and the
    template engine spent a third of a millisecond on each (issue 17). Every value is escaped here
    as a template would; ``move_next`` comes URL-quoted.
    """
    post = card.post
    movable = card.movable
    keep_still = ' draggable="false"' if movable else ""
    classes = (
        "cal-card" + (" cal-card-movable" if movable else "") + (" cal-card-has-thumb" if card.thumbnail_url else "")
    )
    title = escape(str(post))
    parts = [
        f'<li class="cal-item" id="cal-post-{post.pk}" data-post-id="{post.pk}" data-sort="{card.sort_key}">',
        f'<article class="{classes}" data-campaign-colour="{escape(post.campaign.colour)}"',
        (f' draggable="true" data-move-url="{escape(card.move_url)}" data-version="{card.version}">')
        if movable
        else ">",
    ]
    if card.thumbnail_url:
        parts.append(
            f'<img class="cal-card-thumb" src="{escape(card.thumbnail_url)}" alt="{escape(card.thumbnail_alt)}"'
            f' width="48" height="48" loading="lazy"{keep_still}>'
        )
    parts.append(
        f'<a class="cal-card-link" href="{escape(card.detail_url)}"{keep_still}>'
        f'<time class="cal-card-time" datetime="{escape(card.moment)}">{escape(card.local_time)}</time> '
        f'<span class="cal-card-title" lang="{escape(post.language)}">{title}</span></a>'
        f'<span class="cal-card-meta"><span class="cal-card-campaign">{escape(post.campaign.name)}</span>'
    )
    if card.platforms:
        tags = "".join(
            f'<span class="cal-platform cal-platform-{escape(tag.platform)}" role="img"'
            f' aria-label="{escape(tag.label)}" title="{escape(tag.label)}">{escape(tag.abbreviation)}</span>'
            for tag in card.platforms
        )
        parts.append(f' <span class="cal-card-platforms">{tags}</span>')
    parts.append(
        f' <span class="badge badge-{escape(post.status)}" data-status="{escape(post.status)}">'
        f"{escape(card.status_label)}</span></span></article>"
    )
    if movable:
        parts.append(
            f'<a class="cal-move" href="{escape(card.move_form_url)}?next={escape(move_next)}" data-cal-move'
            f' draggable="false">{escape(labels["move"])}<span class="visually-hidden"> {title}</span></a>'
        )
    parts.append("</li>")
    return mark_safe("".join(parts))  # noqa: S308  (every value above is escaped)


def cards_html(cards: Iterable[Card], *, labels: dict[str, str], move_next: str) -> SafeString:
    """Return the markup of ``cards`` in order (``card_html`` of each)."""
    return mark_safe("".join(card_html(card, labels=labels, move_next=move_next) for card in cards))  # noqa: S308


@dataclass
class Day:
    date: dt.date
    in_period: bool
    is_today: bool
    cards: list[Card] = field(default_factory=list)
    more: int = 0  # the day's posts not shown here
    more_url: str = ""
    more_label: str = ""
    more_context: str = ""  # for screen readers: which day the "+N more" link opens
    cards_markup: SafeString = field(default_factory=SafeString)  # ``cards_html`` of ``cards``


def grid_rows_html(weeks: list[list[Day]]) -> SafeString:
    """Return the grid's ``<tr>`` of each week, its days' cells (``day_cell_html``) in order."""
    rows = (
        "      <tr>\n" + "".join(f"        {day_cell_html(day)}\n" for day in week) + "      </tr>\n" for week in weeks
    )
    return mark_safe("".join(rows))  # noqa: S308  (every cell is escaped by format_html; the rest is constant)


@functools.lru_cache(maxsize=4096)
def _day_format(date: dt.date, format_name: str, language: str | None) -> str:
    """``formats.date_format`` of a day in ``language`` (the active one): a grid formats 105 a page, the same ones."""
    return formats.date_format(date, format_name)


def day_cell_html(day: Day) -> SafeString:
    """Return a grid day's ``<td>``: its date, its cards (``cards_markup``) and "+N more".

    Built in Python like the cards: a month's 35 cells with four dates each cost the template
    engine more than the cards in them (issue 17).
    """
    more = (
        format_html(
            '<a class="cal-more" href="{}" data-more="{}">{}<span class="visually-hidden"> {}</span></a>',
            day.more_url,
            day.more,
            day.more_label,
            day.more_context,
        )
        if day.more
        else ""
    )
    language = get_language()
    return format_html(
        '<td class="cal-day{}{}" data-date="{}">\n'
        '          <div class="cal-day-head"><time datetime="{}">'
        '<span class="cal-day-short" aria-hidden="true">{}</span>'
        '<span class="visually-hidden cal-day-full">{}, {}</span></time></div>\n'
        '          <ul class="cal-cards">{}</ul>\n'
        "          {}\n"
        "        </td>",
        "" if day.in_period else " cal-day-outside",
        " cal-day-today" if day.is_today else "",
        day.date.isoformat(),
        day.date.isoformat(),
        _day_format(day.date, "j", language),
        _day_format(day.date, "l", language),
        _day_format(day.date, "DATE_FORMAT", language),
        day.cards_markup,
        more,
    )


@dataclass(frozen=True)
class Period:
    """The days one calendar page shows (``first`` to ``last`` inclusive) and its neighbours."""

    view: str
    anchor: dt.date
    first: dt.date
    last: dt.date
    previous: dt.date
    next: dt.date
    heading: str


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_for(view: str, anchor: dt.date) -> Period:
    """Return the days shown for ``view`` around ``anchor``; weeks start on Monday."""
    if view == WEEK:
        first = anchor - dt.timedelta(days=anchor.weekday())
        last = first + dt.timedelta(days=6)
        heading = _("%(start)s – %(end)s") % {  # noqa: RUF001  (an en dash between dates)
            "start": formats.date_format(first, "MONTH_DAY_FORMAT"),
            "end": formats.date_format(last, "DATE_FORMAT"),
        }
        return Period(view, anchor, first, last, first - dt.timedelta(days=7), first + dt.timedelta(days=7), heading)
    month_first = anchor.replace(day=1)
    month_last = _add_months(month_first, 1) - dt.timedelta(days=1)
    heading = formats.date_format(month_first, "YEAR_MONTH_FORMAT")
    previous, following = _add_months(month_first, -1), _add_months(month_first, 1)
    if view == LIST:
        return Period(view, anchor, month_first, month_last, previous, following, heading)
    first = month_first - dt.timedelta(days=month_first.weekday())
    last = month_last + dt.timedelta(days=6 - month_last.weekday())
    return Period(view, anchor, first, last, previous, following, heading)


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """Return the aware moment ``day`` begins in ``zone``."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


class CalendarFilterForm(forms.Form):
    campaign = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Campaign"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    account = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Account"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    platform = forms.MultipleChoiceField(
        label=gettext_lazy("Platform"), choices=Platform.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), choices=PostStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data: QueryDict, *, campaigns: Iterable[Campaign], accounts: Iterable[Account]) -> None:
        super().__init__(data, auto_id="filter-%s")
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]  # type: ignore[attr-defined]
        self.fields["account"].choices = [(a.pk, str(a)) for a in accounts]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, list[Any]]:
        """Return the selector's filter arguments; a field with an unknown value is ignored."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "campaign_ids": cleaned.get("campaign") or [],
            "account_ids": cleaned.get("account") or [],
            "platforms": cleaned.get("platform") or [],
            "statuses": cleaned.get("status") or [],
        }


class MoveForm(forms.Form):
    date = BoundedDateField(label=gettext_lazy("New date"), input_formats=["%Y-%m-%d"])
    time = forms.TimeField(label=gettext_lazy("Time"), required=False, input_formats=["%H:%M", "%H:%M:%S"])


def card_labels() -> dict[str, str]:
    """Return the words every card shows, translated once per page rather than once per card."""
    return {"move": _("Move")}


def card_for(post: CardPost, *, policy: PostPolicy, zone: dt.tzinfo) -> Card:
    """Return the card of a post loaded by ``card_posts`` (no queries)."""
    tags: dict[str, PlatformTag] = {}
    for platform, name in post.accounts:
        tag = tags.get(platform)
        names = f"{tag.label}, {name}" if tag else f"{Platform(platform).label}: {name}"
        tags[platform] = PlatformTag(PLATFORM_ABBREVIATIONS.get(platform, platform[:2].upper()), names, platform)
    thumbnail = post.thumbnail
    return Card(
        post=post,
        local=timezone.localtime(post.scheduled_at, zone),
        platforms=list(tags.values()),
        movable=MOVE in policy.actions(post),
        move_url=url_of("posts:post_move", post.pk),
        move_form_url=url_of("posts:post_move_form", post.pk),
        detail_url=url_of("posts:post_detail", post.pk),
        status_label=choice_labels(Post, "status").get(post.status, post.status),
        version=post.version,
        thumbnail_url=url_of("media", thumbnail) if thumbnail else "",
        # The card's title names the post; the alt text says what its picture shows, briefly.
        thumbnail_alt=Truncator(post.thumbnail_alt).chars(80) if thumbnail else "",
    )


def _parse_anchor(value: str | None) -> dt.date:
    return date_param(value) or timezone.localdate()


class MoreWords:
    """A grid day's "+N more" link, its words and what they say to a screen reader, for each busy day of a page.

    What ``_query`` and the translations would give per day, with the query, the date format and
    each count's words looked up once per page: a busy month has some thirty such days.
    """

    def __init__(self, request: HttpRequest) -> None:
        query = request.GET.copy()
        query.pop("page", None)
        query["view"] = LIST
        query["date"] = ""
        # The date is the one pair of that name (a QueryDict keeps a key's place when it is set).
        pairs = query.urlencode().split("&")
        at = pairs.index("date=")
        self.before = "?" + "&".join([*pairs[:at], "date="])
        self.after = "".join("&" + pair for pair in pairs[at + 1 :])
        # The weekday, then the date as the language writes it ("Tuesday, Dec. 15, 2026").
        self.day_format = "l, " + str(formats.get_format("DATE_FORMAT"))
        self.words: dict[int, tuple[str, str]] = {}

    def __call__(self, day: dt.date, count: int) -> tuple[str, str, str]:
        """Return the link, its label and its context for ``count`` more posts on ``day``."""
        if count not in self.words:
            self.words[count] = (
                ngettext("+%(count)d more", "+%(count)d more", count) % {"count": count},
                ngettext("post on %(day)s", "posts on %(day)s", count),
            )
        label, context = self.words[count]
        iso = day.isoformat()
        return (
            f"{self.before}{iso}{self.after}#day-{iso}",
            label,
            context % {"day": dateformat.format(day, self.day_format)},
        )


def _query(request: HttpRequest, **params: str) -> str:
    """Return this page's query (view, day, filters) with ``params`` changed, without a list page unless given."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in params.items():
        query[key] = value
    return "?" + query.urlencode()


@dataclass(frozen=True)
class ListPage:
    """Which slice of the month's posts the list shows, and its neighbours' links."""

    number: int
    total: int
    offset: int
    previous_url: str = ""
    next_url: str = ""


def list_page(request: HttpRequest, *, counts: dict[dt.date, int], anchor: dt.date) -> ListPage:
    """Return the list's page: the one asked for, else the one where ``anchor``'s posts begin.

    "+N more" in the grid links to the list at its day without a page number: it opens where that day is.
    """
    total = max(1, -(-sum(counts.values()) // LIST_PAGE))
    asked = request.GET.get("page", "")
    if asked.isdigit() and len(asked) < 6:
        number = min(max(int(asked), 1), total)
    else:
        before = sum(n for day, n in counts.items() if day < anchor)
        number = min(before // LIST_PAGE + 1, total)
    return ListPage(
        number=number,
        total=total,
        offset=(number - 1) * LIST_PAGE,
        previous_url=_query(request, page=str(number - 1)) if number > 1 else "",
        next_url=_query(request, page=str(number + 1)) if number < total else "",
    )


@login_required
@require_GET
def calendar_view(request: AuthedHttpRequest) -> HttpResponse:
    """Show the visible posts of a month, week or month list in the viewer's time zone."""
    zone = timezone.get_current_timezone()
    view = request.GET.get("view", MONTH)
    if view not in VIEW_LABELS:
        view = MONTH
    anchor = _parse_anchor(request.GET.get("date"))
    period = period_for(view, anchor)
    today = timezone.localdate()

    campaigns = list(campaigns_for_user(user=request.user).only("pk", "name").order_by("name"))
    filter_form = CalendarFilterForm(request.GET, campaigns=campaigns, accounts=accounts_for_filter())
    policy = PostPolicy(request.user)
    span: dict[str, Any] = {
        "user": request.user,
        "start": day_start(period.first, zone),
        "end": day_start(period.last + dt.timedelta(days=1), zone),
        **filter_form.filters(),
    }
    # The cards load only what the page shows: a page of the list, or each grid day's first few.
    pages = None
    if view == LIST:
        pages = list_page(request, counts=calendar_day_counts(zone=zone, **span), anchor=anchor)
        posts = card_posts(posts_for_calendar_cards(**span)[pages.offset : pages.offset + LIST_PAGE])
    else:
        posts = card_posts(posts_for_calendar_cards(per_day=CARDS_PER_DAY[view], zone=zone, **span))
        counts = calendar_day_counts(zone=zone, **span)

    days: dict[dt.date, Day] = {}
    current = period.first
    while current <= period.last:
        in_period = view != MONTH or current.month == anchor.month
        days[current] = Day(date=current, in_period=in_period, is_today=current == today)
        current += dt.timedelta(days=1)
    for post in posts:
        card = card_for(post, policy=policy, zone=zone)
        day = days.get(card.local.date())
        if day is not None:  # where clocks change at midnight, a boundary post may fall outside
            day.cards.append(card)
    if view != LIST:
        more = MoreWords(request)
        for day in days.values():
            day.more = counts.get(day.date, 0) - len(day.cards)
            if day.more > 0:
                day.more_url, day.more_label, day.more_context = more(day.date, day.more)

    labels = card_labels()
    move_next = quote(request.get_full_path(), safe="")
    for day in days.values():
        if day.cards:
            day.cards_markup = cards_html(day.cards, labels=labels, move_next=move_next)
    all_days = list(days.values())
    weeks = [all_days[i : i + 7] for i in range(0, len(all_days), 7)]
    context = {
        "nav": "calendar",
        "view": view,
        "period": period,
        "weeks": weeks,
        "grid_rows": grid_rows_html(weeks) if view != LIST else "",
        "days_with_cards": [day for day in all_days if day.cards],
        "filter_form": filter_form,
        "labels": labels,
        "filtered": any(filter_form.filters().values()),
        "pages": pages,
        "may_add": request.user.has_perm("posts.add_post"),
        "may_move": bool(policy.editable_campaign_ids),
        "move_next": move_next,
        "previous_url": _query(request, date=period.previous.isoformat()),
        "next_period_url": _query(request, date=period.next.isoformat()),
        "today_url": _query(request, date=today.isoformat()),
        "clear_url": f"?view={view}&date={anchor.isoformat()}",
        "view_links": [
            {"label": label, "url": _query(request, view=key), "current": key == view}
            for key, label in VIEW_LABELS.items()
        ],
    }
    return render(request, "posts/calendar.html", context)


class MoveInputError(ValidationError):
    """A move form's day and time that name no moment; answered like a service's ValidationError (400)."""


def move_target(*, data: QueryDict, post: Post, zone: dt.tzinfo) -> dt.datetime:
    """Return the aware moment a move form asks for; raises MoveInputError on bad input.

    Dates and times are read in the viewer's zone, not the post's planning zone: the viewer
    picked a day in a calendar drawn in their zone and sees the time of day in it too.
    The post keeps its planning zone (``time_zone``); only the moment changes.
    """
    form = MoveForm(data)
    if not form.is_valid():
        raise MoveInputError(
            [f"{form.fields[name].label}: {error}" for name, errs in form.errors.items() for error in errs]
        )
    day: dt.date = form.cleaned_data["date"]
    time_of_day: dt.time | None = form.cleaned_data.get("time")
    if time_of_day is None:
        if post.scheduled_at is None:
            raise MoveInputError([_("Enter a time: this post has no time yet.")])
        # Dragging to a day keeps the time of day the viewer sees on the card.
        time_of_day = timezone.localtime(post.scheduled_at, zone).time()
    wall = dt.datetime.combine(day, time_of_day.replace(second=0, microsecond=0))
    try:
        moment = local_moment(day, wall.time(), zone)
    except ValidationError as error:
        raise MoveInputError([f"{form.fields['date'].label}: {message}" for message in error.messages]) from error
    # A wall time skipped by a clock change does not survive the round trip through UTC.
    # In the repeated hour after clocks go back, fold=0 picks its first (summer-time) occurrence.
    if moment.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise MoveInputError(
            [
                _("%(time)s does not exist on %(date)s in %(zone)s (the clocks change). Choose another time.")
                % {
                    "time": formats.time_format(time_of_day, "TIME_FORMAT"),
                    "date": formats.date_format(day, "DATE_FORMAT"),
                    "zone": str(zone),
                }
            ]
        )
    return moment


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _next_url(request: HttpRequest) -> str:
    return safe_next(request, reverse("posts:calendar"))


def _move_stale(
    request: HttpRequest, *, post: Post, policy: PostPolicy, zone: dt.tzinfo, stale: StaleVersion
) -> HttpResponse:
    """Answer 409: the post changed since its card was drawn; show what changed, keep the asked-for day and time."""
    card = None
    # Where the post is now, not where it was when this request loaded it.
    now_at = Post.objects.filter(pk=post.pk).values_list("scheduled_at", flat=True).first()
    if now_at is not None:
        loaded = card_posts(
            posts_for_calendar_cards(user=request.user, start=now_at, end=now_at + dt.timedelta(microseconds=1)).filter(
                pk=post.pk
            )
        )
        card = next((card_for(item, policy=policy, zone=zone) for item in loaded), None)
    if _wants_json(request):
        html = (
            card_html(card, labels=card_labels(), move_next=quote(_next_url(request), safe=""))
            if card is not None
            else ""
        )
        return JsonResponse(
            {
                "ok": False,
                "stale": True,
                "errors": [stale.message],
                "changes": [{"label": c.label, "old": c.old, "new": c.new} for c in stale.changes],
                "version": stale.version,
                "html": html,
            },
            status=409,
        )
    context = {
        "post": post,
        "stale": stale,
        "version": stale.version,
        "date": request.POST.get("date", "")[:10],
        "time": request.POST.get("time", "")[:8],
        "next_url": _next_url(request),
        "nav": "calendar",
    }
    return render(request, "posts/post_move.html", context, status=409)


def _visible_post(request: AuthedHttpRequest, pk: int) -> Post:
    """Return the post ``pk`` if the user sees it; raises Http404 otherwise (no hint that it exists)."""
    try:
        return posts_for_user(user=request.user).select_related("campaign", "current_revision").get(pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404(_("No such post.")) from exc


@login_required
@require_GET
def post_move_form_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show the Move form of one post: the calendar's Move link without its script."""
    zone = timezone.get_current_timezone()
    post = _visible_post(request, pk)
    if MOVE not in PostPolicy(request.user).actions(post):
        raise PermissionDenied(_("You may not move this post in its current state."))
    assert post.scheduled_at is not None  # every movable state has a day (posts.states.MOVABLE)
    local = timezone.localtime(post.scheduled_at, zone)
    context = {
        "post": post,
        "version": version_of(model=Post, pk=post.pk),
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        # Back at the card after the move: the next Tab goes on from it, not from the top of the page.
        "next_url": safe_next(request, reverse("posts:calendar"), candidate=request.GET.get("next", ""))
        + f"#cal-post-{post.pk}",
        "nav": "calendar",
    }
    return render(request, "posts/post_move.html", context)


def _move_question(error: ValidationError | PermissionDenied | None) -> str | None:
    """Return what a move refused for want of confirmation asks the editor (`posts.movechecks`), or None."""
    if isinstance(error, ValidationError) and getattr(error, "code", None) == MOVE_CONFIRM:
        return " ".join(error.messages)
    return None


@login_required
@require_POST
def post_move_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Plan a visible post for another day (and time); answers JSON to scripts, redirects forms."""
    zone = timezone.get_current_timezone()
    post = _visible_post(request, pk)
    policy = PostPolicy(request.user)

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        return _move_stale(request, post=post, policy=policy, zone=zone, stale=stale)

    with service_action(
        request,
        refused=_("You may not move this post."),
        conflict=(StaleVersion, answer_stale),
        as_json=_wants_json(request),
    ) as call:
        if MOVE not in policy.actions(post):
            raise PermissionDenied(_("You may not move this post in its current state."))
        moment = move_target(data=request.POST, post=post, zone=zone)
        moved = post_move(
            post=post,
            actor=request.user,
            scheduled_at=moment,
            expected_version=version_parse(request.POST.get("version")),
            compressed_ok=request.POST.get("confirm") == "1",
        )
    question = _move_question(call.error)
    if question is not None and _wants_json(request):
        # The script asks the editor (window.confirm) and sends the move again with confirm=1.
        return JsonResponse({"ok": False, "confirm": question}, status=409)
    if question is not None:
        # A form asks on the move page, keeping the day and time; "Move anyway" sends confirm=1.
        context = {
            "post": post,
            "question": question,
            "version": request.POST.get("version", "")[:20],
            "date": request.POST.get("date", "")[:10],
            "time": request.POST.get("time", "")[:8],
            "next_url": _next_url(request),
            "nav": "calendar",
        }
        return render(request, "posts/post_move.html", context, status=409)
    if call.response is not None:
        return call.response
    if not call.ok:
        return HttpResponseRedirect(_next_url(request))

    (loaded,) = card_posts(
        posts_for_calendar_cards(user=request.user, start=moment, end=moment + dt.timedelta(microseconds=1)).filter(
            pk=moved.pk
        )
    )
    card = card_for(loaded, policy=policy, zone=zone)
    message = _("Moved “%(title)s” to %(when)s.") % {
        "title": moved,
        "when": formats.date_format(card.local, "SHORT_DATETIME_FORMAT"),
    }
    if not _wants_json(request):
        messages.success(request, message)
        return HttpResponseRedirect(_next_url(request))
    html = card_html(card, labels=card_labels(), move_next=quote(_next_url(request), safe=""))
    return JsonResponse(
        {
            "ok": True,
            "scheduled_at": card.post.scheduled_at.isoformat() if card.post.scheduled_at else None,
            "date": card.local.date().isoformat(),
            "time": card.local.strftime("%H:%M"),
            "message": message,
            "html": html,
        }
    )
