"""The compliance archive: Governance exports a campaign or a period as a ZIP, in the background, audited."""

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from evidence import archive
from evidence.models import ArchiveJob, ArchiveStatus
from people import roles
from posts.models import Post
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _zip_of(job: ArchiveJob) -> zipfile.ZipFile:
    return zipfile.ZipFile(archive.archive_path(job))


def _index_ids(job: ArchiveJob) -> list[int]:
    with _zip_of(job) as zipped, zipped.open("index.csv") as entry:
        rows = list(csv.DictReader(io.TextIOWrapper(entry, encoding="utf-8")))
    return [int(row["post_id"]) for row in rows]


def _events(job: ArchiveJob) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="evidence.archivejob", object_id=str(job.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.fixture
def two_campaigns(editor: Any, campaign_factory: Any, post_factory: Any, accounts: list[Any]) -> dict[str, Any]:
    heart = campaign_factory(editor, name="Herzwoche – Kardiologie 💓")
    flu = campaign_factory(editor, name="Grippe-Saison")
    soon = timezone.now() + dt.timedelta(days=3)
    heart_posts = [
        post_factory(editor, heart, title="Dr. Müller über Vorhofflimmern", targets=accounts[:2], when=soon),
        post_factory(editor, heart, title="Station 4B: ‏שלום and 030 1234567", when=soon + dt.timedelta(days=1)),
        post_factory(editor, heart, title="Unscheduled draft"),
    ]
    flu_posts = [post_factory(editor, flu, title="Impfen lohnt sich", when=soon + dt.timedelta(days=20))]
    return {"heart": heart, "flu": flu, "heart_posts": heart_posts, "flu_posts": flu_posts, "soon": soon}


def test_governance_exports_a_campaign_and_the_zip_holds_exactly_its_posts(
    client: Client, governance: Any, two_campaigns: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(governance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evidence:archives"), {"campaign": two_campaigns["heart"].pk})
    job = ArchiveJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("evidence:archive", args=[job.pk])

    job.refresh_from_db()
    assert job.status == ArchiveStatus.DONE
    assert (job.done, job.total) == (3, 3)
    expected = sorted(post.pk for post in two_campaigns["heart_posts"])
    assert _index_ids(job) == expected
    with _zip_of(job) as zipped:
        names = set(zipped.namelist())
        pack_files = ("evidence.pdf", "evidence.json", "fhir-bundle.json", "manifest.json", "manifest.sig")
        assert {f"posts/{pk}/{name}" for pk in expected for name in pack_files} <= names
        assert not any(f"posts/{post.pk}/" in name for post in two_campaigns["flu_posts"] for name in names)
        facts = json.loads(zipped.read(f"posts/{expected[0]}/evidence.json"))
        manifest = json.loads(zipped.read("archive.json"))
    first = Post.objects.get(pk=expected[0])
    assert facts["post"]["title"] == "Dr. Müller über Vorhofflimmern"
    assert facts["revisions"][0]["content_hash"] == first.current_revision.content_hash
    post_events = AuditEvent.objects.filter(object_type="posts.post", object_id=str(first.pk))
    assert set(post_events.values_list("seq", flat=True)) <= {event["seq"] for event in facts["events"]}
    assert manifest["campaign"] == two_campaigns["heart"].pk and manifest["posts"] == 3
    assert job.size == archive.archive_path(job).stat().st_size
    assert job.sha256 == archive.file_sha256(archive.archive_path(job))
    assert _events(job) == ["archive.requested", "archive.completed"]
    # Private storage, readable by the server's user only; never under MEDIA_ROOT.
    path = archive.archive_path(job)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    from django.conf import settings

    assert settings.MEDIA_ROOT not in path.parents


def test_a_period_archive_holds_the_posts_scheduled_in_it(
    client: Client, governance: Any, two_campaigns: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    soon = timezone.localdate(two_campaigns["soon"])
    client.force_login(governance)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("evidence:archives"),
            {"date_from": soon.isoformat(), "date_to": (soon + dt.timedelta(days=5)).isoformat()},
        )
    job = ArchiveJob.objects.get()
    assert job.status == ArchiveStatus.DONE
    # The two scheduled heart posts; not the unscheduled draft (created today), not the flu post (20 days on).
    assert _index_ids(job) == sorted(post.pk for post in two_campaigns["heart_posts"][:2])

    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("evidence:archives"), {"date_from": today.isoformat(), "date_to": today.isoformat()})
    today_job = ArchiveJob.objects.order_by("-pk").first()
    assert today_job is not None and _index_ids(today_job) == [two_campaigns["heart_posts"][2].pk]


def test_the_progress_page_shows_done_of_total_and_reloads_until_finished(
    client: Client, governance: Any, two_campaigns: dict[str, Any]
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["heart"])
    ArchiveJob.objects.filter(pk=job.pk).update(status=ArchiveStatus.RUNNING, done=2)
    client.force_login(governance)
    page = client.get(reverse("evidence:archive", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page
    assert 'value="2"' in page and 'max="3"' in page and "2 of 3 posts" in page
    assert "Download archive" not in page


def test_progress_is_stored_while_the_archive_is_written(
    governance: Any, two_campaigns: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["heart"])
    monkeypatch.setattr(archive, "PROGRESS_EVERY_SECONDS", 0.0)
    seen: list[int] = []
    write = archive._post_pack_write

    def watching(**kwargs: Any) -> dict[str, Any]:
        seen.append(ArchiveJob.objects.get(pk=job.pk).done)  # what the progress page reads now
        return write(**kwargs)

    monkeypatch.setattr(archive, "_post_pack_write", watching)
    archive.archive_run(job_id=job.pk)
    assert seen == [0, 1, 2]
    job.refresh_from_db()
    assert (job.status, job.done, job.percent) == (ArchiveStatus.DONE, 3, 100)


def test_download_streams_the_zip_and_is_audited(
    client: Client, governance: Any, two_campaigns: dict[str, Any]
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["flu"])
    archive.archive_run(job_id=job.pk)
    job.refresh_from_db()
    client.force_login(governance)
    page = client.get(reverse("evidence:archive", args=[job.pk])).content.decode()
    assert "Download archive" in page and 'http-equiv="refresh"' not in page and job.sha256 in page
    response = client.get(reverse("evidence:archive_download", args=[job.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()[-1] == "archive.json"
    assert _events(job) == ["archive.requested", "archive.completed", "archive.downloaded"]
    download = AuditEvent.objects.filter(action="archive.downloaded").get()
    assert download.actor == governance and download.content_hash == job.sha256


@pytest.mark.parametrize("role", [roles.EDITOR, roles.VIEWER, roles.CONSENT_OFFICER, roles.LEGAL_REVIEWER])
def test_only_governance_may_export_see_or_download(
    client: Client, governance: Any, two_campaigns: dict[str, Any], role: str
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["flu"])
    archive.archive_run(job_id=job.pk)
    before = AuditEvent.objects.count()
    client.force_login(make_user("someone", role))
    assert client.get(reverse("evidence:archives")).status_code == 403
    assert client.post(reverse("evidence:archives"), {"campaign": two_campaigns["heart"].pk}).status_code == 403
    assert client.get(reverse("evidence:archive", args=[job.pk])).status_code == 403
    assert client.get(reverse("evidence:archive_download", args=[job.pk])).status_code == 403
    assert ArchiveJob.objects.count() == 1 and AuditEvent.objects.count() == before
    assert "evidence/archives" not in client.get(reverse("posts:calendar")).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a campaign, or a period"),
        ({"date_from": "2031-03-10"}, "Choose a campaign, or a period"),
        ({"date_from": "2031-03-10", "date_to": "2031-03-01"}, "must not be before the first day"),
        ({"campaign": "heart", "date_from": "2031-03-01", "date_to": "2031-03-10"}, "not both"),
        ({"date_from": "31.02.2031", "date_to": "2031-03-10"}, "Enter a valid date"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    client: Client, governance: Any, two_campaigns: dict[str, Any], data: dict[str, str], message: str
) -> None:
    if data.get("campaign") == "heart":
        data = {**data, "campaign": str(two_campaigns["heart"].pk)}
    before = AuditEvent.objects.count()
    client.force_login(governance)
    response = client.post(reverse("evidence:archives"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ArchiveJob.objects.exists() and AuditEvent.objects.count() == before


def test_a_second_delivery_of_the_task_leaves_a_finished_archive_alone(
    governance: Any, two_campaigns: dict[str, Any]
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["heart"])
    archive.archive_run(job_id=job.pk)
    job.refresh_from_db()
    sha, events = job.sha256, AuditEvent.objects.count()
    archive.archive_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.sha256 == sha and AuditEvent.objects.count() == events


def test_a_failing_post_fails_the_job_with_its_error_and_leaves_no_file(
    governance: Any, two_campaigns: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = archive.archive_request(actor=governance, campaign=two_campaigns["heart"])

    def broken(**kwargs: Any) -> dict[str, Any]:
        raise OSError("No space left on device")

    monkeypatch.setattr(archive, "_post_pack_write", broken)
    archive.archive_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ArchiveStatus.FAILED and "No space left on device" in job.error
    assert not list(archive.archives_dir().iterdir())
    assert _events(job) == ["archive.requested", "archive.failed"]


def test_the_archive_list_costs_the_same_queries_for_one_or_many_archives(
    client: Client, governance: Any, two_campaigns: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(governance)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("evidence:archives"))
        assert page.status_code == 200
        return len(captured)

    archive.archive_request(actor=governance, campaign=two_campaigns["heart"])
    queries()  # the first page after an audit event also recounts the navigation's badges (cached after)
    one = queries()
    for _n in range(12):
        archive.archive_request(actor=governance, campaign=two_campaigns["flu"])
    queries()
    assert queries() == one


def test_governance_finds_the_archive_in_the_navigation(client: Client, governance: Any) -> None:
    client.force_login(governance)
    page = client.get(reverse("posts:calendar")).content.decode()
    assert f'href="{reverse("evidence:archives")}"' in page


def test_download_asks_to_confirm_once_the_window_passed_as_a_single_pack_does(
    governance: Any, two_campaigns: dict[str, Any], settings: Any
) -> None:
    """The archive holds every post's pack; a single pack asked "confirm it's you", the archive did not."""
    from tests.people.test_two_factor import later, sign_in, where, with_totp

    settings.ROUNDS_TWO_FACTOR_REQUIRED = True
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True
    job = archive.archive_request(actor=governance, campaign=two_campaigns["flu"])
    archive.archive_run(job_id=job.pk)
    client = Client()
    sign_in(client, governance, secret=with_totp(governance))
    url = reverse("evidence:archive_download", args=[job.pk])
    assert client.get(url).status_code == 200
    with later():
        assert where(client.get(url)) == reverse("account_reauthenticate")
    assert AuditEvent.objects.filter(action="archive.downloaded").count() == 1
