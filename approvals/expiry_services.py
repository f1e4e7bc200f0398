"""Writes of expiring approvals: sending expired approvals back for review, and re-certification answers.

An approval that expired before its post went out sends the post back to review (`in_review`, a
new round from the first stage): the content may well still be right, nobody asked for changes,
and no gate outside review failed, so neither "changes requested" nor "blocked" would be true.
The round is opened for the person who submitted the expired one (the system acts; independence
keeps excluding them), the first stage's reviewers get the "post waiting" mail, the author one
saying why.

At re-certification a reviewer answers for a live evergreen post: "Keep" certifies it again (the
clock starts anew), "Revise" asks the author for a new version (a published post's content is
never edited in place: the author writes the revision as a new post, which the chain reviews;
the live post stays up and stays due until a reviewer keeps or withdraws it), "Withdraw" takes it
down as a rejection after publication does (`posts.services.post_retract`, takedown cause
``recertification_withdrawn``). Each answer is a signed `Recertification` row with a reason, and audited.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.expiry import WAITING, approvals_expired, certification_of
from approvals.models import Recertification, RecertificationOutcome
from approvals.policy import RecertificationPolicy
from approvals.services import _round_open, recertification_due_refresh
from audit.services import event_record
from core.inputs import text_problem, unstorable_error
from core.tasks import enqueue_after_commit
from people.models import User
from posts.locks import post_lock
from posts.models import PostStatus
from posts.services import post_retract, post_transition

RECERTIFICATION_REFUSALS = {
    "not_logged_in": gettext_lazy("Log in to review."),
    "not_due": gettext_lazy("This post is not due for re-certification."),
    "author": gettext_lazy("Authors never re-certify their own posts."),
    "not_in_group": gettext_lazy("Only members of the chain's first stage re-certify its posts."),
    "cannot_see": gettext_lazy("You are not assigned to this campaign."),
    "wrote_revision": gettext_lazy("You wrote a version of this post; someone else re-certifies it."),
}


def approvals_expire(*, now: dt.datetime | None = None) -> int:
    """Task: send every approved or scheduled post whose approval expired back for review; returns how many.

    Idempotent: a post sent back is in review and no longer a candidate; each post moves in its own
    transaction, so one that fails leaves the others done.
    """
    now = now or timezone.now()
    return sum(approval_expire(post_id=post_id, now=now) for post_id in approvals_expired(now=now))


@transaction.atomic
def approval_expire(*, post_id: int, now: dt.datetime | None = None) -> bool:
    """Send one post back for review if its approval expired by ``now``; True if it did.

    Re-checks under the post's lock: a post that went out, changed or was approved again since
    the task listed it is left as it is.
    """
    now = now or timezone.now()
    post = post_lock(post_id)
    certification = certification_of(post)
    if post.status not in WAITING or certification is None:
        return False
    expires = certification.expires_at
    if expires is None or now < expires:
        return False
    expired_round = certification.round
    post.approved_hash = ""
    post.save(update_fields=["approved_hash", "updated_at"])
    event_record(
        actor=None,
        action="review.approval_expired",
        obj=post,
        content_hash=post.content_hash,
        changes={
            "round": expired_round.pk,
            "chain": certification.chain.name,
            "approved_at": certification.since.isoformat(),
            "expired_at": expires.isoformat(),
            "status": post.status,
        },
    )
    post_transition(post=post, to=PostStatus.IN_REVIEW, actor=None, reason="approval expired: review restarts")
    new_round = _round_open(post=post, actor=None, submitted_by=expired_round.submitted_by)
    enqueue_after_commit("approvals.expiry_notifications.approval_expired_told", post_id=post.pk, round_id=new_round.pk)
    return True


@transaction.atomic
def recertification_record(*, post_id: int, reviewer: User, outcome: str, reason: str) -> Recertification:
    """Record a reviewer's "Keep", "Revise" or "Withdraw" for a live post due for re-certification; returns it.

    Withdraw takes the post down in the same transaction (`post_retract`); every answer is audited
    and the author and Communications are told after commit.
    """
    post = post_lock(post_id)
    certification = certification_of(post)
    refusal = RecertificationPolicy(reviewer).refusal(post, certification=certification, now=timezone.now())
    if refusal:
        raise PermissionDenied(str(RECERTIFICATION_REFUSALS[refusal]))
    assert certification is not None, "the policy refuses a post without a certification"
    if outcome not in RecertificationOutcome.values:
        raise ValidationError(_("Choose keep, revise or withdraw."))
    reason = reason.strip()
    if text_problem(reason):
        raise ValidationError({"reason": unstorable_error().messages})
    if not reason:
        raise ValidationError({"reason": _("Give a reason: it is signed with your name.")})
    recertification = Recertification.objects.create(
        post=post,
        chain=certification.chain,
        reviewer=reviewer,
        outcome=outcome,
        reason=reason,
        content_hash=post.approved_hash,
    )
    event_record(
        actor=reviewer,
        action=f"review.recertification_{outcome}",
        obj=post,
        content_hash=recertification.content_hash,
        changes={
            "recertification": recertification.pk,
            "reason": reason,
            "chain": certification.chain.name,
            "certified_since": certification.since.isoformat(),
        },
    )
    takedowns = 0
    if outcome == RecertificationOutcome.WITHDRAW:
        retraction = post_retract(
            post=post,
            stage="re-certification",
            comment=reason,
            actor=reviewer,
            cause="recertification_withdrawn",
        )
        takedowns = len(retraction.takedown_ids)
    # A "Keep" dates the approval anew; a withdrawal ends it.
    recertification_due_refresh(post_ids=[post.pk])
    enqueue_after_commit(
        "approvals.expiry_notifications.recertification_told",
        recertification_id=recertification.pk,
        takedowns=takedowns,
    )
    return recertification
