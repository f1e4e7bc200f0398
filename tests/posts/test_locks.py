"""Two people change one post at the same moment, on PostgreSQL with two real connections.

In each race the first connection holds the post's row lock and commits a change while the
second is already waiting on that lock (tests/races.py); the second must then act on what the
first committed, never on what it read before it waited.
"""

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from people import roles
from posts.locks import post_lock
from posts.models import Post, PostStatus, Revision
from posts.services import post_move, post_schedule, post_update, post_withdraw
from publishing.models import Publication, PublicationAttempt
from publishing.models import PublicationStatus as P
from publishing.services import publication_send, publications_claim_due, publications_send
from tests.conftest import make_user
from tests.races import PATIENCE, need_postgresql, race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.pg_suite,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OPEN_DAY = "Tag der offenen Tür auf der Kinderstation am Samstag – Führungen um 10 und 14 Uhr. 🎈"


@pytest.fixture(autouse=True)
def _postgresql(settings: Any, tmp_path: Path) -> None:
    need_postgresql()
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"


@pytest.fixture
def reviewers(db: None) -> dict[str, Any]:
    return {
        "medical": make_user("medical", roles.MEDICAL_REVIEWER),
        "legal": make_user("legal", roles.LEGAL_REVIEWER),
        "comms": make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }


@pytest.fixture
def colleague(db: None) -> Any:
    return make_user("colleague", roles.EDITOR)


@pytest.fixture
def ward(editor: Any, colleague: Any, reviewers: dict[str, Any], campaign_factory: Any) -> Any:
    return campaign_factory(editor, name="Kinderstation", team=[colleague], reviewers=list(reviewers.values()))


@pytest.fixture
def draft(editor: Any, ward: Any, account_factory: Any, post_factory: Any) -> Post:
    post: Post = post_factory(
        editor,
        ward,
        targets=[account_factory("facebook"), account_factory("linkedin")],
        when=timezone.now() + dt.timedelta(days=3),
        content_type="event",
        body=OPEN_DAY,
    )
    return post


def approve_all(post: Post, reviewers: dict[str, Any]) -> None:
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
        )
        post.refresh_from_db()


@pytest.fixture
def scheduled(draft: Post, editor: Any, reviewers: dict[str, Any]) -> Post:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    approve_all(draft, reviewers)
    post_schedule(post=draft, actor=editor)
    draft.refresh_from_db()
    assert draft.status == PostStatus.SCHEDULED
    return draft


def revisions(post: Post) -> list[tuple[int, str]]:
    return list(Revision.objects.filter(post=post).order_by("number").values_list("number", "content__body"))


def event_hashes(post: Post, action: str) -> list[str]:
    events = AuditEvent.objects.for_object(post).filter(action=action).order_by("seq")
    return list(events.values_list("content_hash", flat=True))


# Edit ------------------------------------------------------------------------------------------


def test_two_editors_saving_at_once_make_revisions_2_and_3(draft: Post, editor: Any, colleague: Any) -> None:
    first_text = "Infotag am 12.12.2026 in der Kinderklinik – Anmeldung unter 030 1234567."
    second_text = "Infotag am 13.12.2026 – Anmeldung bitte per E-Mail, nicht mehr telefonisch."

    second = race(
        lambda: post_update(post=draft, actor=editor, data={"body": first_text}),
        lambda: post_update(post=draft, actor=colleague, data={"body": second_text}),
    )

    second.result()  # no IntegrityError on revision_unique_number
    assert revisions(draft) == [(1, OPEN_DAY), (2, first_text), (3, second_text)]
    draft.refresh_from_db()
    assert draft.current_revision is not None and draft.current_revision.number == 3
    created = list(AuditEvent.objects.for_object(draft).filter(action="post.revision_created").order_by("seq"))
    assert [event.changes["revision"] for event in created] == [1, 2, 3]
    assert created[-1].changes["previous_hash"] == Revision.objects.get(post=draft, number=2).content_hash
    assert created[-1].content_hash == draft.content_hash


def test_twenty_editors_saving_one_post_at_once_each_get_a_revision_of_their_own(
    draft: Post, editor: Any, colleague: Any
) -> None:
    texts = [f"Infotag {day}.12.2026 – Anmeldung unter 030 123456{day % 10}, Zimmer {day}." for day in range(1, 21)]
    start = threading.Barrier(len(texts))
    errors: list[BaseException] = []

    def save(text: str, actor: Any) -> None:
        try:
            start.wait(PATIENCE)
            post_update(post=draft, actor=actor, data={"body": text})
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(text, editor if n % 2 else colleague)) for n, text in enumerate(texts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)

    assert errors == []
    saved = revisions(draft)
    assert [number for number, _body in saved] == list(range(1, 22))
    assert sorted(body for _number, body in saved[1:]) == sorted(texts)


# Move ------------------------------------------------------------------------------------------


def test_a_move_that_waited_on_an_edit_keeps_the_edit_and_names_the_new_content(
    draft: Post, editor: Any, colleague: Any
) -> None:
    later = (timezone.now() + dt.timedelta(days=5)).replace(microsecond=0)
    edited = "Tag der offenen Tür – jetzt auch mit Blutspende-Aktion im Foyer."

    second = race(
        lambda: post_update(post=draft, actor=editor, data={"body": edited}),
        lambda: post_move(post=draft, actor=colleague, scheduled_at=later),
    )

    second.result()
    draft.refresh_from_db()
    assert (draft.body, draft.scheduled_at) == (edited, later)
    assert revisions(draft) == [(1, OPEN_DAY), (2, edited)]
    # The move's audit event names the content the post had when it moved: revision 2.
    assert event_hashes(draft, "post.moved") == [draft.content_hash]


def test_a_move_of_a_scheduled_post_that_waited_on_another_move_retimes_its_publications(
    scheduled: Post, editor: Any, colleague: Any
) -> None:
    sooner = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    later = (timezone.now() + dt.timedelta(days=4)).replace(microsecond=0)

    second = race(
        lambda: post_move(post=scheduled, actor=editor, scheduled_at=sooner),
        lambda: post_move(post=scheduled, actor=colleague, scheduled_at=later),
    )

    second.result()
    scheduled.refresh_from_db()
    assert scheduled.scheduled_at == later
    assert set(Publication.objects.filter(post=scheduled).values_list("status", "due_at")) == {(P.PENDING, later)}


# Schedule --------------------------------------------------------------------------------------


def test_scheduling_that_waited_on_an_edit_is_refused(
    draft: Post, editor: Any, colleague: Any, reviewers: dict[str, Any]
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    approve_all(draft, reviewers)
    assert draft.status == PostStatus.APPROVED

    second = race(
        lambda: post_update(post=draft, actor=colleague, data={"body": OPEN_DAY + " Neu: Kinderschminken."}),
        lambda: post_schedule(post=draft, actor=editor),
    )

    with pytest.raises((PermissionDenied, ValidationError)):
        second.result()
    draft.refresh_from_db()
    assert draft.status == PostStatus.IN_REVIEW
    assert draft.current_revision is not None and draft.current_revision.number == 2
    assert not Publication.objects.filter(post=draft).exists()


# Withdraw --------------------------------------------------------------------------------------


def test_a_withdrawal_that_waited_on_an_edit_names_the_edited_content(draft: Post, editor: Any, colleague: Any) -> None:
    round_submit(post=draft, actor=editor)
    edited = OPEN_DAY + " Bitte bringen Sie den Impfpass mit."

    second = race(
        lambda: post_update(post=draft, actor=colleague, data={"body": edited}),
        lambda: post_withdraw(post=draft, actor=editor, reason="Termin abgesagt"),
    )

    second.result()
    draft.refresh_from_db()
    assert draft.status == PostStatus.WITHDRAWN
    assert revisions(draft) == [(1, OPEN_DAY), (2, edited)]
    withdrawn = AuditEvent.objects.for_object(draft).filter(action="post.status_changed").order_by("seq").last()
    assert withdrawn is not None and withdrawn.changes["status"] == [PostStatus.IN_REVIEW, PostStatus.WITHDRAWN]
    assert withdrawn.content_hash == draft.content_hash


# The send gate ---------------------------------------------------------------------------------


def _claim_now(post: Post) -> Any:
    # Due now, so the test need not wait three days (the send path waits for the due time).
    now = timezone.now()
    Publication.objects.filter(post=post).update(due_at=now, next_attempt_at=now)
    claims = publications_claim_due(now=now + dt.timedelta(seconds=1))
    assert len(claims) == 2
    return claims


def _outbox(settings: Any) -> list[Path]:
    folder = Path(settings.ROUNDS_OUTBOX_DIR)
    return sorted(folder.glob("*.json")) if folder.exists() else []


CHANGES: dict[str, Callable[[Post, Any], Any]] = {
    "edit": lambda post, actor: post_update(post=post, actor=actor, data={"body": "Abgesagt: keine Führungen."}),
    "move": lambda post, actor: post_move(post=post, actor=actor, scheduled_at=timezone.now() + dt.timedelta(days=9)),
    "withdraw": lambda post, actor: post_withdraw(post=post, actor=actor, reason="abgesagt"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("path", ["one", "batch"])
def test_a_send_that_waited_on_a_change_of_the_post_sends_nothing(
    scheduled: Post, colleague: Any, settings: Any, change: str, path: str
) -> None:
    claims = _claim_now(scheduled)

    def send() -> Any:
        if path == "one":
            return [publication_send(claim.publication_id, claim.token) for claim in claims]
        return publications_send([claim.publication_id for claim in claims], claims[0].token)

    second = race(lambda: CHANGES[change](scheduled, colleague), send)

    sent = second.result()
    assert sent == ["stale", "stale"] if path == "one" else sent == {"stale": 2}
    assert _outbox(settings) == []
    assert not PublicationAttempt.objects.filter(publication__post=scheduled).exists()
    assert not Publication.objects.filter(post=scheduled, status__in=[P.SENT, P.CONFIRMED]).exists()


def test_a_send_that_waited_on_a_new_revision_refuses_it(scheduled: Post, settings: Any) -> None:
    # A writer that changes the content under the post's lock but leaves the post scheduled
    # (no such service exists; the gate must hold anyway): the gate compares the approved
    # hash with the revision current when it runs, not the one current before it waited.
    claims = _claim_now(scheduled)

    def rewrite() -> None:
        post = post_lock(scheduled.pk)
        old = post.current_revision
        assert old is not None
        revision = Revision.objects.create(
            post=post,
            number=old.number + 1,
            content={**old.content, "body": "Nicht freigegeben."},
            content_hash="f" * 64,
        )
        Post.objects.filter(pk=post.pk).update(current_revision=revision)

    second = race(rewrite, lambda: publications_send([c.publication_id for c in claims], claims[0].token))

    assert second.result() == {"blocked": 2}
    assert _outbox(settings) == []
    assert set(Publication.objects.filter(post=scheduled).values_list("status", flat=True)) == {P.BLOCKED}
