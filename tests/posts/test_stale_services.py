"""The version check in the post services: every write moves the version, a stale one is refused whole."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.versions import StaleVersion, version_of
from posts.models import Post, Revision
from posts.services import TargetSpec, post_move, post_update, post_withdraw
from tests.races import need_postgresql

UTC = dt.UTC
MINE = "Herzwoche: Blutdruck messen lassen am 12.12.2026, Foyer Haus B, 9–15 Uhr. ☎ 030 1234567"
THEIRS = "Herzwoche: kostenlose Blutdruckmessung – Foyer Haus B. Mehr unter klinikum.example/herz"


def version(post: Post) -> int:
    return version_of(model=Post, pk=post.pk)


@pytest.mark.django_db
def test_every_kind_of_write_moves_the_version(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], when=dt.datetime(2030, 3, 5, 9, tzinfo=UTC))
    seen = [version(post)]
    post_update(post=post, actor=editor, data={"body": MINE})
    seen.append(version(post))
    post_update(post=post, actor=editor, data={"title": "Herzwoche Tag 1"})
    seen.append(version(post))
    post_update(post=post, actor=editor, targets=[TargetSpec(account=accounts[1])])
    seen.append(version(post))
    post_move(post=post, actor=editor, scheduled_at=dt.datetime(2030, 3, 6, 9, tzinfo=UTC))
    seen.append(version(post))
    post_withdraw(post=post, actor=editor, reason="Termin entfällt")
    seen.append(version(post))
    assert seen == sorted(set(seen)), seen  # strictly growing: six different versions


@pytest.mark.django_db
def test_a_save_without_changes_keeps_the_version(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], body=MINE)
    before = version(post)
    post_update(post=post, actor=editor, data={"body": MINE}, expected_version=before)
    assert version(post) == before


@pytest.mark.django_db
def test_stale_update_is_refused_whole_and_says_who_when_and_what(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], body="Alt")
    seen = version(post)
    post_update(post=post, actor=editor, data={"body": THEIRS})
    latest = AuditEvent.objects.for_object(post).order_by("-seq").first()
    assert latest is not None
    revisions, events = Revision.objects.count(), AuditEvent.objects.count()

    with pytest.raises(StaleVersion) as caught:
        post_update(
            post=post,
            actor=editor,
            data={"body": MINE, "title": "Mein Titel"},
            targets=[TargetSpec(account=accounts[2])],
            scheduled_at=dt.datetime(2030, 1, 1, tzinfo=UTC),
            time_zone="Europe/Berlin",
            expected_version=seen,
        )

    stale = caught.value
    assert stale.name == "editor" and stale.when == latest.created_at and stale.version == latest.seq
    assert stale.messages == [stale.message] and "changed by editor at" in stale.message
    (change,) = stale.changes
    assert (change.label, change.old) == ("Text", "Alt") and change.new == THEIRS[:79] + "…"  # short lines only
    post.refresh_from_db()
    assert (post.body, post.title, post.scheduled_at) == (THEIRS, "", None)
    assert list(post.targets.values_list("account_id", flat=True)) == [accounts[0].pk]
    assert (Revision.objects.count(), AuditEvent.objects.count()) == (revisions, events)


@pytest.mark.django_db
def test_no_expected_version_means_no_check_for_internal_callers(editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign)
    post_update(post=post, actor=editor, data={"body": THEIRS})
    post_update(post=post, actor=editor, data={"body": MINE}, expected_version=None)
    post.refresh_from_db()
    assert post.body == MINE


@pytest.mark.django_db
def test_stale_move_is_refused(editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2030, 3, 5, 9, tzinfo=UTC))
    seen = version(post)
    post_update(post=post, actor=editor, data={"body": THEIRS})
    with pytest.raises(StaleVersion) as caught:
        post_move(post=post, actor=editor, scheduled_at=dt.datetime(2030, 3, 9, 9, tzinfo=UTC), expected_version=seen)
    assert [change.label for change in caught.value.changes] == ["Text"]
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2030, 3, 5, 9, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("editors", [2, 10])
def test_editors_saving_the_same_version_at_once_store_exactly_one(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any], editors: int
) -> None:
    """Real connections race on one post: one save is stored, every other one refused as stale, no 500."""
    need_postgresql()
    post = post_factory(editor, campaign, targets=accounts[:1])
    seen = version(post)
    start = threading.Barrier(editors)
    outcomes: dict[str, str] = {}

    def save(text: str) -> None:
        try:
            start.wait()
            post_update(post=Post.objects.get(pk=post.pk), actor=editor, data={"body": text}, expected_version=seen)
            outcomes[text] = "stored"
        except StaleVersion:
            outcomes[text] = "stale"
        except Exception as error:  # any other outcome (a 500 in the view) is the failure looked for
            outcomes[text] = repr(error)
        finally:
            connection.close()

    texts = [MINE, THEIRS] + [f"{THEIRS} (Fassung {n})" for n in range(3, editors + 1)]
    threads = [threading.Thread(target=save, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["stale"] * (editors - 1) + ["stored"], outcomes
    winner = next(text for text, outcome in outcomes.items() if outcome == "stored")
    post.refresh_from_db()
    assert post.body == winner
    assert list(Revision.objects.filter(post=post).values_list("number", flat=True).order_by("number")) == [1, 2]
