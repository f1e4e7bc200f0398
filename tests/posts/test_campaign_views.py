"""Campaign pages: the list, one campaign, and the create and edit forms."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.selectors import events_for_object
from posts.models import Campaign
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def campaign_data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Stroke awareness",
        "goal": "Everyone knows FAST.",
        "start_date": "2026-05-01",
        "end_date": "2026-05-31",
        "colour": "#D92D20",
        "hashtags": "#stroke, FAST",
        "purpose": "education",
    }
    data.update(extra)
    return data


def test_list_shows_only_visible_campaigns_with_post_counts(
    client: Any, editor: Any, other_editor: Any, campaign_factory: Any, post_factory: Any
) -> None:
    mine = campaign_factory(editor, name="Mine")
    campaign_factory(other_editor, name="Not mine")
    post_factory(editor, mine)
    post_factory(editor, mine)
    client.force_login(editor)

    response = client.get(reverse("posts:campaign_list"))

    assert response.status_code == 200
    assert [row["campaign"].name for row in response.context["rows"]] == ["Mine"]
    assert [(status, count) for status, _label, count in response.context["rows"][0]["counts"]] == [("draft", 2)]
    assert "Not mine" not in response.text
    assert "Draft: 2" in response.text
    assert reverse("posts:campaign_create") in response.text


def test_viewer_sees_every_campaign_but_no_create_link(
    client: Any, editor: Any, other_editor: Any, viewer: Any, campaign_factory: Any
) -> None:
    campaign_factory(editor, name="First")
    campaign_factory(other_editor, name="Second")
    client.force_login(viewer)

    response = client.get(reverse("posts:campaign_list"))

    assert sorted(row["campaign"].name for row in response.context["rows"]) == ["First", "Second"]
    assert reverse("posts:campaign_create") not in response.text


def test_list_query_count_does_not_grow_with_campaigns(
    client: Any, editor: Any, campaign_factory: Any, post_factory: Any
) -> None:
    post_factory(editor, campaign_factory(editor))
    client.force_login(editor)
    url = reverse("posts:campaign_list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(49):
        post_factory(editor, campaign_factory(editor))
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(url)

    assert len(response.context["rows"]) == 50
    assert len(fifty) == len(one)


def test_create_makes_the_user_owner_and_writes_audit(client: Any, editor: Any, other_editor: Any) -> None:
    reviewer = make_user("medic", "Medical reviewer")
    client.force_login(editor)

    response = client.post(
        reverse("posts:campaign_create"), campaign_data(team=[other_editor.pk], reviewers=[reviewer.pk])
    )

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("posts:campaign_detail", args=[campaign.pk])
    assert campaign.owner == editor
    assert campaign.colour == "#d92d20"
    assert campaign.hashtags == ["stroke", "FAST"]
    assert campaign.start_date == dt.date(2026, 5, 1)
    assert set(campaign.team.all()) == {editor, other_editor}
    assert list(campaign.reviewers.all()) == [reviewer]
    event = events_for_object(obj=campaign).get()
    assert (event.action, event.actor) == ("campaign.created", editor)
    assert other_editor.has_perm("posts.change_campaign", campaign)


def test_edit_changes_fields_and_people_and_writes_audit(
    client: Any, editor: Any, other_editor: Any, campaign: Any
) -> None:
    client.force_login(editor)
    page = client.get(reverse("posts:campaign_edit", args=[campaign.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["name"] == "Heart health week"

    response = client.post(
        reverse("posts:campaign_edit", args=[campaign.pk]),
        campaign_data(name="Heart month", team=[editor.pk, other_editor.pk]),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Heart month"
    assert set(campaign.team.all()) == {editor, other_editor}
    event = events_for_object(obj=campaign).filter(action="campaign.updated").get()
    assert event.changes["name"] == ["Heart health week", "Heart month"]
    assert "team" in event.changes


def test_end_before_start_is_refused(client: Any, editor: Any) -> None:
    client.force_login(editor)

    response = client.post(
        reverse("posts:campaign_create"), campaign_data(start_date="2026-05-31", end_date="2026-05-01")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["end_date"] == ["The end date cannot be before the start date."]
    assert Campaign.objects.count() == 0


def test_duplicate_name_is_reported_on_the_name_field(client: Any, editor: Any, campaign: Any) -> None:
    client.force_login(editor)

    response = client.post(reverse("posts:campaign_create"), campaign_data(name="Heart health week"))

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Campaign.objects.count() == 1


def test_viewer_may_not_create_or_edit(client: Any, viewer: Any, campaign: Any) -> None:
    client.force_login(viewer)

    assert client.get(reverse("posts:campaign_create")).status_code == 403
    assert client.post(reverse("posts:campaign_create"), campaign_data()).status_code == 403
    response = client.post(reverse("posts:campaign_edit", args=[campaign.pk]), campaign_data(name="Taken over"))
    assert response.status_code == 403
    assert "You may not change this campaign." in response.text
    campaign.refresh_from_db()
    assert campaign.name == "Heart health week"
    assert Campaign.objects.count() == 1


def test_invisible_campaign_is_404(client: Any, other_editor: Any, campaign: Any) -> None:
    client.force_login(other_editor)

    assert client.get(reverse("posts:campaign_detail", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("posts:campaign_edit", args=[campaign.pk]), campaign_data()).status_code == 404


def test_detail_lists_posts_people_and_new_post_link_for_editors(
    client: Any, editor: Any, viewer: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Know your pulse")
    client.force_login(editor)

    response = client.get(reverse("posts:campaign_detail", args=[campaign.pk]))

    assert response.status_code == 200
    assert "Know your pulse" in response.text
    assert reverse("posts:post_detail", args=[post.pk]) in response.text
    assert 'class="badge badge-draft"' in response.text
    assert f"{reverse('posts:post_create')}?campaign={campaign.pk}" in response.text
    assert reverse("posts:campaign_edit", args=[campaign.pk]) in response.text

    client.force_login(viewer)
    response = client.get(reverse("posts:campaign_detail", args=[campaign.pk]))
    assert "Know your pulse" in response.text
    assert reverse("posts:post_create") not in response.text
    assert reverse("posts:campaign_edit", args=[campaign.pk]) not in response.text


def test_detail_query_count_does_not_grow_with_posts(
    client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post_factory(editor, campaign)
    client.force_login(editor)
    url = reverse("posts:campaign_detail", args=[campaign.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(49):
        post_factory(editor, campaign)
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(url)

    assert response.text.count('class="badge badge-draft"') == 50
    assert len(fifty) == len(one)


# Who sets the team and the reviewers (issue 13) ---------------------------------------------


def test_reviewers_offered_and_accepted_are_members_of_a_reviewer_group_only(
    client: Any, editor: Any, other_editor: Any, viewer: Any
) -> None:
    medic = make_user("medic", "Medical reviewer")
    client.force_login(editor)

    page = client.get(reverse("posts:campaign_create"))
    offered = set(page.context["form"].fields["reviewers"].queryset)
    assert offered == {medic}
    assert set(page.context["form"].fields["team"].queryset) == {editor, other_editor}
    # Issue 13: an editor named themself reviewer, and so read every consent form of the campaign's posts.
    response = client.post(reverse("posts:campaign_create"), campaign_data(reviewers=[editor.pk]))
    assert response.status_code == 200
    assert "reviewers" in response.context["form"].errors
    response = client.post(reverse("posts:campaign_create"), campaign_data(team=[viewer.pk]))
    assert "team" in response.context["form"].errors
    assert Campaign.objects.count() == 0


def test_the_services_refuse_reviewers_outside_the_reviewer_groups(editor: Any, other_editor: Any) -> None:
    from django.core.exceptions import ValidationError

    from posts.services import campaign_create

    days = {"start_date": dt.date(2026, 5, 1), "end_date": dt.date(2026, 5, 31)}
    with pytest.raises(ValidationError) as refused:
        campaign_create(actor=editor, name="Herzwoche", reviewers=[editor, other_editor], **days)
    assert "reviewers" in refused.value.message_dict
    assert Campaign.objects.count() == 0


def test_only_the_owner_and_governance_set_the_team_and_reviewers(
    client: Any, editor: Any, other_editor: Any, governance: Any, campaign_factory: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    from posts.policy import EDIT, SET_TEAM, VIEW, CampaignPolicy
    from posts.services import campaign_update

    medic = make_user("medic", "Medical reviewer")
    campaign = campaign_factory(editor, name="Herzwoche", team=[other_editor])
    assert CampaignPolicy(editor).actions(campaign) == {VIEW, EDIT, SET_TEAM}
    assert CampaignPolicy(other_editor).actions(campaign) == {VIEW, EDIT}
    assert CampaignPolicy(governance).actions(campaign) == {VIEW, EDIT, SET_TEAM}
    with pytest.raises(PermissionDenied):
        campaign_update(campaign=campaign, actor=other_editor, data={}, reviewers=[medic])

    client.force_login(other_editor)
    page = client.get(reverse("posts:campaign_edit", args=[campaign.pk]))
    assert "reviewers" not in page.context["form"].fields and 'name="reviewers"' not in page.text
    response = client.post(
        reverse("posts:campaign_edit", args=[campaign.pk]),
        campaign_data(name="Herzwoche 2026", reviewers=[medic.pk], team=[other_editor.pk]),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Herzwoche 2026"  # the fields change; the people do not
    assert list(campaign.reviewers.all()) == [] and set(campaign.team.all()) == {editor, other_editor}

    campaign_update(campaign=campaign, actor=governance, data={}, reviewers=[medic])
    assert list(campaign.reviewers.all()) == [medic]


# A page at a time ------------------------------------------------------------------------------


def _posts(
    campaign: Any, author: Any, count: int, *, status: str = "draft", at: dt.datetime | None = None
) -> list[int]:
    """Create ``count`` posts planned an hour apart from ``at``; return their ids in planned order."""
    from posts.models import Post

    start = at or dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    posts = Post.objects.bulk_create(
        Post(
            campaign=campaign,
            author=author,
            title=f"Herzwoche Tag {n} – Blutdruck messen",
            body="Blutdruck messen: Foyer Haus B, 10–14 Uhr.",
            status=status,
            scheduled_at=start + dt.timedelta(hours=n),
        )
        for n in range(count)
    )
    return [post.pk for post in posts]


def _shown(response: Any) -> list[int]:
    return [post.pk for post, _label in response.context["posts"]]


def test_detail_query_count_does_not_grow_with_its_posts(client: Any, editor: Any, campaign_factory: Any) -> None:
    from posts.views.campaigns import POSTS_PAGE_SIZE

    campaign = campaign_factory(editor)
    _posts(campaign, editor, 5)
    client.force_login(editor)
    url = reverse("posts:campaign_detail", args=[campaign.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    _posts(campaign, editor, 55, at=dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as sixty:
        response = client.get(url)

    assert len(_shown(response)) == POSTS_PAGE_SIZE
    assert len(sixty) == len(five)


def test_detail_pages_keep_the_state_and_month_filters(client: Any, editor: Any, campaign_factory: Any) -> None:
    campaign = campaign_factory(editor)
    march_drafts = _posts(campaign, editor, 60, at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    _posts(campaign, editor, 5, status="approved", at=dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC))
    _posts(campaign, editor, 5, at=dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC))
    client.force_login(editor)
    url = reverse("posts:campaign_detail", args=[campaign.pk])

    first = client.get(url, {"state": "draft", "month": "2026-03"})
    assert _shown(first) == march_drafts[:50]
    assert first.context["page"].next_url == "?state=draft&month=2026-03&page=2"
    assert 'href="?state=draft&amp;month=2026-03&amp;page=2#posts"' in first.text
    assert "Page 1 of 2" in first.text
    second = client.get(url + first.context["page"].next_url)

    assert _shown(second) == march_drafts[50:]
    assert {label for _post, label in second.context["posts"]} == {"Draft"}
    assert second.context["form"]["month"].value() == "2026-03"


@pytest.mark.parametrize(
    "query", [{"month": "2026-13"}, {"month": "99999-01"}, {"month": "9999-12"}, {"state": "gone"}, {"page": "-3"}]
)
def test_detail_ignores_a_wrong_filter_and_says_so(
    client: Any, editor: Any, campaign_factory: Any, query: dict[str, str]
) -> None:
    campaign = campaign_factory(editor)
    ids = _posts(campaign, editor, 3)
    client.force_login(editor)

    response = client.get(reverse("posts:campaign_detail", args=[campaign.pk]), query)

    assert response.status_code == 200
    assert _shown(response) == ids
    assert ("Ignored:" in response.text) == ("page" not in query)


def test_detail_filters_only_the_campaigns_own_posts(
    client: Any, editor: Any, other_editor: Any, campaign_factory: Any
) -> None:
    mine, theirs = campaign_factory(editor), campaign_factory(other_editor)
    _posts(theirs, other_editor, 3)
    client.force_login(editor)

    assert client.get(reverse("posts:campaign_detail", args=[theirs.pk]), {"state": "draft"}).status_code == 404
    assert _shown(client.get(reverse("posts:campaign_detail", args=[mine.pk]), {"state": "draft"})) == []


def test_list_pages_its_campaigns(client: Any, viewer: Any, editor: Any) -> None:
    from posts.views.campaigns import CAMPAIGNS_PAGE_SIZE

    start = dt.date(2026, 1, 1)
    Campaign.objects.bulk_create(
        Campaign(name=f"Kampagne {n:02d}", owner=editor, start_date=start - dt.timedelta(days=n), end_date=start)
        for n in range(CAMPAIGNS_PAGE_SIZE + 5)
    )
    client.force_login(viewer)

    first = client.get(reverse("posts:campaign_list"))
    second = client.get(reverse("posts:campaign_list"), {"page": "2"})

    assert [row["campaign"].name for row in first.context["rows"]][:2] == ["Kampagne 00", "Kampagne 01"]
    assert [row["campaign"].name for row in second.context["rows"]] == [f"Kampagne {n}" for n in range(50, 55)]
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
