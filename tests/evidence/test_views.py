"""The "Evidence pack" button on the post page and its download: who gets it, and that taking it is audited."""

import hashlib
import io
import zipfile
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from evidence.packs import ACTION_DOWNLOADED, MANIFEST, pack_verify
from people import roles
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_legal_downloads_the_pack_from_the_post_page_and_it_is_audited(
    client: Any, story: Any, reviewers: dict[str, Any]
) -> None:
    post = story()
    client.force_login(reviewers["legal"])
    page = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    url = reverse("evidence:pack_download", args=[post.pk])
    assert f'href="{url}"' in page and "Evidence pack" in page

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="evidence-post-{post.pk}-')
    assert response["Cache-Control"] == "private, no-store"
    data = response.content
    assert pack_verify(data) == []
    with zipfile.ZipFile(io.BytesIO(data)) as zip_file:
        manifest_hash = hashlib.sha256(zip_file.read(MANIFEST)).hexdigest()
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.action, event.actor, event.object_id) == (ACTION_DOWNLOADED, reviewers["legal"], str(post.pk))
    assert event.changes["manifest_sha256"] == manifest_hash


def test_a_viewer_sees_the_post_but_gets_no_pack(client: Any, story: Any, viewer: Any) -> None:
    post = story(rounds=1, revoke=False)
    before = AuditEvent.objects.count()
    client.force_login(viewer)

    page = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    response = client.get(reverse("evidence:pack_download", args=[post.pk]))

    assert "data-evidence-panel" not in page
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before


def test_a_reviewer_of_another_campaign_gets_not_found(client: Any, story: Any) -> None:
    post = story(rounds=1, revoke=False)
    outsider = make_user("legal-elsewhere", roles.LEGAL_REVIEWER)
    before = AuditEvent.objects.count()
    client.force_login(outsider)

    response = client.get(reverse("evidence:pack_download", args=[post.pk]))

    assert response.status_code == 404
    assert AuditEvent.objects.count() == before


def test_an_editor_outside_the_team_gets_not_found_and_the_team_gets_the_pack(
    client: Any, story: Any, editor: Any, other_editor: Any
) -> None:
    post = story(rounds=1, revoke=False)
    client.force_login(other_editor)
    assert client.get(reverse("evidence:pack_download", args=[post.pk])).status_code == 404
    client.force_login(editor)
    assert client.get(reverse("evidence:pack_download", args=[post.pk])).status_code == 200


def test_a_post_that_does_not_exist_is_not_found(client: Any, governance: Any) -> None:
    client.force_login(governance)
    assert client.get(reverse("evidence:pack_download", args=[987654])).status_code == 404
