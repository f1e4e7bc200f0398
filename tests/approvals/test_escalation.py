"""Overdue stages escalate (issue 14, point 5): reminder and deputies first, then the whole group; once each."""

import datetime as dt
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import StageRun
from approvals.notifications import reminders_send
from approvals.policy import current_stage_run
from approvals.selectors import inbox_for_user
from audit.models import AuditEvent
from people import roles
from people.models import DeputyPeriod
from people.services import deputy_period_save
from tests.conftest import make_user


def away(user: Any, deputy: Any, *, on: dt.datetime) -> DeputyPeriod:
    day = timezone.localdate(on)
    period = DeputyPeriod(user=user, deputy=deputy, starts=day - dt.timedelta(days=1), ends=day + dt.timedelta(days=3))
    return deputy_period_save(period=period, actor=user)


def sent_to() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in mail.outbox:
        found.setdefault(message.subject, []).extend(message.to)
    return {subject: sorted(addresses) for subject, addresses in found.items()}


def test_an_overdue_stage_reminds_then_goes_to_the_deputy_then_to_the_whole_group(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None and run.deadline is not None
    late = run.deadline + dt.timedelta(minutes=5)
    away(reviewers["medical"], reviewers["medical2"], on=late)
    mail.outbox.clear()

    assert reminders_send(now=run.deadline - dt.timedelta(minutes=1)) == 0  # not due yet
    assert reminders_send(now=late) == 3
    number = submitted_post.pk
    assert sent_to() == {
        f"Reminder: review overdue for post #{number}": ["all_rounder@example.org", "medical2@example.org"],
        f"Review overdue for post #{number}: escalated to you as a deputy": ["medical2@example.org"],
    }
    deputy_mail = next(message for message in mail.outbox if "deputy" in message.subject)
    assert reverse("approvals:review", args=[number]) in deputy_mail.body  # straight to the review page
    assert "medical is away and named you as their deputy" in deputy_mail.body
    run.refresh_from_db()
    assert run.reminded_at == late and run.escalated_at is None
    assert reminders_send(now=late + dt.timedelta(minutes=5)) == 0  # once only

    mail.outbox.clear()
    later = late + dt.timedelta(hours=4)
    assert reminders_send(now=later) == 3
    assert sent_to() == {
        f"Review overdue for post #{number}: escalated to the whole group": [
            "all_rounder@example.org",
            "medical2@example.org",
            "medical@example.org",
        ]
    }
    run.refresh_from_db()
    assert run.escalated_at == later
    assert reminders_send(now=later + dt.timedelta(hours=1)) == 0
    actions = list(
        AuditEvent.objects.filter(object_id=str(run.pk), action__in=["review.stage_reminded", "review.stage_escalated"])
        .order_by("seq")
        .values_list("action", "changes__to")
    )
    assert actions == [
        ("review.stage_reminded", ["medical2", "all_rounder", "medical2"]),
        ("review.stage_escalated", ["medical", "medical2", "all_rounder"]),
    ]


def test_when_every_reviewer_is_away_the_group_is_told_at_once(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None and run.deadline is not None
    late = run.deadline + dt.timedelta(minutes=5)
    stand_in = make_user("springer", roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER)  # assigned to no campaign
    for name in ("medical", "medical2", "all_rounder"):
        away(reviewers[name], stand_in, on=late)
    reminders_send(now=late)
    run.refresh_from_db()
    assert run.reminded_at == late and run.escalated_at == late


def test_the_inbox_says_due_in_overdue_by_and_escalated_to_you_as_deputy(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None and run.deadline is not None
    client = Client()
    client.force_login(reviewers["medical2"])
    assert "Due in" in client.get(reverse("approvals:inbox")).content.decode()

    late = timezone.now() - dt.timedelta(hours=1, minutes=57)
    StageRun.objects.filter(pk=run.pk).update(deadline=late)
    away(reviewers["medical"], reviewers["medical2"], on=timezone.now())
    reminders_send()
    [item] = inbox_for_user(user=reviewers["medical2"])
    assert item.is_overdue and item.deputy_for == ("medical",)
    html = client.get(reverse("approvals:inbox")).content.decode()
    assert "Overdue by 1\xa0hour, 57\xa0minutes" in html
    assert "Escalated to you as deputy of medical" in html
    [other] = inbox_for_user(user=reviewers["all_rounder"])
    assert other.deputy_for == ()


def test_a_deputy_outside_the_stage_group_is_not_routed_the_stage(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    """The all-rounder is Medical and Legal: as Legal's deputy they see no Medical stage as escalated to them."""
    run = current_stage_run(post=submitted_post)
    assert run is not None and run.deadline is not None
    late = run.deadline + dt.timedelta(minutes=5)
    legal2 = reviewers["all_rounder"]
    away(reviewers["legal"], legal2, on=late)
    reminders_send(now=late)
    [item] = inbox_for_user(user=legal2, now=late)
    assert item.deputy_for == ()  # the absent Legal reviewer is not in the Medical group
    assert not any("deputy" in message.subject for message in mail.outbox)


def test_the_inbox_reads_deputies_in_a_fixed_number_of_queries(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any, post_factory: Any, account_factory: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.services import round_submit

    away(reviewers["medical"], reviewers["medical2"], on=timezone.now())

    def count() -> int:
        # A user object as a request has it: rights read afresh (people.rights memoises them on the object).
        fresh = type(reviewers["medical2"]).objects.get(pk=reviewers["medical2"].pk)
        with CaptureQueriesContext(connection) as queries:
            inbox_for_user(user=fresh)
        return len(queries)

    one = count()
    for number in range(5):
        post = post_factory(
            editor,
            submitted_post.campaign,
            body=f"Impftermin {number}: 030 1234567",
            targets=[account_factory("facebook", handle=f"klinik{number}")],
            when=timezone.now() + dt.timedelta(days=7),
        )
        round_submit(post=post, actor=editor)
    StageRun.objects.update(deadline=timezone.now() - dt.timedelta(hours=1))
    reminders_send()
    assert len(inbox_for_user(user=reviewers["medical2"])) == 6
    assert count() == one
