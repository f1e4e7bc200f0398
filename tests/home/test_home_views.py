"""The home page "Needs attention": each role sees its own sections and counts, nobody sees another's items."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.services import round_submit
from people import roles
from people.models import Notice
from publishing.models import Publication, PublicationStatus
from tests.conftest import make_user
from tests.plans import test_plans
from tests.plans.test_plan_views import confirm, token_of, upload

pytestmark = pytest.mark.django_db

plan_accounts = test_plans.plan_accounts
plan_clock = test_plans.plan_clock


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sections(html: str) -> dict[str, int]:
    """Return the sections the page shows, each with the count in its heading."""
    found = re.findall(r'data-section="(\w+)".*?data-count>(\d+)<', html, flags=re.S)
    return {key: int(count) for key, count in found}


def nav_total(html: str) -> int:
    match = re.search(r"data-attention-count>(\d+)<", html)
    return int(match.group(1)) if match else 0


def publishing_badge(html: str) -> int:
    match = re.search(r"data-publishing-count>(\d+)<", html)
    return int(match.group(1)) if match else 0


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_medical_reviewer_sees_the_review_due_and_nothing_of_the_editors(medical: Any, ward: dict[str, Any]) -> None:
    html = client_for(medical).get("/").content.decode()

    assert sections(html) == {"reviews": 1}
    assert "Grippeimpfung: Mo–Fr 8–12 Uhr" in html
    assert reverse("approvals:review", args=[ward["in_review"].pk]) in html
    assert "Ärztin Dr. Öztürk" not in html and "Annas Geschichte" not in html and "Jürgen Weiß" not in html
    assert "Nothing needs your attention" not in html
    assert nav_total(html) == 1
    assert publishing_badge(html) == 0


def test_the_editor_sees_posts_sent_back_failed_and_blocked_publications_and_the_takedown(
    editor: Any, ward: dict[str, Any]
) -> None:
    html = client_for(editor).get("/").content.decode()

    assert sections(html) == {"sent_back": 1, "publications": 2, "takedowns": 1}
    assert "Ärztin Dr. Öztürk im Porträt" in html
    assert "Blutspende am 12.04." in html and "HTTP 500 from the platform" in html
    assert "Annas Reha-Tagebuch" in html and "consent revoked" in html  # the reason it was blocked
    assert "Annas Geschichte" in html  # the live post that must come down
    assert "Grippeimpfung" not in html  # their own post in review is not theirs to review
    assert "Nothing needs your attention" not in html
    assert nav_total(html) == 4
    assert publishing_badge(html) == 3


def test_communications_on_the_campaign_sees_reviews_publishing_and_takedowns(comms: Any, ward: dict[str, Any]) -> None:
    html = client_for(comms).get("/").content.decode()

    # Communications reviews after Medical: nothing to decide yet, so that section stays away.
    assert sections(html) == {"publications": 2, "takedowns": 1}
    assert publishing_badge(html) == 3


def test_the_consent_officer_sees_the_consent_ending_within_thirty_days_only(
    officer: Any, ward: dict[str, Any]
) -> None:
    html = client_for(officer).get("/").content.decode()

    assert sections(html) == {"consents": 1}
    assert "Jürgen Weiß" in html and reverse("consent:record_detail", args=[ward["ending"].pk]) in html
    assert "Mehmet Kaya" not in html and "Anna Berger" not in html  # a year left; revoked


@pytest.mark.parametrize("role", [roles.VIEWER, roles.GOVERNANCE, roles.EDITOR])
def test_who_has_nothing_to_act_on_is_told_so(role: str, ward: dict[str, Any]) -> None:
    """A viewer and Governance read everything and act on nothing; an editor of another campaign has nothing."""
    html = client_for(make_user("someone", role)).get("/").content.decode()

    assert sections(html) == {}
    assert "Nothing needs your attention" in html
    assert nav_total(html) == 0
    for title in ("Grippeimpfung", "Ärztin Dr. Öztürk", "Annas Geschichte", "Blutspende", "Annas Reha-Tagebuch"):
        assert title not in html


def test_unread_notices_wait_on_their_reader_only(viewer: Any, editor: Any) -> None:
    Notice.objects.create(user=viewer, key="n1", subject="Neue Kampagne „Herzwoche“", url="/calendar/")
    Notice.objects.create(user=viewer, key="n2", subject="Gelesen", read_at=timezone.now())

    html = client_for(viewer).get("/").content.decode()
    assert sections(html) == {"notices": 1}
    assert "Neue Kampagne „Herzwoche“" in html and "Gelesen" not in html
    assert "Herzwoche" not in client_for(editor).get("/").content.decode()


def test_a_previewed_plan_waits_until_it_is_imported(
    editor: Any, plan_accounts: list[Any], plan_clock: None, other_editor: Any
) -> None:
    client = client_for(editor)
    token = token_of(upload(client, "plan_native_utf8.csv"))

    html = client.get("/").content.decode()
    assert sections(html) == {"imports": 1}
    assert reverse("plans:preview", args=[token]) in html and "plan_native_utf8.csv" in html
    assert "plan_native_utf8.csv" not in client_for(other_editor).get("/").content.decode()

    confirm(client, token)
    assert sections(client.get("/").content.decode()) == {}


def test_a_takedown_is_never_under_nothing_needs_attention_on_the_publishing_page(
    editor: Any, ward: dict[str, Any]
) -> None:
    """Issue 15: "Nothing needs attention" stood above a pending takedown."""
    html = client_for(editor).get(reverse("publishing:publishing")).content.decode()

    assert "Nothing needs attention" not in html
    assert f'data-takedown="{ward["takedown"].pk}"' in html


def test_the_publishing_page_lists_blocked_posts_with_why(editor: Any, comms: Any, ward: dict[str, Any]) -> None:
    for user in (editor, comms):
        html = client_for(user).get(reverse("publishing:publishing")).content.decode()
        blocked = html.split('id="blocked"')[1].split("<h2")[0]
        assert f'data-blocked-post="{ward["stopped"].pk}"' in blocked
        assert "consent revoked" in blocked
        assert "Annas Geschichte" not in blocked  # live, not blocked: it is a takedown


def test_a_published_post_whose_consent_was_revoked_says_a_takedown_is_pending(
    editor: Any, viewer: Any, ward: dict[str, Any]
) -> None:
    html = client_for(editor).get(reverse("posts:post_detail", args=[ward["live"].pk])).content.decode()
    assert "data-takedown-pending-notice" in html and "Takedown pending" in html
    other = client_for(editor).get(reverse("posts:post_detail", args=[ward["failed"].pk])).content.decode()
    assert "Takedown pending" not in other


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("who", ["editor", "comms", "medical", "officer"])
def test_home_and_menu_counts_cost_the_same_queries_for_one_item_as_for_many(
    who: str,
    editor: Any,
    comms: Any,
    medical: Any,
    officer: Any,
    ward: dict[str, Any],
    account_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    user = {"editor": editor, "comms": comms, "medical": medical, "officer": officer}[who]
    client = client_for(user)
    client.get("/")  # warm the session and the caches of a first request
    home_before = _queries(client, "/")
    menu_before = _queries(client, reverse("people:preferences"))
    before = sections(client.get("/").content.decode())

    campaign, now = ward["campaign"], timezone.now()
    for n in range(12):
        account = account_factory("instagram", name=f"Station {n}")
        post = post_factory(editor, campaign, targets=[account], title=f"Post {n}", when=now + dt.timedelta(days=6))
        round_submit(post=post, actor=editor)
        Publication.objects.create(
            post=post, account=account, status=PublicationStatus.BLOCKED, due_at=now, next_attempt_at=now
        )
        Notice.objects.create(user=user, key=f"extra-{n}", subject=f"Notiz {n}")
        record_factory(subject_factory(), expires_on=timezone.localdate() + dt.timedelta(days=n + 1))

    after = sections(client.get("/").content.decode())
    assert sum(after.values()) > sum(before.values()) + 10  # the rows are there, and counted
    assert _queries(client, "/") == home_before
    assert _queries(client, reverse("people:preferences")) == menu_before


def test_an_overdue_review_is_counted_and_marked(medical: Any, ward: dict[str, Any], time_machine: Any) -> None:
    client = client_for(medical)
    assert "overdue" not in client.get("/").content.decode().split('data-section="reviews"')[1]

    time_machine.move_to(timezone.now() + dt.timedelta(days=5), tick=False)
    reviews = client.get("/").content.decode().split('data-section="reviews"')[1].split("</section>")[0]
    assert "1 overdue" in reviews
    assert "home-item-urgent" in reviews and "Grippeimpfung" in reviews


@pytest.mark.parametrize("who", ["editor", "other_editor", "comms", "medical", "governance", "viewer", "officer"])
def test_the_campaigns_acted_for_are_the_publishing_policys(
    who: str, editor: Any, other_editor: Any, comms: Any, medical: Any, officer: Any, ward: dict[str, Any]
) -> None:
    """The set form nested in the counts and the policy the Publishing page asks agree, per role."""
    from publishing.attention import RETRY_PERM, TAKEDOWN_PERM, campaigns_acted_for
    from publishing.policy import PublishingPolicy

    others = {"governance": make_user("gov", roles.GOVERNANCE), "viewer": make_user("view", roles.VIEWER)}
    user = {"editor": editor, "other_editor": other_editor, "comms": comms, "medical": medical, "officer": officer}
    person = {**user, **others}[who]
    policy = PublishingPolicy(person)
    acted = {
        perm: set(campaigns_acted_for(user=person, perm=perm).values_list("pk", flat=True))
        for perm in (RETRY_PERM, TAKEDOWN_PERM)
    }
    assert acted[RETRY_PERM] == policy.retry_campaign_ids
    assert acted[TAKEDOWN_PERM] == policy.takedown_act_campaign_ids
