"""Findings about the whole post (phone numbers, dates, e-mails, names, sources) on the post and review pages.

Their keys (``post:<code>:<n>``) once broke both pages with a 500; Legal acknowledges each one.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, Verdict
from approvals.policy import current_stage_run
from approvals.selectors import review_overview
from approvals.services import decision_record, finding_keys, round_submit
from posts.models import ContentType, PostStatus

pytestmark = pytest.mark.django_db

BODY = (
    "Infotag am 12.12.2026 im Hörsaal 2 🫀 – Anmeldung unter 030 1234567 oder info@klinikum-nord.de. "
    "Herzsport senkt das Risiko um 30 %."
)
CHECKBOX = re.compile(r'<input type="checkbox" [^>]*name="acknowledged" value="([^"]+)"')


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def wide_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    # Four hashtags strain LinkedIn's advice of three: one finding per target as well.
    post = post_factory(
        editor,
        review_campaign,
        title="Infotag Herz",
        body=BODY,
        content_type=ContentType.EDUCATION,
        hashtags=["Herz", "Infotag", "Gesundheit", "Klinikum"],
        targets=[account_factory("facebook"), account_factory("linkedin")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    return post


def approve(post: Any, reviewer: Any, **kwargs: Any) -> Decision:
    run = current_stage_run(post=post)
    assert run is not None
    return decision_record(stage_run=run, reviewer=reviewer, verdict=Verdict.APPROVE, **kwargs)


def test_post_wide_findings_are_listed_as_about_the_whole_post_with_their_messages(
    wide_post: Any, reviewers: dict[str, Any]
) -> None:
    findings = review_overview(user=reviewers["legal"], post=wide_post).findings
    by_key = {finding.key: finding for finding in findings}
    assert set(by_key) == set(finding_keys(post=wide_post))
    wide = {key: finding for key, finding in by_key.items() if key.startswith("post:")}
    assert set(wide) == {
        "post:patient_data_email:1",
        "post:patient_data_phone:1",
        "post:sources_missing:1",
    }
    assert all(finding.whole_post and finding.account == "" for finding in wide.values())
    assert wide["post:patient_data_phone:1"].messages == [
        "The text contains what looks like a phone number (030 1234567). "
        "It looks like the organisation's own contact or a public number: low sensitivity."
    ]
    assert wide["post:patient_data_email:1"].messages == [
        "The text contains an e-mail address (info@klinikum-nord.de). "
        "It looks like the organisation's own contact or a public number: low sensitivity."
    ]
    per_account = [finding for key, finding in by_key.items() if not key.startswith("post:")]
    assert per_account and all(not finding.whole_post and finding.messages for finding in per_account)
    linkedin = wide_post.targets.get(account__platform="linkedin").account
    assert any(finding.account == str(linkedin) for finding in per_account)
    # Per-account checks first, then the whole post's.
    assert [finding.whole_post for finding in findings] == sorted(finding.whole_post for finding in findings)


def test_two_findings_of_one_code_are_two_checks_each_with_its_own_message(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        body="Station 4: 030 1234567, Station 5: 030 7654321.",
        targets=[account_factory("facebook")],
    )
    findings = {f.key: f.messages for f in review_overview(user=reviewers["legal"], post=post).findings}
    assert findings["post:patient_data_phone:1"] == [
        "The text contains what looks like a phone number (030 1234567). "
        "It looks like the organisation's own contact or a public number: low sensitivity."
    ]
    assert findings["post:patient_data_phone:2"] == [
        "The text contains what looks like a phone number (030 7654321). "
        "It looks like the organisation's own contact or a public number: low sensitivity."
    ]


def test_post_and_review_pages_show_post_wide_findings(wide_post: Any, editor: Any, reviewers: dict[str, Any]) -> None:
    for user in (editor, reviewers["medical"], reviewers["legal"]):
        detail = client_for(user).get(reverse("posts:post_detail", args=[wide_post.pk]))
        assert detail.status_code == 200
        review = client_for(user).get(reverse("approvals:review", args=[wide_post.pk]))
        assert review.status_code == 200
        html = review.content.decode()
        assert '<li data-finding="post:patient_data_phone:1"><strong>Whole post</strong>: ' in html
        assert "what looks like a phone number (030 1234567)" in html


def test_legal_acknowledges_the_post_wide_findings_from_the_review_page_to_approve(
    wide_post: Any, reviewers: dict[str, Any]
) -> None:
    approve(wide_post, reviewers["medical"])
    legal = client_for(reviewers["legal"])
    page = legal.get(reverse("approvals:review", args=[wide_post.pk]))
    assert page.status_code == 200
    boxes = CHECKBOX.findall(page.content.decode())
    assert sorted(boxes) == finding_keys(post=wide_post)
    assert "post:patient_data_phone:1" in boxes
    run = current_stage_run(post=wide_post)
    assert run is not None
    url = reverse("approvals:decide", args=[wide_post.pk])
    version = re.search(r'name="version" value="(\d+)"', page.content.decode())
    assert version is not None
    data = {"stage_run": run.pk, "verdict": "approve", "content_hash": wide_post.content_hash, "version": version[1]}

    refused = legal.post(url, {**data, "acknowledged": [box for box in boxes if box != "post:patient_data_phone:1"]})
    assert refused.status_code == 302
    assert not Decision.objects.filter(stage_run=run).exists()

    accepted = legal.post(url, {**data, "acknowledged": boxes})
    assert accepted.status_code == 302
    decision = Decision.objects.get(stage_run=run)
    assert decision.verdict == Verdict.APPROVE
    assert decision.acknowledged_findings == sorted(boxes)
    wide_post.refresh_from_db()
    assert wide_post.status == PostStatus.IN_REVIEW
    next_run = current_stage_run(post=wide_post)
    assert next_run is not None and next_run.stage.name == "Communications review"
