"""E-mails of expiring approvals: an approval expired, a re-certification was answered (once each, `mail_once`)."""

from django.urls import reverse

from approvals.models import Recertification, RecertificationOutcome, ReviewRound
from core.mail import mail_once
from core.site import site_url
from posts.models import Post
from posts.notifications import author_and_communications


def approval_expired_told(*, post_id: int, round_id: int) -> int:
    """Tell the author that the post's approval expired and it is back in review; returns mails sent.

    The reviewers of the first stage get the "post waiting" mail of the new round (`stage_reached`).
    """
    post = Post.objects.select_related("author", "campaign").get(pk=post_id)
    review_round = ReviewRound.objects.select_related("chain").get(pk=round_id)
    return mail_once(
        key=f"approval_expired:{post.pk}:{review_round.pk}",
        recipients=[post.author],
        template="approvals/email/approval_expired",
        context={
            "post": post,
            "chain": review_round.chain,
            "path": site_url(reverse("posts:post_detail", args=[post.pk])),
        },
        url=reverse("posts:post_detail", args=[post.pk]),
    )


def recertification_told(*, recertification_id: int, takedowns: int = 0) -> int:
    """Tell the author and Communications how a reviewer answered a re-certification; returns mails sent."""
    recertification = Recertification.objects.select_related("post__campaign", "reviewer").get(pk=recertification_id)
    post = recertification.post
    return mail_once(
        key=f"recertification:{recertification.pk}",
        recipients=author_and_communications(post),
        template="approvals/email/recertification",
        context={
            "recertification": recertification,
            "post": post,
            "status": recertification.get_outcome_display(),
            "kept": recertification.outcome == RecertificationOutcome.KEEP,
            "revise": recertification.outcome == RecertificationOutcome.REVISE,
            "withdrawn": recertification.outcome == RecertificationOutcome.WITHDRAW,
            "takedowns": takedowns,
            "path": site_url(reverse("posts:post_detail", args=[post.pk])),
            "takedowns_path": site_url(reverse("publishing:publishing") + "#takedowns"),
        },
        url=reverse("posts:post_detail", args=[post.pk]),
    )
