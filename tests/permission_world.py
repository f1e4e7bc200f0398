"""The world the permission matrix runs in: one user per role and two campaigns, "own" and "foreign".

Everything is made through the services, once per test module. The own campaign is the role
users' (the editor's team, the reviewers assigned, the editor also listed as a reviewer: the case
where reading signed forms must still be refused); the foreign one belongs to other people. Each
campaign has a post at every point a URL acts on: a draft (with an image and a featured person),
one waiting at each review stage (relying on the same consent), an approved and a scheduled one,
a failed publication and an open takedown.
"""

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals.comments import AnchorSpec, comment_add, comment_resolve
from approvals.models import AnchorKind, ReviewChain, ReviewComment, ReviewRound, RoundStatus, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, recertification_due_refresh, round_submit
from consent.models import ConsentRecord, Subject
from consent.services import SignerSpec, consent_record_create, consent_revoke, consent_verify, subject_create
from core.imaging import image_process
from people import roles
from people.models import User
from posts.claims import claim_add
from posts.models import Account, Campaign, Post, PostStatus
from posts.services import (
    FeatureSpec,
    NewMedia,
    TargetSpec,
    campaign_create,
    campaign_permissions_sync,
    post_create,
    post_schedule,
    post_transition,
)
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P
from publishing.services import publication_transition
from tests.conftest import IMAGES, PDF_BYTES, make_user

OWN = "own"
FOREIGN = "foreign"
RELATIONS = (OWN, FOREIGN)

# The role users, by the matrix's role names; "anonymous" has no user.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "editor": (roles.EDITOR,),
    "medical": (roles.MEDICAL_REVIEWER,),
    "legal": (roles.LEGAL_REVIEWER,),
    "comms": (roles.COMMUNICATIONS_REVIEWER,),
    "consent": (roles.CONSENT_OFFICER,),
    "governance": (roles.GOVERNANCE,),
    "viewer": (roles.VIEWER,),
    "superuser": (),
    "nobody": (),
}


@dataclass
class Side:
    """One campaign and the objects in it that the URLs act on."""

    campaign: Campaign
    subject: Subject
    record: ConsentRecord  # verified, relied on by the draft
    pending: ConsentRecord  # recorded, waiting for a second officer
    uncopied: ConsentRecord  # recorded, the signer's copy not yet recorded
    draft: Post
    media_path: str
    at_stage: dict[str, Post]  # reviewer role name -> a post waiting at that role's stage
    approved: Post
    scheduled: Post
    failed: Publication
    takedown: TakedownItem
    claimed: Post  # waiting at the medical stage with a claim whose source is linked, not yet checked
    due: Post  # published education post due for re-certification (approved 13 months ago)
    comment: ReviewComment | None = None  # open, not blocking, by the side's Medical reviewer, on at_stage["medical"]
    resolved_comment: ReviewComment | None = None  # the same, resolved


@dataclass
class World:
    users: dict[str, User]
    sides: dict[str, Side] = field(default_factory=dict)
    chain: ReviewChain | None = None
    # Role (or "other", the foreign editor) -> the token of their plan upload.
    plans: dict[str, str] = field(default_factory=dict)
    # Role -> the session key of a client signed in as its user, with their plan in the session.
    sessions: dict[str, str] = field(default_factory=dict)


def _picture() -> NewMedia:
    image = image_process(upload=io.BytesIO((IMAGES / "square_1080_rgba.png").read_bytes()))
    return NewMedia(image=image, alt_text="A teal square on white")


def _record(subject: Subject, *, by: User, verifier: User | None, copy_given: bool = True) -> ConsentRecord:
    signed_on = timezone.localdate() - dt.timedelta(days=10)
    record = consent_record_create(
        actor=by,
        subject=subject,
        data={
            "media_kinds": ["photo", "name", "story"],
            "description": "Fotos vom Stationsbesuch, Vorname und Geschichte der Behandlung",
            "disclosing_organisation": "Klinikum Nord",
            "all_platforms": True,
            "purposes": ["education"],
            "signed_on": signed_on,
            "copy_given_on": signed_on if copy_given else None,
            "copy_given_how": "handed_over" if copy_given else "",
            "expires_on": timezone.localdate() + dt.timedelta(days=365),
            "states_right_to_revoke": True,
            "states_no_conditioning": True,
            "states_redisclosure": True,
        },
        signers=[SignerSpec(role="subject", name=subject.display_name)],
        document=io.BytesIO(PDF_BYTES),
        document_name="form.pdf",
    )
    if verifier is not None:
        record = consent_verify(record=record, actor=verifier)
    return record


def _approve(post: Post, *reviewers: User) -> Post:
    for reviewer in reviewers:
        run = current_stage_run(post=post)
        assert run is not None, f"no stage open for {post}"
        decision_record(stage_run=run, reviewer=reviewer, verdict=Verdict.APPROVE)
        post.refresh_from_db()
    return post


def _side(
    tag: str,
    *,
    owner: User,
    reviewers: dict[str, User],
    extra_reviewers: list[User],
    account: Account,
    officers: tuple[User, User],
    pending_by: User,
) -> Side:
    today = timezone.localdate()
    campaign = campaign_create(
        actor=owner,
        name=f"{tag} campaign",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
        reviewers=list(reviewers.values()),
    )
    if extra_reviewers:
        # Listed as reviewers outside any reviewer group, as data from before the services refused
        # that may still hold: such a listing must open no signed form.
        campaign.reviewers.add(*extra_reviewers)
        campaign_permissions_sync(campaign=campaign)
    officer, second = officers
    subject = subject_create(actor=officer, data={"display_name": f"{tag} patient", "reference": f"{tag}-0001"})
    record = _record(subject, by=officer, verifier=second)
    pending = _record(subject, by=pending_by, verifier=None)
    uncopied = _record(subject, by=officer, verifier=None, copy_given=False)
    leaving = _record(subject, by=officer, verifier=second)
    # Six days: the default chain's turnarounds fit before the time, so submitting asks no confirmation.
    when = timezone.now() + dt.timedelta(days=6)

    def post(title: str, **extra: Any) -> Post:
        return post_create(
            actor=owner,
            campaign=campaign,
            data={"title": f"{tag} {title}", "body": "Wash your hands: it saves lives."},
            targets=[TargetSpec(account=account)],
            scheduled_at=when,
            **extra,
        )

    draft = post(
        "draft", media=[_picture()], featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("story",))]
    )
    claim_add(post=draft, actor=owner, passage="Wash your hands")
    claimed = post("claimed")
    claim_add(
        post=claimed,
        actor=owner,
        passage="it saves lives",
        source_kind="pmid",
        source="31378231",
        quote="Hand hygiene reduced infections.",
    )
    round_submit(post=claimed, actor=owner)
    medical, legal, comms = reviewers["medical"], reviewers["legal"], reviewers["comms"]
    at_stage = {}
    for name, before in (("medical", ()), ("legal", (medical,)), ("comms", (medical, legal))):
        # Relies on the record: the stage deciding it may read the signed form.
        waiting = post(f"at {name}", featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("story",))])
        round_submit(post=waiting, actor=owner)
        waiting.refresh_from_db()
        at_stage[name] = _approve(waiting, *before)
    comments = [
        comment_add(
            post=at_stage["medical"],
            actor=medical,
            anchor=AnchorSpec(kind=AnchorKind.BODY, quote="saves lives"),
            text="Source?",
        )
        for _ in range(2)
    ]
    comment_resolve(comment=comments[1], actor=medical)

    def approved_post(title: str) -> Post:
        made = post(title)
        round_submit(post=made, actor=owner)
        return _approve(made, medical, legal, comms)

    approved = approved_post("approved")
    scheduled = post_schedule(post=approved_post("scheduled"), actor=owner)
    failing = post_schedule(post=approved_post("failing"), actor=owner)
    with transaction.atomic():
        publication = Publication.objects.select_for_update().get(post=failing)
        publication_transition(publication=publication, to=P.CLAIMED, reason="matrix world")
        publication_transition(publication=publication, to=P.FAILED, reason="matrix world", fields={"attempts": 1})
    due = post_schedule(post=approved_post("due"), actor=owner)
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=due.pk)
        post_transition(post=locked, to=PostStatus.PUBLISHED, actor=owner, reason="history for the matrix")
    ReviewRound.objects.filter(post=due, status=RoundStatus.APPROVED).update(
        finished_at=timezone.now() - dt.timedelta(days=400)
    )
    recertification_due_refresh(post_ids=[due.pk])  # the approval dated back: so is its due moment
    out = post("out", featured=[FeatureSpec(subject=subject, consent=leaving, media_kinds=("story",))])
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=out.pk)
        for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
            post_transition(post=locked, to=status, actor=owner, reason="history for the matrix")
    consent_revoke(record=leaving, actor=officer, received_via="letter")
    return Side(
        campaign=campaign,
        subject=subject,
        record=record,
        pending=pending,
        uncopied=uncopied,
        draft=draft,
        media_path=draft.media.get().file.name,
        at_stage=at_stage,
        approved=approved,
        scheduled=scheduled,
        failed=publication,
        takedown=TakedownItem.objects.get(post=out),
        comment=comments[0],
        resolved_comment=comments[1],
        claimed=claimed,
        due=due,
    )


def world_build() -> World:
    """Make the role users, the other people and both campaigns; return them."""
    users = {name: make_user(f"matrix_{name}", *groups) for name, groups in ROLE_GROUPS.items() if name != "superuser"}
    users["superuser"] = User.objects.create_superuser(
        username="matrix_superuser", email="matrix_superuser@example.org", password="pw"
    )
    users["governance"].is_staff = True
    users["governance"].save(update_fields=["is_staff"])
    others = {
        "editor": make_user("matrix_other_editor", roles.EDITOR),
        "medical": make_user("matrix_other_medical", roles.MEDICAL_REVIEWER),
        "legal": make_user("matrix_other_legal", roles.LEGAL_REVIEWER),
        "comms": make_user("matrix_other_comms", roles.COMMUNICATIONS_REVIEWER),
        "consent": make_user("matrix_other_consent", roles.CONSENT_OFFICER),
    }
    account = Account.objects.create(platform="outbox", name="Matrix outbox", handle="matrix_outbox")
    world = World(users=users, chain=ReviewChain.objects.filter(active=True).order_by("pk").first())
    ReviewChain.objects.filter(is_default=True).update(recertify_months=12)
    own_reviewers = {name: users[name] for name in ("medical", "legal", "comms")}
    world.sides[OWN] = _side(
        "Own",
        owner=users["editor"],
        reviewers=own_reviewers,
        extra_reviewers=[users["editor"]],
        account=account,
        officers=(users["consent"], others["consent"]),
        pending_by=users["consent"],
    )
    world.sides[FOREIGN] = _side(
        "Foreign",
        owner=others["editor"],
        reviewers={name: others[name] for name in ("medical", "legal", "comms")},
        extra_reviewers=[],
        account=account,
        officers=(others["consent"], users["consent"]),
        pending_by=others["consent"],
    )
    return world
