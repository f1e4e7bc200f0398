"""The "post blocked" mail: to the author and Communications, once per block, from its templates."""

from typing import Any

import pytest
from django.core import mail

from consent.services import consent_revoke
from people import roles
from posts.models import PostStatus
from posts.services import FeatureSpec, post_update
from tests.conftest import deliver_again, make_user

pytestmark = pytest.mark.django_db

STORY = "Zoë (54) lief nach ihrer Herz-OP ihren ersten 5-km-Lauf – Danke an Station 3! 💙"


def test_a_blocked_post_is_mailed_once_however_often_the_task_runs_and_again_when_blocked_again(
    editor: Any,
    campaign: Any,
    post_factory: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    post = post_factory(editor, campaign, title="Zoës erster Lauf", body=STORY)
    zoe = subject_factory(display_name="Zoë Müller")
    first = record_factory(zoe)
    post_update(post=post, actor=editor, featured=[FeatureSpec(subject=zoe, consent=first, media_kinds=("story",))])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(record=first, actor=officer, received_via="phone", reason="Möchte nicht mehr erscheinen")
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED
    assert sorted(message.to[0] for message in mail.outbox) == sorted([editor.email, comms.email])
    (message,) = [message for message in mail.outbox if message.to == [editor.email]]
    # The internal title ("Zoës erster Lauf") names her: subjects give the post's number only.
    assert message.subject == f"Blocked: post #{post.pk} will not be published"
    assert "the consent of a person it features was revoked." in message.body
    assert message.body.rstrip().endswith("— Rounds")

    assert deliver_again("posts.notifications.post_blocked") == 0
    assert len(mail.outbox) == 2

    # Unblocked by an edit with a new consent, then blocked again: a new event, mailed again.
    second = record_factory(zoe)
    post_update(post=post, actor=editor, featured=[FeatureSpec(subject=zoe, consent=second, media_kinds=("story",))])
    post.refresh_from_db()
    assert post.status != PostStatus.BLOCKED
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(record=second, actor=officer, received_via="letter", reason="Widerruf per Brief")
    assert len(mail.outbox) == 4
    assert deliver_again("posts.notifications.post_blocked") == 0
    assert len(mail.outbox) == 4
