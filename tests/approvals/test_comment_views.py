"""The comments panel on the review page and beside the editor, and its forms (which work without JavaScript)."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.comments import AnchorSpec, comment_add, comment_resolve
from approvals.models import AnchorKind, ReviewComment, ReviewStage, Verdict
from approvals.policy import current_stage_run
from audit.versions import version_of
from posts.models import Post
from posts.services import post_update

pytestmark = pytest.mark.django_db

BODY = "Grippeimpfung im Klinikum Nord: Mo–Fr 8–16 Uhr.\r\nBitte Impfpass mitbringen. 💉 Frau Dr. Müller berät gern."


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def post(submitted_post: Any, editor: Any) -> Any:
    post_update(post=submitted_post, actor=editor, data={"body": BODY})
    submitted_post.refresh_from_db()
    return submitted_post


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_typed_passage_makes_a_thread_and_the_review_page_marks_it(post: Any, reviewers: Any) -> None:
    client = client_for(reviewers["medical"])
    url = reverse("approvals:review", args=[post.pk])
    response = client.post(
        reverse("approvals:comment_add", args=[post.pk]),
        {
            "anchor": "body",
            "quote": "Bitte Impfpass mitbringen.",
            "text": "Reicht eine Kopie?",
            "blocking": "on",
            "next": url,
        },
    )
    comment = ReviewComment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{url}#comment-{comment.pk}"
    assert comment.blocking and comment.author == reviewers["medical"]
    # Line ends count as one character, as the browser shows them.
    assert comment.start == BODY.replace("\r\n", "\n").index("Bitte")
    page = client.get(url)
    html = page.content.decode()
    assert (
        f'data-comment-marks="{comment.pk}"><a href="#comment-{comment.pk}">Bitte Impfpass mitbringen.</a></mark>'
        in html
    )
    assert 'data-comment-status="kept"' in html
    assert "Comment on this passage" in html and "rounds/comments.js" in html


def test_a_passage_not_in_the_text_is_refused_with_a_message(post: Any, reviewers: Any) -> None:
    client = client_for(reviewers["medical"])
    response = client.post(
        reverse("approvals:comment_add", args=[post.pk]), {"anchor": "body", "quote": "Gibt es nicht", "text": "?"}
    )
    assert response.status_code == 302
    assert any("not in the post's current text" in message for message in _messages(response))
    assert not ReviewComment.objects.exists()


def test_a_viewer_sees_comments_but_gets_no_form_and_cannot_post_one(post: Any, reviewers: Any, viewer: Any) -> None:
    comment_add(
        post=post, actor=reviewers["medical"], anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), text="Kopie?"
    )
    client = client_for(viewer)
    html = client.get(reverse("approvals:review", args=[post.pk])).content.decode()
    assert "Kopie?" in html and 'id="comment-new"' not in html and ">Resolve<" not in html
    client.post(reverse("approvals:comment_add", args=[post.pk]), {"anchor": "body", "quote": "Impfpass", "text": "x"})
    assert ReviewComment.objects.count() == 1


def test_a_user_off_the_campaign_gets_404(post: Any, other_editor: Any) -> None:
    client = client_for(other_editor)
    response = client.post(reverse("approvals:comment_add", args=[post.pk]), {"quote": "Impfpass", "text": "x"})
    assert response.status_code == 404
    assert not ReviewComment.objects.exists()


def test_reply_resolve_and_reopen_through_the_forms(post: Any, reviewers: Any, editor: Any) -> None:
    comment = comment_add(
        post=post,
        actor=reviewers["medical"],
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"),
        text="?",
        blocking=True,
    )
    client_for(editor).post(reverse("approvals:comment_reply", args=[comment.pk]), {"text": "Kopie reicht."})
    denied = client_for(editor).post(reverse("approvals:comment_resolve", args=[comment.pk]))
    assert any("resolved by its author or a reviewer" in message for message in _messages(denied))
    medical = client_for(reviewers["medical"])
    medical.post(reverse("approvals:comment_resolve", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.replies.get().text == "Kopie reicht." and comment.resolved_by == reviewers["medical"]
    medical.post(reverse("approvals:comment_reopen", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.resolved_at is None


def test_the_decision_form_names_the_open_blocking_comments_and_the_approval_is_refused(
    post: Any, reviewers: Any
) -> None:
    run = current_stage_run(post=post)
    assert run is not None
    ReviewStage.objects.filter(pk=run.stage_id).update(blocking_comments_resolved=True)
    comment_add(
        post=post,
        actor=reviewers["medical"],
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"),
        text="?",
        blocking=True,
    )
    client = client_for(reviewers["medical2"])
    url = reverse("approvals:review", args=[post.pk])
    html = client.get(url).content.decode()
    assert 'data-blocking-comments="1"' in html
    response = client.post(
        reverse("approvals:decide", args=[post.pk]),
        {"stage_run": run.pk, "verdict": Verdict.APPROVE, "version": version_of(model=Post, pk=post.pk)},
    )
    assert any("Resolve the blocking comment" in message for message in _messages(response))
    assert not run.decisions.exists()


def test_open_comments_show_beside_the_editor_with_reply_and_resolve_where_allowed(
    post: Any, reviewers: Any, editor: Any
) -> None:
    medical = reviewers["medical"]
    advice = comment_add(
        post=post, actor=medical, anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), text="Komma?"
    )
    done = comment_add(
        post=post, actor=medical, anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Klinikum"), text="Name?"
    )
    comment_resolve(comment=done, actor=medical)
    html = client_for(editor).get(reverse("posts:post_edit", args=[post.pk])).content.decode()
    assert "Open review comments" in html
    assert f'id="comment-{advice.pk}"' in html and f'id="comment-{done.pk}"' not in html
    assert reverse("approvals:comment_reply", args=[advice.pk]) in html
    assert reverse("approvals:comment_resolve", args=[advice.pk]) in html


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["approvals:review", "posts:post_edit"])
def test_query_count_is_the_same_for_1_and_10_comments(post: Any, reviewers: Any, editor: Any, page: str) -> None:
    medical = reviewers["medical"]
    user = medical if page == "approvals:review" else editor
    client = client_for(user)
    url = reverse(page, args=[post.pk])

    def add(n: int) -> None:
        comment = comment_add(
            post=post,
            actor=medical,
            anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Frau Dr. Müller"),
            text=f"Frage {n}",
        )
        client_for(editor).post(reverse("approvals:comment_reply", args=[comment.pk]), {"text": f"Antwort {n}"})

    add(0)
    client.get(url)
    one = _queries(client, url)
    for n in range(1, 10):
        add(n)
    assert ReviewComment.objects.count() == 10
    assert _queries(client, url) == one
