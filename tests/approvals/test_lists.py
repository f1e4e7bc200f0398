"""The review lists ("My posts", the inbox): a page at a time, filtered, never more than the user may see."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.services import round_submit
from approvals.views import LIST_PAGE_SIZE
from posts.models import Post, PostStatus

pytestmark = pytest.mark.django_db

MY_POSTS = reverse("approvals:my_posts")
INBOX = reverse("approvals:inbox")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def posts_add(author: Any, campaign: Any, count: int, *, title: str, status: str = PostStatus.DRAFT) -> list[Post]:
    """Bulk-create ``count`` posts an hour apart from tomorrow: volume for the lists, not for the workflow."""
    start = timezone.now() + dt.timedelta(days=1)
    return Post.objects.bulk_create(
        Post(
            author=author,
            campaign=campaign,
            title=f"{title} {n:02d}",
            body="Händewaschen rettet Leben – Fragen? 040 1234-0 🧼",
            status=status,
            scheduled_at=start + dt.timedelta(hours=n),
        )
        for n in range(count)
    )


def shown(response: Any) -> list[int]:
    return [row.post.pk for row in response.context["rows"]]


@pytest.fixture
def submit(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    account = account_factory("facebook")

    def make(*, campaign: Any = None, when: dt.datetime | None = None, **data: Any) -> Post:
        post = post_factory(
            editor,
            campaign or review_campaign,
            targets=[account],
            when=when or timezone.now() + dt.timedelta(days=6),
            **data,
        )
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        return post

    return make


# My posts -------------------------------------------------------------------------------------


def test_my_posts_query_count_is_the_same_for_5_and_60_posts(editor: Any, review_campaign: Any, submit: Any) -> None:
    submit(title="Grippeimpfung: jetzt Termin vereinbaren")
    posts_add(editor, review_campaign, 4, title="Grippe")
    client = client_for(editor)
    url = f"{MY_POSTS}?q=Grippe&campaign={review_campaign.pk}"
    client.get(url)  # warm caches (content types, session)
    five = queries(client, url)
    posts_add(editor, review_campaign, 55, title="Grippe later")
    assert len(client.get(url).context["rows"]) == LIST_PAGE_SIZE
    assert queries(client, url) == five
    assert queries(client, f"{url}&page=2") == five


def test_my_posts_shows_where_each_post_in_review_stands(editor: Any, submit: Any, reviewers: dict[str, Any]) -> None:
    in_review = submit(title="Herzwoche: Blutdruck messen")
    response = client_for(editor).get(MY_POSTS)
    [row] = response.context["rows"]
    assert row.post == in_review
    assert row.review_stage == "Medical review"
    assert row.review_deadline is not None
    html = response.content.decode()
    assert f'data-post="{in_review.pk}" data-status="in_review"' in html
    assert client_for(reviewers["medical"]).get(MY_POSTS).context["rows"] == []  # only one's own posts


def test_my_posts_pages_keep_the_filters_and_show_the_right_rows(
    editor: Any, other_editor: Any, review_campaign: Any, campaign_factory: Any
) -> None:
    wanted = posts_add(editor, review_campaign, 60, title="Grippe")
    posts_add(editor, review_campaign, 5, title="Rückenschule")  # another title
    posts_add(editor, campaign_factory(editor, name="Sommer"), 5, title="Grippe")  # another campaign
    posts_add(other_editor, review_campaign, 5, title="Grippe")  # someone else's
    client = client_for(editor)
    first = client.get(MY_POSTS, {"campaign": review_campaign.pk, "q": "grippe"})
    assert shown(first) == [post.pk for post in wanted[:LIST_PAGE_SIZE]]
    next_url = first.context["page"].next_url
    assert next_url and f"campaign={review_campaign.pk}" in next_url and "q=grippe" in next_url
    assert f'href="{next_url}"' in first.content.decode().replace("&amp;", "&")
    second = client.get(MY_POSTS + next_url)
    assert shown(second) == [post.pk for post in wanted[LIST_PAGE_SIZE:]]
    assert second.context["page"].next_url == ""
    assert f"campaign={review_campaign.pk}" in second.context["page"].previous_url
    # The filter form shows what was chosen, so a second change keeps the first.
    assert re.search(r'<input[^>]*name="q"[^>]*value="grippe"', second.content.decode())


def test_my_posts_filters_by_state_and_puts_what_needs_the_author_first(
    editor: Any, review_campaign: Any, submit: Any
) -> None:
    drafts = posts_add(editor, review_campaign, 2, title="Entwurf")
    sent_back = posts_add(editor, review_campaign, 1, title="Zurück", status=PostStatus.CHANGES_REQUESTED)
    in_review = submit(title="In Prüfung")
    client = client_for(editor)
    assert shown(client.get(MY_POSTS, {"status": PostStatus.IN_REVIEW})) == [in_review.pk]
    needs_action = set(shown(client.get(MY_POSTS, {"status": "needs_action"})))
    assert needs_action == {post.pk for post in [*drafts, *sent_back]}


def test_filtering_by_a_campaign_one_may_not_see_names_the_error_and_lists_nothing(
    editor: Any, other_editor: Any, review_campaign: Any, campaign_factory: Any, reviewers: dict[str, Any]
) -> None:
    posts_add(editor, review_campaign, 3, title="Grippe")
    elsewhere = campaign_factory(other_editor, name="Nicht meins")
    posts_add(other_editor, elsewhere, 3, title="Grippe")
    response = client_for(editor).get(MY_POSTS, {"campaign": elsewhere.pk})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["filter_form"].errors["campaign"]
    assert 'role="alert"' in response.content.decode()
    assert "None of your posts matches these filters." in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"status": "published; DROP TABLE"},
        {"campaign": "abc"},
        {"campaign": "99999999999999999999999"},
        {"q": "Grippe\x00"},
        {"q": "x" * 201},
        {"page": "-3"},
        {"page": "zwei"},
        {"page": "99999999999999999999"},
    ],
)
def test_bad_filter_values_answer_with_an_error_or_are_ignored_never_a_500(
    editor: Any, review_campaign: Any, reviewers: dict[str, Any], query: dict[str, str]
) -> None:
    posts_add(editor, review_campaign, 2, title="Grippe")
    for user, url in ((editor, MY_POSTS), (reviewers["medical"], INBOX)):
        response = client_for(user).get(url, query)
        if "\x00" in query.get("q", ""):
            assert response.status_code == 400  # refused for every page (core.inputs), before the view
            continue
        assert response.status_code == 200
        form = response.context["filter_form"]
        # A bad value of the page's own filter is named; parameters the page does not know are ignored.
        assert bool(form.errors) is bool(set(query) & set(form.fields))


# Inbox ----------------------------------------------------------------------------------------


def inbox_shown(response: Any) -> list[int]:
    return [item.post.pk for item in response.context["items"]]


def test_inbox_pages_with_a_constant_query_count_and_keeps_the_filters(
    submit: Any, reviewers: dict[str, Any], review_campaign: Any
) -> None:
    client = client_for(reviewers["medical"])
    url = f"{INBOX}?campaign={review_campaign.pk}"
    submit()
    client.get(url)
    one = queries(client, url)
    for _ in range(LIST_PAGE_SIZE + 4):
        submit()
    first = client.get(url)
    assert len(first.context["items"]) == LIST_PAGE_SIZE
    assert "55 posts are waiting" in client.get(INBOX).content.decode()  # the whole count, not the page's
    assert queries(client, url) == one
    next_url = first.context["page"].next_url
    assert f"campaign={review_campaign.pk}" in next_url
    assert queries(client, INBOX + next_url) == one
    second = client.get(INBOX + next_url)
    assert len(second.context["items"]) == 5
    assert not set(inbox_shown(first)) & set(inbox_shown(second))


def test_inbox_filters_by_campaign_and_overdue(
    editor: Any, submit: Any, reviewers: dict[str, Any], campaign_factory: Any
) -> None:
    other = campaign_factory(editor, name="Herzwoche", reviewers=list(reviewers.values()))
    here = submit()
    there = submit(campaign=other)
    client = client_for(reviewers["medical"])
    assert inbox_shown(client.get(INBOX, {"campaign": other.pk})) == [there.pk]
    assert inbox_shown(client.get(INBOX, {"overdue": "on"})) == []
    here.review_rounds.get().stage_runs.filter(status="in_progress").update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )
    assert inbox_shown(client.get(INBOX, {"overdue": "on"})) == [here.pk]


def test_a_reviewer_off_a_campaigns_team_cannot_filter_the_inbox_by_it(
    editor: Any, submit: Any, reviewers: dict[str, Any], campaign_factory: Any
) -> None:
    # The medical reviewer is not on this campaign's team: its posts are not theirs to see.
    closed = campaign_factory(editor, name="Nur Team", reviewers=[reviewers["medical2"]])
    submit(campaign=closed)
    response = client_for(reviewers["medical"]).get(INBOX, {"campaign": closed.pk})
    assert response.status_code == 200
    assert response.context["items"] == []
    assert response.context["filter_form"].errors["campaign"]
    assert "Nur Team" not in response.content.decode()
    assert inbox_shown(client_for(reviewers["medical2"]).get(INBOX, {"campaign": closed.pk})) != []
