"""Retention and legal holds: the purge deletes what is past its rule, never what a hold covers, and reports both."""

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import ConsentRecord
from evidence import archive
from evidence.models import ArchiveStatus, LegalHold, PurgedRecord, PurgeReport, RecordKind, RetentionRule
from evidence.retention import legal_hold_place, legal_hold_release, retention_purge
from people import roles
from posts.models import FeaturedPerson, Media, Post, PostStatus
from posts.services import post_withdraw
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# Eleven years on: past the consent forms' ten years, the media's six and the archives' thirty days.
LATER = timezone.now() + dt.timedelta(days=11 * 366)


def _media(post: Post, name: str) -> Media:
    return Media.objects.create(
        post=post,
        file=ContentFile(b"\xff\xd8 photo " + name.encode(), name=f"{name}.jpg"),
        thumbnail=ContentFile(b"\xff\xd8 thumb", name=f"{name}-thumb.jpg"),
        alt_text=f"Foto: {name}",
        checksum="ab" * 32,
        width=10,
        height=10,
        format="JPEG",
        byte_size=12,
    )


def _finish(post: Post, status: str) -> None:
    # Arranging the end state directly: publishing and rejecting are tested where they are made.
    Post.objects.filter(pk=post.pk).update(status=status)


@pytest.fixture
def world(
    editor: Any,
    governance: Any,
    campaign_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> dict[str, Any]:
    free = campaign_factory(editor, name="Herzwoche")
    held_campaign = campaign_factory(editor, name="Klage Station 4B")
    posts = {
        "free": post_factory(editor, free, title="Withdrawn, nobody holds it"),
        "in_held_campaign": post_factory(editor, held_campaign, title="Published in a held campaign"),
        "held_post": post_factory(editor, free, title="Rejected, held itself"),
        "features_held_subject": post_factory(editor, free, title="Published, shows a held person"),
        "still_draft": post_factory(editor, free, title="A draft: its media stay"),
    }
    post_withdraw(post=posts["free"], actor=editor)
    _finish(posts["in_held_campaign"], PostStatus.PUBLISHED)
    _finish(posts["held_post"], PostStatus.REJECTED)
    _finish(posts["features_held_subject"], PostStatus.PUBLISHED)
    media = {key: _media(post, key) for key, post in posts.items()}

    today = timezone.localdate()
    free_person, held_person, relied_person = (
        subject_factory(display_name="Jürgen Özdemir", reference="CASE-FREE"),
        subject_factory(display_name="Aylin Kaya", reference="CASE-HELD"),
        subject_factory(display_name="Zoë Brandt", reference="CASE-RELIED"),
    )
    records = {
        "expired": record_factory(free_person, expires_on=today + dt.timedelta(days=30)),
        "held_subject": record_factory(held_person, expires_on=today + dt.timedelta(days=30)),
        "relied_on_by_held_post": record_factory(relied_person, expires_on=today + dt.timedelta(days=30)),
        "runs_long": record_factory(free_person, expires_on=today + dt.timedelta(days=40 * 365)),
    }
    FeaturedPerson.objects.create(
        post=posts["features_held_subject"], subject=held_person, consent=records["held_subject"]
    )
    FeaturedPerson.objects.create(
        post=posts["held_post"], subject=relied_person, consent=records["relied_on_by_held_post"]
    )
    holds = {
        "campaign": legal_hold_place(actor=governance, reason="Klage Az. 3 O 123/26", campaign=held_campaign),
        "post": legal_hold_place(actor=governance, reason="Beschwerde der Datenschutzbehörde", post=posts["held_post"]),
        "subject": legal_hold_place(actor=governance, reason="Auskunftsersuchen", subject=held_person),
    }
    return {"posts": posts, "media": media, "records": records, "holds": holds}


@pytest.fixture
def purge(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the purge and its after-commit file deletions, as a committed run would."""

    def run(**kwargs: Any) -> PurgeReport:
        with django_capture_on_commit_callbacks(execute=True):
            return retention_purge(**kwargs)

    return run


def _files_exist(*names: str) -> list[bool]:
    return [default_storage.exists(name) for name in names]


def test_default_rules_come_with_the_migration() -> None:
    rules = {rule.kind: (rule.keep_for, rule.unit, rule.active) for rule in RetentionRule.objects.all()}
    assert rules == {
        RecordKind.CONSENT_DOCUMENT: (10, "years", True),
        RecordKind.POST_MEDIA: (6, "years", True),
        RecordKind.ARCHIVE_FILE: (30, "days", True),
    }
    assert "164.530(j)" in RetentionRule.objects.get(kind=RecordKind.CONSENT_DOCUMENT).basis


def test_purge_removes_what_expired_and_nothing_under_a_hold(world: dict[str, Any], purge: Any) -> None:
    records, media, holds = world["records"], world["media"], world["holds"]
    expired = records["expired"]
    expired_file = expired.document.name
    free_media = media["free"]

    report = purge(now=LATER)

    # The expired form's file went; its record and SHA-256 stay, marked purged.
    assert not expired.document.storage.exists(expired_file)
    kept = ConsentRecord.objects.get(pk=expired.pk)
    assert kept.document_checksum == expired.document_checksum
    mark = PurgedRecord.objects.get(kind=RecordKind.CONSENT_DOCUMENT, object_id=expired.pk)
    assert mark.sha256 == expired.document_checksum and mark.report == report
    # The withdrawn post's media files went; the row with its checksum stays.
    assert _files_exist(free_media.file.name, free_media.thumbnail.name) == [False, False]
    assert Media.objects.filter(pk=free_media.pk, checksum="ab" * 32).exists()

    # Under a hold, or not yet due: still there.
    for key in ("in_held_campaign", "held_post", "features_held_subject", "still_draft"):
        assert _files_exist(media[key].file.name, media[key].thumbnail.name) == [True, True], key
    for key in ("held_subject", "relied_on_by_held_post", "runs_long"):
        assert records[key].document.storage.exists(records[key].document.name), key

    assert report.counts == {"archive_file": 0, "consent_document": 1, "post_media": 1}
    assert report.held_counts == {"archive_file": 0, "consent_document": 2, "post_media": 3}
    assert {(item["kind"], item["id"]) for item in report.purged} == {
        ("consent_document", expired.pk),
        ("post_media", free_media.pk),
    }
    held = {(item["kind"], item["id"]): item["holds"] for item in report.held}
    assert held == {
        ("consent_document", records["held_subject"].pk): [holds["subject"].pk],
        ("consent_document", records["relied_on_by_held_post"].pk): [holds["post"].pk],
        ("post_media", media["in_held_campaign"].pk): [holds["campaign"].pk],
        ("post_media", media["held_post"].pk): [holds["post"].pk],
        ("post_media", media["features_held_subject"].pk): [holds["subject"].pk],
    }
    # No personal data in the report: ids, kinds and reasons only.
    stored = str(PurgeReport.objects.values_list("purged", "held", "counts").get(pk=report.pk))
    assert "Jürgen" not in stored and "Özdemir" not in stored and "CASE-" not in stored

    actions = list(AuditEvent.objects.filter(seq__gt=0).values_list("action", "object_type", "object_id"))
    assert ("consent.document_purged", "consent.consentrecord", str(expired.pk)) in actions
    assert ("post.media_purged", "posts.post", str(world["posts"]["free"].pk)) in actions
    assert ("retention.purged", "evidence.purgereport", str(report.pk)) in actions

    # A second run finds nothing new to purge.
    again = purge(now=LATER)
    assert sum(again.counts.values()) == 0 and sum(again.held_counts.values()) == 5


def test_a_dry_run_lists_the_same_and_changes_nothing(world: dict[str, Any], purge: Any) -> None:
    names = [item.file.name for item in world["media"].values()]
    documents = [record.document for record in world["records"].values()]
    last_seq = AuditEvent.objects.aggregate(last=Max("seq"))["last"]

    dry = purge(now=LATER, dry_run=True)

    assert dry.pk is None and not PurgeReport.objects.exists() and not PurgedRecord.objects.exists()
    assert all(_files_exist(*names))
    assert all(document.storage.exists(document.name) for document in documents)
    assert AuditEvent.objects.aggregate(last=Max("seq"))["last"] == last_seq
    real = purge(now=LATER)
    assert (dry.counts, dry.held_counts, dry.purged, dry.held) == (
        real.counts,
        real.held_counts,
        real.purged,
        real.held,
    )


def test_after_release_the_held_records_are_purged(world: dict[str, Any], purge: Any, governance: Any) -> None:
    purge(now=LATER)
    legal_hold_release(actor=governance, hold=world["holds"]["campaign"])
    report = purge(now=LATER)
    assert [(item["kind"], item["id"]) for item in report.purged] == [
        ("post_media", world["media"]["in_held_campaign"].pk)
    ]
    release = AuditEvent.objects.filter(action="legal_hold.released").get()
    assert release.object_id == str(world["holds"]["campaign"].pk) and release.actor == governance


def test_nothing_is_due_before_its_period_ends(world: dict[str, Any], purge: Any) -> None:
    five_years_on = timezone.now() + dt.timedelta(days=5 * 365)
    report = purge(now=five_years_on)
    assert sum(report.counts.values()) == 0
    assert all(_files_exist(*(item.file.name for item in world["media"].values())))


def test_an_inactive_rule_purges_nothing_of_its_kind(world: dict[str, Any], purge: Any) -> None:
    RetentionRule.objects.filter(kind=RecordKind.POST_MEDIA).update(active=False)
    report = purge(now=LATER)
    assert "post_media" not in report.counts and report.counts["consent_document"] == 1


def test_finished_archives_go_after_thirty_days_unless_they_hold_a_held_post(
    world: dict[str, Any], governance: Any, purge: Any
) -> None:
    held_campaign = world["holds"]["campaign"].campaign
    free_campaign = world["posts"]["free"].campaign
    jobs = [archive.archive_request(actor=governance, campaign=campaign) for campaign in (free_campaign, held_campaign)]
    for job in jobs:
        archive.archive_run(job_id=job.pk)
    report = purge(now=timezone.now() + dt.timedelta(days=31))
    free_job, held_job = (type(job).objects.get(pk=job.pk) for job in jobs)
    # The free campaign holds a held post and a held person too: both archives are kept.
    assert report.counts["archive_file"] == 0 and report.held_counts["archive_file"] == 2
    legal_hold_release(actor=governance, hold=world["holds"]["post"])
    legal_hold_release(actor=governance, hold=world["holds"]["subject"])
    report = purge(now=timezone.now() + dt.timedelta(days=31))
    free_job.refresh_from_db()
    held_job.refresh_from_db()
    assert [item["id"] for item in report.purged if item["kind"] == "archive_file"] == [free_job.pk]
    assert free_job.status == ArchiveStatus.PURGED and free_job.purged_at is not None
    assert not archive.archive_path(free_job).exists() and archive.archive_path(held_job).exists()
    assert AuditEvent.objects.filter(action="archive.file_purged", object_id=str(free_job.pk)).exists()


def test_the_command_dry_run_prints_and_changes_nothing(world: dict[str, Any], settings: Any) -> None:
    RetentionRule.objects.filter(kind=RecordKind.POST_MEDIA).update(keep_for=1, unit="days")
    Post.objects.update(updated_at=timezone.now() - dt.timedelta(days=2))
    out = StringIO()
    call_command("retention_purge", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"would purge post_media #{world['media']['free'].pk}" in text
    assert f"kept post_media #{world['media']['held_post'].pk}: legal hold #{world['holds']['post'].pk}" in text
    assert not PurgeReport.objects.exists()
    call_command("retention_purge", stdout=StringIO())
    assert PurgeReport.objects.get().counts["post_media"] == 1


def test_holds_are_placed_on_exactly_one_thing_and_audited(world: dict[str, Any], governance: Any) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    placed = AuditEvent.objects.filter(action="legal_hold.placed")
    assert placed.count() == 3 and placed.first().actor == governance
    post = world["posts"]["free"]
    with pytest.raises(ValidationError):
        legal_hold_place(actor=governance, reason="two things", post=post, campaign=post.campaign)
    with pytest.raises(ValidationError):
        legal_hold_place(actor=governance, reason="  ", post=post)
    with pytest.raises(PermissionDenied):
        legal_hold_place(actor=make_user("ed2", roles.EDITOR), reason="mine", post=post)
    legal_hold_release(actor=governance, hold=world["holds"]["subject"])
    with pytest.raises(ValidationError):
        legal_hold_release(actor=governance, hold=world["holds"]["subject"])
    assert LegalHold.objects.count() == 3


# The pages and the admin ----------------------------------------------------------------------


def test_governance_places_a_subject_hold_in_the_admin_by_reference(
    client: Client, governance: Any, world: dict[str, Any]
) -> None:
    client.force_login(governance)
    response = client.post(
        reverse("admin:evidence_legalhold_add"),
        {"subject_reference": "CASE-FREE", "reason": "Anfrage Rechtsabteilung", "campaign": "", "post": ""},
    )
    assert response.status_code == 302
    hold = LegalHold.objects.order_by("-pk").first()
    assert hold is not None and hold.subject is not None and hold.subject.reference == "CASE-FREE"
    assert hold.placed_by == governance
    assert AuditEvent.objects.filter(action="legal_hold.placed", object_id=str(hold.pk)).exists()
    # An unknown reference or two targets: refused, nothing placed.
    count = LegalHold.objects.count()
    for data in (
        {"subject_reference": "CASE-NONE", "reason": "x"},
        {"subject_reference": "CASE-FREE", "campaign": str(world["posts"]["free"].campaign_id), "reason": "x"},
    ):
        assert client.post(reverse("admin:evidence_legalhold_add"), data).status_code == 200
    assert LegalHold.objects.count() == count
    # Released by the admin action, audited.
    client.post(
        reverse("admin:evidence_legalhold_changelist"),
        {"action": "release", "_selected_action": [hold.pk]},
    )
    hold.refresh_from_db()
    assert hold.released_by == governance and hold.released_at is not None
    assert AuditEvent.objects.filter(action="legal_hold.released", object_id=str(hold.pk)).exists()


def test_governance_changes_a_rule_in_the_admin_audited(client: Client, governance: Any) -> None:
    rule = RetentionRule.objects.get(kind=RecordKind.CONSENT_DOCUMENT)
    client.force_login(governance)
    response = client.post(
        reverse("admin:evidence_retentionrule_change", args=[rule.pk]),
        {"keep_for": "12", "unit": "years", "active": "on", "basis": rule.basis},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.keep_for == 12
    event = AuditEvent.objects.filter(action="retention.rule_changed").get()
    assert event.changes["keep_for"] == [10, 12] and event.actor == governance
    assert (
        client.post(
            reverse("admin:evidence_retentionrule_change", args=[rule.pk]),
            {"keep_for": "0", "unit": "years", "active": "on", "basis": ""},
        ).status_code
        == 200
    )
    rule.refresh_from_db()
    assert rule.keep_for == 12


def test_purge_reports_page_for_governance_only(
    client: Client, governance: Any, world: dict[str, Any], purge: Any
) -> None:
    report = purge(now=LATER)
    client.force_login(governance)
    page = client.get(reverse("evidence:purge_reports")).content.decode()
    assert f'data-report="{report.pk}"' in page and "never (append-only, hash-chained)" in page
    assert f'data-hold="{world["holds"]["subject"].pk}"' in page
    detail = client.get(reverse("evidence:purge_report", args=[report.pk])).content.decode()
    assert f'data-purged="consent_document-{world["records"]["expired"].pk}"' in detail
    assert f'data-held="post_media-{world["media"]["held_post"].pk}"' in detail
    # The kinds read as words, not as their stored codes.
    assert "<td>signed consent forms (after the consent ended)</td>" in detail
    assert "<td>media of withdrawn, rejected or published posts</td>" in detail
    assert "<td>consent_document</td>" not in detail and "<td>post_media</td>" not in detail
    assert "Aylin" not in detail and "Jürgen" not in detail
    for role in (roles.EDITOR, roles.CONSENT_OFFICER, roles.VIEWER):
        client.force_login(make_user(f"x-{role}", role))
        assert client.get(reverse("evidence:purge_reports")).status_code == 403
        assert client.get(reverse("evidence:purge_report", args=[report.pk])).status_code == 403
        assert client.get(reverse("admin:evidence_legalhold_changelist")).status_code in (302, 403)


def test_the_evidence_admin_pages_open_for_governance(
    client: Client, governance: Any, world: dict[str, Any], purge: Any
) -> None:
    report = purge(now=LATER)
    job = archive.archive_request(actor=governance, campaign=world["posts"]["free"].campaign)
    client.force_login(governance)
    rule = RetentionRule.objects.first()
    assert rule is not None
    for url in (
        reverse("admin:evidence_retentionrule_changelist"),
        reverse("admin:evidence_retentionrule_change", args=[rule.pk]),
        reverse("admin:evidence_legalhold_changelist"),
        reverse("admin:evidence_legalhold_add"),
        reverse("admin:evidence_legalhold_change", args=[world["holds"]["subject"].pk]),
        reverse("admin:evidence_purgereport_changelist"),
        reverse("admin:evidence_purgereport_change", args=[report.pk]),
        reverse("admin:evidence_archivejob_changelist"),
        reverse("admin:evidence_archivejob_change", args=[job.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Aylin" not in response.content.decode(), url


def test_a_purged_form_is_answered_as_removed_not_missing(world: dict[str, Any], purge: Any) -> None:
    expired = world["records"]["expired"]
    purge(now=LATER)

    kept = ConsentRecord.objects.get(pk=expired.pk)
    assert not kept.document and kept.document_checksum == expired.document_checksum
    officer = make_user("purge-officer", roles.CONSENT_OFFICER)
    client = Client()
    client.force_login(officer)
    page = client.get(reverse("consent:record_detail", args=[kept.pk]))
    assert "Removed (erased on request, or past its retention period)" in page.content.decode()
    assert reverse("consent:document", args=[kept.pk]) not in page.content.decode()
    response = client.get(reverse("consent:document", args=[kept.pk]))
    assert response.status_code == 410
    assert kept.document_checksum in response.content.decode()
    # Nothing was read, so nothing is audited as read.
    assert not AuditEvent.objects.filter(action="consent.document_viewed", object_id=str(kept.pk)).exists()
    # The FHIR Consent (also in every evidence pack relying on it) names the form without size or hash.
    response = client.get(reverse("consent:fhir", args=[kept.pk]))
    assert response.status_code == 200
    attachment = response.json()["sourceAttachment"]
    assert "hash" not in attachment and "size" not in attachment
