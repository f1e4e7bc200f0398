import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.context_processors import review_counts
from approvals.models import Decision, PostChain, ReviewChain, ReviewRound, RoundStatus, StageRun, Verdict
from approvals.panels import review_panel
from approvals.policy import APPROVE, ApprovalPolicy, current_stage_run
from approvals.selectors import stage_runs_awaiting
from approvals.services import decision_record, finding_keys, round_submit
from audit.versions import version_of
from people import roles
from posts.models import Post, PostStatus
from posts.panels import Panel
from posts.selectors import campaign_ids_for_user
from posts.services import TargetSpec, post_update

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def decide(client: Client, post: Any, verdict: str, comment: str = "", acknowledged: list[str] | None = None) -> Any:
    run = current_stage_run(post=post)
    assert run is not None
    data: dict[str, Any] = {
        "stage_run": run.pk,
        "verdict": verdict,
        "comment": comment,
        "version": version_of(model=Post, pk=post.pk),
    }
    if acknowledged is not None:
        data["acknowledged"] = acknowledged
    return client.post(reverse("approvals:decide", args=[post.pk]), data)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def inbox_posts(user: Any) -> list[int]:
    response = client_for(user).get(reverse("approvals:inbox"))
    assert response.status_code == 200
    return [item.post.pk for item in response.context["items"]]


@pytest.fixture
def make_submitted(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    account = account_factory("facebook")

    def make(*, when: dt.datetime | None = None, **data: Any) -> Post:
        post = post_factory(
            editor, review_campaign, targets=[account], when=when or timezone.now() + dt.timedelta(days=5), **data
        )
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        return post

    return make


# Inbox ----------------------------------------------------------------------------------------


def test_inbox_shows_posts_waiting_for_the_users_stage_only(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    editor.groups.add(Group.objects.get(name=roles.MEDICAL_REVIEWER))
    assert inbox_posts(reviewers["medical"]) == [submitted_post.pk]
    assert inbox_posts(reviewers["legal"]) == []  # not their stage yet
    assert inbox_posts(reviewers["comms"]) == []
    assert inbox_posts(editor) == []  # the author never decides, even as a medical reviewer


def test_inbox_moves_with_the_round_and_forgets_who_decided(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    decision_record(
        stage_run=current_stage_run(post=submitted_post),  # type: ignore[arg-type]
        reviewer=reviewers["all_rounder"],
        verdict=Verdict.APPROVE,
    )
    assert inbox_posts(reviewers["medical"]) == []
    assert inbox_posts(reviewers["legal"]) == [submitted_post.pk]
    assert inbox_posts(reviewers["all_rounder"]) == []  # decided the medical stage of this round


def test_inbox_skips_campaigns_the_reviewer_is_not_assigned_to(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    from people.models import User

    outsider = User.objects.create_user(username="outsider", password="pw")
    outsider.groups.add(Group.objects.get(name=roles.MEDICAL_REVIEWER))
    assert inbox_posts(outsider) == []
    outsider.groups.add(Group.objects.get(name=roles.GOVERNANCE))  # Governance sees every campaign
    assert inbox_posts(outsider) == [submitted_post.pk]


def test_inbox_agrees_with_the_policy_for_every_user_and_post(
    make_submitted: Any, reviewers: dict[str, Any], editor: Any, governance: Any, viewer: Any, post_factory: Any
) -> None:
    at_medical = make_submitted()
    at_legal = make_submitted()
    decision_record(
        stage_run=current_stage_run(post=at_legal),  # type: ignore[arg-type]
        reviewer=reviewers["medical"],
        verdict=Verdict.APPROVE,
    )
    sent_back = make_submitted()
    decision_record(
        stage_run=current_stage_run(post=sent_back),  # type: ignore[arg-type]
        reviewer=reviewers["medical"],
        verdict=Verdict.REQUEST_CHANGES,
        comment="Cite the study.",
    )
    governance.groups.add(Group.objects.get(name=roles.LEGAL_REVIEWER))
    posts = [at_medical, at_legal, sent_back]
    for user in [*reviewers.values(), editor, governance, viewer]:
        waiting = set(stage_runs_awaiting(user=user).values_list("round__post_id", flat=True))
        allowed = {post.pk for post in posts if APPROVE in ApprovalPolicy(user).actions(post)}
        assert waiting == allowed, user.username


def test_inbox_orders_by_deadline_and_highlights_overdue(make_submitted: Any, reviewers: dict[str, Any]) -> None:
    later = make_submitted(when=timezone.now() + dt.timedelta(days=9))
    sooner = make_submitted(when=timezone.now() + dt.timedelta(hours=5))
    StageRun.objects.filter(round__post=sooner).update(deadline=timezone.now() - dt.timedelta(hours=1))
    response = client_for(reviewers["medical"]).get(reverse("approvals:inbox"))
    items = response.context["items"]
    assert [item.post.pk for item in items] == [sooner.pk, later.pk]
    assert [item.is_overdue for item in items] == [True, False]
    html = response.content.decode()
    assert html.count('class="review-inbox-row overdue"') == 1
    assert "Overdue" in html


@pytest.mark.parametrize("first_step", [1, 3, 100])
def test_the_inbox_walk_gives_what_slicing_the_whole_query_gives(
    first_step: int,
    make_submitted: Any,
    reviewers: dict[str, Any],
    editor: Any,
    campaign_factory: Any,
    account_factory: Any,
    post_factory: Any,
    monkeypatch: Any,
) -> None:
    from approvals import selectors

    monkeypatch.setattr(selectors, "WALK_FIRST_STEP", first_step)
    waiting = [make_submitted(title=f"Impftag {n}: Hotline 030 123-{n}") for n in range(7)]
    # Open stages of the reviewer's group they may not decide: a campaign they do not review.
    elsewhere = campaign_factory(editor, name="Ohne Prüfer")
    hidden = []
    for n in range(4):
        post = post_factory(editor, elsewhere, targets=[account_factory("facebook", handle=f"x{n}")])
        round_submit(post=post, actor=editor)
        hidden.append(post)
    now = timezone.now()
    runs = list(StageRun.objects.filter(status="in_progress").order_by("pk"))
    for index, run in enumerate(runs):  # ties, no deadline at all, past and future, the hidden ones between
        run.deadline = None if index % 4 == 0 else now + dt.timedelta(hours=index % 3 - 1)
    StageRun.objects.bulk_update(runs, ["deadline"])

    user = reviewers["medical"]
    whole = list(selectors.as_inbox_lines(stage_runs_awaiting(user=user)))
    assert {run.round.post_id for run in whole} == {post.pk for post in waiting}
    walk = selectors.DeadlineWalk(stage_runs_awaiting(user=user), user=user)
    for start in range(len(whole) + 2):
        for stop in range(start, len(whole) + 3):
            assert [run.pk for run in walk[start:stop]] == [run.pk for run in whole[start:stop]], (start, stop)
    first = walk[0:1][0]
    assert (first.revision_number, first.round.post.campaign.name) == (whole[0].revision_number, "Flu season")


def test_post_past_its_time_with_an_incomplete_chain_is_flagged_overdue(
    make_submitted: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    post = make_submitted(when=timezone.now() + dt.timedelta(days=2))
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - dt.timedelta(minutes=5))
    [item] = client_for(reviewers["medical"]).get(reverse("approvals:inbox")).context["items"]
    assert item.post_overdue
    page = client_for(editor).get(reverse("approvals:review", args=[post.pk]))
    assert page.context["overview"].post_overdue
    assert "will not be published" in page.content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_inbox_query_count_is_the_same_for_1_and_50_posts(make_submitted: Any, reviewers: dict[str, Any]) -> None:
    client = client_for(reviewers["medical"])
    url = reverse("approvals:inbox")
    make_submitted()
    client.get(url)  # warm caches (content types, session)
    one = _queries(client, url)
    for _ in range(49):
        make_submitted()
    assert len(client.get(url).context["items"]) == 50
    assert _queries(client, url) == one
    # The page's own few (the walk to the page's stages: their keys, the conditions, the lines), the
    # user's campaign grants (one read for every right asked), the filter's campaigns, and the
    # navigation's (cached outside tests) counts.
    assert one <= 15


def test_review_page_query_count_is_the_same_for_1_and_50_posts(make_submitted: Any, reviewers: dict[str, Any]) -> None:
    client = client_for(reviewers["medical"])
    post = make_submitted(hashtags=["a", "b", "c", "d"])
    url = reverse("approvals:review", args=[post.pk])
    client.get(url)
    one = _queries(client, url)
    for _ in range(49):
        make_submitted()
    assert _queries(client, url) == one


# Deciding -------------------------------------------------------------------------------------


def test_approve_by_post_moves_the_round_to_the_next_stage(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    response = decide(client_for(reviewers["medical"]), submitted_post, "approve")
    assert response.status_code == 302
    assert response["Location"] == reverse("posts:post_detail", args=[submitted_post.pk])
    decision = Decision.objects.get()
    assert (decision.reviewer, decision.verdict) == (reviewers["medical"], Verdict.APPROVE)
    assert decision.content_hash == submitted_post.content_hash
    assert current_stage_run(post=submitted_post).stage.name == "Legal review"  # type: ignore[union-attr]


def test_request_changes_by_post_sends_the_post_back_with_the_comment(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    decide(client_for(reviewers["medical"]), submitted_post, "request_changes", "Cite the study, please.")
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.CHANGES_REQUESTED
    assert Decision.objects.get().comment == "Cite the study, please."
    assert ReviewRound.objects.get().status == RoundStatus.CHANGES_REQUESTED


def test_reject_by_post_ends_the_post(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    response = decide(client_for(reviewers["medical"]), submitted_post, "reject", "Misleading claim.")
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.REJECTED
    assert any("rejected" in text for text in messages_of(response))


@pytest.mark.parametrize("verdict", ["request_changes", "reject"])
def test_comment_is_required_to_request_changes_or_reject(
    submitted_post: Any, reviewers: dict[str, Any], verdict: str
) -> None:
    response = decide(client_for(reviewers["medical"]), submitted_post, verdict, "   ")
    assert not Decision.objects.exists()
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.IN_REVIEW
    assert any("comment is required" in text for text in messages_of(response))


def test_legal_must_acknowledge_every_finding_to_approve(make_submitted: Any, reviewers: dict[str, Any]) -> None:
    # LinkedIn advises at most three hashtags: four make a finding for Legal to acknowledge.
    from posts.models import Account

    post = make_submitted(hashtags=["heart", "health", "flu", "winter"])
    linkedin = Account.objects.create(platform="linkedin", name="LinkedIn", handle="clinic")
    post_update(
        post=post,
        actor=post.author,
        targets=[TargetSpec(account=target.account) for target in post.targets.all()] + [TargetSpec(account=linkedin)],
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW  # the edit restarted the round at Medical
    decide(client_for(reviewers["medical"]), post, "approve")
    keys = finding_keys(post=post)
    assert keys
    legal = client_for(reviewers["legal"])
    page = legal.get(reverse("approvals:review", args=[post.pk])).content.decode()
    for key in keys:
        assert f'name="acknowledged" value="{key}"' in page
    response = decide(legal, post, "approve", acknowledged=keys[:-1])
    assert any("Acknowledge every finding" in text for text in messages_of(response))
    assert current_stage_run(post=post).stage.name == "Legal review"  # type: ignore[union-attr]
    decide(legal, post, "approve", acknowledged=keys)
    decision = Decision.objects.get(reviewer=reviewers["legal"])
    assert decision.acknowledged_findings == sorted(keys)
    assert current_stage_run(post=post).stage.name == "Communications review"  # type: ignore[union-attr]


def test_policy_refusals_change_nothing(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any, viewer: Any
) -> None:
    before = (Decision.objects.count(), submitted_post.status, current_stage_run(post=submitted_post).pk)  # type: ignore[union-attr]
    for user, expected in [
        (reviewers["legal"], "Only members of this stage's group"),
        (editor, "Authors never decide"),
        (viewer, "Only members of this stage's group"),
    ]:
        response = decide(client_for(user), submitted_post, "approve")
        assert response.status_code == 302
        assert any(expected in text for text in messages_of(response)), user
    editor.groups.add(Group.objects.get(name=roles.MEDICAL_REVIEWER))
    response = decide(client_for(editor), submitted_post, "approve")
    assert any("Authors never decide" in text for text in messages_of(response))
    submitted_post.refresh_from_db()
    after = (Decision.objects.count(), submitted_post.status, current_stage_run(post=submitted_post).pk)  # type: ignore[union-attr]
    assert after == before


def test_superuser_obeys_the_policy_too(submitted_post: Any) -> None:
    from people.models import User

    root = User.objects.create_superuser(username="root", password="pw", email="root@example.org")
    response = decide(client_for(root), submitted_post, "approve")
    assert not Decision.objects.exists()
    assert any("Only members" in text for text in messages_of(response))
    assert inbox_posts(root) == []


def test_a_stale_form_cannot_decide_a_newer_version(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    old_run = current_stage_run(post=submitted_post)
    old_hash = submitted_post.content_hash
    post_update(post=submitted_post, actor=editor, data={"body": "Wash your hands for twenty seconds."})
    client = client_for(reviewers["medical"])
    response = client.post(
        reverse("approvals:decide", args=[submitted_post.pk]),
        {
            "stage_run": old_run.pk,  # type: ignore[union-attr]
            "verdict": "approve",
            "content_hash": old_hash,
            "version": version_of(model=Post, pk=submitted_post.pk),
        },
    )
    assert not Decision.objects.exists()
    assert messages_of(response)
    new_run = current_stage_run(post=submitted_post)
    response = client.post(
        reverse("approvals:decide", args=[submitted_post.pk]),
        {
            "stage_run": new_run.pk,  # type: ignore[union-attr]
            "verdict": "approve",
            "content_hash": old_hash,
            "version": version_of(model=Post, pk=submitted_post.pk),
        },
    )
    assert not Decision.objects.exists()
    assert any("changed since" in text for text in messages_of(response))


def test_anonymous_users_are_sent_to_log_in(submitted_post: Any) -> None:
    response = Client().post(reverse("approvals:decide", args=[submitted_post.pk]), {"verdict": "approve"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Decision.objects.exists()


def test_posts_the_user_cannot_see_are_not_found(submitted_post: Any) -> None:
    from people.models import User

    stranger = User.objects.create_user(username="stranger", password="pw")
    stranger.groups.add(Group.objects.get(name=roles.MEDICAL_REVIEWER))
    client = client_for(stranger)
    assert client.get(reverse("approvals:review", args=[submitted_post.pk])).status_code == 404
    assert decide(client, submitted_post, "approve").status_code == 404


# Submitting and chains ------------------------------------------------------------------------


def test_editor_submits_by_post_and_others_may_not(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    url = reverse("approvals:submit", args=[post.pk])
    response = client_for(reviewers["medical"]).post(url)
    assert any("may not submit" in text for text in messages_of(response))
    assert not ReviewRound.objects.exists()
    response = client_for(editor).post(url)
    assert response["Location"] == reverse("posts:post_detail", args=[post.pk])
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert ReviewRound.objects.get().submitted_by == editor


def test_submit_errors_come_back_as_messages(editor: Any, review_campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, review_campaign)  # no target accounts
    response = client_for(editor).post(reverse("approvals:submit", args=[post.pk]))
    assert any("target account" in text for text in messages_of(response))
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_governance_changes_a_posts_chain_before_submission(
    editor: Any, governance: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    expedited = ReviewChain.objects.get(is_expedited=True)
    url = reverse("approvals:chain", args=[post.pk])
    response = client_for(editor).post(url, {"chain": expedited.pk})
    assert any("Only Governance" in text for text in messages_of(response))
    assert not PostChain.objects.exists()
    client_for(governance).post(url, {"chain": expedited.pk})
    assert PostChain.objects.get(post=post).chain == expedited
    round_submit(post=post, actor=editor)
    response = client_for(governance).post(url, {"chain": ReviewChain.objects.get(is_default=True).pk})
    assert PostChain.objects.get(post=post).chain == expedited  # submitted: too late


# Panel, review page, diff, timeline, navigation -----------------------------------------------


def _panel_html(user: Any, post: Any) -> str:
    request = RequestFactory().get(f"/posts/{post.pk}/")
    request.user = user
    panel = review_panel(request, post)
    assert isinstance(panel, Panel)
    assert (panel.template_name, panel.order) == ("approvals/review_panel.html", 10)
    return render_to_string(panel.template_name, {"panel": panel.context}, request=request)


def test_panel_shows_buttons_the_policy_allows(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any, governance: Any, post_factory: Any
) -> None:
    medical = _panel_html(reviewers["medical"], submitted_post)
    for words in ("Approve", "Request changes", "Reject", "Comment", "Medical review", "Current stage"):
        assert words in medical
    legal = _panel_html(reviewers["legal"], submitted_post)
    assert "Approve</button>" not in legal and "Medical review" in legal
    draft = post_factory(editor, submitted_post.campaign)
    assert "Submit for review" in _panel_html(editor, draft)
    assert "Submit for review" not in _panel_html(reviewers["medical"], draft)
    assert "Change chain" in _panel_html(governance, draft)
    assert "Change chain" not in _panel_html(editor, draft)


def test_diff_shows_the_changed_body_after_changes_were_requested(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    medical = client_for(reviewers["medical"])
    url = reverse("approvals:review", args=[submitted_post.pk])
    assert medical.get(url).context["diff"].base is None
    assert "no earlier version of this post was approved" in medical.get(url).content.decode()
    decide(medical, submitted_post, "approve")
    decide(client_for(reviewers["legal"]), submitted_post, "request_changes", "Say which soap.", [])
    post_update(post=submitted_post, actor=editor, data={"body": "Wash your hands with soap: it saves lives."})
    client_for(editor).post(reverse("approvals:submit", args=[submitted_post.pk]))
    submitted_post.refresh_from_db()
    assert current_stage_run(post=submitted_post).stage.name == "Medical review"  # type: ignore[union-attr]
    response = medical.get(url)
    diff = response.context["diff"]
    assert diff.base.number == 1 and diff.current.number == 2
    assert diff.basis == "mine"
    [body] = diff.fields
    assert (body.key, body.change) == ("body", "changed")
    assert [(segment.kind, segment.text) for segment in body.segments] == [
        ("same", "Wash your hands"),
        ("add", " with soap"),
        ("same", ": it saves lives."),
    ]
    html = response.content.decode()
    assert 'class="diff-add"' in html and "with soap" in html
    assert "Say which soap." in html  # the earlier round's comment stays readable


def test_diff_shows_a_changed_title_and_campaign_purpose(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    # The title goes out (YouTube, TikTok, LinkedIn, webhooks) and consent is checked for the
    # purpose: reviewers see both change, as they see the text change.
    from posts.services import campaign_update

    medical = client_for(reviewers["medical"])
    decide(medical, submitted_post, "approve")
    decide(client_for(reviewers["legal"]), submitted_post, "request_changes", "Titel bitte ohne Namen.", [])
    post_update(post=submitted_post, actor=editor, data={"title": "Händehygiene-Tag 💧"})
    campaign_update(campaign=submitted_post.campaign, actor=editor, data={"purpose": "fundraising"})
    client_for(editor).post(reverse("approvals:submit", args=[submitted_post.pk]))

    diff = medical.get(reverse("approvals:review", args=[submitted_post.pk])).context["diff"]
    assert (diff.base.number, diff.current.number) == (1, 3)
    changed = {field.key: field for field in diff.fields}
    assert set(changed) == {"title", "purpose"}
    assert changed["title"].change == "added"
    assert [(s.kind, s.text) for s in changed["title"].segments] == [("add", "Händehygiene-Tag 💧")]
    assert [(s.kind, s.text) for s in changed["purpose"].segments] == [("del", "Education"), ("add", "Fundraising")]


def test_timeline_lists_submission_decisions_and_superseded_rounds(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    decide(client_for(reviewers["medical"]), submitted_post, "approve")
    post_update(post=submitted_post, actor=editor, data={"body": "Changed after Medical approved."})
    decide(client_for(reviewers["medical"]), submitted_post, "request_changes", "Too vague now.")
    response = client_for(editor).get(reverse("approvals:review", args=[submitted_post.pk]))
    actions = [entry.event.action for entry in response.context["overview"].timeline]
    assert actions.count("review.round_opened") == 2
    assert "review.approve" in actions
    assert "review.round_superseded" in actions
    assert "review.request_changes" in actions
    assert actions.index("review.approve") < actions.index("review.round_superseded")
    html = response.content.decode()
    for words in ("Submitted for review", "Approved", "Changes requested", "Round superseded", "Too vague now."):
        assert words in html


def test_timeline_shows_schedule_changes(submitted_post: Any, editor: Any) -> None:
    from posts.services import post_move

    post_move(post=submitted_post, actor=editor, scheduled_at=submitted_post.scheduled_at + dt.timedelta(days=1))
    timeline = client_for(editor).get(reverse("approvals:review", args=[submitted_post.pk])).context["overview"]
    assert "post.moved" in [entry.event.action for entry in timeline.timeline]
    assert "Schedule changed" in [entry.label for entry in timeline.timeline]


def test_navigation_counts_the_users_waiting_reviews(
    make_submitted: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    make_submitted()
    make_submitted()
    html = client_for(reviewers["medical"]).get(reverse("approvals:my_posts")).content.decode()
    assert "data-review-count>2<" in html
    assert "data-review-count" not in client_for(reviewers["legal"]).get(reverse("approvals:my_posts")).content.decode()
    request = RequestFactory().get("/")
    request.user = reviewers["medical"]
    stage_runs_awaiting(user=reviewers["medical"]).count()  # warm the content-type cache
    request.user = type(reviewers["medical"]).objects.get(pk=reviewers["medical"].pk)
    # What every page has read before its menu (people.rights): the roles, the permissions, the campaigns.
    campaign_ids_for_user(user=request.user)
    with CaptureQueriesContext(connection) as captured:
        counts = review_counts(request)["review_counts"]
        assert (counts.waiting, counts.overdue) == (2, 0)
    assert len(captured) <= 2


def test_navigation_count_costs_nothing_for_anonymous_users() -> None:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as captured:
        assert review_counts(request) == {}
    assert len(captured) == 0
