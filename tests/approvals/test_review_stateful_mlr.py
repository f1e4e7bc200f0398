"""Random review histories with comments, claims, deadlines, crises and expiry keep SPEC §4 and invariants 1 and 4.

The machine of `test_review_stateful.py` (edits, submissions, decisions, moves, chain changes,
scheduling) extended with what medical, legal and regulatory review added: anchored comments
that block approval, claims whose sources the medical stage checks, deadlines that follow the
post's time, reminders and escalation to deputies, crisis requests and declarations, approvals
that expire and re-certification of live posts. Every call goes through the services the web app
uses, by people picked at random, including those who must be refused; a refusal
(PermissionDenied, ValidationError) is an expected outcome, never a failure.

Each history runs on its own machine clock (time_machine, advanced by rules) and inside its own
savepoint, rolled back at its end, so histories never see each other's posts or audit events.
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from approvals.claims import claim_check_record
from approvals.comments import (
    AnchorSpec,
    comment_add,
    comment_blocking_set,
    comment_reopen,
    comment_reply,
    comment_resolve,
)
from approvals.expiry_services import approvals_expire, recertification_record
from approvals.models import (
    ApprovalRule,
    ClaimCheck,
    Decision,
    Recertification,
    ReviewChain,
    ReviewComment,
    ReviewRound,
    RoundStatus,
    StageRun,
    StageStatus,
    Verdict,
)
from approvals.notifications import reminders_send
from approvals.policy import ApprovalPolicy, current_stage_run, open_runs_of, open_stage_runs
from approvals.selectors import rounds_for_post
from approvals.services import (
    StageSpec,
    chain_save,
    decision_record,
    finding_keys,
    post_chain_set,
    round_submit,
)
from approvals.signatures import signature_of
from audit.models import AuditEvent
from audit.selectors import chain_verify
from people import roles
from people.models import DeputyPeriod
from people.services import deputy_period_save
from posts.claims import claim_add, claim_remove, claim_source_set
from posts.content import content_hash
from posts.models import Claim, Post, PostStatus, Revision
from posts.sendgates import send_gate_problems
from posts.services import (
    post_crisis_declare,
    post_crisis_request,
    post_move,
    post_schedule,
    post_update,
)
from publishing.models import Publication
from publishing.services import dispatch_once
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

EXPECTED_REFUSALS = (PermissionDenied, ValidationError)

# Each history starts here (a Monday morning in Berlin's winter time): its clock is its own.
START = dt.datetime(2026, 2, 2, 7, 30, tzinfo=dt.UTC)
CLAIM = "Die Grippeimpfung senkt das Risiko einer Klinikeinweisung um 40 %."
TEXTS = [
    f"{CLAIM} Termine: 030 1234567, Mo–Fr.",
    f"Händewaschen schützt. {CLAIM}",
    "Wash hands for 20 seconds 🧼 – Dr. Özdemir explains.",
    "x" * 3100,  # over a platform's limit: a finding Legal must acknowledge
]
QUOTE = "In a cohort of 1.2 million adults, vaccination reduced hospital admission by 40 %."
PMID = "33857487"
VALID_DAYS = 4
RECERTIFY_MONTHS = 1
EVENT_ACTIONS_OF_COMMENTS = {
    "review.comment_added",
    "review.comment_blocking_set",
    "review.comment_resolved",
    "review.comment_reopened",
}


def rule_met(*, run: StageRun, approvers: set[int], assigned: set[int]) -> bool:
    """The oracle of a stage's rule, on plain values."""
    if run.stage.rule == ApprovalRule.COUNT:
        return len(approvers) >= run.stage.required_approvals
    if run.stage.rule == ApprovalRule.ALL_ASSIGNED:
        return assigned <= approvers if assigned else len(approvers) >= 1
    return len(approvers) >= 1


def chains_prepare(governance: Any) -> list[ReviewChain]:
    """Give the standard chain blocking comments, claim checks and expiry; add a stricter chain. Returns the chains."""
    medical = Group.objects.get(name=roles.MEDICAL_REVIEWER)
    legal = Group.objects.get(name=roles.LEGAL_REVIEWER)
    comms = Group.objects.get(name=roles.COMMUNICATIONS_REVIEWER)
    standard = ReviewChain.objects.get(is_default=True)
    standard.approval_valid_days, standard.recertify_months = VALID_DAYS, RECERTIFY_MONTHS
    stages = {stage.group_id: stage for stage in standard.stages.all()}
    chain_save(
        chain=standard,
        actor=governance,
        stages=[
            StageSpec(
                position=1,
                name="Medical review",
                group=medical,
                turnaround=dt.timedelta(hours=48),
                checks_claims=True,
                blocking_comments_resolved=True,
                stage=stages[medical.pk],
            ),
            StageSpec(
                position=2,
                name="Legal review",
                group=legal,
                turnaround=dt.timedelta(hours=48),
                must_acknowledge_findings=True,
                blocking_comments_resolved=True,
                stage=stages[legal.pk],
            ),
        ],
    )
    strict = chain_save(
        chain=ReviewChain(name="Strict", description="Two doctors, then every assigned lawyer", approval_valid_days=2),
        actor=governance,
        stages=[
            StageSpec(
                position=1,
                name="Two doctors",
                group=medical,
                rule=ApprovalRule.COUNT,
                required_approvals=2,
                turnaround=dt.timedelta(hours=24),
                checks_claims=True,
                blocking_comments_resolved=True,
            ),
            StageSpec(
                position=2,
                name="All lawyers",
                group=legal,
                rule=ApprovalRule.ALL_ASSIGNED,
                turnaround=dt.timedelta(hours=12),
            ),
            StageSpec(position=3, name="Communications", group=comms, turnaround=dt.timedelta(hours=6)),
        ],
    )
    return [standard, strict, ReviewChain.objects.get(is_expedited=True)]


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox"


# make test runs 20 histories of 25 steps (fewer missed a guarded state); make test-slow 200 of 50: 10,000
# steps, as four quarters of 50 histories drawn from seeds of their own, which the two test workers share
# with the rest of the tier (as one test of 200 it took most of CI's slow tier on one worker). They run in
# .ci/run's SQLite pass; the PostgreSQL pass runs the 500 steps of make test.
QUARTERS = [
    pytest.param(50, 50, seed, id=f"10000-steps-quarter-{seed}", marks=[pytest.mark.slow, pytest.mark.once])
    for seed in range(1, 5)
]


@pytest.mark.parametrize(("histories", "steps", "seed"), [pytest.param(20, 25, None, id="fast"), *QUARTERS])
def test_random_mlr_histories_keep_the_rules_of_review(
    histories: int,
    steps: int,
    seed: int | None,
    editor: Any,
    governance: Any,
    viewer: Any,
    reviewers: dict[str, Any],
    campaign_factory: Any,
    account_factory: Any,
    post_factory: Any,
    outbox: Path,
    record_property: Any,
) -> None:
    writer = make_user("writer", roles.EDITOR, roles.MEDICAL_REVIEWER)  # edits, so never decides
    comms2 = make_user("comms2", roles.COMMUNICATIONS_REVIEWER)
    stranger = make_user("stranger", roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER)  # not assigned
    assigned = [*reviewers.values(), comms2, writer]
    people = [editor, writer, governance, viewer, stranger, comms2, *reviewers.values()]
    chains = chains_prepare(governance)
    accounts = [account_factory("facebook"), account_factory("linkedin")]
    reached: set[str] = set()

    class MlrMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()
            self.clock_travel = time_machine.travel(START, tick=False)
            self.clock = self.clock_travel.start()
            deputy_period_save(
                period=DeputyPeriod(
                    user=reviewers["medical"],
                    deputy=reviewers["medical2"],
                    starts=self.now().date(),
                    ends=(self.now() + dt.timedelta(days=6)).date(),
                ),
                actor=reviewers["medical"],
            )
            campaign = campaign_factory(
                editor,
                start_date=self.now().date() - dt.timedelta(days=7),
                end_date=self.now().date() + dt.timedelta(days=120),
                team=[writer],
                reviewers=assigned,
            )
            self.post = post_factory(
                editor,
                campaign,
                targets=accounts,
                when=self.now() + dt.timedelta(days=3),
                body=TEXTS[0],
                content_type="education",
            )
            # The text states a claim from the start, with its source: the medical stage must check it.
            claim_add(post=self.post, actor=editor, passage=CLAIM, source_kind="pmid", source=PMID, quote=QUOTE)
            self.post.refresh_from_db()
            self.checked_seq = 0
            self.checked_hash = ""
            self.audit_follow()
            self.state = self.fingerprint()

        def teardown(self) -> None:
            if not hasattr(self, "savepoint"):
                return
            try:
                assert chain_verify() is None
            finally:
                self.clock_travel.stop()
                transaction.set_rollback(True)
                self.savepoint.__exit__(None, None, None)

        # Plumbing ------------------------------------------------------------------------------

        def now(self) -> dt.datetime:
            return dt.datetime.now(tz=dt.UTC)

        def reload(self) -> None:
            self.post.refresh_from_db()

        def attempt(self, call: Callable[[], Any], *, writes: bool = True) -> bool:
            """Run one service call; a refusal is an outcome. A call that writes leaves an audit event."""
            before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            try:
                with transaction.atomic():
                    call()
            except EXPECTED_REFUSALS as refusal:
                if getattr(refusal, "code", "") == "blocking_comments":
                    reached.add("blocking comment refused approval")
                self.reload()
                return False
            after = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            if writes:
                assert after > before, f"{call} wrote without an audit event"
            self.reload()
            return True

        def members(self, run: StageRun) -> list[Any]:
            return [person for person in people if not ApprovalPolicy(person).decide_refusal(run)]

        def comments(self) -> list[ReviewComment]:
            return list(ReviewComment.objects.filter(post=self.post).order_by("pk"))

        def claims(self) -> list[Claim]:
            return list(Claim.objects.filter(post=self.post).order_by("pk"))

        # Time ------------------------------------------------------------------------------------

        @rule(hours=st.sampled_from([1, 3, 7, 20, 49, 80]))
        def time_passes(self, hours: int) -> None:
            self.clock.shift(dt.timedelta(hours=hours))

        @rule()
        def a_month_passes(self) -> None:
            self.clock.shift(dt.timedelta(days=32))

        # Writing -----------------------------------------------------------------------------------

        @rule(text=st.sampled_from(TEXTS), by_writer=st.booleans())
        def edit(self, text: str, by_writer: bool) -> None:
            actor = writer if by_writer else editor
            self.attempt(lambda: post_update(post=self.post, actor=actor, data={"body": text}), writes=False)

        @rule(who=st.sampled_from(["editor", "writer", "viewer"]))
        def submit(self, who: str) -> None:
            actor = {"editor": editor, "writer": writer, "viewer": viewer}[who]
            self.attempt(lambda: round_submit(post=self.post, actor=actor))

        @rule(hours=st.sampled_from([-5, 3, 30, 60, 150, 400]), by_viewer=st.booleans())
        def move(self, hours: int, by_viewer: bool) -> None:
            when = self.now() + dt.timedelta(hours=hours)
            actor = viewer if by_viewer else editor
            self.attempt(lambda: post_move(post=self.post, actor=actor, scheduled_at=when), writes=False)

        @rule(index=st.integers(0, len(chains) - 1), by_editor=st.booleans())
        def change_chain(self, index: int, by_editor: bool) -> None:
            actor = editor if by_editor else governance
            self.attempt(lambda: post_chain_set(post=self.post, chain=chains[index], actor=actor))

        @rule()
        def schedule(self) -> None:
            self.attempt(lambda: post_schedule(post=self.post, actor=editor))

        # Claims ------------------------------------------------------------------------------------

        @rule(with_source=st.booleans(), by_viewer=st.booleans())
        def claim_mark(self, with_source: bool, by_viewer: bool) -> None:
            source = {"source_kind": "pmid", "source": PMID, "quote": QUOTE} if with_source else {}
            actor = viewer if by_viewer else editor
            self.attempt(lambda: claim_add(post=self.post, actor=actor, passage=CLAIM, **source))

        @rule(pick=st.integers(0, 3))
        def claim_source_link(self, pick: int) -> None:
            claims = self.claims()
            if claims:
                claim = claims[pick % len(claims)]
                self.attempt(
                    lambda: claim_source_set(claim=claim, actor=editor, source_kind="pmid", source=PMID, quote=QUOTE),
                    writes=False,
                )

        @rule(pick=st.integers(0, 3))
        def claim_unmark(self, pick: int) -> None:
            claims = self.claims()
            if claims:
                self.attempt(lambda: claim_remove(claim=claims[pick % len(claims)], actor=editor))

        @rule(pick=st.integers(0, 3), who=st.integers(0, len(people) - 1))
        def claim_check(self, pick: int, who: int) -> None:
            claims = self.claims()
            if not claims:
                return
            claim = claims[pick % len(claims)]
            if self.attempt(lambda: claim_check_record(claim=claim, reviewer=people[who]), writes=False):
                reached.add("claim source checked")

        # Comments ----------------------------------------------------------------------------------

        @rule(who=st.integers(0, len(people) - 1), blocking=st.booleans(), in_text=st.booleans())
        def comment(self, who: int, blocking: bool, in_text: bool) -> None:
            self.comment_add_as(people[who], blocking=blocking, in_text=in_text)

        def comment_add_as(self, actor: Any, *, blocking: bool, in_text: bool) -> bool:
            quote = self.post.body[:24] if in_text else "not in the text at all"
            return self.attempt(
                lambda: comment_add(
                    post=self.post,
                    actor=actor,
                    anchor=AnchorSpec(kind="body", quote=quote),
                    text="Bitte Quelle prüfen – Zahl stimmt nicht?",
                    blocking=blocking,
                )
            )

        @rule(
            pick=st.integers(0, 5),
            who=st.integers(0, len(people) - 1),
            action=st.sampled_from(["reply", "resolve", "reopen", "block", "unblock"]),
        )
        def comment_thread(self, pick: int, who: int, action: str) -> None:
            comments = self.comments()
            if not comments:
                return
            comment, actor = comments[pick % len(comments)], people[who]
            calls: dict[str, Callable[[], Any]] = {
                "reply": lambda: comment_reply(comment=comment, actor=actor, text="Erledigt, siehe Version 3."),
                "resolve": lambda: comment_resolve(comment=comment, actor=actor),
                "reopen": lambda: comment_reopen(comment=comment, actor=actor),
                "block": lambda: comment_blocking_set(comment=comment, actor=actor, blocking=True),
                "unblock": lambda: comment_blocking_set(comment=comment, actor=actor, blocking=False),
            }
            self.attempt(calls[action], writes=action not in {"block", "unblock"})

        @rule(pick=st.integers(0, 10))
        def stage_member_blocks_then_approves(self, pick: int) -> None:
            """Biases towards refused approvals: a member of the open stage raises a blocking comment, then approves."""
            if self.post.status in {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED}:
                self.attempt(lambda: round_submit(post=self.post, actor=editor))
            run = current_stage_run(post=self.post)
            members = self.members(run) if run is not None else []
            if run is None or not members:
                return
            member = members[pick % len(members)]
            raised = self.comment_add_as(member, blocking=True, in_text=True)
            self.stage_settles(run, [member], comments=False, claims=True)
            approved = self.decide_as(run, member, Verdict.APPROVE)
            assert not (raised and approved and run.stage.blocking_comments_resolved), (
                "approved past a blocking comment"
            )

        # Decisions ---------------------------------------------------------------------------------

        def decide_as(self, run: StageRun, person: Any, verdict: str, *, ack: bool = True) -> bool:
            return self.attempt(
                lambda: decision_record(
                    stage_run=run,
                    reviewer=person,
                    verdict=verdict,
                    comment="" if verdict == Verdict.APPROVE else "Bitte ändern: Quelle fehlt.",
                    acknowledged=finding_keys(post=self.post) if ack else [],
                )
            )

        @rule(who=st.integers(0, len(people) - 1), verdict=st.sampled_from(list(Verdict)), ack=st.booleans())
        def decide(self, who: int, verdict: str, ack: bool) -> None:
            runs = ApprovalPolicy(people[who]).stage_run_for(self.post)
            if runs is not None:
                self.decide_as(runs, people[who], verdict, ack=ack)

        @rule(
            pick=st.integers(0, 10),
            verdict=st.sampled_from([Verdict.APPROVE, Verdict.APPROVE, Verdict.REQUEST_CHANGES]),
        )
        def decide_by_someone_of_the_stage(self, pick: int, verdict: str) -> None:
            """Biases towards decisions that count: the editor submits if needed, a member of the stage decides."""
            if self.post.status in {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED}:
                self.attempt(lambda: round_submit(post=self.post, actor=editor))
            run = current_stage_run(post=self.post)
            members = self.members(run) if run is not None else []
            if run is not None and members:
                self.decide_as(run, members[pick % len(members)], verdict)

        @rule(settle=st.sampled_from(["everything", "claims only", "nothing", "send back"]))
        def whole_chain_approves(self, settle: str) -> None:
            """Biases towards approval: each open stage's members settle what blocks them (as told), then approve."""
            if self.post.status in {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED}:
                self.attempt(lambda: round_submit(post=self.post, actor=editor))
            for _ in range(4):
                run = current_stage_run(post=self.post)
                members = self.members(run) if run is not None else []
                if run is None or not members:
                    break
                if settle == "send back":
                    self.decide_as(run, members[0], Verdict.REQUEST_CHANGES)
                    return
                self.stage_settles(run, members, comments=settle == "everything", claims=settle != "nothing")
                for person in members[: max(run.stage.required_approvals, 1)]:
                    if not self.decide_as(run, person, Verdict.APPROVE):
                        return

        def stage_settles(self, run: StageRun, members: list[Any], *, comments: bool, claims: bool) -> None:
            for comment in self.comments() if comments else []:
                if comment.blocking and comment.resolved_at is None and comment.group_id == run.stage.group_id:
                    self.attempt(lambda comment=comment: comment_resolve(comment=comment, actor=members[0]))
            if run.stage.checks_claims and claims:
                for claim in self.claims():
                    if self.attempt(
                        lambda claim=claim: claim_check_record(claim=claim, reviewer=members[0]), writes=False
                    ):
                        reached.add("claim source checked")

        # Crisis --------------------------------------------------------------------------------------

        @rule(who=st.sampled_from(["editor", "writer", "viewer"]))
        def crisis_request(self, who: str) -> None:
            actor = {"editor": editor, "writer": writer, "viewer": viewer}[who]
            reason = "Falschmeldung über Masern kursiert – bitte sofort reagieren."
            self.attempt(lambda: post_crisis_request(post=self.post, actor=actor, reason=reason))

        @rule(who=st.sampled_from(["governance", "governance", "comms", "editor", "medical"]))
        def crisis_declare(self, who: str) -> None:
            actor = governance if who == "governance" else editor if who == "editor" else reviewers[who]
            if self.attempt(lambda: post_crisis_declare(post=self.post, actor=actor)):
                reached.add("crisis declared")

        # Jobs: reminders, expiry, publishing, re-certification ---------------------------------------

        @rule()
        def reminders(self) -> None:
            with TestCase.captureOnCommitCallbacks(execute=True):
                reminders_send(now=self.now())
            if StageRun.objects.filter(round__post=self.post, escalated_at__isnull=False).exists():
                reached.add("escalated")

        @rule()
        def stage_runs_over(self) -> None:
            """Biases towards escalation: the clock passes the open stage's deadline; reminders run, and again later."""
            if self.post.status in {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED}:
                self.attempt(lambda: round_submit(post=self.post, actor=editor))
            run = current_stage_run(post=self.post)
            if run is None or run.deadline is None:
                return
            if run.deadline >= self.now():
                self.clock.move_to(run.deadline + dt.timedelta(minutes=1))
            self.reminders()
            self.clock.shift(dt.timedelta(hours=5))
            self.reminders()

        @rule(days_later=st.sampled_from([0, VALID_DAYS]))
        def expiry_job(self, days_later: int) -> None:
            self.clock.shift(dt.timedelta(days=days_later))
            if approvals_expire(now=self.now()):
                reached.add("approval expired")
            self.reload()

        @rule()
        def approved_then_left_to_expire(self) -> None:
            """Biases towards expiry: the whole chain approves, then nobody schedules the post in time."""
            self.whole_chain_approves(settle="everything")
            self.expiry_job(days_later=VALID_DAYS)

        @rule()
        def publishing_time_comes(self) -> None:
            """The clock reaches the post's slot (if ahead) and the dispatcher runs, asking every send gate."""
            if self.post.status != PostStatus.SCHEDULED or self.post.scheduled_at is None:
                return
            if self.post.scheduled_at > self.now():
                self.clock.move_to(self.post.scheduled_at + dt.timedelta(seconds=1))
            expired = self.approval_expired_at(self.now())
            with TestCase.captureOnCommitCallbacks(execute=True):
                dispatch_once(now=self.now())
            self.reload()
            if expired:
                assert not Publication.objects.filter(post=self.post, published_at__isnull=False).exists()
            if self.post.status in {PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED}:
                reached.add("published")

        @rule(who=st.integers(0, len(people) - 1), outcome=st.sampled_from(["keep", "keep", "revise", "withdraw"]))
        def recertify(self, who: int, outcome: str) -> None:
            reason = "Leitlinie STIKO 2026 unverändert – geprüft."
            if self.attempt(
                lambda: recertification_record(
                    post_id=self.post.pk, reviewer=people[who], outcome=outcome, reason=reason
                )
            ):
                reached.add("re-certified")

        @rule(outcome=st.sampled_from(["keep", "revise", "withdraw"]))
        def goes_live_and_falls_due(self, outcome: str) -> None:
            """Biases towards re-certification: approved, scheduled, published, a month on a reviewer answers."""
            self.whole_chain_approves(settle="everything")
            self.schedule()
            self.publishing_time_comes()
            if self.post.status not in {PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED}:
                return
            self.a_month_passes()
            for person in [reviewers["medical2"], reviewers["all_rounder"], editor]:
                self.recertify(who=people.index(person), outcome=outcome)

        # The oracle's own reading of expiry --------------------------------------------------------

        def approval_expired_at(self, moment: dt.datetime) -> bool:
            """Whether the post's current approval expired by ``moment``, read from rounds, chains and Keeps."""
            if not self.post.approved_hash:
                return False
            approved = (
                ReviewRound.objects.filter(
                    post=self.post, status=RoundStatus.APPROVED, content_hash=self.post.approved_hash
                )
                .select_related("chain")
                .order_by("-finished_at", "-pk")
                .first()
            )
            if approved is None or approved.finished_at is None or not approved.chain.approval_valid_days:
                return False
            kept = (
                Recertification.objects.filter(post=self.post, content_hash=self.post.approved_hash, outcome="keep")
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            since = max(approved.finished_at, kept) if kept else approved.finished_at
            return moment >= since + dt.timedelta(days=approved.chain.approval_valid_days)

        def fingerprint(self) -> tuple[Any, ...]:
            """What a state change changes: the post, its rounds, stages, decisions, comments, claims and checks."""
            post = Post.objects.filter(pk=self.post.pk).values_list(
                "status",
                "current_revision",
                "approved_hash",
                "scheduled_at",
                "content_type",
                "crisis_requested_at",
                "crisis_declared_by",
            )
            return (
                tuple(post),
                tuple(Revision.objects.filter(post=self.post).values_list("pk", flat=True)),
                tuple(ReviewRound.objects.filter(post=self.post).values_list("pk", "status")),
                tuple(
                    StageRun.objects.filter(round__post=self.post)
                    .order_by("pk")
                    .values_list("pk", "status", "deadline", "reminded_at", "escalated_at")
                ),
                tuple(Decision.objects.filter(stage_run__round__post=self.post).values_list("pk", flat=True)),
                tuple(ReviewComment.objects.filter(post=self.post).values_list("pk", "blocking", "resolved_at")),
                tuple(
                    ReviewComment.objects.filter(post=self.post).values_list("replies__pk", flat=True).order_by("pk")
                ),
                tuple(Claim.objects.filter(post=self.post).order_by("pk").values_list("pk", "source", "quote")),
                tuple(ClaimCheck.objects.filter(claim__post=self.post).values_list("pk", flat=True)),
                tuple(Recertification.objects.filter(post=self.post).values_list("pk", flat=True)),
                tuple(Publication.objects.filter(post=self.post).order_by("pk").values_list("pk", "status")),
            )

        def audit_follow(self) -> None:
            """Check the events written since the last step chain on (hash and predecessor); remember the newest."""
            for event in AuditEvent.objects.filter(seq__gt=self.checked_seq).order_by("seq"):
                if self.checked_seq:
                    assert event.seq == self.checked_seq + 1
                    assert event.prev_hash == self.checked_hash
                assert event.compute_hash() == event.hash
                self.checked_seq, self.checked_hash = event.seq, event.hash

        # Invariants ------------------------------------------------------------------------------

        @invariant()
        def every_state_change_is_audited_and_the_chain_holds(self) -> None:
            if not hasattr(self, "post"):
                return
            seen = self.checked_seq
            self.audit_follow()
            state = self.fingerprint()
            if state != self.state:
                assert self.checked_seq > seen, "a state change without an audit event"
            self.state = state

        @invariant()
        def the_open_stages_read_from_loaded_rounds_are_those_the_database_gives(self) -> None:
            if not hasattr(self, "post"):
                return
            post = Post.objects.select_related("current_revision").get(pk=self.post.pk)
            assert open_runs_of(rounds_for_post(post=post), post=post) == open_stage_runs(post=post)

        @invariant()
        def approved_only_what_every_stage_approved(self) -> None:
            if not hasattr(self, "post"):
                return
            post = self.post
            reached.add(post.status)
            if post.status not in {PostStatus.APPROVED, PostStatus.SCHEDULED} and not post.is_approved_as_is:
                return
            assert post.approved_hash == post.content_hash
            campaign_reviewers = set(post.campaign.reviewers.values_list("pk", flat=True))
            ok_rounds = []
            for review_round in ReviewRound.objects.filter(
                post=post, content_hash=post.content_hash, status=RoundStatus.APPROVED
            ):
                ok = True
                for run in review_round.stage_runs.select_related("stage__group"):
                    if run.stage.after_publication:
                        continue
                    approvers = {
                        d.reviewer_id
                        for d in run.decisions.all()
                        if d.verdict == Verdict.APPROVE and d.content_hash == post.content_hash
                    }
                    members = set(run.stage.group.user_set.values_list("pk", flat=True))
                    ok = ok and run.status == StageStatus.APPROVED
                    ok = ok and rule_met(run=run, approvers=approvers, assigned=campaign_reviewers & members)
                ok_rounds.append(ok)
            assert any(ok_rounds), "approved without every stage approving this content"

        @invariant()
        def nobody_decides_who_must_not(self) -> None:
            if not hasattr(self, "post"):
                return
            post = self.post
            declared = AuditEvent.objects.filter(
                object_type="posts.post", object_id=str(post.pk), action="post.crisis_declared"
            ).values_list("seq", "actor_id")
            decided_at = dict(
                AuditEvent.objects.filter(
                    object_type="posts.post", object_id=str(post.pk), action__in=[f"review.{v}" for v in Verdict]
                ).values_list("changes__decision", "seq")
            )
            seen: dict[tuple[int, int], int] = {}
            decisions = Decision.objects.filter(stage_run__round__post=post).select_related(
                "stage_run__stage__group", "stage_run__round__revision", "reviewer"
            )
            for decision in decisions:
                review_round = decision.stage_run.round
                assert decision.reviewer_id != post.author_id
                assert decision.reviewer_id != review_round.submitted_by_id
                writers = Revision.objects.filter(post=post, number__lte=review_round.revision.number)
                assert not writers.filter(created_by=decision.reviewer_id).exists()
                for seq, declarer in declared:
                    assert not (declarer == decision.reviewer_id and decided_at[decision.pk] > seq)
                assert decision.reviewer.groups.filter(pk=decision.stage_run.stage.group_id).exists()
                key = (review_round.pk, decision.reviewer_id)
                assert seen.setdefault(key, decision.stage_run_id) == decision.stage_run_id
                assert decision.content_hash == review_round.content_hash
                # Invariant 4: a signature holds exactly while the content it signed is the post's.
                signature = signature_of(decision, current_hash=post.content_hash)
                assert signature.valid == (decision.content_hash == post.content_hash)
                assert signature.printed_name and signature.role == decision.stage_run.stage.group.name
            assert ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).count() <= 1

        @invariant()
        def no_approval_past_an_open_blocking_comment_or_an_unchecked_claim(self) -> None:
            if not hasattr(self, "post"):
                return
            post = self.post
            comments = {c.pk: c for c in ReviewComment.objects.filter(post=post)}
            events = AuditEvent.objects.filter(
                object_type="posts.post", object_id=str(post.pk), action=f"review.{Verdict.APPROVE}"
            ) | AuditEvent.objects.filter(
                object_type="approvals.reviewcomment",
                object_id__in=[str(pk) for pk in comments],
                action__in=EVENT_ACTIONS_OF_COMMENTS,
            )
            open_blocking: dict[int, bool] = {}  # comment id: blocking and open, replayed from the trail
            resolved: set[int] = set()
            for event in events.order_by("seq"):
                if event.action == f"review.{Verdict.APPROVE}":
                    decision = Decision.objects.select_related("stage_run__stage", "stage_run__round__revision").get(
                        pk=event.changes["decision"]
                    )
                    stage = decision.stage_run.stage
                    if stage.blocking_comments_resolved:
                        blockers = [
                            pk
                            for pk, blocking in open_blocking.items()
                            if blocking and pk not in resolved and comments[pk].group_id == stage.group_id
                        ]
                        assert not blockers, f"{stage} approved past blocking comments {blockers}"
                    if stage.checks_claims:
                        snapshots = decision.stage_run.round.revision.content.get("claims") or []
                        checks = ClaimCheck.objects.filter(
                            content_hash=decision.content_hash, checked_at__lte=decision.created_at
                        ).values_list("claim_hash", flat=True)
                        for snapshot in snapshots:
                            assert snapshot.get("source"), "a claim without a source was approved"
                            assert content_hash(snapshot) in set(checks), "a claim approved unchecked"
                    continue
                pk = int(event.object_id)
                if event.action == "review.comment_added":
                    open_blocking[pk] = bool(event.changes["blocking"])
                elif event.action == "review.comment_blocking_set":
                    open_blocking[pk] = bool(event.changes["blocking"][1])
                elif event.action == "review.comment_resolved":
                    resolved.add(pk)
                else:
                    resolved.discard(pk)

        @invariant()
        def deadlines_hold_the_posts_time(self) -> None:
            if not hasattr(self, "post"):
                return
            post = self.post
            runs = StageRun.objects.filter(
                round__post=post,
                round__status=RoundStatus.IN_PROGRESS,
                status=StageStatus.IN_PROGRESS,
                stage__after_publication=False,
            )
            for run in runs:
                assert run.deadline is not None and run.started_at is not None
                if post.scheduled_at is None:
                    continue
                computed = (
                    AuditEvent.objects.filter(
                        object_type="approvals.stagerun",
                        object_id=str(run.pk),
                        action__in=["review.stage_status_changed", "review.deadline_changed"],
                    )
                    .order_by("-seq")
                    .values_list("created_at", flat=True)
                    .first()
                )
                assert computed is not None
                if post.scheduled_at > computed:
                    assert run.deadline <= post.scheduled_at, (run.deadline, post.scheduled_at)
                    assert run.deadline >= run.started_at, (run.deadline, run.started_at)
                if run.deadline > self.now():
                    reached.add("deadline ahead")

        @invariant()
        def an_expired_approval_never_passes_the_send_gate(self) -> None:
            if not hasattr(self, "post"):
                return
            now = self.now()
            problems = send_gate_problems(posts=[self.post], at=now)[self.post.pk]
            if self.approval_expired_at(now):
                assert problems, "an expired approval passed the send gate"

    if seed is not None:
        hypothesis.seed(seed)(MlrMachine)  # a seed of its own overrides derandomize: each quarter draws others
    run_state_machine_as_test(
        MlrMachine,
        settings=settings(
            max_examples=histories,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    wanted = {
        PostStatus.APPROVED,
        PostStatus.CHANGES_REQUESTED,
        "blocking comment refused approval",
        "claim source checked",
        "escalated",
        "crisis declared",
        "approval expired",
    }
    record_property("summary", f"MLR review machine, {histories} x {steps} steps, reached: {sorted(map(str, reached))}")
    if seed is None:
        # The derandomised run of make test goes on to publishing and re-certification; a quarter of
        # 50 histories drawn from its own seed need not (on 7 December seed 4 did not, 1 to 3 did).
        wanted |= {"published", "re-certified"}
    assert wanted <= reached, wanted - reached
