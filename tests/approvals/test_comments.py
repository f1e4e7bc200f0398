"""Review comments: anchoring in later revisions, the blocking rule at approval, who may do what, bad input."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals.anchors import CHANGED, KEPT, MOVED, anchor_locate, text_segments
from approvals.comment_selectors import review_comments
from approvals.comments import (
    AnchorSpec,
    anchor_parse,
    comment_add,
    comment_blocking_set,
    comment_reopen,
    comment_reply,
    comment_resolve,
)
from approvals.models import AnchorKind, ReviewComment, ReviewCommentReply, ReviewStage, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record
from audit.models import AuditEvent
from posts.services import TargetSpec, post_update

BODY = (
    "Grippeimpfung im Klinikum Nord 💉: Mo–Fr 8–16 Uhr, Tel. 030 1234567.\n"
    "Bitte Impfpass mitbringen. Frau Dr. Müller berät gern.\n"
    "Grippeimpfung schützt Sie und Ihre Familie."
)


def _body(post: Any, actor: Any, body: str, **data: Any) -> Any:
    return post_update(post=post, actor=actor, data={"body": body, **data})


@pytest.fixture
def post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    from approvals.services import round_submit

    post = post_factory(
        editor,
        review_campaign,
        targets=[account_factory("facebook"), account_factory("linkedin")],
        when=timezone.now() + dt.timedelta(days=5),
        body=BODY,
    )
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    return post


def _thread(user: Any, post: Any, comment: ReviewComment) -> Any:
    post.refresh_from_db()
    return next(t for t in review_comments(user=user, post=post).threads if t.comment.pk == comment.pk)


# Anchors on plain values --------------------------------------------------------------------------


def test_a_repeated_quote_is_told_apart_by_its_context_then_by_where_it_was() -> None:
    text = "Impfung ab Montag. Impfung nur mit Termin."
    second = anchor_locate(text, quote="Impfung", prefix="Montag. ", suffix=" nur")
    assert second is not None and second.start == 19
    near_second = anchor_locate(text, quote="Impfung", hint=20)
    assert near_second is not None and near_second.start == 19
    assert anchor_locate(text, quote="Impfung").start == 0  # type: ignore[union-attr]
    assert anchor_locate(text, quote="Grippe") is None


def test_offsets_count_code_points_and_line_ends_as_the_browser_shows_them() -> None:
    found = anchor_locate("💉 Termin\r\nheute", quote="Termin\nheute")
    assert found is not None and (found.start, found.end) == (2, 14)


def test_overlapping_passages_split_into_runs_covering_each_character_once() -> None:
    segments = text_segments("abcdef", [(1, 4, 7), (3, 5, 8)])
    assert [(s.text, s.marks) for s in segments] == [("a", ()), ("bc", (7,)), ("d", (7, 8)), ("e", (8,)), ("f", ())]


# Anchoring on new revisions ---------------------------------------------------------------------


def test_comment_stays_moves_or_shows_passage_changed_as_the_text_changes(
    post: Any, editor: Any, reviewers: Any
) -> None:
    medical = reviewers["medical"]
    comment = comment_add(
        post=post,
        actor=medical,
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Frau Dr. Müller berät gern."),
        text="Ist Frau Dr. Müller einverstanden, genannt zu werden?",
    )
    assert (comment.start, comment.end) == (BODY.index("Frau"), BODY.index("Frau") + 27)
    assert comment.revision == post.current_revision
    assert _thread(medical, post, comment).status == KEPT

    _body(post, editor, BODY.replace("Bitte Impfpass mitbringen. ", ""))  # the passage moves up
    moved = _thread(medical, post, comment)
    assert moved.status == MOVED
    assert post.current_revision.content["body"][moved.start : moved.end] == "Frau Dr. Müller berät gern."

    _body(post, editor, BODY.replace("Frau Dr. Müller berät gern.", "Unser Team berät gern."))
    changed = _thread(medical, post, comment)
    assert changed.status == CHANGED and changed.passage_changed
    assert changed.start is None and changed.comment.quote == "Frau Dr. Müller berät gern."


def test_the_context_keeps_a_repeated_phrase_anchored_to_the_right_one(post: Any, editor: Any, reviewers: Any) -> None:
    second = BODY.rindex("Grippeimpfung")
    comment = comment_add(
        post=post,
        actor=reviewers["medical"],
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Grippeimpfung", start=second),
        text="Belegt?",
    )
    assert comment.start == second and comment.suffix.startswith(" schützt")
    _body(post, editor, "Neu: " + BODY)
    thread = _thread(reviewers["medical"], post, comment)
    assert thread.status == MOVED and thread.start == second + 5


def test_image_and_account_text_comments_follow_their_image_and_account(post: Any, editor: Any, reviewers: Any) -> None:
    account = post.targets.first().account
    other = post.targets.last().account
    post_update(
        post=post,
        actor=editor,
        targets=[
            TargetSpec(account=account, body_override="Nur hier: Impfung ohne Termin."),
            TargetSpec(account=other),
        ],
    )
    post.refresh_from_db()
    comment = comment_add(
        post=post,
        actor=reviewers["medical"],
        anchor=AnchorSpec(kind=AnchorKind.TARGET, account_id=account.pk, quote="ohne Termin"),
        text="Stimmt das?",
    )
    assert _thread(reviewers["medical"], post, comment).status == KEPT
    post_update(post=post, actor=editor, targets=[TargetSpec(account=account), TargetSpec(account=other)])
    assert _thread(reviewers["medical"], post, comment).status == CHANGED
    with pytest.raises(ValidationError) as error:
        comment_add(
            post=post,
            actor=reviewers["medical"],
            anchor=AnchorSpec(kind=AnchorKind.MEDIA, media_checksum="0" * 64),
            text="Bild?",
        )
    assert "image" in str(error.value)


# The blocking rule at approval ------------------------------------------------------------------


def test_a_stage_that_requires_it_approves_only_once_its_blocking_comments_are_resolved(
    post: Any, reviewers: Any
) -> None:
    run = current_stage_run(post=post)
    assert run is not None
    ReviewStage.objects.filter(pk=run.stage_id).update(blocking_comments_resolved=True)
    medical, medical2 = reviewers["medical"], reviewers["medical2"]
    comment = comment_add(
        post=post,
        actor=medical,
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Tel. 030 1234567"),
        text="Telefonnummer prüfen.",
        blocking=True,
    )
    # A non-blocking one and one of another group do not hold the stage.
    comment_add(
        post=post,
        actor=reviewers["legal"],
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"),
        text="ok",
        blocking=True,
    )
    run = current_stage_run(post=post)
    assert run is not None
    with pytest.raises(ValidationError) as error:
        decision_record(stage_run=run, reviewer=medical2, verdict=Verdict.APPROVE)
    assert error.value.code == "blocking_comments"
    assert "Resolve the blocking comment" in error.value.messages[0]
    assert not run.decisions.exists()
    assert review_comments(user=medical2, post=post, stage_run=run).stage_blocking[0].comment == comment
    # Changes may still be requested while it is open.
    comment_resolve(comment=comment, actor=medical2)  # a colleague of its group resolves it
    decision = decision_record(stage_run=run, reviewer=medical2, verdict=Verdict.APPROVE)
    assert decision.verdict == Verdict.APPROVE


def test_without_the_requirement_blocking_comments_do_not_hold_the_stage(post: Any, reviewers: Any) -> None:
    comment_add(
        post=post,
        actor=reviewers["medical"],
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"),
        text="Prüfen",
        blocking=True,
    )
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical2"], verdict=Verdict.APPROVE)


# Who may do what ------------------------------------------------------------------------------------


def test_a_viewer_a_user_off_the_campaign_and_an_editor_cannot_start_a_thread(
    post: Any, editor: Any, viewer: Any, other_editor: Any
) -> None:
    for user in (viewer, other_editor, editor):
        with pytest.raises(PermissionDenied):
            comment_add(post=post, actor=user, anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), text="x")
    assert not ReviewComment.objects.exists()
    assert not AuditEvent.objects.filter(action="review.comment_added").exists()


def test_editors_reply_and_resolve_advice_but_never_a_blocking_comment(
    post: Any, editor: Any, reviewers: Any, viewer: Any
) -> None:
    medical = reviewers["medical"]
    advice = comment_add(
        post=post, actor=medical, anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), text="Komma?"
    )
    blocking = comment_add(
        post=post,
        actor=medical,
        anchor=AnchorSpec(kind=AnchorKind.BODY, quote="030 1234567"),
        text="Nummer?",
        blocking=True,
    )
    reply = comment_reply(comment=blocking, actor=editor, text="Ist die Hotline, geändert.")
    assert isinstance(reply, ReviewCommentReply) and reply.author == editor
    with pytest.raises(PermissionDenied):
        comment_reply(comment=blocking, actor=viewer, text="Ich auch")
    with pytest.raises(PermissionDenied):
        comment_resolve(comment=blocking, actor=editor)
    with pytest.raises(PermissionDenied):
        comment_resolve(comment=blocking, actor=reviewers["legal"])  # another group
    with pytest.raises(PermissionDenied):
        comment_blocking_set(comment=blocking, actor=editor, blocking=False)
    comment_resolve(comment=advice, actor=editor)
    resolved = comment_resolve(comment=blocking, actor=medical)
    assert resolved.resolved_by == medical and resolved.resolved_at is not None
    with pytest.raises(ValidationError):
        comment_resolve(comment=blocking, actor=medical)
    reopened = comment_reopen(comment=blocking, actor=reviewers["medical2"])
    assert reopened.resolved_at is None and reopened.resolved_by is None
    actions = list(
        AuditEvent.objects.filter(object_type="approvals.reviewcomment", object_id=str(blocking.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "review.comment_added",
        "review.comment_replied",
        "review.comment_resolved",
        "review.comment_reopened",
    ]


def test_a_comment_does_not_make_an_open_editor_or_decision_form_stale(post: Any, editor: Any, reviewers: Any) -> None:
    from audit.versions import version_of
    from posts.models import Post

    before = version_of(model=Post, pk=post.pk)
    comment = comment_add(
        post=post, actor=reviewers["medical"], anchor=AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), text="?"
    )
    comment_resolve(comment=comment, actor=reviewers["medical"])
    assert version_of(model=Post, pk=post.pk) == before


# Bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "text", "field"),
    [
        (AnchorSpec(kind=AnchorKind.BODY, quote="Diese Stelle gibt es nicht"), "Wo?", "quote"),
        (AnchorSpec(kind=AnchorKind.BODY, quote="   "), "Wo?", "quote"),
        (AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), "  ", "text"),
        (AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), "Null\x00byte", "text"),
        (AnchorSpec(kind=AnchorKind.BODY, quote="Impfpass"), "x" * 5001, "text"),
        (AnchorSpec(kind=AnchorKind.TARGET, account_id=999_999, quote="Impfpass"), "Wo?", "anchor"),
        (AnchorSpec(kind="elsewhere", quote="Impfpass"), "Wo?", "anchor"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_changes(
    post: Any, reviewers: Any, anchor: AnchorSpec, text: str, field: str
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        comment_add(post=post, actor=reviewers["medical"], anchor=anchor, text=text)
    assert field in error.value.message_dict
    assert not ReviewComment.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("value", ["", "media:", "target:abc", "target:1:2", "nowhere", "body:1"])
def test_an_unknown_anchor_value_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        anchor_parse(value)


def test_governance_sets_the_blocking_requirement_on_a_stage_in_the_chain_admin(governance: Any) -> None:
    from django.urls import reverse

    from approvals.models import ReviewChain
    from tests.approvals.test_admin import admin_client, chain_form

    chain = ReviewChain.objects.get(name="Standard")
    url = reverse("admin:approvals_reviewchain_change", args=[chain.pk])
    assert 'name="stages-0-blocking_comments_resolved"' in admin_client(governance).get(url).content.decode()
    response = admin_client(governance).post(url, chain_form(chain, {1: {"blocking_comments_resolved": "on"}}))
    assert response.status_code == 302
    assert list(chain.stages.order_by("position").values_list("blocking_comments_resolved", flat=True)) == [
        True,
        False,
        False,
    ]
    event = AuditEvent.objects.for_object(chain).get()
    before, after = event.changes["stages"]
    assert (before[0]["blocking_comments_resolved"], after[0]["blocking_comments_resolved"]) == (False, True)
