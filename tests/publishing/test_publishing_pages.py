"""The Publishing page a page at a time: filters kept across pages, no other team's rows, wrong filters explained."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from posts.models import Post, PostStatus
from publishing.models import Publication
from publishing.models import PublicationStatus as P
from publishing.views import PAGE_SIZE

pytestmark = pytest.mark.django_db

URL = reverse("publishing:publishing")


def stuck(campaign: Any, author: Any, account: Any, count: int, *, status: str = P.FAILED, start: int = 0) -> list[int]:
    """Create ``count`` publications of ``campaign`` in ``status``, a minute apart; return their ids in due order."""
    posts = Post.objects.bulk_create(
        Post(
            campaign=campaign,
            author=author,
            title=f"Grippeimpfung {start + n} – Ärztinnen antworten",
            body="Impfung täglich 8–12 Uhr, Raum 0.14. Fragen: 030 1234567",
            status=PostStatus.SCHEDULED,
        )
        for n in range(count)
    )
    base = timezone.now() - dt.timedelta(days=2)
    publications = Publication.objects.bulk_create(
        Publication(
            post=post,
            account=account,
            status=status,
            due_at=base + dt.timedelta(minutes=start + n),
            next_attempt_at=base,
            last_error="HTTP 500",
        )
        for n, post in enumerate(posts)
    )
    return [publication.pk for publication in publications]


def shown(response: Any) -> list[int]:
    return [row[0].pk for row in response.context["rows"]]


def test_query_count_does_not_grow_with_the_rows(
    client: Any, editor: Any, campaign_factory: Any, account_factory: Any
) -> None:
    campaign, account = campaign_factory(editor), account_factory("facebook")
    stuck(campaign, editor, account, 5)
    client.force_login(editor)
    client.get(URL)
    with CaptureQueriesContext(connection) as five:
        assert len(shown(client.get(URL))) == 5
    stuck(campaign, editor, account, 55, start=5)
    with CaptureQueriesContext(connection) as sixty:
        response = client.get(URL)

    assert len(shown(response)) == PAGE_SIZE
    assert len(sixty) == len(five), "\n".join(query["sql"][:120] for query in sixty)
    assert response.text.count('<span class="badge publication-failed">Failed</span>') == PAGE_SIZE
    assert response.text.count("(Facebook)</span>") == PAGE_SIZE


def test_the_second_page_keeps_the_filters_and_shows_the_next_rows(
    client: Any, editor: Any, campaign_factory: Any, account_factory: Any
) -> None:
    flu, heart = campaign_factory(editor, name="Grippe"), campaign_factory(editor, name="Herz")
    facebook, instagram = account_factory("facebook"), account_factory("instagram")
    wanted = stuck(flu, editor, facebook, 30)
    stuck(flu, editor, facebook, 5, status=P.OVERDUE, start=100)
    stuck(flu, editor, instagram, 5, start=200)
    stuck(heart, editor, facebook, 5, start=300)
    client.force_login(editor)
    filters = {"state": P.FAILED, "campaign": flu.pk, "account": facebook.pk}

    first = client.get(URL, filters)
    assert shown(first) == wanted[:PAGE_SIZE]
    next_url = first.context["page"].next_url
    assert next_url == f"?state=failed&campaign={flu.pk}&account={facebook.pk}&page=2"
    assert 'href="{}"'.format(next_url.replace("&", "&amp;")) in first.text
    second = client.get(URL + next_url)

    assert shown(second) == wanted[PAGE_SIZE:]
    assert second.context["page"].next_url == ""
    assert second.context["page"].previous_url == f"?state=failed&campaign={flu.pk}&account={facebook.pk}"
    assert 'rel="prev"' in second.text


def test_a_campaign_filter_never_shows_another_teams_publications(
    client: Any, editor: Any, other_editor: Any, campaign_factory: Any, account_factory: Any
) -> None:
    account = account_factory("facebook")
    mine, theirs = campaign_factory(editor, name="Meine"), campaign_factory(other_editor, name="Fremde")
    my_ids = stuck(mine, editor, account, 3)
    stuck(theirs, other_editor, account, 3, start=10)
    client.force_login(editor)

    response = client.get(URL, {"campaign": theirs.pk})

    assert response.status_code == 200
    assert shown(response) == my_ids
    assert "Fremde" not in response.text
    assert "Ignored:" in response.text and response.context["form"].errors["campaign"]


@pytest.mark.parametrize(
    "query",
    [
        {"state": "published"},
        {"state": "<script>"},
        {"campaign": "abc"},
        {"campaign": "99999999999999999999999"},
        {"account": "-1"},
        {"page": "zwei"},
        {"blocked_page": "1e9", "takedowns_page": "٣"},
    ],
)
def test_a_wrong_filter_is_ignored_and_said_so_without_an_error(
    client: Any, editor: Any, campaign_factory: Any, account_factory: Any, query: dict[str, str]
) -> None:
    ids = stuck(campaign_factory(editor), editor, account_factory("facebook"), 3)
    client.force_login(editor)

    response = client.get(URL, query)

    assert response.status_code == 200
    assert shown(response) == ids
    if set(query) & {"state", "campaign", "account"}:
        assert 'role="alert"' in response.text and "Ignored:" in response.text


def test_retry_comes_back_to_the_same_page_and_filters(
    client: Any, editor: Any, campaign_factory: Any, account_factory: Any
) -> None:
    campaign, account = campaign_factory(editor, name="Grippe"), account_factory("facebook")
    ids = stuck(campaign, editor, account, 30)
    client.force_login(editor)
    here = f"{URL}?state=failed&campaign={campaign.pk}&page=2"
    listed = client.get(here)
    assert f'name="next" value="{here.replace("&", "&amp;")}"' in listed.text

    response = client.post(reverse("publishing:publication_retry", args=[ids[-1]]), {"next": here})

    assert response.status_code == 302
    assert response["Location"] == here
