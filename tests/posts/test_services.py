import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from PIL import Image

from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from people import roles
from posts.content import content_hash, content_snapshot
from posts.media import image_process
from posts.models import Account, Campaign, Post, PostStatus, Revision
from posts.services import (
    NewMedia,
    TargetSpec,
    account_save,
    campaign_create,
    campaign_update,
    post_create,
    post_move,
    post_schedule,
    post_unschedule,
    post_update,
    post_withdraw,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

POST_ACTIONS_WITH_HASH = {"post.revision_created", "post.moved", "post.status_changed"}


@pytest.fixture
def stage_reviewers(db: None) -> dict[str, Any]:
    return {
        roles.MEDICAL_REVIEWER: make_user("medical", roles.MEDICAL_REVIEWER),
        roles.LEGAL_REVIEWER: make_user("legal", roles.LEGAL_REVIEWER),
        roles.COMMUNICATIONS_REVIEWER: make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }


@pytest.fixture
def team_campaign(editor: Any, campaign_factory: Any, stage_reviewers: dict[str, Any]) -> Campaign:
    return campaign_factory(editor, name="Stroke awareness", reviewers=list(stage_reviewers.values()))


@pytest.fixture
def facebook(account_factory: Any) -> Account:
    return account_factory("facebook")


def in_days(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def approve_all(post: Post, editor: Any, stage_reviewers: dict[str, Any]) -> Post:
    """Run the post through the real default chain until it is approved."""
    round_submit(post=post, actor=editor)
    while (run := current_stage_run(post=post)) is not None:
        decision_record(
            stage_run=run,
            reviewer=stage_reviewers[run.stage.group.name],
            verdict=Verdict.APPROVE,
            acknowledged=finding_keys(post=post),
        )
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    return post


def events_since(seq: int, post: Post) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_object(post).filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def jpeg(size: tuple[int, int] = (1080, 1080), colour: str = "teal") -> NewMedia:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return NewMedia(image=image_process(upload=io.BytesIO(buffer.getvalue())), alt_text="A teal square")


# Revisions ----------------------------------------------------------------------------------


def test_create_makes_the_first_revision_with_the_hash_of_the_snapshot(
    editor: Any, team_campaign: Campaign, facebook: Account
) -> None:
    before = last_seq()
    post = post_create(
        actor=editor, campaign=team_campaign, data={"body": "Know the signs of stroke."}, targets=[TargetSpec(facebook)]
    )
    revision = Revision.objects.get(post=post)
    assert post.current_revision == revision and revision.number == 1
    assert revision.content == content_snapshot(post)
    assert revision.content_hash == content_hash(content_snapshot(post)) == post.content_hash
    assert revision.created_by == editor
    actions = {e.action: e for e in events_since(before, post)}
    assert set(actions) == {"post.created", "post.revision_created"}
    assert actions["post.revision_created"].content_hash == post.content_hash


def test_update_without_content_change_makes_no_revision(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any
) -> None:
    post = post_factory(editor, team_campaign, targets=[facebook])
    digest, before = post.content_hash, last_seq()
    post_update(post=post, actor=editor, data={"body": post.body, "title": post.title}, targets=[TargetSpec(facebook)])
    post.refresh_from_db()
    assert post.revisions.count() == 1
    assert post.content_hash == digest
    assert not [e for e in events_since(before, post) if e.action == "post.revision_created"]


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"body": "Act FAST: face, arms, speech, time."}},
        {"data": {"link": "https://example.org/stroke"}},
        {"data": {"hashtags": ["Stroke"]}},
        {"data": {"sources": "NICE guideline NG128"}},
        {"data": {"title": "Schlaganfall: jede Minute zählt – Notruf 112"}},
        {"targets": "override"},
        {"targets": "another"},
        {"media_add": True},
    ],
    ids=["body", "link", "hashtags", "sources", "title", "per-account text", "targets", "media"],
)
def test_each_content_change_makes_a_new_revision_with_a_new_hash(
    change: dict[str, Any], editor: Any, team_campaign: Campaign, facebook: Account, account_factory: Any
) -> None:
    post = post_create(actor=editor, campaign=team_campaign, data={"body": "Stroke."}, targets=[TargetSpec(facebook)])
    old_hash, before = post.content_hash, last_seq()
    kwargs: dict[str, Any] = {}
    if "data" in change:
        kwargs["data"] = change["data"]
    if change.get("targets") == "override":
        kwargs["targets"] = [TargetSpec(facebook, body_override="Stroke, for Facebook.")]
    if change.get("targets") == "another":
        kwargs["targets"] = [TargetSpec(facebook), TargetSpec(account_factory("linkedin"))]
    if change.get("media_add"):
        kwargs["media_add"] = [jpeg()]
    post_update(post=post, actor=editor, **kwargs)
    post.refresh_from_db()
    assert post.revisions.count() == 2
    assert post.current_revision is not None and post.current_revision.number == 2
    assert post.content_hash not in {old_hash, ""}
    assert post.content_hash == content_hash(content_snapshot(post))
    event = next(e for e in events_since(before, post) if e.action == "post.revision_created")
    assert event.content_hash == post.content_hash
    assert event.changes["previous_hash"] == old_hash
    assert Revision.objects.get(post=post, number=1).content_hash == old_hash  # the old snapshot stays


def test_media_alt_text_and_order_are_content(editor: Any, team_campaign: Campaign, facebook: Account) -> None:
    post = post_create(
        actor=editor,
        campaign=team_campaign,
        data={"body": "Two pictures."},
        targets=[TargetSpec(facebook)],
        media=[jpeg(colour="red"), jpeg(colour="blue")],
    )
    first, second = post.media.order_by("position")
    hashes = [post.content_hash]
    post_update(post=post, actor=editor, media_alt_texts={first.pk: "A red square"})
    post.refresh_from_db()
    hashes.append(post.content_hash)
    post_update(post=post, actor=editor, media_order=[second.pk, first.pk])
    post.refresh_from_db()
    hashes.append(post.content_hash)
    post_update(post=post, actor=editor, media_remove=[second.pk])
    post.refresh_from_db()
    hashes.append(post.content_hash)
    assert len(set(hashes)) == 4
    assert post.revisions.count() == 4


def test_move_keeps_the_revision_and_hash_and_records_it(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any
) -> None:
    post = post_factory(editor, team_campaign, targets=[facebook], when=in_days(3))
    digest, before = post.content_hash, last_seq()
    post_move(post=post, actor=editor, scheduled_at=in_days(4), time_zone="America/New_York")
    post.refresh_from_db()
    assert post.time_zone == "America/New_York"
    assert post.revisions.count() == 1 and post.content_hash == digest
    (event,) = events_since(before, post)
    assert event.action == "post.moved" and event.content_hash == digest


def test_moving_an_approved_post_keeps_its_approval(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = approve_all(
        post_factory(editor, team_campaign, targets=[facebook], when=in_days(3)), editor, stage_reviewers
    )
    post_move(post=post, actor=editor, scheduled_at=in_days(6))
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.is_approved_as_is


def test_content_edit_after_approval_drops_the_approval(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = approve_all(
        post_factory(editor, team_campaign, targets=[facebook], when=in_days(3)), editor, stage_reviewers
    )
    approved_hash = post.approved_hash
    post_update(post=post, actor=editor, data={"body": "Changed after approval."})
    post.refresh_from_db()
    assert post.content_hash != approved_hash
    assert not post.is_approved_as_is
    assert post.status in {PostStatus.DRAFT, PostStatus.IN_REVIEW}
    with pytest.raises(PermissionDenied):
        post_schedule(post=post, actor=editor)


# Scheduling ---------------------------------------------------------------------------------


def test_schedule_an_approved_post_records_the_content_hash(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = approve_all(
        post_factory(editor, team_campaign, targets=[facebook], when=in_days(3)), editor, stage_reviewers
    )
    before = last_seq()
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    (event,) = events_since(before, post)
    assert event.action == "post.status_changed"
    assert event.changes["status"] == [PostStatus.APPROVED, PostStatus.SCHEDULED]
    assert event.content_hash == post.content_hash == post.approved_hash
    post_unschedule(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.is_approved_as_is


def test_a_draft_cannot_be_scheduled(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any
) -> None:
    post = post_factory(editor, team_campaign, targets=[facebook], when=in_days(3))
    with pytest.raises(PermissionDenied):
        post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


@pytest.mark.parametrize("when", [None, -1], ids=["no time", "past"])
def test_an_approved_post_without_a_future_time_is_not_scheduled(
    when: int | None,
    editor: Any,
    team_campaign: Campaign,
    facebook: Account,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    post = post_factory(editor, team_campaign, targets=[facebook], when=None if when is None else in_days(when))
    post = approve_all(post, editor, stage_reviewers)
    with pytest.raises(ValidationError) as caught:
        post_schedule(post=post, actor=editor)
    expected = "Set a date and time first." if when is None else "The scheduled time is in the past."
    assert expected in caught.value.messages
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_an_account_disabled_after_approval_stops_scheduling(
    editor: Any,
    governance: Any,
    team_campaign: Campaign,
    facebook: Account,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    post = approve_all(
        post_factory(editor, team_campaign, targets=[facebook], when=in_days(3)), editor, stage_reviewers
    )
    facebook.active = False
    account_save(account=facebook, actor=governance)
    with pytest.raises(ValidationError) as caught:
        post_schedule(post=post, actor=editor)
    assert any("is not active" in message for message in caught.value.messages)
    assert Post.objects.get(pk=post.pk).status == PostStatus.APPROVED


def test_platform_errors_stop_scheduling(
    editor: Any, team_campaign: Campaign, account_factory: Any, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    # Instagram needs an image: the reviewers saw the finding, scheduling still refuses it.
    post = post_factory(editor, team_campaign, targets=[account_factory("instagram")], when=in_days(3))
    post = approve_all(post, editor, stage_reviewers)
    with pytest.raises(ValidationError):
        post_schedule(post=post, actor=editor)
    assert Post.objects.get(pk=post.pk).status == PostStatus.APPROVED


def test_a_naive_time_is_refused(editor: Any, team_campaign: Campaign) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        post_create(
            actor=editor, campaign=team_campaign, data={"body": "x"}, scheduled_at=dt.datetime(2030, 1, 1, 9, 0)
        )
    assert not Post.objects.exists()


# Policy refusals ----------------------------------------------------------------------------


def test_people_outside_the_team_cannot_create_or_edit(
    editor: Any, other_editor: Any, viewer: Any, team_campaign: Campaign, facebook: Account, post_factory: Any
) -> None:
    for outsider in (other_editor, viewer):
        with pytest.raises(PermissionDenied):
            post_create(actor=outsider, campaign=team_campaign, data={"body": "Not mine."})
    post = post_factory(editor, team_campaign, targets=[facebook])
    for outsider in (other_editor, viewer):
        with pytest.raises(PermissionDenied):
            post_update(post=post, actor=outsider, data={"body": "Hijacked."})
        with pytest.raises(PermissionDenied):
            post_move(post=post, actor=outsider, scheduled_at=in_days(2))
        with pytest.raises(PermissionDenied):
            post_withdraw(post=post, actor=outsider)
    post.refresh_from_db()
    assert post.body == "Wash your hands: it saves lives." and post.status == PostStatus.DRAFT
    assert Post.objects.count() == 1


def test_a_withdrawn_post_can_no_longer_be_edited_or_withdrawn(
    editor: Any, team_campaign: Campaign, facebook: Account, post_factory: Any
) -> None:
    post = post_factory(editor, team_campaign, targets=[facebook])
    post_withdraw(post=post, actor=editor, reason="cancelled")
    with pytest.raises(PermissionDenied):
        post_update(post=post, actor=editor, data={"body": "Back again."})
    with pytest.raises(PermissionDenied):
        post_withdraw(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.WITHDRAWN and post.revisions.count() == 1


def test_an_inactive_target_account_is_refused_and_nothing_is_written(
    editor: Any, team_campaign: Campaign, account_factory: Any
) -> None:
    inactive = account_factory("facebook", active=False)
    before = last_seq()
    with pytest.raises(ValidationError):
        post_create(actor=editor, campaign=team_campaign, data={"body": "x"}, targets=[TargetSpec(inactive)])
    assert not Post.objects.exists()
    assert last_seq() == before


def test_a_viewer_cannot_create_campaigns(viewer: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        campaign_create(actor=viewer, name="Nope", start_date=today, end_date=today)
    assert not Campaign.objects.filter(name="Nope").exists()


# Audit --------------------------------------------------------------------------------------


def test_every_post_write_records_an_event_with_the_content_hash(
    editor: Any, team_campaign: Campaign, facebook: Account, stage_reviewers: dict[str, Any]
) -> None:
    before = last_seq()
    post = post_create(
        actor=editor,
        campaign=team_campaign,
        data={"body": "Stroke."},
        targets=[TargetSpec(facebook)],
        scheduled_at=in_days(3),
    )
    seen = [("create", post.content_hash, events_since(before, post))]
    for name, action in [
        ("update", lambda: post_update(post=post, actor=editor, data={"body": "Stroke: act fast."})),
        ("move", lambda: post_move(post=post, actor=editor, scheduled_at=in_days(4))),
        ("approve", lambda: approve_all(post, editor, stage_reviewers)),
        ("schedule", lambda: post_schedule(post=post, actor=editor)),
        ("unschedule", lambda: post_unschedule(post=post, actor=editor)),
        ("withdraw", lambda: post_withdraw(post=post, actor=editor)),
    ]:
        before = last_seq()
        action()
        post.refresh_from_db()
        seen.append((name, post.content_hash, events_since(before, post)))
    assert len({digest for _name, digest, _events in seen}) == 2  # only the update changed the content
    for name, digest, events in seen:
        hashed = [e for e in events if e.action in POST_ACTIONS_WITH_HASH]
        assert hashed, f"{name} recorded no event with the content hash"
        assert all(e.content_hash == digest for e in hashed), name
        assert all(e.actor == editor or name == "approve" for e in events), name


def test_campaign_and_account_writes_are_audited(editor: Any, governance: Any, team_campaign: Campaign) -> None:
    before = last_seq()
    campaign_update(campaign=team_campaign, actor=editor, data={"goal": "Fewer strokes."})
    account = account_save(
        account=Account(platform="x", name="Stroke unit", handle="@stroke"),
        actor=governance,
        credentials={"token": "s3cret"},
    )
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [(e.action, e.object_id) for e in events] == [
        ("campaign.updated", str(team_campaign.pk)),
        ("account.created", str(account.pk)),
    ]
    assert events[0].changes["goal"] == ["", "Fewer strokes."]
    assert events[1].changes["credentials"] == "changed"
    assert "s3cret" not in str(events[1].changes)
