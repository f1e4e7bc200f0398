"""A published patient story with its whole record: consent, two review rounds, publications, a takedown."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from people import roles
from tests.conftest import make_user

BODY = (
    "Frau Müller (72) aus Köln erzählt: »Nach der OP am 03.04.2025 ging's bergauf!« 💪 "
    "Termine: +49 221 555-0199 · Ğüzel haber · 東京からも応援 🎉"
)


@pytest.fixture(autouse=True)
def _outbox(settings: Any, tmp_path: Path) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"


@pytest.fixture
def reviewers(db: None) -> dict[str, Any]:
    return {
        "medical": make_user("medical", roles.MEDICAL_REVIEWER, first_name="Jürgen", last_name="Öztürk"),
        "legal": make_user("legal", roles.LEGAL_REVIEWER, first_name="Ayşe", last_name="Yılmaz"),
        "comms": make_user("comms", roles.COMMUNICATIONS_REVIEWER, first_name="Kenji", last_name="佐藤"),
    }


def approve_stages(post: Any, reviewers: dict[str, Any], names: tuple[str, ...]) -> None:
    from approvals.models import Verdict
    from approvals.policy import current_stage_run
    from approvals.services import decision_record, finding_keys

    for name in names:
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run,
            reviewer=reviewers[name],
            verdict=Verdict.APPROVE,
            comment=f"Geprüft von {name}: Müller, Ğ, 東京 ✔",
            acknowledged=finding_keys(post=post),
        )
        post.refresh_from_db()


@pytest.fixture
def story(
    editor: Any,
    campaign_factory: Any,
    reviewers: dict[str, Any],
    account_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
    officer: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> Callable[[], Any]:
    """Return a maker of the published story; the consent is revoked at the end, so a takedown is listed."""

    def make(*, targets: int = 2, rounds: int = 2, revoke: bool = True, campaign: str = "Herzwochen 2025") -> Any:
        from approvals.models import Verdict
        from approvals.policy import current_stage_run
        from approvals.services import decision_record, round_submit
        from consent.services import consent_revoke
        from posts.services import FeatureSpec, TargetSpec, post_schedule, post_update
        from publishing.services import dispatch_once

        team = campaign_factory(editor, name=campaign, reviewers=list(reviewers.values()))
        accounts = [account_factory(platform) for platform in ("facebook", "linkedin", "x", "facebook", "linkedin")]
        anna = subject_factory(
            display_name="Anna Müller", reference="PAT-0042" if campaign == "Herzwochen 2025" else "PAT-0043"
        )
        consent = record_factory(anna, description="Foto und Geschichte von Frau Müller, 東京 tour")
        post = post_factory(
            editor,
            team,
            targets=accounts[:targets],
            when=timezone.now() + dt.timedelta(days=6),
            title="Anna Müllers Geschichte",
            body=BODY,
            content_type="patient_story",
            link="https://klinikum.example.org/geschichten/anna",
        )
        post_update(
            post=post,
            actor=editor,
            featured=[FeatureSpec(subject=anna, consent=consent, media_kinds=("photo", "story"))],
            targets=[
                TargetSpec(
                    account=account, body_override="Kurz auf X: Müller, Ğ, 東京" if account.platform == "x" else ""
                )
                for account in accounts[:targets]
            ],
        )
        post.refresh_from_db()
        for number in range(rounds - 1):
            round_submit(post=post, actor=editor)
            post.refresh_from_db()
            run = current_stage_run(post=post)
            assert run is not None
            decision_record(
                stage_run=run,
                reviewer=reviewers["medical"],
                verdict=Verdict.REQUEST_CHANGES,
                comment=f"Bitte die Telefonnummer prüfen ({number + 1}).",
            )
            post.refresh_from_db()
            post_update(post=post, actor=editor, data={"body": post.body + f" Stand {number + 2}."})
            post.refresh_from_db()
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        approve_stages(post, reviewers, ("medical", "legal", "comms"))
        post_schedule(post=post, actor=editor)
        post.refresh_from_db()
        time_machine.move_to(post.scheduled_at + dt.timedelta(seconds=1), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_once()
        post.refresh_from_db()
        if revoke:
            time_machine.move_to(post.scheduled_at + dt.timedelta(days=2), tick=False)
            consent_revoke(
                record=consent, actor=officer, received_via="letter", reason="Frau Müller möchte es nicht mehr"
            )
        post.refresh_from_db()
        return post

    return make
