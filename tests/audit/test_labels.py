"""Every action the code writes to the audit trail has words for the admin's list and filter."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from approvals.models import RecertificationOutcome, RoundStatus, Verdict
from approvals.services import OVERDUE_STEPS
from audit.labels import ACTION_LABELS, action_label, object_type_label
from evidence.archive import ARCHIVE_EVENTS
from publishing.takedowns import AUDIT_ACTIONS

APPS = ("approvals", "audit", "consent", "core", "evidence", "people", "plans", "posts", "publishing")
LITERAL = re.compile(r"""(?:action=|EventSpec\()\s*"([a-z_]+\.[a-z_]+)\"""")


def written_actions() -> set[str]:
    codes: set[str] = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" not in path.parts:
                codes |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    codes |= set(AUDIT_ACTIONS.values()) | set(OVERDUE_STEPS.values()) | set(ARCHIVE_EVENTS.values())
    codes |= {f"review.{verdict}" for verdict in Verdict.values}
    codes |= {f"review.round_{status}" for status in RoundStatus.values if status != RoundStatus.IN_PROGRESS}
    codes |= {f"review.recertification_{outcome}" for outcome in RecertificationOutcome.values}
    return codes


def test_the_scan_finds_the_actions_services_write() -> None:
    assert {"post.revision_created", "consent.revoked", "takedown.deleted", "review.approve"} <= written_actions()


def test_every_written_action_has_words() -> None:
    assert sorted(written_actions() - set(ACTION_LABELS)) == []


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert action_label("test.something_new") == "test.something_new"
    assert object_type_label("nothing.here") == "nothing.here"


def test_labels_follow_the_language() -> None:
    with translation.override("en"):
        assert action_label("post.revision_created") == "Post: new revision"
        assert object_type_label("posts.post") == "Post"
