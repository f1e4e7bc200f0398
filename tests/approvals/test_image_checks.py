"""Issue 18: images are checked in the background after upload (OCR through the text recognisers, and faces);
the findings reach the editor and the reviewers with their boxes, and Legal acknowledges a face with a reason.

The images are the shared corpus's (``shared/fixtures/phi/images``); Tesseract and OpenCV are the real ones.
"""

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from approvals.models import Decision, Verdict, finding_named
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from posts import scans
from posts.media import image_process
from posts.models import MediaScan, ScanStatus
from posts.services import FeatureSpec, NewMedia, TargetSpec, post_content_findings, post_create
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

PHI_IMAGES = FIXTURES / "phi" / "images"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def created(editor: Any, campaign: Any, account: Any, name: str, *, featured: Any = (), language: str = "de") -> Any:
    image = image_process(upload=io.BytesIO((PHI_IMAGES / name).read_bytes()))
    return post_create(
        actor=editor,
        campaign=campaign,
        data={"body": "Ein Tag auf unserer Station – danke an das ganze Team!", "language": language},
        targets=[TargetSpec(account=account)],
        media=[NewMedia(image=image, alt_text="Ein Foto von der Station")],
        featured=list(featured),
        scheduled_at=timezone.now() + dt.timedelta(days=6),
    )


def checked(capture: Any, *args: Any, **kwargs: Any) -> Any:
    """Create the post and run the image check its upload queued (as a worker would, after the commit)."""
    with capture(execute=True):
        post = created(*args, **kwargs)
    post.refresh_from_db()
    return post


def codes(post: Any) -> list[str]:
    return [finding.code for finding in post_content_findings(post=post)]


def test_a_wristband_is_read_and_its_patient_data_become_findings_with_boxes(
    editor: Any, review_campaign: Any, account_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post = checked(
        django_capture_on_commit_callbacks, editor, review_campaign, account_factory("facebook"), "s01_wristband_de.png"
    )
    media = post.media.get()
    scan = MediaScan.objects.get(media=media)
    assert scan.status == ScanStatus.DONE and scan.checksum == media.checksum
    assert scan.attempts == 1 and scan.finished_at is not None
    labels = {span["label"] for span in scan.spans}
    assert {"PATIENT_NAME", "DATE_OF_BIRTH"} <= labels
    name = next(span for span in scan.spans if span["label"] == "PATIENT_NAME")
    assert "Bößmann" in name["text"] and scan.text[name["start"] : name["end"]] == name["text"]
    left, top, width, height = name["box"]
    assert 0 <= left < media.width and 0 <= top < media.height and width > 0 and height > 0

    findings = [f for f in post_content_findings(post=post) if f.code == "image_text_person"]
    assert len(findings) == 1 and findings[0].media_index == 0 and findings[0].boxes == (tuple(name["box"]),)
    assert findings[0].message.startswith("Image 1, text read in it: The text may name a patient or a relative (")
    assert "image_check_waiting" not in codes(post)

    event = AuditEvent.objects.filter(action="media.checked", object_id=str(post.pk)).get()
    assert event.changes["status"] == "done" and event.changes["media"] == media.pk
    assert event.changes["passages"] == len(scan.spans) and event.changes["faces"] == 0


def test_an_image_not_yet_checked_is_a_finding_until_its_check_ends(
    editor: Any, review_campaign: Any, account_factory: Any
) -> None:
    # No commit in this test: the queued check has not run, as while a worker is busy.
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    scan = MediaScan.objects.get(media__post=post)
    assert scan.status == ScanStatus.WAITING
    assert "image_check_waiting" in codes(post)
    assert "post:image_check_waiting:1" in finding_keys(post=post)

    assert scans.media_scan_run(scan.media_id) == ScanStatus.DONE
    post = type(post).objects.get(pk=post.pk)
    assert "image_check_waiting" not in codes(post)
    # A clean event poster: no face, nothing of a patient.
    assert not [code for code in codes(post) if code == "image_face"]
    assert scans.media_scan_run(scan.media_id) == ScanStatus.DONE  # a second delivery changes nothing
    assert AuditEvent.objects.filter(action="media.checked", object_id=str(post.pk)).count() == 1


def test_without_ocr_the_finding_says_the_text_was_not_read(
    editor: Any, review_campaign: Any, account_factory: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ROUNDS_TESSERACT", "/nonexistent/tesseract")
    post = created(editor, review_campaign, account_factory("facebook"), "s01_wristband_de.png")
    media = post.media.get()
    assert scans.media_scan_run(media.pk) == ScanStatus.DONE
    scan = MediaScan.objects.get(media=media)
    assert scan.problems == ["ocr_missing"] and scan.spans == []
    post = type(post).objects.get(pk=post.pk)
    messages = [f.message for f in post_content_findings(post=post) if f.code == "image_check_failed"]
    assert messages == [
        "Image 1: its text could not be read (OCR is not installed on the server). "
        "Look for names, dates and numbers in it yourself."
    ]


def test_a_reader_that_crashes_fails_the_check_and_never_passes_the_image(
    editor: Any, review_campaign: Any, account_factory: Any, monkeypatch: Any
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    media = post.media.get()

    def broken(path: Any, checksum: Any, language: Any = None) -> Any:
        raise RuntimeError("tesseract segfault")

    monkeypatch.setattr(scans, "image_read", broken)
    assert scans.media_scan_run(media.pk) == ScanStatus.FAILED
    post = type(post).objects.get(pk=post.pk)
    assert "image_check_failed" in codes(post)
    html = client_for(editor).get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "Could not be checked for text and faces: look at it yourself." in html


def test_lost_checks_are_queued_again_then_failed_after_three_tries(
    editor: Any, review_campaign: Any, account_factory: Any
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    scan = MediaScan.objects.get(media__post=post)
    later = timezone.now() + scans.LOST_AFTER + dt.timedelta(minutes=1)
    assert scans.media_scans_resume(now=timezone.now()) == 0  # not lost yet
    MediaScan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, attempts=1)
    assert scans.media_scans_resume(now=later) == 1
    scan.refresh_from_db()
    assert scan.status == ScanStatus.WAITING and scan.queued_at == later
    MediaScan.objects.filter(pk=scan.pk).update(attempts=scans.MAX_ATTEMPTS, queued_at=timezone.now())
    assert scans.media_scans_resume(now=later + scans.LOST_AFTER + dt.timedelta(minutes=1)) == 0
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED and scan.problems == ["error"]


def test_images_stored_before_checks_existed_are_queued_by_the_schedule(
    editor: Any, review_campaign: Any, account_factory: Any
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    MediaScan.objects.filter(media__post=post).delete()
    post = type(post).objects.get(pk=post.pk)
    assert "image_check_waiting" in codes(post)  # never taken for checked
    assert scans.media_scans_resume() == 1
    assert MediaScan.objects.get(media__post=post).status == ScanStatus.WAITING


def test_the_editor_asks_for_the_state_of_the_checks_of_posts_it_may_see(
    editor: Any, other_editor: Any, review_campaign: Any, account_factory: Any
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    media = post.media.get()
    url = reverse("posts:media_checks", args=[post.pk])
    answer = client_for(editor).get(url)
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert json.loads(answer.content) == {
        "checks": [
            {"media": media.pk, "status": "waiting", "finished": False, "summary": "Checking for text and faces…"}
        ]
    }
    assert client_for(other_editor).get(url).status_code == 404
    edit = client_for(editor).get(reverse("posts:post_edit", args=[post.pk])).content.decode()
    assert f'data-checks-url="{url}"' in edit
    assert f'data-media-check="{media.pk}" data-status="waiting" data-finished="false"' in edit
    scans.media_scan_run(media.pk)
    checks = json.loads(client_for(editor).get(url).content)["checks"]
    assert checks[0]["finished"] is True and checks[0]["summary"].startswith("Checked for text and faces: 0 faces")


def test_a_face_needs_a_featured_person_with_consent_or_legal_s_reason(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    reviewers: dict[str, Any],
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = account_factory("facebook")
    post = checked(django_capture_on_commit_callbacks, editor, review_campaign, account, "s08_crowd_collage.png")
    scan = MediaScan.objects.get(media__post=post)
    assert len(scan.faces) >= 1
    faces = [f for f in post_content_findings(post=post) if f.code == "image_face"]
    assert len(faces) == 1 and faces[0].boxes == tuple(tuple(face) for face in scan.faces)
    assert "link the person's consent or confirm nobody is identifiable" in faces[0].message or (
        "link each person's consent" in faces[0].message
    )

    round_submit(post=post, actor=editor)
    for stage in ("medical",):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[stage], verdict=Verdict.APPROVE)
    run = current_stage_run(post=post)
    assert run is not None and run.stage.must_acknowledge_findings
    keys = finding_keys(post=post)
    assert "post:image_face:1" in keys

    page = client_for(reviewers["legal"]).get(reverse("approvals:review", args=[post.pk])).content.decode()
    # The face is drawn on the image, and the reason is asked for.
    assert re.search(r'<svg class="marked-image" viewBox="0 0 \d+ \d+"', page)
    x, y, w, h = scan.faces[0]
    assert f'<rect class="marked-box" x="{x}" y="{y}" width="{w}" height="{h}"' in page
    assert re.search(r'name="reason:post:image_face:1" maxlength="1000" value="" required', page)

    with pytest.raises(ValidationError) as refused:
        decision_record(stage_run=run, reviewer=reviewers["legal"], verdict=Verdict.APPROVE, acknowledged=keys)
    assert refused.value.code == "reason_required"
    with pytest.raises(ValidationError):
        decision_record(
            stage_run=run,
            reviewer=reviewers["legal"],
            verdict=Verdict.APPROVE,
            acknowledged=keys,
            reasons={"post:image_face:1": "bad\x00reason"},
        )
    assert not Decision.objects.filter(stage_run=run).exists()

    reason = "Nur Mitarbeitende der Station 4 – Einwilligungen liegen der Personalabteilung vor (Tel. 0221 478-0)."
    decision = decision_record(
        stage_run=run,
        reviewer=reviewers["legal"],
        verdict=Verdict.APPROVE,
        acknowledged=keys,
        reasons={"post:image_face:1": f"  {reason} ", "post:not-a-finding:1": "ignored"},
    )
    assert decision.acknowledgement_reasons == {"post:image_face:1": reason}
    event = AuditEvent.objects.filter(action="review.approve", object_id=str(post.pk)).latest("seq")
    assert event.changes["acknowledged"]["post:image_face:1"] == reason
    # Everyone who reads the post sees the reason, under the decision and in its history, and the
    # history names the image check in words, not by its code.
    for reader in (editor, reviewers["medical"], reviewers["legal"]):
        page = client_for(reader).get(reverse("approvals:review", args=[post.pk])).content.decode()
        # Once in the history, once under Legal's decision.
        assert page.count(f"Reason for visible face 1: {escape(reason)}") == 1
        assert f'review-acknowledgement-reason">Reason for visible face 1: <q>{escape(reason)}</q>' in page
        assert "<strong>Image checked for text and faces</strong>" in page and "<strong>media.checked" not in page

    # The same photo with as many people featured, each showing their photo with consent: no face finding.
    featured = []
    for number in range(len(scan.faces)):
        person = subject_factory(display_name=f"Hannelore Wüst {number}")
        featured.append(FeatureSpec(subject=person, consent=record_factory(person), media_kinds=("photo",)))
    other = checked(
        django_capture_on_commit_callbacks, editor, review_campaign, account, "s08_crowd_collage.png", featured=featured
    )
    assert len(MediaScan.objects.get(media__post=other).faces) == len(scan.faces)
    assert "image_face" not in codes(other)
    # One fewer featured than faces: a face is left that nobody accounts for.
    fewer = checked(
        django_capture_on_commit_callbacks,
        editor,
        review_campaign,
        account,
        "s08_crowd_collage.png",
        featured=featured[:-1],
    )
    assert "image_face" in codes(fewer)


def test_the_reason_is_kept_when_the_decision_form_comes_back(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    reviewers: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    post = checked(
        django_capture_on_commit_callbacks,
        editor,
        review_campaign,
        account_factory("facebook"),
        "s08_crowd_collage.png",
    )
    round_submit(post=post, actor=editor)
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    run = current_stage_run(post=post)
    legal = client_for(reviewers["legal"])
    page = legal.get(reverse("approvals:review", args=[post.pk])).content.decode()
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None and run is not None
    keys = finding_keys(post=post)
    form = {"stage_run": run.pk, "verdict": "approve", "content_hash": post.content_hash, "version": version[1]}

    def decide(**fields: Any) -> Any:
        return legal.post(reverse("approvals:decide", args=[post.pk]), {**form, **fields})

    # Refused: the face's reason is only spaces. The form comes back with every tick and the
    # optional reason as typed, under the message; nothing is recorded.
    other = next(key for key in keys if key != "post:image_face:1")
    typed = "Gilt für Frau Öztürk (Tel. 0221 478-0) – geprüft"
    review_url = reverse("approvals:review", args=[post.pk])
    refused = decide(
        acknowledged=keys, next=review_url, **{"reason:post:image_face:1": "   ", f"reason:{other}": typed}
    )
    assert refused.status_code == 302
    again = legal.get(refused.url).content.decode()
    assert "Give your reason for each visible face you acknowledge" in again
    for key in keys:
        assert re.search(rf'name="acknowledged" value="{re.escape(key)}" checked required', again), key
    assert f'name="reason:{other}" maxlength="1000" value="{typed}"' in again
    assert not Decision.objects.filter(stage_run=run).exists()
    # Once: the page read again starts empty.
    assert "checked required" not in legal.get(refused.url).content.decode()
    # Refused from the post's own page (no next): its review panel shows the form filled in.
    from_detail = decide(acknowledged=keys[:1])
    assert from_detail.url == reverse("posts:post_detail", args=[post.pk])
    detail = legal.get(from_detail.url).content.decode()
    assert re.search(rf'name="acknowledged" value="{re.escape(keys[0])}" checked required', detail)
    assert not re.search(rf'name="acknowledged" value="{re.escape(keys[1])}" checked', detail)
    answer = decide(
        acknowledged=keys,
        **{"reason:post:image_face:1": "Statisten aus dem Fotoshooting vom 12.03., Model-Release liegt vor"},
    )
    assert answer.status_code == 302
    decision = Decision.objects.get(stage_run=run)
    assert decision.acknowledgement_reasons == {
        "post:image_face:1": "Statisten aus dem Fotoshooting vom 12.03., Model-Release liegt vor"
    }


def test_legal_approves_only_once_the_image_check_has_ended(
    editor: Any, review_campaign: Any, account_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    round_submit(post=post, actor=editor)
    run = current_stage_run(post=post)
    assert run is not None
    # Medical does not acknowledge findings: it may approve while the check runs.
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    run = current_stage_run(post=post)
    assert run is not None and run.stage.must_acknowledge_findings
    keys = finding_keys(post=post)
    assert "post:image_check_waiting:1" in keys
    with pytest.raises(ValidationError) as refused:
        decision_record(stage_run=run, reviewer=reviewers["legal"], verdict=Verdict.APPROVE, acknowledged=keys)
    assert refused.value.code == "image_check_running"
    assert not Decision.objects.filter(stage_run=run).exists()
    scans.media_scan_run(post.media.get().pk)
    decision = decision_record(
        stage_run=run, reviewer=reviewers["legal"], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
    )
    assert decision.verdict == Verdict.APPROVE


def test_the_same_picture_stored_again_is_read_once_per_worker(
    editor: Any, review_campaign: Any, account_factory: Any, monkeypatch: Any
) -> None:
    from posts.phi import images

    reads: list[str] = []

    def counted(path: Any, language: Any = None) -> Any:
        reads.append(str(path))
        return images.image_scan(path, language)

    monkeypatch.setattr(scans, "image_scan", counted)
    monkeypatch.setattr(scans, "_kept", {})
    account = account_factory("facebook")
    first = created(editor, review_campaign, account, "s05_poster_event_de.png")
    second = created(editor, review_campaign, account, "s05_poster_event_de.png")
    one, two = first.media.get(), second.media.get()
    assert one.checksum == two.checksum and one.file.name != two.file.name
    scans.media_scan_run(one.pk)
    scans.media_scan_run(two.pk)
    assert reads == [one.file.path]
    assert MediaScan.objects.get(media=two).text == MediaScan.objects.get(media=one).text != ""


def test_a_check_delivered_twice_while_a_worker_reads_it_is_read_once(
    editor: Any, review_campaign: Any, account_factory: Any
) -> None:
    post = created(editor, review_campaign, account_factory("facebook"), "s05_poster_event_de.png")
    media = post.media.get()
    MediaScan.objects.filter(media=media).update(status=ScanStatus.RUNNING, started_at=timezone.now(), attempts=1)
    assert scans.media_scan_run(media.pk) == ScanStatus.RUNNING
    scan = MediaScan.objects.get(media=media)
    assert scan.attempts == 1 and scan.text == ""
    assert not AuditEvent.objects.filter(action="media.checked", object_id=str(post.pk)).exists()


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("post:image_face:2", "visible face 2"),
        ("post:image_text_birth_date:1", "image finding 1"),
        ("post:patient_data_phone:3", "patient data in the text 3"),
        ("post:sources_missing:1", "finding 1"),
        ("7:link_unchecked", "finding 1"),
    ],
)
def test_a_reason_names_its_finding_in_words_never_by_its_code(key: str, named: str) -> None:
    assert finding_named(key) == named
    with translation.override("de"):
        assert key.split(":")[1] not in finding_named(key) and finding_named(key) != named
