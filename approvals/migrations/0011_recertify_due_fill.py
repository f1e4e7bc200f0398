"""Store when each live evergreen post falls due for re-certification (`Post.recertify_due_at`).

The moment is the one `approvals.expiry.Certification.recertify_at` computes: the newest approved
round of the post's approved content, dated anew by the latest "Keep" of that content, plus its
chain's months (`months_add`: the 31st becomes the month's last day). Posts are read in batches
by id, so a large database is filled in bounded memory.
"""

from typing import Any

from django.db import migrations

from approvals.expiry import months_add

BATCH = 1000
# The values as they were when this migration was written (PostStatus, ContentType, RoundStatus,
# RecertificationOutcome).
LIVE = ("published", "partially_published")
EVERGREEN = ("education",)


def due_dates_fill(apps: Any, schema_editor: Any) -> None:
    Post = apps.get_model("posts", "Post")
    ReviewRound = apps.get_model("approvals", "ReviewRound")
    Recertification = apps.get_model("approvals", "Recertification")
    live = (
        Post.objects.filter(status__in=LIVE, content_type__in=EVERGREEN)
        .exclude(approved_hash="")
        .order_by("pk")
        .only("pk", "approved_hash")
    )
    last = 0
    while batch := list(live.filter(pk__gt=last)[:BATCH]):
        last = batch[-1].pk
        approved = {post.pk: post.approved_hash for post in batch}
        certifying: dict[int, Any] = {}
        rounds = (
            ReviewRound.objects.select_related("chain")
            .filter(post_id__in=approved, status="approved", finished_at__isnull=False)
            .order_by("post_id", "-finished_at", "-pk")
        )
        for review_round in rounds:
            if review_round.content_hash == approved[review_round.post_id]:
                certifying.setdefault(review_round.post_id, review_round)
        kept: dict[int, Any] = {}
        keeps = Recertification.objects.filter(post_id__in=certifying, outcome="keep").values_list(
            "post_id", "content_hash", "created_at"
        )
        for post_id, content_hash, created_at in keeps:
            if content_hash == approved[post_id]:
                kept[post_id] = max(kept.get(post_id, created_at), created_at)
        due = []
        for post in batch:
            review_round = certifying.get(post.pk)
            if review_round is None or not review_round.chain.recertify_months:
                continue
            since = max(review_round.finished_at, kept.get(post.pk, review_round.finished_at))
            post.recertify_due_at = months_add(since, review_round.chain.recertify_months)
            due.append(post)
        Post.objects.bulk_update(due, ["recertify_due_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0010_distinct_chain_admin_names"),
        ("posts", "0013_post_recertify_due_at"),
    ]

    operations = [migrations.RunPython(due_dates_fill, migrations.RunPython.noop, elidable=False)]
