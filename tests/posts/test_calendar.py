"""The editorial calendar: which posts show on which local day, filters, rights, moving."""

import datetime as dt
import io
import json
import zoneinfo
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.versions import version_of
from core.rows import url_of
from posts.models import Post, PostStatus
from posts.policy import PostPolicy
from posts.selectors import CardCampaign, CardPost, card_posts, posts_for_calendar_cards
from posts.views.calendar import LIST, MONTH, WEEK, Card, MoreWords, PlatformTag, _query, card_html, period_for
from tests.conftest import IMAGES

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
JSON = {"HTTP_ACCEPT": "application/json"}


def opened(post: Post) -> dict[str, int]:
    """Return the hidden ``version`` field of a card drawn now."""
    return {"version": version_of(model=Post, pk=post.pk)}


class DayCells(HTMLParser):
    """Collect the post ids shown in each day (``data-date``) and which cards are movable."""

    def __init__(self) -> None:
        super().__init__()
        self.days: dict[str, list[int]] = {}
        self.movable: set[int] = set()
        self.colours: dict[int, str] = {}
        self.more: dict[str, int] = {}  # a day's "+N more"
        self.more_links: dict[str, str] = {}
        self._day: str | None = None
        self._post: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"td", "section"} and attributes.get("data-date"):
            self._day = attributes["data-date"]
            self.days.setdefault(self._day, [])
        if tag == "li" and attributes.get("data-post-id"):
            self._post = int(attributes["data-post-id"] or 0)
            assert self._day is not None, "a card outside any day"
            self.days[self._day].append(self._post)
        if tag == "a" and attributes.get("data-more") and self._day is not None:
            self.more[self._day] = int(attributes["data-more"] or 0)
            self.more_links[self._day] = attributes.get("href") or ""
        if tag == "article" and self._post is not None:
            self.colours[self._post] = attributes.get("data-campaign-colour") or ""
            if attributes.get("draggable") == "true" and attributes.get("data-move-url"):
                self.movable.add(self._post)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "section"}:
            self._day = None
        if tag == "li":
            self._post = None


def cells(response: Any) -> DayCells:
    assert response.status_code == 200, response.status_code
    parser = DayCells()
    parser.feed(response.content.decode())
    return parser


def day_of(parser: DayCells, post: Any) -> list[str]:
    return [day for day, ids in parser.days.items() if post.pk in ids]


def calendar(client: Any, **params: str) -> Any:
    return client.get(reverse("posts:calendar"), params)


@pytest.fixture
def editor_client(client: Any, editor: Any) -> Any:
    client.force_login(editor)
    return client


# Periods ------------------------------------------------------------------------------------


def test_month_grid_starts_on_monday_and_covers_whole_weeks() -> None:
    period = period_for(MONTH, dt.date(2025, 3, 14))
    assert period.first == dt.date(2025, 2, 24)  # March 2025 begins on a Saturday
    assert period.last == dt.date(2025, 4, 6)
    assert period.first.weekday() == 0 and period.last.weekday() == 6
    assert (period.previous, period.next) == (dt.date(2025, 2, 1), dt.date(2025, 4, 1))


def test_week_runs_monday_to_sunday() -> None:
    period = period_for(WEEK, dt.date(2025, 3, 12))
    assert (period.first, period.last) == (dt.date(2025, 3, 10), dt.date(2025, 3, 16))
    assert (period.previous, period.next) == (dt.date(2025, 3, 3), dt.date(2025, 3, 17))


# Placement in the viewer's zone -------------------------------------------------------------


def test_late_utc_post_shows_on_next_day_for_berlin_viewer(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Night shift", when=dt.datetime(2025, 3, 14, 23, 30, tzinfo=UTC))
    response = calendar(editor_client, date="2025-03-10")
    parsed = cells(response)
    assert day_of(parsed, post) == ["2025-03-15"]
    assert "00:30" in response.content.decode()


def test_same_post_stays_on_the_utc_day_for_new_york_viewer(
    client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    editor.time_zone = "America/New_York"
    editor.save(update_fields=["time_zone"])
    client.force_login(editor)
    post = post_factory(editor, campaign, title="Night shift", when=dt.datetime(2025, 3, 14, 23, 30, tzinfo=UTC))
    response = calendar(client, date="2025-03-10")
    assert day_of(cells(response), post) == ["2025-03-14"]
    assert "19:30" in response.content.decode()


def test_month_view_shows_boundary_posts_by_local_midnight(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    # Grid of April 2025 in Berlin (CEST, UTC+2): Monday 31 March 00:00 to Monday 5 May 00:00.
    inside_first = post_factory(editor, campaign, when=dt.datetime(2025, 3, 30, 22, 0, tzinfo=UTC))
    before_first = post_factory(editor, campaign, when=dt.datetime(2025, 3, 30, 21, 59, tzinfo=UTC))
    inside_last = post_factory(editor, campaign, when=dt.datetime(2025, 5, 4, 21, 59, tzinfo=UTC))
    after_last = post_factory(editor, campaign, when=dt.datetime(2025, 5, 4, 22, 0, tzinfo=UTC))
    parsed = cells(calendar(editor_client, date="2025-04-15"))
    assert day_of(parsed, inside_first) == ["2025-03-31"]
    assert day_of(parsed, inside_last) == ["2025-05-04"]
    assert day_of(parsed, before_first) == []
    assert day_of(parsed, after_last) == []
    assert min(parsed.days) == "2025-03-31" and max(parsed.days) == "2025-05-04"


def test_week_view_shows_only_that_week(editor_client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    inside = post_factory(editor, campaign, when=dt.datetime(2025, 3, 12, 9, 0, tzinfo=UTC))
    sunday_night = post_factory(editor, campaign, when=dt.datetime(2025, 3, 16, 23, 30, tzinfo=UTC))  # Mon in Berlin
    parsed = cells(calendar(editor_client, view="week", date="2025-03-13"))
    assert sorted(parsed.days) == [f"2025-03-{day}" for day in range(10, 17)]
    assert day_of(parsed, inside) == ["2025-03-12"]
    assert day_of(parsed, sunday_night) == []


def test_list_view_groups_the_month_by_local_day_in_time_order(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    late = post_factory(editor, campaign, title="Late", when=dt.datetime(2025, 3, 5, 17, 0, tzinfo=UTC))
    early = post_factory(editor, campaign, title="Early", when=dt.datetime(2025, 3, 5, 7, 0, tzinfo=UTC))
    other_month = post_factory(editor, campaign, when=dt.datetime(2025, 4, 1, 7, 0, tzinfo=UTC))
    response = calendar(editor_client, view="list", date="2025-03-20")
    parsed = cells(response)
    assert parsed.days == {"2025-03-05": [early.pk, late.pk]}
    assert day_of(parsed, other_month) == []


def test_list_view_says_when_the_period_is_empty(editor_client: Any) -> None:
    response = calendar(editor_client, view="list", date="2025-03-20")
    assert "No posts in this period." in response.content.decode()


def test_card_links_to_detail_and_shows_platforms_badge_and_colour(
    editor_client: Any, editor: Any, campaign_factory: Any, post_factory: Any, accounts: list[Any]
) -> None:
    red = campaign_factory(editor, name="Red", colour="#cc0000")
    post = post_factory(editor, red, title="Flu jab", targets=accounts[:2], when=dt.datetime(2025, 3, 5, 7, tzinfo=UTC))
    response = calendar(editor_client, date="2025-03-05")
    html = response.content.decode()
    assert cells(response).colours[post.pk] == "#cc0000"
    assert f'href="{reverse("posts:post_detail", args=[post.pk])}"' in html
    # Each platform is a tag with an accessible name: the platform and the account.
    assert '<span class="cal-platform cal-platform-facebook" role="img" aria-label="Facebook: ' in html
    assert ">FB</span>" in html and ">IG</span>" in html
    assert 'class="badge badge-draft"' in html


def test_navigation_links_keep_view_and_filters(editor_client: Any, campaign: Any) -> None:
    response = calendar(editor_client, view="week", date="2025-03-12", campaign=str(campaign.pk))
    html = response.content.decode()
    assert f"?view=week&amp;date=2025-03-03&amp;campaign={campaign.pk}" in html
    assert f"?view=week&amp;date=2025-03-17&amp;campaign={campaign.pk}" in html


@pytest.mark.parametrize("anchor", ["2025-13-45", "0001-01-01", "9999-12-31", "tomorrow"])
def test_unusable_anchor_falls_back_to_today(editor_client: Any, anchor: str) -> None:
    response = calendar(editor_client, date=anchor, view="nonsense")
    assert response.status_code == 200
    assert response.context["view"] == "month"
    assert response.context["period"].anchor == timezone.localdate()


# Filters and visibility -----------------------------------------------------------------------


def test_filters_by_campaign_status_platform_and_account(
    editor_client: Any, editor: Any, campaign_factory: Any, post_factory: Any, accounts: list[Any]
) -> None:
    facebook, instagram, _x = accounts
    first, second = campaign_factory(editor, name="First"), campaign_factory(editor, name="Second")
    when = dt.datetime(2025, 3, 5, 9, tzinfo=UTC)
    on_facebook = post_factory(editor, first, targets=[facebook], when=when)
    on_instagram = post_factory(editor, second, targets=[instagram], when=when)
    withdrawn = post_factory(editor, second, targets=[instagram], when=when)
    from posts.services import post_withdraw

    post_withdraw(post=withdrawn, actor=editor)

    def shown(**params: Any) -> set[int]:
        response = editor_client.get(reverse("posts:calendar"), {"date": "2025-03-05", **params})
        return {pk for ids in cells(response).days.values() for pk in ids}

    assert shown() == {on_facebook.pk, on_instagram.pk, withdrawn.pk}
    assert shown(campaign=[first.pk]) == {on_facebook.pk}
    assert shown(campaign=[first.pk, second.pk]) == {on_facebook.pk, on_instagram.pk, withdrawn.pk}
    assert shown(status=[PostStatus.WITHDRAWN]) == {withdrawn.pk}
    assert shown(platform=["facebook"]) == {on_facebook.pk}
    assert shown(account=[instagram.pk]) == {on_instagram.pk, withdrawn.pk}
    assert shown(account=[instagram.pk], status=[PostStatus.DRAFT]) == {on_instagram.pk}


def test_filter_form_has_visible_labels_and_offers_only_visible_campaigns(
    editor_client: Any, editor: Any, other_editor: Any, campaign: Any, campaign_factory: Any
) -> None:
    campaign_factory(other_editor, name="Secret oncology launch")
    html = calendar(editor_client, date="2025-03-05").content.decode()
    for legend in ("Campaign", "Account", "Platform", "Status"):
        assert f"<legend>{legend}</legend>" in html
    assert f'<label for="filter-campaign_0"><input type="checkbox" name="campaign" value="{campaign.pk}"' in html
    assert "Heart health week" in html
    assert "Secret oncology launch" not in html


def test_posts_of_invisible_campaigns_never_show_and_cannot_be_moved(
    editor_client: Any, editor: Any, other_editor: Any, campaign: Any, campaign_factory: Any, post_factory: Any
) -> None:
    hidden_campaign = campaign_factory(other_editor, name="Hidden")
    when = dt.datetime(2025, 3, 5, 9, tzinfo=UTC)
    mine = post_factory(editor, campaign, when=when)
    hidden = post_factory(other_editor, hidden_campaign, title="Hidden post", when=when)
    for view in ("month", "week", "list"):
        response = calendar(editor_client, view=view, date="2025-03-05", campaign=str(hidden_campaign.pk))
        parsed = cells(response)
        assert day_of(parsed, hidden) == [], view
        assert "Hidden post" not in response.content.decode()
    assert day_of(cells(calendar(editor_client, date="2025-03-05")), mine) == ["2025-03-05"]

    url = reverse("posts:post_move", args=[hidden.pk])
    assert editor_client.post(url, {"date": "2025-03-09"}, **JSON).status_code == 404
    assert editor_client.post(url, {"date": "2025-03-09"}).status_code == 404
    hidden.refresh_from_db()
    assert hidden.scheduled_at == when


def test_viewer_sees_every_campaign_but_cannot_move(
    client: Any, viewer: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    when = dt.datetime(2025, 3, 5, 9, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    client.force_login(viewer)
    response = calendar(client, date="2025-03-05")
    parsed = cells(response)
    html = response.content.decode()
    assert day_of(parsed, post) == ["2025-03-05"]
    assert parsed.movable == set()
    assert "New date" not in html
    assert "New post" not in html

    url = reverse("posts:post_move", args=[post.pk])
    response = client.post(url, {"date": "2025-03-09"}, **JSON)
    assert response.status_code == 403
    assert response.json()["ok"] is False and response.json()["errors"]
    response = client.post(url, {"date": "2025-03-09"}, follow=True)
    assert "You may not move this post" in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == when
    assert not AuditEvent.objects.filter(action="post.moved").exists()


def test_editor_gets_new_post_link_and_draggable_cards(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, tzinfo=UTC))
    response = calendar(editor_client, date="2025-03-05")
    html = response.content.decode()
    assert f'href="{reverse("posts:post_create")}">New post</a>' in html
    assert cells(response).movable == {post.pk}
    # No form per card: a Move link to the post's move page, and one Move dialog for the page.
    move_form = reverse("posts:post_move_form", args=[post.pk])
    assert f'<a class="cal-move" href="{move_form}?next=' in html
    assert html.count("data-cal-move-form") == 1 and html.count("<dialog") == 1
    assert '<label for="cal-move-date">New date</label>' in html and '<label for="cal-move-time">Time</label>' in html


def test_published_post_is_shown_but_not_movable(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, tzinfo=UTC))
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)  # fixture shortcut: no publish service yet
    parsed = cells(calendar(editor_client, date="2025-03-05"))
    assert day_of(parsed, post) == ["2025-03-05"]
    assert parsed.movable == set()


# Query counts -------------------------------------------------------------------------------


def _queries(client: Any, **params: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = calendar(client, **params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_query_count_is_the_same_for_one_and_fifty_posts(
    editor_client: Any,
    editor: Any,
    campaign: Any,
    campaign_factory: Any,
    post_factory: Any,
    accounts: list[Any],
    view: str,
) -> None:
    second = campaign_factory(editor, name="Second")
    post_factory(editor, campaign, targets=accounts[:1], when=dt.datetime(2025, 3, 3, 8, tzinfo=UTC))
    # Warm up per-process caches (content types, permissions) outside the measurement.
    _queries(editor_client, view=view, date="2025-03-05")
    one = _queries(editor_client, view=view, date="2025-03-05")
    for n in range(49):
        post_factory(
            editor,
            second if n % 2 else campaign,
            targets=accounts[: 1 + n % 3],
            when=dt.datetime(2025, 3, 3 + n % 7, 8, n, tzinfo=UTC),
        )
    parsed = cells(calendar(editor_client, view=view, date="2025-03-05"))
    shown = {pk for ids in parsed.days.values() for pk in ids}
    assert len(shown) + sum(parsed.more.values()) == 50
    fifty = _queries(editor_client, view=view, date="2025-03-05")
    assert one == fifty
    # Each view counts the days' posts: the list to find its page, the grid for its "+N more".
    assert fifty <= 13


def _post_with_images(editor: Any, campaign: Any, when: dt.datetime, *alt_texts: str) -> Post:
    from posts.media import image_process
    from posts.services import NewMedia, post_create

    images = [
        NewMedia(image=image_process(upload=io.BytesIO((IMAGES / name).read_bytes())), alt_text=alt)
        for name, alt in zip(("square_1080_rgba.png", "landscape_1200x628.webp"), alt_texts, strict=False)
    ]
    data = {"body": "Grippeimpfung 💉"}
    return post_create(actor=editor, campaign=campaign, data=data, media=images, scheduled_at=when)


def test_card_shows_the_thumbnail_of_the_first_image(editor_client: Any, editor: Any, campaign: Any) -> None:
    when = dt.datetime(2025, 3, 5, 8, tzinfo=UTC)
    post = _post_with_images(editor, campaign, when, "Pflegerin Ümran impft im Foyer", "Foyer, zweites Bild")
    first = post.media.order_by("position", "pk").first()
    assert first is not None
    for view in ("month", "week", "list"):
        html = calendar(editor_client, view=view, date="2025-03-05").content.decode()
        assert html.count('class="cal-card-thumb"') == 1, view
        assert f'src="{reverse("media", args=[first.thumbnail.name])}"' in html
        assert 'alt="Pflegerin Ümran impft im Foyer"' in html
    # The thumbnail is served to the calendar's viewer.
    response = editor_client.get(reverse("media", args=[first.thumbnail.name]))
    assert response.status_code == 200 and response["Content-Type"].startswith("image/")


@pytest.mark.parametrize(
    ("name", "arg"),
    [("posts:post_detail", 7), ("posts:post_move", 123456), ("media", "posts/2026/12/Ümran Foto #1/thumb.jpg")],
)
def test_row_urls_are_what_reverse_gives(name: str, arg: Any) -> None:
    assert url_of(name, arg) == reverse(name, args=[arg])


def test_query_count_is_the_same_for_one_and_twenty_posts_with_images(
    editor_client: Any, editor: Any, campaign: Any
) -> None:
    _post_with_images(editor, campaign, dt.datetime(2025, 3, 3, 8, tzinfo=UTC), "Bild 0")
    _queries(editor_client, date="2025-03-05")
    one = _queries(editor_client, date="2025-03-05")
    for n in range(19):
        _post_with_images(editor, campaign, dt.datetime(2025, 3, 4 + n % 5, 9, n, tzinfo=UTC), f"Bild {n}", "zwei")
    html = calendar(editor_client, view="week", date="2025-03-05").content.decode()  # a month cell shows three
    assert html.count('class="cal-card-thumb"') == 20
    assert _queries(editor_client, date="2025-03-05") == one


def test_query_count_is_the_same_with_filters(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post_factory(editor, campaign, targets=accounts[:1], when=dt.datetime(2025, 3, 3, 8, tzinfo=UTC))
    params = {"date": "2025-03-05", "platform": "facebook", "campaign": str(campaign.pk)}
    _queries(editor_client, **params)
    one = _queries(editor_client, **params)
    for n in range(49):
        post_factory(editor, campaign, targets=accounts, when=dt.datetime(2025, 3, 4, 8, n, tzinfo=UTC))
    assert _queries(editor_client, **params) == one


# Moving -------------------------------------------------------------------------------------


def test_move_by_json_keeps_local_time_and_records_audit_event(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    # 10:15 in Berlin on 5 March (CET) moved to 2 April (CEST): still 10:15 on the wall clock.
    post = post_factory(editor, campaign, title="Move me", when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "2025-04-02"}, **JSON
    )
    assert response.status_code == 200
    data = response.json()
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 4, 2, 8, 15, tzinfo=UTC)
    assert post.time_zone == "Europe/Berlin"
    assert data["ok"] is True
    assert dt.datetime.fromisoformat(data["scheduled_at"]) == post.scheduled_at
    assert data["date"] == "2025-04-02" and data["time"] == "10:15"
    assert f'data-post-id="{post.pk}"' in data["html"] and "Move me" in data["html"]
    event = AuditEvent.objects.filter(action="post.moved", object_id=str(post.pk)).get()
    assert event.actor == editor
    assert dt.datetime.fromisoformat(event.changes["scheduled_at"][1]) == post.scheduled_at


def test_move_by_form_with_time_redirects_back_with_message(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Move me", when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    back = reverse("posts:calendar") + "?view=week&date=2025-03-05"
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]),
        {**opened(post), "date": "2025-03-07", "time": "18:45", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 7, 17, 45, tzinfo=UTC)
    page = editor_client.get(back)
    assert "Moved “Move me” to" in page.content.decode()
    assert day_of(cells(page), post) == ["2025-03-07"]


def test_move_ignores_foreign_next_url(editor_client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]),
        {**opened(post), "date": "2025-03-07", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("posts:calendar")


@pytest.mark.parametrize(
    "data",
    [{"date": "07.03.2025"}, {"date": ""}, {"date": "2025-02-30"}, {"date": "2025-03-07", "time": "25:00"}],
)
def test_bad_date_gives_400_and_changes_nothing(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any, data: dict[str, str]
) -> None:
    when = dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    response = editor_client.post(reverse("posts:post_move", args=[post.pk]), {**data, **opened(post)}, **JSON)
    assert response.status_code == 400
    assert response.json()["ok"] is False and response.json()["errors"]
    post.refresh_from_db()
    assert post.scheduled_at == when
    assert not AuditEvent.objects.filter(action="post.moved").exists()


def test_bad_date_by_form_redirects_with_error_and_changes_nothing(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    when = dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "soon"}, follow=True
    )
    assert "New date: Enter a valid date." in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == when


def test_nonexistent_local_time_in_dst_gap_is_refused(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    when = dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "2025-03-30", "time": "02:30"}, **JSON
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"][0]
    post.refresh_from_db()
    assert post.scheduled_at == when


def test_repeated_hour_when_clocks_go_back_takes_the_first_occurrence(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "2025-10-26", "time": "02:30"}, **JSON
    )
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_service_refusal_becomes_a_clear_error(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any, time_machine: Any
) -> None:
    time_machine.move_to(dt.datetime(2025, 3, 1, 12, tzinfo=UTC))
    when = dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SCHEDULED)  # fixture shortcut around the review chain
    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "2025-02-20"}, **JSON
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["A scheduled post can only move to a time in the future."]
    post.refresh_from_db()
    assert post.scheduled_at == when


def test_move_requires_post(editor_client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    assert editor_client.get(reverse("posts:post_move", args=[post.pk]), {"date": "2025-03-07"}).status_code == 405


def test_move_requires_login(client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    when = dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    response = client.post(reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "2025-03-07"}, **JSON)
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.scheduled_at == when


def test_json_error_payload_is_json(editor_client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    response = editor_client.post(reverse("posts:post_move", args=[post.pk]), {**opened(post), "date": "x"}, **JSON)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"ok": False, "errors": ["New date: Enter a valid date."]}


# A busy month: capped cells, the list in pages, the move page ---------------------------------


def _busy(editor: Any, campaign: Any, accounts: list[Any], moments: list[dt.datetime]) -> list[Post]:
    """Return planned posts at ``moments``, written in bulk: hundreds of them through the service would be slow."""
    from posts.models import PostTarget

    posts = Post.objects.bulk_create(
        [
            Post(
                campaign=campaign,
                author=editor,
                title=f"Sprechstunde Nr. {n} – Grüße aus der Kardiologie 🫀",
                body="Blutdruck messen: Mittwoch, 9–15 Uhr. Fragen: 040 1234-0.",
                scheduled_at=moment,
                time_zone="Europe/Berlin",
            )
            for n, moment in enumerate(moments)
        ]
    )
    PostTarget.objects.bulk_create(
        [PostTarget(post=post, account=accounts[n % len(accounts)]) for n, post in enumerate(posts)]
    )
    return posts


def test_month_cell_shows_three_cards_and_links_the_rest_to_that_day_in_the_list(
    editor_client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    busy = _busy(editor, campaign, accounts, [dt.datetime(2025, 3, 12, 7 + n, tzinfo=UTC) for n in range(5)])
    _busy(editor, campaign, accounts, [dt.datetime(2025, 3, 13, 9, tzinfo=UTC)])
    response = calendar(editor_client, date="2025-03-05")
    parsed = cells(response)
    assert parsed.days["2025-03-12"] == [post.pk for post in busy[:3]]  # the day's first three, in time order
    assert parsed.more == {"2025-03-12": 2}  # a day with room says nothing more
    link = parsed.more_links["2025-03-12"]
    assert link == "?date=2025-03-12&view=list#day-2025-03-12"
    html = response.content.decode()
    # The link's words say how many more and which day, for screen readers too.
    assert (
        f'<a class="cal-more" href="{link.replace("&", "&amp;")}" data-more="2">+2 more'
        '<span class="visually-hidden"> posts on Wednesday, 12 March 2025</span></a>'
    ) in html

    day = cells(editor_client.get(reverse("posts:calendar") + link.split("#")[0]))
    assert day.days["2025-03-12"] == [post.pk for post in busy]


def test_week_view_shows_twelve_cards_a_day_and_says_how_many_more(
    editor_client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    moments = [dt.datetime(2025, 3, 12, 6, tzinfo=UTC) + dt.timedelta(minutes=10 * n) for n in range(20)]
    _busy(editor, campaign, accounts, moments)
    parsed = cells(calendar(editor_client, view="week", date="2025-03-12"))
    assert len(parsed.days["2025-03-12"]) == 12
    assert parsed.more == {"2025-03-12": 8}


def test_list_is_paginated_and_its_links_keep_the_filters(
    editor_client: Any, editor: Any, campaign: Any, campaign_factory: Any, accounts: list[Any]
) -> None:
    other = campaign_factory(editor, name="Other")
    mine = _busy(
        editor, campaign, accounts, [dt.datetime(2025, 3, 1 + n // 3, 8 + n % 3, tzinfo=UTC) for n in range(60)]
    )
    _busy(editor, other, accounts, [dt.datetime(2025, 3, 2, 10, tzinfo=UTC)] * 5)
    params = {"view": "list", "date": "2025-03-01", "campaign": str(campaign.pk)}
    response = calendar(editor_client, **params)
    first = {pk for ids in cells(response).days.values() for pk in ids}
    assert first == {post.pk for post in mine[:50]}
    html = response.content.decode()
    assert "Page 1 of 2" in html
    later = f"?view=list&amp;date=2025-03-01&amp;campaign={campaign.pk}&amp;page=2"
    assert f'href="{later}" rel="next">Later posts</a>' in html

    response = calendar(editor_client, **params, page="2")
    second = {pk for ids in cells(response).days.values() for pk in ids}
    assert second == {post.pk for post in mine[50:]}
    assert "Page 2 of 2" in response.content.decode()
    # A day further down the month opens the list at the page where that day begins.
    assert cells(calendar(editor_client, view="list", date="2025-03-19", campaign=str(campaign.pk))).days.keys() >= {
        "2025-03-19"
    }
    # Anything else as a page number: the nearest page there is.
    assert "Page 2 of 2" in calendar(editor_client, **params, page="99").content.decode()
    assert "Page 1 of 2" in calendar(editor_client, **params, page="x").content.decode()


def test_query_count_of_the_month_is_the_same_for_thirty_and_three_hundred_posts(
    editor_client: Any, editor: Any, campaign: Any, campaign_factory: Any, accounts: list[Any]
) -> None:
    second = campaign_factory(editor, name="Second")

    # 300 moments spread over March; every tenth of them is planned first.
    moments = [dt.datetime(2025, 3, 1, 7, tzinfo=UTC) + dt.timedelta(minutes=140 * k) for k in range(300)]
    few, rest = moments[::10], [moment for k, moment in enumerate(moments) if k % 10]
    _busy(editor, campaign, accounts, few[::2])
    _busy(editor, second, accounts, few[1::2])
    counts = {}
    for view in ("month", "week", "list"):
        _queries(editor_client, view=view, date="2025-03-12")
        counts[view] = _queries(editor_client, view=view, date="2025-03-12")
    _busy(editor, campaign, accounts, rest[::2])
    _busy(editor, second, accounts, rest[1::2])
    parsed = cells(calendar(editor_client, date="2025-03-12"))
    shown = sum(len(ids) for day, ids in parsed.days.items() if day.startswith("2025-03"))
    assert shown + sum(n for day, n in parsed.more.items() if day.startswith("2025-03")) == 300
    assert max(len(ids) for ids in parsed.days.values()) == 3
    assert {view: _queries(editor_client, view=view, date="2025-03-12") for view in counts} == counts


def test_move_page_shows_the_form_filled_and_moves_without_a_script(
    editor_client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Tag der offenen Tür", when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    back = "/calendar/?date=2025-03-05&view=week"
    response = editor_client.get(reverse("posts:post_move_form", args=[post.pk]), {"next": back})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{reverse("posts:post_move", args=[post.pk])}"' in html
    assert f'name="next" value="{back.replace("&", "&amp;")}#cal-post-{post.pk}"' in html
    assert f'name="version" value="{version_of(model=Post, pk=post.pk)}"' in html
    assert 'value="2025-03-05" required' in html and 'name="time" value="10:15"' in html  # Berlin time

    response = editor_client.post(
        reverse("posts:post_move", args=[post.pk]),
        {"date": "2025-03-07", "time": "10:15", "next": f"{back}#cal-post-{post.pk}", **opened(post)},
    )
    assert response.status_code == 302 and response["Location"] == f"{back}#cal-post-{post.pk}"
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 7, 9, 15, tzinfo=UTC)


def test_move_page_is_refused_to_a_viewer_and_not_found_for_another_campaigns_editor(
    client: Any, viewer: Any, editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    when = dt.datetime(2025, 3, 5, 9, tzinfo=UTC)
    post = post_factory(editor, campaign, when=when)
    url = reverse("posts:post_move_form", args=[post.pk])
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    client.force_login(other_editor)
    assert client.get(url).status_code == 404
    assert client.post(reverse("posts:post_move", args=[post.pk]), {"date": "2025-03-09"}).status_code == 404
    post.refresh_from_db()
    assert post.scheduled_at == when
    assert not AuditEvent.objects.filter(action="post.moved").exists()


def test_a_card_escapes_everything_it_shows() -> None:
    """Cards are written in Python (posts.views.calendar.card_html), not by a template: nothing may pass unescaped."""
    hostile = '<script>alert("x")</script> & „Müller“'
    post = CardPost(
        pk=7,
        campaign_id=1,
        title=hostile,
        body="",
        language='de" x="',
        status="draft",
        scheduled_at=dt.datetime(2027, 3, 4, 9, 15, tzinfo=dt.UTC),
        approved_hash="",
        content_hash="",
        campaign=CardCampaign(name=f"Kampagne {hostile}", colour='" onmouseover="x'),
        version=3,
        thumbnail="a.jpg",
        thumbnail_alt=hostile,
        accounts=(("facebook", hostile),),
    )
    card = Card(
        post=post,
        local=dt.datetime(2027, 3, 4, 10, 15, tzinfo=dt.UTC),
        platforms=[PlatformTag("FB", f"Facebook: {hostile}", "facebook")],
        movable=True,
        move_url="/posts/7/move/",
        move_form_url="/posts/7/move/form/",
        detail_url="/posts/7/",
        status_label="Entwurf",
        thumbnail_url="/media/a.jpg",
        thumbnail_alt=hostile,
    )

    html = card_html(card, labels={"move": "Verschieben <b>"}, move_next="%2Fcalendar%2F%3Fview%3Dmonth")

    assert "<script>" not in html and "<b>" not in html
    assert '" onmouseover=' not in html and 'lang="de" x="' not in html
    # The title twice (link, Move), the alt text, the campaign's name, the platform's name twice (label, title).
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; „Müller“") == 6
    assert 'href="/posts/7/move/form/?next=%2Fcalendar%2F%3Fview%3Dmonth"' in html
    assert html.startswith('<li class="cal-item" id="cal-post-7"') and html.endswith("</li>")


def test_a_cards_post_reads_as_the_post_itself(
    editor: Any, campaign: Any, post_factory: Any, account_factory: Any
) -> None:
    """A card reads plain values (posts.selectors.card_posts), not models: they must say what the post says."""
    when = dt.datetime(2027, 3, 4, 9, 15, tzinfo=UTC)
    accounts = [account_factory("linkedin"), account_factory("facebook")]
    titled = post_factory(editor, campaign, targets=accounts, when=when, title="Grippeimpfung: Termine ab 12.10.")
    untitled = post_factory(
        editor, campaign, when=when + dt.timedelta(hours=1), body="Rückfragen unter 030 / 123-4567 – " + "ä" * 80
    )
    approved = post_factory(editor, campaign, when=when + dt.timedelta(hours=2))
    stale = post_factory(editor, campaign, when=when + dt.timedelta(hours=3))
    Post.objects.filter(pk=approved.pk).update(
        status=PostStatus.APPROVED, approved_hash=approved.current_revision.content_hash
    )
    Post.objects.filter(pk=stale.pk).update(status=PostStatus.APPROVED, approved_hash="0" * 64)

    cards = card_posts(posts_for_calendar_cards(user=editor, start=when, end=when + dt.timedelta(days=1)))

    assert [card.pk for card in cards] == [titled.pk, untitled.pk, approved.pk, stale.pk]
    policy = PostPolicy(editor)
    for card in cards:
        post = Post.objects.select_related("campaign", "current_revision").get(pk=card.pk)
        assert str(card) == str(post)
        assert (card.campaign_id, card.campaign.name, card.campaign.colour) == (
            post.campaign_id,
            post.campaign.name,
            post.campaign.colour,
        )
        assert (card.status, card.language, card.scheduled_at) == (post.status, post.language, post.scheduled_at)
        assert card.content_hash == post.content_hash and card.is_approved_as_is == post.is_approved_as_is
        assert card.version == version_of(model=Post, pk=post.pk)
        assert policy.actions(card) == policy.actions(post)
    assert [card.is_approved_as_is for card in cards] == [False, False, True, False]
    assert str(cards[1]).endswith("…") and len(str(cards[1])) == 61
    assert cards[0].accounts == (("facebook", accounts[1].name), ("linkedin", accounts[0].name))
    assert (cards[0].thumbnail, cards[0].thumbnail_alt) == ("", "")


@pytest.mark.parametrize("language", ["en", "de", "tr", "ja"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "view=month&date=2025-03-05",
        "date=2025-03-05&campaign=1&campaign=2&status=draft&page=3",
        "campaign=1&q=M%C3%BCller+%26+S%C3%B6hne&date=x&view=week&page=2",
    ],
)
def test_a_pages_more_links_and_words_are_what_each_day_looked_up_alone_would_give(
    rf: Any, language: str, query: str
) -> None:
    request = rf.get(f"/calendar/?{query}")
    with translation.override(language):
        more = MoreWords(request)
        for day, count in [(dt.date(2025, 3, 12), 2), (dt.date(2025, 12, 1), 1), (dt.date(2026, 1, 31), 2)]:
            context = ngettext("post on %(day)s", "posts on %(day)s", count) % {
                "day": f"{formats.date_format(day, 'l')}, {formats.date_format(day, 'DATE_FORMAT')}"
            }
            assert more(day, count) == (
                _query(request, view=LIST, date=day.isoformat()) + f"#day-{day.isoformat()}",
                ngettext("+%(count)d more", "+%(count)d more", count) % {"count": count},
                context,
            )
