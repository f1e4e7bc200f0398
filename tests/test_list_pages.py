"""The lists that grow with the years, a page at a time: archives, purge reports, notices and the consent registry.

Each costs the same queries for 5 rows as for 60, its second page shows the rows after the first,
and its links keep the search and filters.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.models import ArchiveJob, ArchiveStatus, PurgeReport
from people.models import Notice

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    client.get(url)  # the first page after new rows may recount the navigation's badges (cached after)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def archives(governance: Any, count: int, start: int = 0) -> list[int]:
    made = ArchiveJob.objects.bulk_create(
        ArchiveJob(
            requested_by=governance,
            date_from=dt.date(2026, 1, 1),
            date_to=dt.date(2026, 1, 31),
            status=ArchiveStatus.DONE,
            total=40,
            done=40,
        )
        for _ in range(count)
    )
    return [job.pk for job in made]


def reports(count: int, start: int = 0) -> list[int]:
    now = timezone.now()
    made = PurgeReport.objects.bulk_create(
        PurgeReport(
            ran_at=now - dt.timedelta(days=start + n),
            ran_by="purge (Zeitplan)",
            counts={"media": 3, "consent_document": 1},
            held_counts={"media": 2},
            purged=[{"kind": "media", "id": k} for k in range(3)] + [{"kind": "consent_document", "id": 9}],
            held=[{"kind": "media", "id": 7, "holds": [1]}, {"kind": "media", "id": 8, "holds": [1]}],
        )
        for n in range(count)
    )
    return [report.pk for report in made]


def notices(user: Any, count: int, start: int = 0) -> list[int]:
    now = timezone.now()
    made = Notice.objects.bulk_create(
        Notice(
            user=user,
            key=f"post.approved:{start + n}",
            subject=f"„Herzwoche Tag {start + n}“ wurde freigegeben",
            created_at=now - dt.timedelta(minutes=start + n),
        )
        for n in range(count)
    )
    return [notice.pk for notice in made]


def listed(response: Any, name: str) -> list[int]:
    return [row.pk for row in response.context[name]]


@pytest.mark.parametrize(
    ("url", "who", "make", "name"),
    [
        (reverse("evidence:archives"), "governance", lambda user, n, start: archives(user, n, start), "jobs"),
        (reverse("evidence:purge_reports"), "governance", lambda _user, n, start: reports(n, start), "reports"),
        (reverse("people:notices"), "editor", lambda user, n, start: notices(user, n, start), "notices"),
    ],
    ids=["archives", "purge reports", "notices"],
)
def test_a_list_costs_the_same_queries_for_5_and_60_rows_and_pages_the_rest(
    client: Client, request: Any, url: str, who: str, make: Callable[..., list[int]], name: str
) -> None:
    user = request.getfixturevalue(who)
    client.force_login(user)
    make(user, 5, 0)
    five = queries(client, url)
    make(user, 55, 5)
    sixty = queries(client, url)
    first = client.get(url)
    second = client.get(url, {"page": "2"})

    assert sixty == five
    assert len(listed(first, name)) == 50
    assert len(listed(second, name)) == 10
    assert not set(listed(first, name)) & set(listed(second, name))
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    assert "Page 2" in second.text


def test_purge_reports_show_their_totals_without_loading_their_lists(client: Client, governance: Any) -> None:
    reports(1)
    client.force_login(governance)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("evidence:purge_reports"))

    listing = next(query["sql"] for query in captured if 'FROM "evidence_purgereport"' in query["sql"])
    assert '"evidence_purgereport"."purged"' not in listing
    assert "<td>4</td><td>2</td>" in response.text


def test_notices_past_the_last_page_offer_the_way_back(client: Client, editor: Any) -> None:
    notices(editor, 3)
    client.force_login(editor)

    response = client.get(reverse("people:notices"), {"page": "7"})

    assert response.status_code == 200
    assert 'rel="first"' in response.text


def test_the_registry_pages_keep_the_search_and_state(
    client: Client, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    for n in range(60):
        record_factory(subject_factory(display_name=f"Müller {n:02d}", reference=f"MUE-{n:02d}"))
    subject_factory(display_name="Özdemir", reference="OEZ-1")
    client.force_login(officer)
    url = reverse("consent:registry")

    first = client.get(url, {"q": "müller", "state": "active"})
    second = client.get(url + first.context["page"].next_url)

    assert first.context["page"].next_url == "?q=m%C3%BCller&state=active&page=2"
    assert [row["subject"].display_name for row in first.context["rows"]][:2] == ["Müller 00", "Müller 01"]
    assert [row["subject"].display_name for row in second.context["rows"]] == [f"Müller {n}" for n in range(50, 60)]
    assert "Page 2 of 2" in second.text


def test_the_registry_keeps_a_right_search_when_the_state_is_wrong(
    client: Client, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record_factory(subject_factory(display_name="Müller", reference="MUE-1"))
    record_factory(subject_factory(display_name="Özdemir", reference="OEZ-1"))
    client.force_login(officer)

    response = client.get(reverse("consent:registry"), {"q": "oez", "state": "lost"})

    assert response.status_code == 200
    assert [row["subject"].display_name for row in response.context["rows"]] == ["Özdemir"]
    assert "Ignored:" in response.text
