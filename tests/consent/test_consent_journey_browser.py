"""Issue 4's browser journey: a verified consent, a patient story featuring the person, review, revocation."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys
from consent.models import ConsentRecord, ConsentState, Subject
from people import roles
from posts.models import Post, PostStatus
from posts.services import campaign_update
from tests.conftest import PDF_BYTES, browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page: Any, username: str) -> None:
    page.get_by_role("button", name="Log out").click()
    browser_login(page, username)


def approve_as(post: Post, reviewer: Any) -> None:
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewer, verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post))


def record_and_verify_consent(page: Any, signed_form: Path) -> ConsentRecord:
    """As in test_consent_browser: "consent" registers Anna and records her consent; "consent2" verifies it."""
    from playwright.sync_api import expect

    today = timezone.localdate()
    browser_login(page, "consent")
    page.get_by_role("link", name="Consent", exact=True).click()
    page.get_by_role("link", name="Register person").click()
    page.get_by_label("Name or pseudonym").fill("Anna Example")
    page.get_by_label("Internal reference").fill("CASE-2024-17")
    page.get_by_role("button", name="Register person").click()
    expect(page.get_by_role("heading", name="Anna Example")).to_be_visible()

    page.get_by_role("link", name="Record consent").click()
    for kind in ("Photo", "Name", "Story", "Facebook", "Education"):
        page.get_by_label(kind, exact=True).check()
    page.get_by_label("Description of what may be shown").fill("Fotos auf Station 4B, Vorname, Geschichte der Reha")
    page.get_by_label("Handed over in person").check()
    page.get_by_label("Copy given on").fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_label(re.compile(r"^Signed on")).fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Expires on", exact=True).fill((today + dt.timedelta(days=365)).isoformat())
    page.get_by_label(re.compile("may revoke this consent in writing")).check()
    page.get_by_label(re.compile("do not depend on signing")).check()
    page.get_by_label(re.compile("may be redisclosed")).check()
    page.get_by_label("Signer 1: name").fill("Anna Example")
    page.get_by_label("Signed form").set_input_files(str(signed_form))
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("[data-consent-state]").first).to_have_text("Pending verification")

    switch_user(page, "consent2")
    page.goto("/consent/")
    page.locator('[data-state-filter="pending"]').click()
    page.get_by_role("link", name=re.compile("^signed ")).click()
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-consent-state]").first).to_have_text("Active")
    record = ConsentRecord.objects.get()
    assert record.state == ConsentState.ACTIVE
    assert sorted(record.media_kinds) == ["name", "photo", "story"]
    return record


def test_consent_recorded_story_featured_reviewed_scheduled_then_revoked_blocks_it(
    page: Any, editor: Any, campaign: Any, account_factory: Any, officer: Any, officer2: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    reviewers = {
        "medical": make_user("medical", roles.MEDICAL_REVIEWER),
        "legal": make_user("legal", roles.LEGAL_REVIEWER),
        "comms": make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }
    campaign_update(campaign=campaign, actor=editor, data={}, reviewers=list(reviewers.values()))
    account_factory("facebook", name="Clinic Facebook")
    signed_form = tmp_path / "signed-consent.pdf"
    signed_form.write_bytes(PDF_BYTES)

    # 1. Consent recorded by one officer and verified by another.
    record = record_and_verify_consent(page, signed_form)
    anna = Subject.objects.get(display_name="Anna Example")

    # 2. The editor writes a patient story featuring Anna with her consent, saves, submits.
    switch_user(page, "editor")
    page.goto(reverse("posts:campaign_detail", args=[campaign.pk]))
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Internal title").fill("Anna runs again")
    page.get_by_label("Text", exact=True).fill("Anna ran her first 5k after heart surgery.")
    page.get_by_label("Content type").select_option(label="Patient story")
    page.get_by_role("checkbox", name=re.compile("Clinic Facebook")).check()
    publish_on = timezone.localdate() + dt.timedelta(days=4)
    page.get_by_label("Date", exact=True).fill(publish_on.isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    # The editor names Anna by the reference the consent office gave, and picks among valid consents,
    # each shown by name, scope and validity (issue 13).
    page.get_by_label("Reference of person 1", exact=True).fill("CASE-2024-17")
    consent_choice = page.get_by_label("Consent of person 1")
    consent_choice.select_option(value=str(record.pk))
    expect(consent_choice.locator("option:checked")).to_contain_text("Anna Example, signed")
    expect(consent_choice.locator("option:checked")).to_contain_text("valid until")
    first_person = page.locator(".featured-row").first
    first_person.get_by_label("Story", exact=True).check()
    first_person.get_by_label("Name", exact=True).check()
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    post = Post.objects.get()
    assert post.content_type == "patient_story" and post.status == PostStatus.DRAFT
    featured = post.featured_people.get()
    assert (featured.subject, featured.consent) == (anna, record)
    assert sorted(featured.media_kinds) == ["name", "story"]
    people = page.locator(".featured-list > li")
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text("Anna Example")
    expect(people.first.locator(".badge")).to_have_text("Active")

    # Four days ahead is less than the chain's turnarounds: the editor confirms the shorter review.
    page.get_by_label("I know the review has less time than its turnarounds").check()
    page.get_by_role("button", name="Submit for review").click()
    page.locator(".messages").get_by_text("Submitted for review.").wait_for()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    # 3. Medical approves (service layer); Legal looks in the browser, sees the consent, approves; then Comms.
    approve_as(post, reviewers["medical"])
    switch_user(page, "legal")
    page.goto(f"/reviews/posts/{post.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Anna runs again")
    # Legal sees who the post features and the state of each consent on the review page itself.
    expect(page.get_by_role("heading", name="Featured people and consent")).to_be_visible()
    expect(page.locator(".featured-list > li").first).to_contain_text("Anna Example")
    expect(page.locator(".featured-list > li").first.locator(".badge")).to_have_text("Active")
    expect(page.locator(".consent-problems")).to_have_count(0)
    post.refresh_from_db()
    approve_as(post, reviewers["legal"])
    post.refresh_from_db()
    approve_as(post, reviewers["comms"])
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert Decision.objects.filter(stage_run__round__post=post, verdict=Verdict.APPROVE).count() == 3

    switch_user(page, "editor")
    page.goto(f"/posts/{post.pk}/")
    page.get_by_role("button", name="Schedule").click()
    page.locator(".messages").get_by_text("The post is scheduled.").wait_for()
    expect(page.locator("[data-status]").first).to_have_text("Scheduled")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED

    # 4. Anna withdraws her consent; the officer revokes it; the scheduled post is blocked.
    switch_user(page, "consent")
    page.goto(reverse("consent:record_detail", args=[record.pk]))
    page.get_by_label("Revocation received via").select_option("letter")
    page.get_by_label("Reason (if the person gave one)").fill("Does not want to be shown any more")
    page.get_by_label("I understand that a revocation cannot be undone").check()
    page.get_by_role("button", name="Revoke consent").click()
    expect(page.locator("[data-consent-state]").first).to_have_text("Revoked")
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED and record.revoked_by == officer

    switch_user(page, "editor")
    page.goto(f"/posts/{post.pk}/")
    badge = page.locator("[data-status]").first
    expect(badge).to_have_text("Blocked")
    assert badge.get_attribute("data-status") == PostStatus.BLOCKED
    expect(page.locator(".featured-list > li").first.locator(".badge")).to_have_text("Revoked")
    expect(page.get_by_role("button", name="Schedule")).to_have_count(0)
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED
