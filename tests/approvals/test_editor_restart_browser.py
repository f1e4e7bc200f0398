"""Changing a scheduled post in the editor: the page says first what saving does, the editor confirms."""

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from posts.models import PostStatus
from posts.services import post_schedule
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_editor_changing_a_scheduled_post_is_told_first_and_confirms(
    page: Any, editor: Any, reviewers: dict[str, Any], review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung",
        body="Grippeimpfung: Montag bis Freitag, 8–12 Uhr, Tel. 040 1234-0.",
        targets=[account_factory("facebook", name="Klinikum Nord")],
        when=timezone.now() + dt.timedelta(days=8),
    )
    round_submit(post=post, actor=editor)
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        acknowledged = finding_keys(post=post) if run.stage.must_acknowledge_findings else ()
        decision_record(stage_run=run, reviewer=reviewers[name], verdict="approve", acknowledged=acknowledged)
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    browser_login(page, "editor")
    page.goto(reverse("posts:post_edit", args=[post.pk]))

    notice = "This post is scheduled. Saving a change to its content takes it off the schedule"
    expect(page.get_by_text(notice)).to_be_visible()
    page.get_by_label("Text", exact=True).fill("Grippeimpfung: Montag bis Donnerstag, 8–11 Uhr, Haupthalle.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Nothing was saved. Tick the box below to save the change")).to_be_visible()
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.body.startswith("Grippeimpfung: Montag bis Freitag")

    page.get_by_label("I understand, save the change").check()
    page.get_by_role("button", name="Save changes").click()

    page.wait_for_url(re.compile(rf"/posts/{post.pk}/$"))
    expect(page.get_by_text("The post left the schedule and goes back to review")).to_be_visible()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and "Donnerstag" in post.body
