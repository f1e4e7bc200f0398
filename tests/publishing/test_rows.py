"""The publishing list's rows built in Python give the markup its template gave."""

import datetime as dt
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from posts.models import Account, Campaign, Platform, Post
from publishing.models import Publication, PublicationStatus
from publishing.rows import publication_rows
from tests.approvals.test_rows import HOSTILE, same

# The template's rows before they moved to publishing.rows (publishing/publishing.html).
PUBLICATION_ROW = (Path(__file__).parent / "reference" / "publication_rows.html").read_text()

STORED_ERRORS = [
    "",
    "The platform answered 503.",
    'Connector refused: <b>"bad token"</b> & more',
    "Publishing was stopped: the consent was revoked.",
]


def _rows(now: dt.datetime) -> list[tuple[Publication, bool, str, str]]:
    rows = []
    statuses = [PublicationStatus.FAILED, PublicationStatus.RETRY_WAIT, PublicationStatus.PENDING]
    combinations = product(statuses, [False, True], STORED_ERRORS, [Platform.FACEBOOK, Platform.X])
    for pk, (status, may_retry, error, platform) in enumerate(combinations, start=1):
        campaign = Campaign(pk=pk % 3 + 1, name=f"Herzwoche & <Kampagne {pk}>")
        post = Post(pk=pk, title=HOSTILE if pk % 2 else "", body=f"Grippeimpfung für alle über 60 — Teil {pk}")
        post.campaign = campaign
        account = Account(pk=pk % 4 + 1, name=f"Klinikum Nord {pk} <Öffentlich>", platform=platform)
        publication = Publication(
            pk=pk,
            post=post,
            account=account,
            status=status,
            due_at=now - dt.timedelta(hours=pk),
            next_attempt_at=now + dt.timedelta(minutes=7 * pk),
            attempts=pk % 5,
            last_error=error,
        )
        rows.append((publication, may_retry, str(status.label), str(dict(Platform.choices)[platform])))
    return rows


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("de", "Europe/Berlin"), ("ja", "Asia/Tokyo")])
def test_publication_rows_are_the_template(language: str, zone: str, db: Any) -> None:
    rows = _rows(timezone.now())
    here, token = "/publishing/?page=2&state=failed&campaign=3", "tOkEn<&>"
    with translation.override(language), timezone.override(zone):
        expected = Template(PUBLICATION_ROW).render(Context({"rows": rows, "here": here, "csrf_token": token}))
        built = publication_rows(rows, here=here, csrf_token=token)
    assert same(built) == same(expected)
    assert built.count("<tr ") == len(rows) and built.count("<form ") == sum(1 for row in rows if row[1])
    assert "<script>" not in built and "&lt;script&gt;" in built
