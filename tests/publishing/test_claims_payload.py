# ruff: noqa: F811  (the fixtures of test_publishing.py are imported by name)
"""The send gate snapshots live content with its claims (format 3): a post with checked claims goes out,
and a source changed behind the services' back never does."""

from typing import Any

import pytest
from django.utils import timezone

from approvals.claims import claim_check_record
from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from posts.claims import claim_add
from posts.models import Claim, PostStatus
from posts.services import post_schedule
from publishing.models import PublicationStatus as P
from tests.publishing.test_publishing import (  # noqa: F401  (fixtures)
    WHEN,
    _publishing_settings,
    at,
    flu,
    outbox_files,
    pub,
    reviewers,
    run_pass,
)

pytestmark = pytest.mark.django_db

BODY = "Händewaschen schützt: Es senkt das Risiko von Durchfallerkrankungen um etwa 30 %."
CLAIM = "Es senkt das Risiko von Durchfallerkrankungen um etwa 30 %."


@pytest.fixture
def with_claim(editor: Any, flu: Any, reviewers: dict[str, Any], post_factory: Any, account_factory: Any) -> Any:
    post = post_factory(editor, flu, body=BODY, targets=[account_factory("facebook")], when=timezone.now() + WHEN)
    claim_add(
        post=post,
        actor=editor,
        passage=CLAIM,
        source_kind="pmid",
        source="18556606",
        quote="Handwashing reduced diarrhoeal episodes by about 30%.",
    )
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    claim_check_record(claim=post.claims.get(), reviewer=reviewers["medical"])
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
        )
        post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.current_revision.content["claims"]
    return post


def test_a_post_with_checked_claims_goes_out(with_claim: Any, time_machine: Any, run_pass: Any, settings: Any) -> None:
    time_machine.move_to(at(with_claim), tick=False)
    run_pass()
    assert pub(with_claim).status == P.CONFIRMED
    assert len(outbox_files(settings)) == 1


def test_a_source_changed_behind_the_services_back_never_goes_out(
    with_claim: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    Claim.objects.filter(post=with_claim).update(source="99999999")
    time_machine.move_to(at(with_claim), tick=False)
    run_pass()
    publication = pub(with_claim)
    assert publication.status == P.BLOCKED and "approved" in publication.last_error
    assert outbox_files(settings) == []
