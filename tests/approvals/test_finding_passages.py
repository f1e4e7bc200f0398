"""Findings that know where they are: the review page shows the text with the offending passage marked."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.services import finding_keys, round_submit
from posts.patient_data import content_findings

pytestmark = pytest.mark.django_db

BODY = (
    "Infotag am 12.12.2026 im Hörsaal 2 🫀 – Anmeldung unter 030 1234567 oder info@klinikum-nord.de. "
    "<script>alert(1)</script> Danke an Frau Öztürk!"
)


def test_patient_data_findings_carry_the_passage_they_found() -> None:
    findings = {
        f.code: f for f in content_findings(texts=["Infotag", BODY], featured_subject_ids=set(), image_paths=[])
    }
    phone = findings["patient_data_phone"].passage
    assert phone is not None and phone.text == BODY and phone.marked == "030 1234567"
    assert phone.before.endswith("Anmeldung unter ") and phone.after.startswith(" oder")
    email = findings["patient_data_email"].passage
    assert email is not None and email.marked == "info@klinikum-nord.de"


def test_a_long_text_is_shortened_around_the_passage_never_in_it() -> None:
    text = "Händehygiene rettet Leben. " * 20 + "Rückruf unter 0171 9876543 bitte. " + "Danke! " * 30
    [finding] = content_findings(texts=[text], featured_subject_ids=set(), image_paths=[])
    passage = finding.passage
    assert passage is not None and passage.marked == "0171 9876543"
    assert passage.before.startswith("…") and passage.after.endswith("…")
    assert len(passage.before) <= passage.CONTEXT + 1 and len(passage.after) <= passage.CONTEXT + 1


def test_a_registered_name_is_marked_where_it_stands(subject_factory: Any) -> None:
    subject_factory(display_name="Ayşe Öztürk")
    [finding] = [
        f
        for f in content_findings(
            texts=["Danke, ayşe öztürk, für Ihre Geschichte."],
            featured_subject_ids=set(),
            image_paths=[],
        )
        if f.code == "patient_data_name"
    ]
    assert finding.passage is not None and finding.passage.marked == "ayşe öztürk"


def test_the_review_page_marks_the_passage_and_escapes_the_text(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Infotag Herz",
        body=BODY,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    keys_before = finding_keys(post=post)
    round_submit(post=post, actor=editor)
    client = Client()
    client.force_login(reviewers["medical"])
    html = client.get(reverse("approvals:review", args=[post.pk])).content.decode()
    findings = html[html.index('class="review-findings"') :]
    findings = findings[: findings.index("</section>")]
    assert "<mark>030 1234567</mark>" in findings
    assert "<mark>info@klinikum-nord.de</mark>" in findings
    assert "<script>" not in findings and "&lt;script&gt;alert(1)&lt;/script&gt;" in findings
    # The keys Legal acknowledges are those of before: spans changed nothing about them.
    assert finding_keys(post=post) == keys_before
    assert "post:patient_data_phone:1" in keys_before
