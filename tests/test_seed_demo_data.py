"""What the demo data holds (SPEC sections 3, 4, 7), on one seed per module."""

import zoneinfo
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from approvals.comment_selectors import review_comments
from approvals.models import Decision, ReviewChain, ReviewComment, RoundStatus, StageStatus
from approvals.policy import current_stage_run
from approvals.services import findings_keyed
from people import roles
from people.models import User
from posts.models import Account, Campaign, Media, MediaScan, Post, PostStatus, ScanStatus
from publishing.models import Publication, PublicationStatus, TakedownCause, TakedownItem
from tests.demo_data import _media_root, demo_data, demo_folders  # noqa: F401  (fixtures)
from tests.test_seed_demo import ACCOUNTS, TROUBLE_ACCOUNTS

# One worker runs the module: the demo (a module fixture) is seeded once, not on each worker.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data"), pytest.mark.xdist_group("demo-data")]

REACHABLE = set(PostStatus)
# Every publication state, the in-flight "sent" and the late "overdue" among them.
PUBLICATION_STATES = set(PublicationStatus)
POST_WIDE_CODES = {
    "patient_data_phone",
    "patient_data_email",
    "patient_data_record",
    "patient_data_birth_date",
    "patient_data_name",
    "patient_data_person",
    "patient_data_age",
    "patient_data_event_date",
    "patient_data_diagnosis",
    "patient_data_location",
    "patient_data_insurance_id",
    "patient_data_address",
    "image_metadata",
    "image_location",
    "image_text_person",
    "image_text_birth_date",
    "image_text_record",
    "image_face",
    "image_check_failed",
    "sources_missing",
}


def test_accounts_campaigns_and_chains() -> None:
    handles = {handle for _platform, _name, handle in ACCOUNTS}
    assert set(Account.objects.filter(handle__in=handles).values_list("platform", "name", "handle")) == ACCOUNTS
    assert set(Account.objects.filter(handle__in=handles).values_list("connector", "active")) == {("outbox", True)}
    others = Account.objects.exclude(handle__in=handles)
    assert set(others.values_list("platform", "handle", "connector", "active")) == TROUBLE_ACCOUNTS
    assert ReviewChain.objects.filter(is_default=True).exists()
    assert ReviewChain.objects.filter(is_expedited=True).exists()
    editor = User.objects.get(username="editor")
    reviewers = {User.objects.get(username=name) for name in ("medical", "medical2", "legal", "comms")}
    for campaign in Campaign.objects.all():
        assert set(campaign.team.all()) == {editor}
        assert set(campaign.reviewers.all()) == reviewers
        assert campaign.posts.exists()


def test_posts_cover_every_reachable_state_and_each_review_stage() -> None:
    posts = list(Post.objects.select_related("current_revision"))
    assert {post.status for post in posts} >= REACHABLE
    assert all(post.external_id.startswith("demo-") for post in posts)
    stages = {
        run.stage.group.name
        for post in posts
        if post.status == PostStatus.IN_REVIEW and (run := current_stage_run(post=post)) is not None
    }
    assert stages == {roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER, roles.COMMUNICATIONS_REVIEWER}
    for post in posts:
        if post.status in {PostStatus.APPROVED, PostStatus.SCHEDULED}:
            assert post.is_approved_as_is
        in_hand = post.publications.exclude(status=PublicationStatus.PENDING).exists()
        if post.status == PostStatus.SCHEDULED and not in_hand:  # a claimed one is due now
            assert post.scheduled_at is not None and post.scheduled_at > timezone.now()
    today = timezone.localdate()
    months = {(today.year, today.month), ((today.year + today.month // 12), today.month % 12 + 1)}
    planned = {timezone.localtime(post.scheduled_at).date() for post in posts if post.scheduled_at}
    assert {(day.year, day.month) for day in planned} <= months
    assert len(planned) > 5


def test_demo_images_are_stored_through_the_pipeline() -> None:
    media = list(Media.objects.select_related("post"))
    assert media and all(item.alt_text for item in media)
    for item in media:
        with item.file.open("rb") as handle, Image.open(handle) as image:
            # The one exception: a camera original put back by hand, for the GPS finding.
            if item.post.external_id == "demo-heart-story-draft":
                assert image.getexif().get_ifd(0x8825)[2] == (53.0, 35.0, 17.5)
            else:
                assert not image.getexif()
            assert image.size == (item.width, item.height)
    instagram_posts = Post.objects.filter(targets__account__platform="instagram").distinct()
    assert all(post.media.exists() for post in instagram_posts)


def test_posts_cover_every_state_of_spec_section_3_with_a_crisis_post_in_review_after_publication() -> None:
    assert set(Post.objects.values_list("status", flat=True)) == REACHABLE
    crisis = Post.objects.get(external_id="demo-heart-er-closed")
    assert crisis.status == PostStatus.PUBLISHED
    review_round = crisis.review_rounds.get()
    assert review_round.chain.is_expedited and review_round.status == RoundStatus.APPROVED
    after = review_round.stage_runs.get(stage__after_publication=True)
    assert after.status == StageStatus.IN_PROGRESS and after.stage.group.name == roles.LEGAL_REVIEWER
    # A failed and a partly published post: the X client refused for want of an access token.
    for external_id, status in [
        ("demo-flu-nurses-x", PostStatus.FAILED),
        ("demo-flu-pharmacy-hours", PostStatus.PARTIALLY_PUBLISHED),
    ]:
        post = Post.objects.get(external_id=external_id)
        assert post.status == status
        refused = post.publications.get(account__handle="@northside_careers")
        assert refused.status == PublicationStatus.FAILED and "access_token" in refused.last_error
    blocked_at_send = Post.objects.get(external_id="demo-heart-old-page")
    assert blocked_at_send.status == PostStatus.BLOCKED
    assert blocked_at_send.publications.get().status == PublicationStatus.BLOCKED


def test_publications_cover_every_state_and_outbox_files_were_written(settings: Any) -> None:
    assert set(Publication.objects.values_list("status", flat=True)) == PUBLICATION_STATES
    confirmed = Publication.objects.filter(status=PublicationStatus.CONFIRMED, account__connector="outbox")
    assert confirmed.exists()
    for publication in confirmed:
        assert (settings.ROUNDS_OUTBOX_DIR / publication.external_id).exists()
        assert publication.published_at is not None and publication.published_at >= publication.due_at
    waiting = Publication.objects.get(status=PublicationStatus.RETRY_WAIT)
    assert waiting.account.handle == "intranet-klinikum-nord"
    assert waiting.attempt_log.filter(outcome="transient").exists()


def test_an_open_takedown_for_a_story_whose_consent_was_revoked_after_publication() -> None:
    item = TakedownItem.objects.get(cause=TakedownCause.CONSENT_ENDED)
    assert item.confirmed_at is None
    assert item.post.external_id == "demo-story-karl" and item.post.status == PostStatus.PUBLISHED
    assert item.consent.revoked_at is not None


def test_open_takedowns_for_a_crisis_post_legal_rejected_after_publication() -> None:
    post = Post.objects.get(external_id="demo-heart-er-waiting-times")
    assert post.status == PostStatus.PUBLISHED
    after = post.review_rounds.get().stage_runs.get(stage__after_publication=True)
    assert after.status == StageStatus.REJECTED and after.stage.group.name == roles.LEGAL_REVIEWER
    items = TakedownItem.objects.filter(post=post)
    assert {item.account.handle for item in items} == {"klinikum.nord", "@klinikum_nord"}
    assert {(item.cause, item.consent_id, item.confirmed_at) for item in items} == {
        (TakedownCause.REVIEW_REJECTED, None, None)
    }
    assert all("Haftung" in item.comment for item in items)


def test_seeded_takedowns_show_every_cause() -> None:
    """Exhaustive over the choices: a cause added fails here until the demo (and the page sweep) shows it."""
    assert set(TakedownItem.objects.values_list("cause", flat=True)) == set(TakedownCause.values)


def test_posts_carry_every_finding_post_wide_and_per_target() -> None:
    post_wide: set[str] = set()
    per_target: set[str] = set()
    for post in Post.objects.all():
        for item in findings_keyed(post=post):
            (post_wide if item.account_id is None else per_target).add(item.finding.code)
    assert post_wide >= POST_WIDE_CODES
    assert per_target  # platform rules: X's length, LinkedIn's hashtags
    assert {"text_too_long", "hashtags_many"} <= per_target


def test_a_post_in_legal_review_has_a_photo_whose_original_carried_a_location() -> None:
    post = Post.objects.get(external_id="demo-heart-careers")
    run = current_stage_run(post=post)
    assert post.status == PostStatus.IN_REVIEW and run is not None and run.stage.name == "Legal review"
    media = post.media.get()
    assert media.original_had_location
    with media.file.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif()  # the place itself is gone
    assert [item.key for item in findings_keyed(post=post) if item.finding.code == "image_location"] == [
        "post:image_location:1"
    ]
    assert set(Media.objects.filter(original_had_location=True).values_list("post__external_id", flat=True)) == {
        "demo-heart-careers"
    }


def test_every_demo_picture_was_checked_and_one_in_legal_review_shows_a_wristband_and_a_face() -> None:
    # Checked before the demo's review (Legal approves only ended checks), and one lost check failed.
    assert dict(Counter(MediaScan.objects.values_list("status", flat=True))) == {
        ScanStatus.DONE: Media.objects.count() - 1,
        ScanStatus.FAILED: 1,
    }
    post = Post.objects.get(external_id="demo-heart-summer-party")
    run = current_stage_run(post=post)
    assert run is not None and run.stage.name == "Legal review"
    scan = MediaScan.objects.get(media__post=post)
    # Read by Tesseract from the drawn wristband.
    assert {(span["label"], span["text"]) for span in scan.spans} >= {
        ("PATIENT_NAME", "Lindner, Ursula"),
        ("DATE_OF_BIRTH", "03.04.1941"),
    }
    assert "post:image_face:1" in {item.key for item in findings_keyed(post=post)}


def test_legal_approved_a_photo_with_a_face_giving_its_reason_and_communications_reviews_it() -> None:
    post = Post.objects.get(external_id="demo-heart-team-photo")
    run = current_stage_run(post=post)
    assert run is not None and run.stage.name == "Communications review"
    legal = Decision.objects.get(stage_run__round__post=post, stage_run__stage__name="Legal review")
    assert legal.verdict == "approve" and "post:image_face:1" in legal.acknowledged_findings
    assert legal.acknowledgement_reasons == {
        "post:image_face:1": (
            "Nur Mitarbeitende der Station 4B im Bild; ihre schriftliche Einwilligung liegt der "
            "Personalabteilung vor (Az. PA-2026-114). Keine Patientinnen oder Patienten erkennbar."
        )
    }
    shown = [reason for _finding, reason in legal.reasons_shown()]
    assert shown == [legal.acknowledgement_reasons["post:image_face:1"]]


def test_texts_are_written_like_a_hospitals_in_german_and_english() -> None:
    bodies = list(Post.objects.values_list("language", "body"))
    assert {language for language, _body in bodies} == {"de", "en"}
    text = "\n".join(body for _language, body in bodies)
    for fragment in ("12.12.2026", "040 1234567", "(212) 555-0147", "Lindenstraße 12", "ü", "ö", "🫀", "@"):
        assert fragment in text


# The review tools (issue 14) ------------------------------------------------------------------


def test_comment_threads_open_and_resolved_blocking_with_a_changed_passage() -> None:
    post = Post.objects.get(external_id="demo-heart-smoking")
    assert post.status == PostStatus.IN_REVIEW
    run = current_stage_run(post=post)
    assert run is not None and run.stage.group.name == roles.LEGAL_REVIEWER
    comments = {comment.author.username: comment for comment in ReviewComment.objects.filter(post=post)}
    assert set(comments) == {"medical", "legal", "comms"}
    advice, blocking, image = comments["medical"], comments["legal"], comments["comms"]
    assert advice.resolved_at is not None and not advice.blocking and advice.replies.count() == 2
    assert blocking.blocking and blocking.resolved_at is None
    assert [reply.author.username for reply in blocking.replies.all()] == ["editor"]
    assert image.anchor_kind == "media" and image.resolved_at is None
    assert blocking.quote == "garantiert halbiert" and blocking.quote not in post.body
    assert blocking.revision_id != post.current_revision_id
    legal = User.objects.get(username="legal")
    threads = {thread.comment.pk: thread for thread in review_comments(user=legal, post=post).threads}
    assert threads[blocking.pk].passage_changed and not threads[advice.pk].passage_changed


def test_a_valid_signature_and_one_a_later_edit_invalidated() -> None:
    post = Post.objects.get(external_id="demo-heart-smoking")
    signatures = [
        (decision.reviewer.username, decision.content_hash == post.content_hash)
        for decision in Decision.objects.filter(stage_run__round__post=post).order_by("pk")
    ]
    assert signatures == [("medical", False), ("medical", True)]


def test_claims_with_a_checked_source_an_unchecked_doi_a_pubmed_id_and_an_unmarked_sentence() -> None:
    post = Post.objects.get(external_id="demo-heart-nutrition")
    run = current_stage_run(post=post)
    assert run is not None and run.stage.group.name == roles.MEDICAL_REVIEWER
    claims = {claim.source_kind: claim for claim in post.claims.all()}
    assert set(claims) == {"url", "doi", "pmid"}
    assert claims["doi"].source == "10.5555/herz.2025.0412" and claims["pmid"].source == "39871234"
    checked = set(post.claims.filter(checks__content_hash=post.content_hash).values_list("source_kind", flat=True))
    assert checked == {"url"}
    codes = {item.finding.code: item.finding for item in findings_keyed(post=post)}
    assert "sources_missing" in codes  # "Omega-3-Kapseln … kaum wirksam" is detected, not marked


def test_a_deputy_stands_in_for_an_absent_medical_reviewer_on_an_overdue_stage() -> None:
    absent, deputy = User.objects.get(username="medical2"), User.objects.get(username="medical")
    period = absent.absences.get()
    today = timezone.localdate()
    assert period.deputy == deputy and period.starts <= today <= period.ends
    assert absent.get_full_name() == "Dr. Katrin Groß-Lüdemann"
    post = Post.objects.get(external_id="demo-heart-defibrillator")
    run = current_stage_run(post=post)
    assert run is not None and run.stage.group.name == roles.MEDICAL_REVIEWER
    assert run.deadline is not None and run.deadline < timezone.now() and run.reminded_at is not None
    assert deputy.notices.filter(key__startswith=f"deputy:{run.pk}:").exists()


def test_a_crisis_requested_by_the_editor_and_one_declared_by_communications() -> None:
    requested = Post.objects.get(external_id="demo-heart-heat")
    assert requested.status == PostStatus.DRAFT and requested.content_type != "crisis"
    assert requested.crisis_requested_by.username == "editor" and requested.crisis_declared_at is None
    declared = Post.objects.get(external_id="demo-heart-power-outage")
    assert declared.content_type == "crisis" and declared.crisis_declared_by.username == "comms"
    assert declared.crisis_requested_by.username == "editor"
    review_round = declared.review_rounds.get(status=RoundStatus.IN_PROGRESS)
    assert review_round.chain.is_expedited


def test_notices_read_and_unread_and_a_digest_reader() -> None:
    for username in ("editor", "medical", "legal"):
        notices = User.objects.get(username=username).notices
        assert notices.filter(read_at__isnull=True).exists() and notices.filter(read_at__isnull=False).exists()
    legal = User.objects.get(username="legal")
    assert legal.email_delivery == "digest"
    assert set(User.objects.exclude(username="legal").values_list("email_delivery", flat=True)) == {"each"}


# Evidence on demand (issue 16): each state the evidence and consent pages show -----------------


def test_a_finished_compliance_archive_of_a_campaign_with_its_file() -> None:
    from evidence.archive import archive_path, file_sha256
    from evidence.models import ArchiveJob, ArchiveStatus

    job = ArchiveJob.objects.get(campaign__name="Flu vaccination autumn")
    assert job.status == ArchiveStatus.DONE and job.finished_at is not None
    assert job.requested_by.username == "governance"
    assert job.done == job.total == Post.objects.filter(campaign=job.campaign).count() > 0
    assert job.size > 0 and file_sha256(archive_path(job)) == job.sha256


def test_a_purge_report_lists_a_purged_signed_form_and_one_kept_under_a_legal_hold() -> None:
    from consent.models import ConsentRecord
    from evidence.models import LegalHold, PurgedRecord, PurgeReport, RecordKind

    purged = ConsentRecord.objects.get(subject__reference="DEMO-0012")
    kept = ConsentRecord.objects.get(subject__reference="DEMO-0013")
    hold = LegalHold.objects.get(subject=kept.subject)
    assert hold.active and hold.placed_by.username == "governance"
    report = PurgeReport.objects.get(dry_run=False)
    assert [(item["kind"], item["id"]) for item in report.purged] == [(RecordKind.CONSENT_DOCUMENT, purged.pk)]
    assert [(item["kind"], item["id"], item["holds"]) for item in report.held] == [
        (RecordKind.CONSENT_DOCUMENT, kept.pk, [hold.pk])
    ]
    assert PurgedRecord.objects.get(report=report).object_id == purged.pk
    purged.refresh_from_db()
    assert purged.document.name == "" and purged.document_checksum  # the form is gone, its SHA-256 stays
    assert kept.document.name != ""


def test_an_erased_person_whose_scheduled_story_is_blocked() -> None:
    from consent.models import Subject

    post = Post.objects.get(external_id="demo-story-ingrid")
    subject = post.featured_people.get().subject
    assert subject.erased_at is not None and subject.display_name == f"Erased person #{subject.pk}"
    assert post.status == PostStatus.BLOCKED
    assert not Subject.objects.filter(display_name="Ingrid Vogel").exists()
    assert "Ingrid" not in post.title + post.body


def test_a_consent_withdrawn_online_and_one_whose_copy_is_not_yet_given() -> None:
    from consent.models import ConsentRecord

    withdrawn = ConsentRecord.objects.get(subject__reference="DEMO-0010")
    assert withdrawn.revoked_at is not None and withdrawn.revocation_received_via == "online"
    assert withdrawn.withdrawal_check
    waiting = ConsentRecord.objects.get(subject__reference="DEMO-0009")
    assert waiting.copy_given_on is None and waiting.copy_given_how == "" and waiting.verified_at is None


# Long lists (issue 17) ---------------------------------------------------------------------------


def test_an_imported_plan_of_tips_fills_a_month_cell_and_a_second_page() -> None:
    """The editor's tips came in through the plan import: drafts with first revisions and the import's
    audit event; one day holds more than a month cell shows, and their month more than a list page."""
    from audit.models import AuditEvent
    from posts.views.calendar import CARDS_PER_DAY, LIST_PAGE, MONTH

    campaign = Campaign.objects.get(name="Gesundheitstipps 2027 / Health tips")
    tips = Post.objects.filter(campaign=campaign).select_related("current_revision")
    assert tips.count() == 60 and {post.status for post in tips} == {PostStatus.DRAFT}
    assert all(post.current_revision.content_hash for post in tips)
    assert {post.language for post in tips} == {"de", "en"}
    event = AuditEvent.objects.get(action="plan.imported")
    assert event.changes["created"] == 60 and event.changes["file"] == "gesundheitstipps-2027.csv"
    assert campaign.reviewers.count() == 4
    days: dict[Any, int] = {}
    for post in tips:
        day = timezone.localtime(post.scheduled_at, zoneinfo.ZoneInfo("Europe/Berlin")).date()
        days[day] = days.get(day, 0) + 1
    busy, most = max(days.items(), key=lambda item: item[1])
    assert most > CARDS_PER_DAY[MONTH]
    month = Post.objects.filter(scheduled_at__year=busy.year, scheduled_at__month=busy.month)
    assert month.count() > LIST_PAGE
