"""Review decisions as electronic signatures (21 CFR 11.50): printed name, time and zone, meaning, validity,
and "confirm it's you" before signing."""

import base64
import datetime as dt
import secrets
import zoneinfo
from typing import Any

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from approvals.models import Confirmation, Decision, ReviewStage, StageRun, Verdict
from approvals.policy import current_stage_run
from approvals.selectors import review_overview
from approvals.services import decision_record, round_submit
from approvals.signatures import meaning_of, signature_of
from audit.models import AuditEvent
from audit.versions import version_of
from posts.models import Post
from posts.services import post_update
from tests.conftest import make_user
from tests.people.totp import totp_code

pytestmark = pytest.mark.django_db

DR_MUELLER = ("Zoë", "Müller-Ağaoğlu")


@pytest.fixture
def medical(reviewers: dict[str, Any]) -> Any:
    user = reviewers["medical"]
    user.first_name, user.last_name = DR_MUELLER
    user.time_zone = "America/New_York"
    user.save()
    return user


def decide(client: Client, post: Post, verdict: str, comment: str = "") -> Any:
    run = current_stage_run(post=post)
    assert run is not None
    data = {"stage_run": run.pk, "verdict": verdict, "comment": comment, "version": version_of(model=Post, pk=post.pk)}
    return client.post(reverse("approvals:decide", args=[post.pk]), data)


def sign_in(client: Client, user: Any, *, secret: str | None = None) -> None:
    """Sign in through the real login page (and the code page with ``secret``): a recent authentication."""
    response = client.post(reverse("login"), {"login": user.username, "password": "pw"})
    assert response.status_code == 302, response.content
    if secret is not None:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302


def later() -> Any:
    """Travel past the window in which a sign-in or confirmation counts as recent."""
    return time_machine.travel(
        timezone.now() + dt.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 5), tick=True
    )


def confirm_page(url: str) -> str:
    return f"{reverse('account_reauthenticate')}?{urlencode({'next': url})}"


# Meaning and validity -----------------------------------------------------------------------


def test_an_approval_is_signed_with_the_printed_name_zone_role_and_how_the_signer_confirmed(
    submitted_post: Post, medical: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision = decision_record(
        stage_run=run, reviewer=medical, verdict=Verdict.APPROVE, confirmation=Confirmation.PASSWORD
    )
    decision = Decision.objects.select_related("reviewer").get(pk=decision.pk)
    assert decision.signer_name == "Zoë Müller-Ağaoğlu"
    assert decision.signer_time_zone == "America/New_York"
    assert decision.signer_role == "Medical reviewer"
    assert decision.confirmation == Confirmation.PASSWORD

    # The name is the one at signing: a later change of the account leaves the signature as it was.
    medical.first_name, medical.last_name = "Zoë", "Schmidt"
    medical.save()
    signature = signature_of(Decision.objects.get(pk=decision.pk), current_hash=submitted_post.content_hash)
    assert signature.printed_name == "Zoë Müller-Ağaoğlu"
    assert signature.username == "medical"
    assert signature.meaning == "Approved as Medical reviewer"
    assert signature.reason == ""
    assert signature.valid
    assert signature.short_hash == submitted_post.content_hash[:12]
    assert signature.signed_at_utc.utcoffset() == dt.timedelta(0)
    signed_at_signer = signature.signed_at_signer
    assert signed_at_signer is not None
    assert signed_at_signer.tzinfo == zoneinfo.ZoneInfo("America/New_York")
    assert signed_at_signer == decision.created_at
    with timezone.override("Europe/Berlin"):
        assert signature.signer_zone_differs
    with timezone.override("America/New_York"):
        assert not signature.signer_zone_differs


def test_a_reviewer_without_a_full_name_signs_with_the_username(
    submitted_post: Post, reviewers: dict[str, Any]
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision = decision_record(stage_run=run, reviewer=reviewers["medical2"], verdict=Verdict.APPROVE)
    assert decision.signer_name == "medical2"
    assert decision.confirmation == Confirmation.NOT_RECORDED


@pytest.mark.parametrize(
    ("verdict", "meaning"),
    [(Verdict.REQUEST_CHANGES, "Requested changes"), (Verdict.REJECT, "Rejected")],
)
def test_request_changes_and_reject_mean_what_they_say_with_the_comment_as_reason(
    submitted_post: Post, medical: Any, verdict: str, meaning: str
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    reason = "Bitte Telefonnummer 0221 478-0 entfernen; Patientendaten 🩺"
    decision = decision_record(stage_run=run, reviewer=medical, verdict=verdict, comment=reason)
    signature = signature_of(decision, current_hash=submitted_post.content_hash)
    assert signature.meaning == meaning
    assert signature.reason == reason
    assert signature.valid


def test_meanings_are_translated_for_the_viewer() -> None:
    with translation.override("en"):
        assert meaning_of(verdict=Verdict.APPROVE, role="Legal reviewer") == "Approved as Legal reviewer"
        assert meaning_of(verdict=Verdict.APPROVE, role="") == "Approved"


def test_a_signature_is_no_longer_valid_once_the_post_changes(submitted_post: Post, medical: Any, editor: Any) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision_record(stage_run=run, reviewer=medical, verdict=Verdict.APPROVE, comment="Quellen geprüft.")
    [signature] = review_overview(user=editor, post=submitted_post).rounds[0].stages[0].signatures
    assert signature.valid and signature.reason == "Quellen geprüft."

    post_update(post=submitted_post, actor=editor, data={"body": "Grippeimpfung: Mo–Fr 8–12 Uhr, Haupthalle."})
    post = Post.objects.select_related("current_revision").get(pk=submitted_post.pk)
    overview = review_overview(user=editor, post=post)
    [signature] = [signature for view in overview.rounds for line in view.stages for signature in line.signatures]
    assert not signature.valid
    assert signature.content_hash == submitted_post.content_hash != post.content_hash


def test_the_audit_event_of_a_decision_carries_the_signatures_meaning_and_printed_name(
    submitted_post: Post, medical: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    with translation.override("de"):  # the trail keeps the site's language whoever signs
        decision = decision_record(
            stage_run=run, reviewer=medical, verdict=Verdict.APPROVE, confirmation=Confirmation.TOTP
        )
    event = AuditEvent.objects.filter(action="review.approve").get()
    assert event.content_hash == decision.content_hash
    assert event.changes["meaning"] == "Approved as Medical reviewer"
    assert event.changes["printed_name"] == "Zoë Müller-Ağaoğlu"
    assert event.changes["signed_as"] == "Medical reviewer"
    assert event.changes["time_zone"] == "America/New_York"
    assert event.changes["confirmation"] == "totp"
    assert event.changes["decision"] == decision.pk


# Pages --------------------------------------------------------------------------------------


def test_review_page_and_post_page_show_the_signature_and_its_validity(
    submitted_post: Post, medical: Any, editor: Any
) -> None:
    client = Client()
    sign_in(client, medical)
    response = decide(client, submitted_post, Verdict.APPROVE, comment="Dosierung stimmt.")
    assert response.status_code == 302
    decision = Decision.objects.get()
    viewer = Client()
    viewer.force_login(editor)  # Europe/Berlin
    for url in [
        reverse("approvals:review", args=[submitted_post.pk]),
        reverse("posts:post_detail", args=[submitted_post.pk]),
    ]:
        page = viewer.get(url).content.decode()
        assert f'data-signature="{decision.pk}" data-signature-valid="true"' in page, url
        assert "Approved as Medical reviewer" in page
        assert "Zoë Müller-Ağaoğlu" in page and "(medical)" in page
        berlin = decision.created_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
        assert f"{berlin:%H:%M} {berlin.tzname()}" in page
        new_york = decision.created_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert f"{new_york:%H:%M} {new_york.tzname()}, America/New_York" in page
        assert f'<code title="{decision.content_hash}">{decision.content_hash[:12]}</code>' in page
        assert "recent sign-in" in page
        assert "Dosierung stimmt." in page

    post_update(post=submitted_post, actor=editor, data={"body": "Neuer Text nach der Freigabe."})
    page = viewer.get(reverse("approvals:review", args=[submitted_post.pk])).content.decode()
    assert f'data-signature="{decision.pk}" data-signature-valid="false"' in page
    assert "no longer valid: the content changed after signing" in page
    assert 'data-signature-valid="true"' not in page


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_review_and_post_pages_cost_the_same_queries_with_1_and_5_decisions(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    medical = [reviewers["medical"], reviewers["medical2"]] + [
        make_user(f"medical{n}", "Medical reviewer", first_name="Ärztin", last_name=f"Nr. {n}") for n in range(3, 6)
    ]
    from posts.services import campaign_update

    campaign_update(campaign=review_campaign, actor=editor, data={}, reviewers=list(reviewers.values()) + medical[2:])
    # The Medical stage waits for six approvals, so five reviewers sign it and it stays open.
    ReviewStage.objects.filter(group__name="Medical reviewer").update(rule="count", required_approvals=6)
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    run = StageRun.objects.get(round__post=post, stage__group__name="Medical reviewer")
    decision_record(stage_run=run, reviewer=medical[0], verdict=Verdict.APPROVE)
    client = Client()
    client.force_login(editor)
    urls = [reverse("approvals:review", args=[post.pk]), reverse("posts:post_detail", args=[post.pk])]
    for url in urls:
        client.get(url)  # warm caches (content types, session)
    one = [_queries(client, url) for url in urls]
    for reviewer in medical[1:]:
        decision_record(stage_run=run, reviewer=reviewer, verdict=Verdict.APPROVE, comment=f"OK ({reviewer})")
    assert Decision.objects.filter(stage_run=run).count() == 5
    assert client.get(urls[0]).content.decode().count("data-signature=") == 10  # the stage and the history
    assert [_queries(client, url) for url in urls] == one


# Confirm it's you before signing -----------------------------------------------------------


@pytest.fixture
def strong_auth(settings: Any) -> None:
    # The test settings switch the check off for the many tests that sign in with force_login.
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True


def test_a_decision_without_a_recent_sign_in_asks_to_confirm_and_records_nothing(
    strong_auth: None, submitted_post: Post, medical: Any
) -> None:
    client = Client()
    client.force_login(medical)  # a session with no sign-in time
    url = reverse("approvals:decide", args=[submitted_post.pk])
    response = decide(client, submitted_post, Verdict.APPROVE)
    assert response.status_code == 302
    assert response["Location"] == confirm_page(url)
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="review.approve").exists()


def test_a_decision_after_the_window_is_kept_and_signed_once_the_password_is_confirmed(
    strong_auth: None, submitted_post: Post, medical: Any
) -> None:
    client = Client()
    sign_in(client, medical)
    url = reverse("approvals:decide", args=[submitted_post.pk])
    with later():
        response = decide(client, submitted_post, Verdict.REQUEST_CHANGES, comment="Quelle für „80 %“ fehlt.")
        assert response["Location"] == confirm_page(url)
        assert not Decision.objects.exists()
        assert client.post(confirm_page(url), {"password": "wrong", "next": url}).status_code == 200
        assert not Decision.objects.exists()
        response = client.post(confirm_page(url), {"password": "pw", "next": url})
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.verdict == Verdict.REQUEST_CHANGES
    assert decision.comment == "Quelle für „80 %“ fehlt."
    assert decision.confirmation == Confirmation.PASSWORD
    assert decision.reviewer == medical


def test_a_decision_right_after_signing_in_counts_the_sign_in(
    strong_auth: None, submitted_post: Post, medical: Any
) -> None:
    client = Client()
    sign_in(client, medical)
    response = decide(client, submitted_post, Verdict.APPROVE)
    assert response.status_code == 302
    assert Decision.objects.get().confirmation == Confirmation.SIGN_IN


def test_a_reviewer_with_an_authenticator_app_may_confirm_with_a_code(
    strong_auth: None, submitted_post: Post, medical: Any
) -> None:
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    TOTP.activate(medical, secret)
    client = Client()
    sign_in(client, medical, secret=secret)
    url = reverse("approvals:decide", args=[submitted_post.pk])
    with later():
        assert decide(client, submitted_post, Verdict.APPROVE)["Location"] == confirm_page(url)
        confirm = f"{reverse('mfa_reauthenticate')}?{urlencode({'next': url})}"
        response = client.post(confirm, {"code": totp_code(secret), "next": url})
        assert response.status_code == 302, response.content
    assert Decision.objects.get().confirmation == Confirmation.TOTP


def test_a_reviewer_who_signs_in_by_single_sign_on_without_a_second_factor_is_told_to_sign_in_again(
    strong_auth: None, submitted_post: Post, medical: Any
) -> None:
    medical.set_unusable_password()  # as people.services makes single sign-on accounts
    medical.save()
    client = Client()
    client.force_login(medical)
    response = decide(client, submitted_post, Verdict.REJECT, comment="Keine Patientendaten zeigen.")
    assert response.status_code == 200
    page = response.content.decode()
    assert "To sign a decision, sign out and sign in again, then decide within 5 minutes." in page
    assert "Keine Patientendaten zeigen." in page  # the comment is kept in the form
    assert not Decision.objects.exists()
