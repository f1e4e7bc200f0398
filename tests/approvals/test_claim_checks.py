"""The medical stage checks each claim's source before it approves (issue 14, point 3)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from approvals.claims import claim_check_record, claims_approval_problems
from approvals.models import ClaimCheck, Decision, ReviewStage, StageStatus, Verdict
from approvals.policy import CHECK_SOURCES, ApprovalPolicy, current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from posts.claims import claim_add, claim_source_set
from posts.content import claim_hash
from posts.models import Claim, Post, PostStatus

pytestmark = pytest.mark.django_db

BODY = (
    "Grippeimpfung jetzt: Die Impfung senkt das Risiko einer schweren Grippe bei über 60-Jährigen deutlich. "
    "Impfsprechstunde Mo–Fr 8–12 Uhr im Haus B."
)
CLAIM = "Die Impfung senkt das Risiko einer schweren Grippe bei über 60-Jährigen deutlich."
DOI = "10.1016/S1473-3099(21)00055-3"
QUOTE = "Vaccination reduced the risk of severe influenza in adults aged 60 and over."


@pytest.fixture
def post_with_claim(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Post:
    post = post_factory(
        editor,
        review_campaign,
        body=BODY,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    return post


def medical_run(post: Post) -> Any:
    run = current_stage_run(post=post)
    assert run is not None and run.stage.checks_claims and run.stage.name == "Medical review"
    return run


def approve(post: Post, reviewer: Any) -> Decision:
    run = current_stage_run(post=post)
    assert run is not None
    return decision_record(
        stage_run=run, reviewer=reviewer, verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
    )


def test_the_seeded_chains_medical_stages_check_claims_and_no_other(db: None) -> None:
    checking = set(ReviewStage.objects.filter(checks_claims=True).values_list("chain__name", "name"))
    assert checking == {("Standard", "Medical review"), ("Expedited (crisis)", "Medical review")}


def test_medical_approval_is_refused_until_the_source_is_checked_then_allowed(
    post_with_claim: Post, reviewers: dict[str, Any]
) -> None:
    run = medical_run(post_with_claim)
    with pytest.raises(ValidationError) as refused:
        approve(post_with_claim, reviewers["medical"])
    assert refused.value.messages == [
        f"Check the source of the claim “{Claim.objects.get().__str__()}” (“Source checked”) before approving."
    ]
    assert not Decision.objects.exists()
    claim = post_with_claim.claims.get()
    check = claim_check_record(claim=claim, reviewer=reviewers["medical"])
    assert (check.stage_run, check.content_hash, check.claim_hash, check.checked_by) == (
        run,
        post_with_claim.content_hash,
        claim_hash(claim),
        reviewers["medical"],
    )
    event = AuditEvent.objects.filter(action="review.claim_source_checked").get()
    assert event.actor_id == reviewers["medical"].pk and event.content_hash == post_with_claim.content_hash
    assert event.changes["source"] == DOI and event.changes["stage"] == "Medical review"
    assert claim_check_record(claim=claim, reviewer=reviewers["medical"]) == check  # twice: one check
    approve(post_with_claim, reviewers["medical"])
    run.refresh_from_db()
    assert run.status == StageStatus.APPROVED


def test_stages_that_do_not_check_claims_approve_without_checks(
    post_with_claim: Post, reviewers: dict[str, Any]
) -> None:
    claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical"])
    approve(post_with_claim, reviewers["medical"])
    approve(post_with_claim, reviewers["legal"])
    approve(post_with_claim, reviewers["comms"])
    post_with_claim.refresh_from_db()
    assert post_with_claim.status == PostStatus.APPROVED


def test_a_claim_without_source_blocks_medical_approval_and_cannot_be_checked(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(editor, review_campaign, body=BODY, targets=[account_factory("facebook")])
    claim = claim_add(post=post, actor=editor, passage=CLAIM)
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        claim_check_record(claim=claim, reviewer=reviewers["medical"])
    assert "no source to check" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        approve(post, reviewers["medical"])
    assert "has no source: request changes" in refused.value.messages[0]
    assert not ClaimCheck.objects.exists() and not Decision.objects.exists()


def test_a_changed_claim_voids_the_checks_and_review_restarts(
    post_with_claim: Post, editor: Any, reviewers: dict[str, Any]
) -> None:
    claim = post_with_claim.claims.get()
    claim_check_record(claim=claim, reviewer=reviewers["medical"])
    assert claims_approval_problems(post=post_with_claim) == []
    claim_source_set(claim=claim, actor=editor, source_kind="pmid", source="33857487", quote=QUOTE)
    post_with_claim.refresh_from_db()
    run = medical_run(post_with_claim)
    assert run.round.content_hash == post_with_claim.content_hash  # a new round on the new content
    assert len(claims_approval_problems(post=post_with_claim)) == 1
    with pytest.raises(ValidationError):
        approve(post_with_claim, reviewers["medical"])
    # The earlier check stays on record for the content it was made on.
    assert ClaimCheck.objects.count() == 1
    claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical"])
    assert ClaimCheck.objects.count() == 2
    approve(post_with_claim, reviewers["medical"])


def test_an_edit_elsewhere_in_the_text_voids_the_checks_too(
    post_with_claim: Post, editor: Any, reviewers: dict[str, Any]
) -> None:
    from posts.services import post_update

    claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical"])
    post_update(post=post_with_claim, actor=editor, data={"body": BODY + " Bringen Sie Ihren Impfpass mit."})
    post_with_claim.refresh_from_db()
    assert len(claims_approval_problems(post=post_with_claim)) == 1


@pytest.mark.parametrize("who", ["legal", "comms", "editor", "viewer", "medical_author"])
def test_only_a_reviewer_who_may_decide_the_medical_stage_checks_sources(
    who: str, post_with_claim: Post, reviewers: dict[str, Any], editor: Any, viewer: Any
) -> None:
    people = {**reviewers, "editor": editor, "viewer": viewer}
    if who == "medical_author":
        # A medical reviewer who wrote the post never checks it, as they never decide it.
        Post.objects.filter(pk=post_with_claim.pk).update(author=reviewers["medical2"])
        post_with_claim.refresh_from_db()
        person = reviewers["medical2"]
    else:
        person = people[who]
    with pytest.raises(PermissionDenied):
        claim_check_record(claim=post_with_claim.claims.get(), reviewer=person)
    assert CHECK_SOURCES not in ApprovalPolicy(person).actions(post_with_claim)
    assert not ClaimCheck.objects.exists()


def test_the_medical_reviewer_no_longer_checks_once_the_stage_is_decided(
    post_with_claim: Post, reviewers: dict[str, Any]
) -> None:
    claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical"])
    approve(post_with_claim, reviewers["medical"])
    assert CHECK_SOURCES not in ApprovalPolicy(reviewers["medical2"]).actions(post_with_claim)
    with pytest.raises(PermissionDenied):
        claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical2"])


def test_review_page_shows_claims_sources_and_the_button_only_to_the_medical_reviewer(
    client: Any, post_with_claim: Post, reviewers: dict[str, Any], editor: Any
) -> None:
    from posts.services import post_update

    url = reverse("approvals:review", args=[post_with_claim.pk])
    client.force_login(reviewers["legal"])
    html = client.get(url).content.decode()
    assert "Claims and sources" in html and f"https://doi.org/{DOI}" in html and QUOTE in html
    assert "Source checked" not in html
    client.force_login(reviewers["medical"])
    html = client.get(url).content.decode()
    assert f'<mark data-claim-number="1">{CLAIM}' in html
    assert "Source checked</button>" in html
    claim = post_with_claim.claims.get()
    response = client.post(reverse("approvals:claim_check", args=[post_with_claim.pk, claim.pk]))
    assert response.status_code == 302 and response["Location"].endswith("#claims")
    assert ClaimCheck.objects.filter(claim=claim, checked_by=reviewers["medical"]).exists()
    html = client.get(url).content.decode()
    assert "Source checked by medical" in html and "Source checked</button>" not in html
    # The general citations are shown to reviewers too.
    post_update(post=post_with_claim, actor=editor, data={"sources": "RKI, Epidemiologisches Bulletin 1/2026"})
    html = client.get(url).content.decode()
    assert "RKI, Epidemiologisches Bulletin 1/2026" in html


def test_a_legal_reviewer_posting_source_checked_is_refused(
    client: Any, post_with_claim: Post, reviewers: dict[str, Any]
) -> None:
    client.force_login(reviewers["legal"])
    claim = post_with_claim.claims.get()
    response = client.post(reverse("approvals:claim_check", args=[post_with_claim.pk, claim.pk]), follow=True)
    assert "Only a reviewer who may now decide the medical stage checks sources." in response.content.decode()
    assert not ClaimCheck.objects.exists()


def test_the_claims_block_reads_the_same_number_of_queries_for_1_or_10_claims(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.claims import claims_review

    sentences = [f"Studie {n}: Bewegung senkt das Risiko um {n} %." for n in range(1, 11)]
    counts = []
    for many in (1, 10):
        post = post_factory(editor, review_campaign, body=" ".join(sentences), targets=[account_factory("facebook")])
        for sentence in sentences[:many]:
            claim_add(post=post, actor=editor, passage=sentence, source_kind="pmid", source="31378231", quote=QUOTE)
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        for claim in post.claims.all():
            claim_check_record(claim=claim, reviewer=reviewers["medical"])
        claims_review(user=reviewers["medical2"], post=post)  # warm the per-process caches (content types)
        with CaptureQueriesContext(connection) as queries:
            review = claims_review(user=reviewers["medical2"], post=post)
            assert [line.check is not None for line in review.lines] == [True] * many
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_claims_block_from_the_review_pages_overview_equals_the_block_computed_alone(
    post_with_claim: Post, reviewers: dict[str, Any], editor: Any, viewer: Any
) -> None:
    # The review page hands claims_review the overview's open stages and its decided stage and
    # actions, to save their queries; what the block shows must not change for anyone, at any step.
    from approvals.claims import claims_review
    from approvals.selectors import review_overview

    people = {**reviewers, "editor": editor, "viewer": viewer}

    def blocks() -> dict[str, tuple[bool, bool]]:
        post = Post.objects.get(pk=post_with_claim.pk)
        shown = {}
        for name, person in people.items():
            overview = review_overview(user=person, post=post)
            alone = claims_review(user=person, post=post)
            hinted = claims_review(
                user=person, post=post, open_runs=overview.open_runs, decided=(overview.current_run, overview.actions)
            )
            assert (hinted.may_check, hinted.stage_checks) == (alone.may_check, alone.stage_checks), name
            shown[name] = (alone.may_check, alone.stage_checks)
        return shown

    at_medical = blocks()
    assert at_medical["medical"] == (True, True) and at_medical["medical2"] == (True, True)
    assert at_medical["legal"] == (False, True) and at_medical["editor"] == (False, True)
    claim_check_record(claim=post_with_claim.claims.get(), reviewer=reviewers["medical"])
    approve(post_with_claim, reviewers["medical"])
    at_legal = blocks()
    assert at_legal["medical2"] == (False, False) and at_legal["legal"] == (False, False)
