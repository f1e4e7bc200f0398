from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from approvals.models import Decision, ReviewChain, ReviewRound
from approvals.selectors import UNFINISHED, post_is_overdue
from audit.models import AuditEvent
from audit.selectors import chain_verify
from people import roles
from people.models import User
from posts.models import Account, Campaign, Media, Post, PostStatus, PostTarget, Revision
from publishing.models import Publication, PublicationAttempt, PublicationStatus, TakedownItem

pytestmark = pytest.mark.django_db

USERS = {
    "editor": roles.EDITOR,
    "medical": roles.MEDICAL_REVIEWER,
    "medical2": roles.MEDICAL_REVIEWER,
    "legal": roles.LEGAL_REVIEWER,
    "comms": roles.COMMUNICATIONS_REVIEWER,
    "consent": roles.CONSENT_OFFICER,
    "consent2": roles.CONSENT_OFFICER,
    "governance": roles.GOVERNANCE,
    "viewer": roles.VIEWER,
}
ACCOUNTS = {
    ("instagram", "Klinikum Nord Instagram", "@klinikum_nord"),
    ("facebook", "Klinikum Nord", "klinikum.nord"),
    ("linkedin", "Klinikum Nord Karriere", "klinikum-nord-karriere"),
    ("x", "Northside on X", "@northside_health"),
    ("facebook", "Northside Health", "northsidehealth"),
}
# The accounts that show what goes wrong in publishing: (platform, handle, connector, active).
TROUBLE_ACCOUNTS = {
    ("x", "@northside_careers", "platform", True),
    ("webhook", "intranet-klinikum-nord", "webhook", True),
    ("facebook", "klinikum.nord.alt", "outbox", False),
}
MODELS = [
    User,
    Account,
    Campaign,
    Post,
    PostTarget,
    Media,
    Revision,
    ReviewRound,
    Decision,
    ReviewChain,
    AuditEvent,
    Publication,
    PublicationAttempt,
    TakedownItem,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


@pytest.fixture
def no_password_env(monkeypatch: Any) -> None:
    monkeypatch.delenv("ROUNDS_DEMO_PASSWORD", raising=False)


def test_seeding_twice_changes_nothing(no_password_env: None) -> None:
    first_output = seed()
    first = counts()
    hashes = dict(Post.objects.values_list("external_id", "current_revision__content_hash"))
    last_event = AuditEvent.objects.order_by("-seq").first()
    states = [dict(model.objects.values_list("pk", "status")) for model in (Post, Publication)]
    second_output = seed()
    assert counts() == first
    assert [dict(model.objects.values_list("pk", "status")) for model in (Post, Publication)] == states
    assert dict(Post.objects.values_list("external_id", "current_revision__content_hash")) == hashes
    assert AuditEvent.objects.order_by("-seq").first() == last_event
    assert "0 posts created" in second_output and "0 posts created" not in first_output
    assert "imported 60 posts" in first_output and "imported" not in second_output
    assert first["Post"] >= len(PostStatus) and first["Campaign"] == 3 and first["Account"] == 8


def test_every_post_state_and_every_publication_state_is_reached(no_password_env: None) -> None:
    """Exhaustive over the choices: a state added to either one fails here until the demo shows it."""
    seed()
    assert set(Post.objects.values_list("status", flat=True)) == set(PostStatus.values)
    assert set(Publication.objects.values_list("status", flat=True)) == set(PublicationStatus.values)
    # Sent: a worker marked it at the due second and died before the answer; nothing was called.
    sent = Publication.objects.get(status=PublicationStatus.SENT)
    assert sent.post.external_id == "demo-heart-sports-group" and sent.post.status == PostStatus.SCHEDULED
    assert sent.attempts == 1 and not sent.attempt_log.exists() and not sent.external_id
    assert sent.lease_until is not None and sent.lease_until > sent.due_at
    # Overdue: the dispatcher met a first attempt more than the cutoff late; it was never claimed.
    overdue = Publication.objects.get(status=PublicationStatus.OVERDUE)
    assert overdue.post.external_id == "demo-flu-blood-drive" and overdue.post.status == PostStatus.SCHEDULED
    assert overdue.attempts == 0 and "minutes late" in overdue.last_error
    # A post whose time passed while its review is not complete is flagged overdue.
    late = [post for post in Post.objects.filter(status__in=UNFINISHED) if post_is_overdue(post)]
    assert "demo-flu-school-clinic" in {post.external_id for post in late}
    assert Post.objects.get(external_id="demo-flu-school-clinic").status == PostStatus.IN_REVIEW


def test_users_are_in_their_groups_and_passwords_are_printed_once(no_password_env: None) -> None:
    first_output = seed()
    for username, role in USERS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.is_staff == (username == "governance")
        assert not user.is_superuser
        line = next(line for line in first_output.splitlines() if line.startswith(f"{username} / "))
        _username, password, role_ = line.split(" / ")
        assert role_ == role
        assert user.check_password(password)
    second_output = seed()
    assert "editor / (unchanged) / Editor" in second_output


def test_the_password_comes_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("ROUNDS_DEMO_PASSWORD", "first-demo-password")
    seed()
    assert all(User.objects.get(username=name).check_password("first-demo-password") for name in USERS)
    monkeypatch.setenv("ROUNDS_DEMO_PASSWORD", "second-demo-password")
    output = seed()
    assert "viewer / second-demo-password / Viewer" in output
    assert all(User.objects.get(username=name).check_password("second-demo-password") for name in USERS)
    events = AuditEvent.objects.filter(action="user.password_reset")
    assert events.count() == len(USERS)
    assert all("second-demo-password" not in str(event.changes) for event in events)
    before = AuditEvent.objects.count()
    seed()  # the same password again: nothing to reset
    assert AuditEvent.objects.count() == before


def test_the_audit_chain_verifies_after_seeding(no_password_env: None) -> None:
    seed()
    seed()
    assert chain_verify() is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.created", "account.created", "campaign.created", "post.created", "review.approve"} <= actions


def test_a_post_that_cannot_be_created_is_named_and_left_out(no_password_env: None) -> None:
    Account.objects.create(platform="facebook", name="Klinikum Nord", handle="klinikum.nord", active=False)
    with pytest.raises(CommandError, match=r"demo-heart-kickoff cannot be created: .*is not active"):
        seed()
    assert not Post.objects.filter(external_id="demo-heart-kickoff").exists()
    assert chain_verify() is None


def test_seeding_hands_no_mail_to_a_mail_server(no_password_env: None, settings: Any) -> None:
    """The demo's people have invented addresses: with SMTP configured (as in production) and no
    server listening, seeding still completes; its reminders become ledger rows and notices."""
    from people.models import Notice

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    call_command("seed_demo", stdout=StringIO())
    assert Notice.objects.filter(key__startswith="reminder:").exists()
