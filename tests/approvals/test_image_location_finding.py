"""GPS as a finding (issue 16) on the review page: every stage sees it, Legal acknowledges it to approve."""

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from posts.media import image_process
from posts.services import NewMedia, TargetSpec, post_create
from tests.conftest import IMAGES, image_checks_run

pytestmark = pytest.mark.django_db

KEY = "post:image_location:1"
MESSAGE = (
    "Image 1: the original photo carried a location; it was removed — check the picture shows no identifying place."
)
CHECKBOX = re.compile(r'<input type="checkbox" [^>]*name="acknowledged" value="([^"]+)"')


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submitted_with(editor: Any, campaign: Any, account: Any, fixture: str) -> Any:
    image = image_process(upload=io.BytesIO((IMAGES / fixture).read_bytes()))
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"body": "Unser Team auf Station 4."},
        targets=[TargetSpec(account=account)],
        media=[NewMedia(image=image, alt_text="Das Team von Station 4")],
        scheduled_at=timezone.now() + dt.timedelta(days=6),
    )
    image_checks_run(post)
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    return post


def approve(post: Any, reviewer: Any) -> None:
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(
        stage_run=run,
        reviewer=reviewer,
        verdict=Verdict.APPROVE,
        acknowledged=finding_keys(post=post) if run.stage.must_acknowledge_findings else (),
    )


def test_every_stage_sees_the_location_finding_and_legal_must_acknowledge_it(
    editor: Any, review_campaign: Any, account_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = submitted_with(editor, review_campaign, account_factory("facebook"), "photo_exif_gps_orientation6.jpg")
    media = post.media.get()
    assert media.original_had_location
    assert KEY in finding_keys(post=post)

    stages = {"medical": "Medical review", "legal": "Legal review", "comms": "Communications review"}
    for name, stage in stages.items():
        run = current_stage_run(post=post)
        assert run is not None and run.stage.name == stage
        page = client_for(reviewers[name]).get(reverse("approvals:review", args=[post.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert f'<li data-finding="{KEY}">' in html and MESSAGE in html, name
        if name != "legal":
            approve(post, reviewers[name])
            continue
        boxes = CHECKBOX.findall(html)
        assert KEY in boxes
        url = reverse("approvals:decide", args=[post.pk])
        version = re.search(r'name="version" value="(\d+)"', html)
        assert version is not None
        data = {"stage_run": run.pk, "verdict": "approve", "content_hash": post.content_hash, "version": version[1]}
        legal = client_for(reviewers["legal"])

        refused = legal.post(url, {**data, "acknowledged": [box for box in boxes if box != KEY]})
        assert refused.status_code == 302
        assert not Decision.objects.filter(stage_run=run).exists()

        accepted = legal.post(url, {**data, "acknowledged": boxes})
        assert accepted.status_code == 302
        assert KEY in Decision.objects.get(stage_run=run).acknowledged_findings


def test_a_photo_without_location_gives_reviewers_no_such_finding(
    editor: Any, review_campaign: Any, account_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = submitted_with(editor, review_campaign, account_factory("facebook"), "landscape_1200x628.webp")
    assert not post.media.get().original_had_location
    assert not [key for key in finding_keys(post=post) if "image_location" in key]
    html = client_for(reviewers["medical"]).get(reverse("approvals:review", args=[post.pk])).content.decode()
    assert "carried a location" not in html
