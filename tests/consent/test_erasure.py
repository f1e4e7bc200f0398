"""GDPR erasure by crypto-shredding (docs/erasure.md) and the Art. 15 export.

A person featured in three posts (published, scheduled, draft) is erased: the audit chain still
verifies, and their name is nowhere in the database (every table, every column, read raw) nor in
any file under MEDIA_ROOT or PRIVATE_MEDIA_ROOT.
"""

import datetime as dt
import io
import json
import zipfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.erasure import Opener
from audit.models import AuditEvent, ErasureKey
from consent.models import ConsentRecord, ConsentSigner, Subject
from consent.services import SignerSpec, subject_erase, subject_export, subject_update
from people import roles
from posts.media import image_process
from posts.models import MediaScan, Post, PostStatus
from posts.services import FeatureSpec, NewMedia, TargetSpec, post_transition, post_update
from publishing.models import TakedownItem
from tests.conftest import IMAGES, PDF_BYTES, make_user

pytestmark = pytest.mark.django_db

NAME = "Anna Müller"
MOTHER = "Brigitte Müller-Öztürk"
REFERENCE = "KN-2024-4711"


@pytest.fixture
def anna(
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Any]:
    """Anna, her consent (signed with her mother) and three posts about her: published, scheduled, draft."""
    subject = subject_factory(display_name=NAME, reference=REFERENCE, date_of_birth=dt.date(1970, 3, 14))
    form = PDF_BYTES.replace(b"%%EOF", f"% Einwilligung {NAME}\n%%EOF".encode())
    record = record_factory(
        subject,
        signers=[SignerSpec(role="subject", name=NAME), SignerSpec(role="guardian", name=MOTHER, authority="Mutter")],
        description=f"Fotos von {NAME} auf Station 4",
        notes=f"{NAME} möchte vorab sehen, was erscheint.",
    )
    # The printed form's online withdrawal check: a keyed hash of her birth date.
    ConsentRecord.objects.filter(pk=record.pk).update(document_name=f"{NAME}.pdf", withdrawal_check="ab" * 32)
    # The signed form names her, as real scans do.
    Path(record.document.path).write_bytes(form)
    account = account_factory("facebook")
    later = timezone.now() + dt.timedelta(days=3)
    posts = {}
    for kind in ("published", "scheduled", "draft"):
        picture = image_process(upload=io.BytesIO((IMAGES / "square_1080_rgba.png").read_bytes()))
        post = post_factory(
            editor,
            campaign,
            targets=[account],
            when=later,
            title=f"{NAME} – {kind}",
            body=f"{NAME} (54) erzählt, wie ihr die Reha geholfen hat. #{kind}",
        )
        post_update(
            post=post,
            actor=editor,
            data={"title": f"Geschichte von {NAME} ({kind})"},
            targets=[TargetSpec(account=account, body_override=f"{NAME.upper()} erzählt ({kind})")],
            media_add=[NewMedia(image=picture, alt_text=f"{NAME} im Therapiegarten")],
            featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("photo", "name", "story"))],
        )
        # As the image check would have read her name off a sign in the picture (posts.scans).
        MediaScan.objects.filter(media__post=post).update(
            status="done",
            text=f"Therapiegarten\n{NAME}",
            spans=[{"label": "PATIENT_NAME", "start": 15, "end": 15 + len(NAME), "text": NAME, "box": None}],
        )
        posts[kind] = post
    for kind, last in (("published", PostStatus.PUBLISHED), ("scheduled", PostStatus.SCHEDULED)):
        with transaction.atomic():
            locked = Post.objects.select_for_update().get(pk=posts[kind].pk)
            for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
                post_transition(post=locked, to=status, actor=editor, reason="history for the test")
                if status == last:
                    break
    subject_update(subject=subject, actor=record.recorded_by, data={"deceased_on": dt.date(2025, 1, 2)})
    return {"subject": subject, "record": record, "posts": posts}


def _database_text() -> str:
    """Every row of every table, read raw through SQL, plus ``dumpdata`` of every app (sessions, django_q)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("utf-8", "replace"))
                    elif value is not None:
                        parts.append(str(value))
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    parts.append(dump.getvalue())
    return "\n".join(parts)


def _spellings(text: str) -> list[str]:
    """The forms a name takes in storage: as typed, JSON-escaped (ensure_ascii), lower case."""
    escaped = json.dumps(text)[1:-1]
    return [text.casefold(), escaped.casefold()]


def _files_text() -> list[tuple[Path, bytes]]:
    found = []
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        for path in Path(root).rglob("*"):
            if path.is_file():
                found.append((path, path.read_bytes()))
    return found


def _name_found(texts: str, files: list[tuple[Path, bytes]], name: str) -> list[str]:
    hits = [form for form in _spellings(name) if form in texts.casefold()]
    for path, content in files:
        for form in (name.encode(), name.casefold().encode(), name.upper().encode()):
            if form in content or name.casefold() in path.name.casefold():
                hits.append(str(path))
    return hits


def _verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_erasing_a_person_featured_in_three_posts_keeps_the_chain_and_leaves_their_name_nowhere(
    anna: dict[str, Any], officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    subject = anna["subject"]
    assert _name_found(_database_text(), _files_text(), NAME), "the test must see the name before erasure"
    before = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=subject, actor=officer, reason="Antrag nach Art. 17 vom 3. März", received_via="letter")

    assert "Audit trail intact" in _verify_audit()
    database, files = _database_text(), _files_text()
    for name in (NAME, MOTHER, REFERENCE, "Müller"):
        assert _name_found(database, files, name) == [], name
    subject.refresh_from_db()
    assert (subject.display_name, subject.date_of_birth, subject.deceased_on) == (
        f"Erased person #{subject.pk}",
        None,
        None,
    )
    assert subject.erased_at is not None
    assert set(ConsentSigner.objects.values_list("name", flat=True)) == {"[erased]"}
    record = ConsentRecord.objects.get()
    assert record.revoked_at is not None and record.document_checksum  # the hash stays
    # What the birth date left behind goes with it; the required description reads as erased.
    assert (
        record.withdrawal_check,
        record.reconsent_due_on,
        record.description,
        record.notes,
        record.document.name,
    ) == (
        "",
        None,
        "[erased]",
        "",
        "",
    )
    assert [p for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()] == []
    posts = anna["posts"]
    for kind in ("published", "scheduled", "draft"):
        post = Post.objects.get(pk=posts[kind].pk)
        assert post.body.startswith("[erased] (54) erzählt")
    assert Post.objects.get(pk=posts["scheduled"].pk).status == PostStatus.BLOCKED
    assert TakedownItem.objects.filter(post=posts["published"]).exists()
    erased = AuditEvent.objects.get(action="subject.erased")
    assert erased.changes["reason"] == "Antrag nach Art. 17 vom 3. März" and erased.seq > before
    assert ErasureKey.objects.filter(erased_at__isnull=False, key="").count() == 4  # Anna and her three posts


def test_events_show_the_name_while_the_key_exists_and_who_erased_it_after(
    anna: dict[str, Any], officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    subject = anna["subject"]
    created = AuditEvent.objects.get(action="subject.created", object_id=str(subject.pk))
    recorded = AuditEvent.objects.get(action="consent.recorded")
    assert NAME not in created.object_repr and NAME not in json.dumps(recorded.changes, ensure_ascii=False)
    assert Opener().repr(created) == f"{NAME} ({REFERENCE})"
    assert Opener().changes(recorded)["signers"][1][1] == MOTHER
    assert Opener().changes(created)["reference"] == REFERENCE

    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=subject, actor=officer, reason="Art. 17", received_via="email")

    created = AuditEvent.objects.get(pk=created.pk)
    shown = Opener().repr(created)
    assert shown.startswith("erased on ") and shown.endswith(f"by {officer.get_username()}")
    assert Opener().changes(recorded)["signers"].startswith("erased on ")


def test_admin_audit_trail_shows_the_name_before_and_erased_after(
    client: Any, anna: dict[str, Any], officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:audit_auditevent_changelist") + "?action=subject.created"
    assert NAME in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=anna["subject"], actor=officer, reason="Art. 17")
    page = client.get(url).content.decode()
    assert NAME not in page and "erased on" in page


def test_officer_erases_from_the_person_page_with_the_confirmation_box(
    client: Any, anna: dict[str, Any], officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    subject = anna["subject"]
    client.force_login(officer)
    page = client.get(reverse("consent:subject_detail", args=[subject.pk])).content.decode()
    assert "Erase personal data" in page and "Export personal data (Art. 15)" in page
    url = reverse("consent:subject_erase", args=[subject.pk])

    unconfirmed = client.post(url, {"reason": "Art. 17", "received_via": "letter"})
    assert unconfirmed.status_code == 400
    assert Subject.objects.get(pk=subject.pk).erased_at is None

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"reason": "Art. 17", "received_via": "letter", "confirm_irreversible": "yes"})
    assert done.status_code == 302
    assert Subject.objects.get(pk=subject.pk).erased_at is not None
    after = client.get(reverse("consent:subject_detail", args=[subject.pk])).content.decode()
    assert NAME not in after and "Erase personal data" not in after
    again = client.post(url, {"reason": "Art. 17", "received_via": "letter", "confirm_irreversible": "yes"})
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="subject.erased").count() == 1


@pytest.mark.parametrize("role", [roles.EDITOR, roles.GOVERNANCE, roles.LEGAL_REVIEWER, roles.VIEWER])
def test_non_officers_may_neither_erase_nor_export(client: Any, anna: dict[str, Any], role: str) -> None:
    subject = anna["subject"]
    user = make_user("someone", role)
    client.force_login(user)
    data = {"reason": "Art. 17", "received_via": "letter", "confirm_irreversible": "yes"}
    assert client.post(reverse("consent:subject_erase", args=[subject.pk]), data).status_code in {403, 404}
    assert client.post(reverse("consent:subject_export", args=[subject.pk])).status_code in {403, 404}
    with pytest.raises(PermissionDenied):
        subject_erase(subject=subject, actor=user, reason="Art. 17")
    with pytest.raises(PermissionDenied):
        subject_export(subject=subject, actor=user)
    assert Subject.objects.get(pk=subject.pk).erased_at is None
    assert not AuditEvent.objects.filter(action__in=["subject.erased", "subject.exported"]).exists()


def test_export_holds_the_persons_records_posts_and_decrypted_events(
    client: Any, anna: dict[str, Any], officer: Any
) -> None:
    subject = anna["subject"]
    client.force_login(officer)

    response = client.post(reverse("consent:subject_export", args=[subject.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["subject.json", "subject.pdf"]
    data = json.loads(archive.read("subject.json"))
    assert data["subject"]["name"] == NAME and data["subject"]["date_of_birth"] == "1970-03-14"
    (record,) = data["consent_records"]
    assert [signer["name"] for signer in record["signers"]] == [NAME, MOTHER]
    assert record["document"]["sha256"] == anna["record"].document_checksum
    assert {post["post"] for post in data["posts"]} == {post.pk for post in anna["posts"].values()}
    published = {item["post"] for item in data["publications"]["publications"]}
    assert anna["posts"]["published"].pk in published and anna["posts"]["draft"].pk not in published
    names = {event["name"] for event in data["audit_events"]}
    assert f"{NAME} ({REFERENCE})" in names
    assert archive.read("subject.pdf").startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="subject.exported", actor=officer).count() == 1


def test_export_command_writes_the_zip(anna: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "anna.zip"
    call_command("subject_export", REFERENCE, "-o", str(target), stdout=StringIO())
    data = json.loads(zipfile.ZipFile(target).read("subject.json"))
    assert data["subject"]["reference"] == REFERENCE
    assert AuditEvent.objects.filter(action="subject.exported", actor_repr="manage.py subject_export").exists()
    with pytest.raises(CommandError):
        call_command("subject_export", "NO-SUCH", "-o", str(tmp_path / "x.zip"), stdout=StringIO())


def test_erasure_needs_a_reason_and_changes_nothing_without_one(anna: dict[str, Any], officer: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        subject_erase(subject=anna["subject"], actor=officer, reason="  ")
    assert Subject.objects.get(pk=anna["subject"].pk).display_name == NAME
    assert ErasureKey.objects.filter(erased_at__isnull=False).count() == 0


def test_an_erased_person_can_neither_be_changed_nor_get_new_consent(
    anna: dict[str, Any], officer: Any, record_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.exceptions import ValidationError

    subject = anna["subject"]
    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=subject, actor=officer, reason="Art. 17")
    with pytest.raises(ValidationError):
        subject_update(subject=subject, actor=officer, data={"display_name": NAME})
    with pytest.raises(ValidationError):
        record_factory(Subject.objects.get(pk=subject.pk))
    assert Subject.objects.get(pk=subject.pk).display_name == f"Erased person #{subject.pk}"


def test_the_fhir_exports_and_evidence_packs_of_an_erased_person_still_open(
    client: Any, anna: dict[str, Any], officer: Any, governance: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Erasure removes the signed form; the FHIR attachment then has no file to hash (it opened the folder: 500)."""
    from tests.consent.test_fhir import validate_consent

    subject = anna["subject"]
    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=subject, actor=officer, reason="Art. 17", received_via="letter")
    record = ConsentRecord.objects.get()
    client.force_login(officer)
    resource = client.get(reverse("consent:fhir", args=[record.pk]))
    assert resource.status_code == 200
    attachment = resource.json()["sourceAttachment"]
    assert "hash" not in attachment and "title" not in attachment  # no file, no name: nothing empty
    validate_consent(resource.json())
    assert client.get(reverse("consent:subject_fhir", args=[subject.pk])).status_code == 200
    client.force_login(governance)
    pack = client.get(reverse("evidence:pack_download", args=[anna["posts"]["published"].pk]))
    assert pack.status_code == 200 and pack["Content-Type"] == "application/zip"
    assert NAME not in zipfile.ZipFile(io.BytesIO(pack.content)).read("fhir-bundle.json").decode()


def test_an_erased_persons_page_offers_no_new_consent_and_its_forms_say_why(
    client: Any, anna: dict[str, Any], officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The officer was offered "Record consent" and the whole form, only to be refused after filling it in."""
    subject = anna["subject"]
    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject=subject, actor=officer, reason="Art. 17", received_via="letter")
    client.force_login(officer)
    page = client.get(reverse("consent:subject_detail", args=[subject.pk])).content.decode()
    assert reverse("consent:record_create", args=[subject.pk]) not in page
    assert reverse("consent:subject_edit", args=[subject.pk]) not in page
    for url in (
        reverse("consent:record_create", args=[subject.pk]),
        reverse("consent:subject_edit", args=[subject.pk]),
    ):
        for response in (client.get(url, follow=True), client.post(url, {"display_name": NAME}, follow=True)):
            assert response.redirect_chain == [(reverse("consent:subject_detail", args=[subject.pk]), 302)]
            assert "This person&#x27;s personal data was erased" in response.content.decode()
    assert ConsentRecord.objects.count() == 1
    assert Subject.objects.get(pk=subject.pk).display_name == f"Erased person #{subject.pk}"
