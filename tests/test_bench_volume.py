"""bench.lib.volume makes the world bench/http.py measures: its shape, at a small scale."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from approvals.models import Decision, ReviewComment, ReviewCommentReply, ReviewRound, StageRun
from bench.lib.volume import build, month_start
from consent.models import ConsentRecord
from posts.models import FeaturedPerson, Post, PostStatus, Revision
from publishing.models import Publication

pytestmark = pytest.mark.django_db


def test_a_small_volume_has_every_part_of_a_hospitals_year() -> None:
    made = build(posts=200, password="pw")

    assert Post.objects.count() == 200
    assert made["in_month"] == 3  # 1.5 %: 300 of 20,000
    zone = timezone.get_current_timezone()
    months = {post.scheduled_at.astimezone(zone).date().replace(day=1) for post in Post.objects.all()}
    today = timezone.localdate()
    assert months == {month_start(today, n) for n in range(-6, 6)}
    assert sorted(Post.objects.values("campaign").annotate(n=Count("pk")).values_list("n", flat=True)) == [40] * 5
    statuses = set(Post.objects.values_list("status", flat=True))
    assert {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.APPROVED} <= statuses
    assert {PostStatus.SCHEDULED, PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED} <= statuses
    past = Post.objects.filter(scheduled_at__lt=timezone.now() - dt.timedelta(minutes=1))
    assert not past.filter(status__in=[PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.SCHEDULED]).exists()

    # Every post has its revision; every submitted one a round of three stages, decided where done.
    assert Revision.objects.count() == 200
    assert not Post.objects.filter(current_revision__isnull=True).exists()
    submitted = Post.objects.exclude(status=PostStatus.DRAFT)
    assert ReviewRound.objects.count() == submitted.count()
    assert StageRun.objects.count() == 3 * submitted.count()
    assert Decision.objects.count() == StageRun.objects.filter(status__in=["approved", "changes_requested"]).count()
    assert ReviewComment.objects.exists() and ReviewCommentReply.objects.exists()
    assert Publication.objects.filter(status="confirmed", post__status=PostStatus.PUBLISHED).exists()
    assert Publication.objects.filter(status="pending", post__status=PostStatus.SCHEDULED).exists()
    assert FeaturedPerson.objects.filter(consent__verified_at__isnull=False).exists()
    assert ConsentRecord.objects.count() == made["subjects"] > 0

    # The posts the measured pages open.
    assert Post.objects.get(pk=made["draft"]).status == PostStatus.DRAFT
    assert Post.objects.get(pk=made["published"]).status == PostStatus.PUBLISHED
    assert Post.objects.get(pk=made["in_review"]).status == PostStatus.IN_REVIEW
