"""Reads of the people app that other apps and views share: who is away and who stands in for them,
a user's in-app notices and their unread count."""

import datetime as dt
from collections.abc import Callable
from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from people.models import DeputyPeriod, Notice, User


def deputy_periods_on(*, now: dt.datetime | None = None) -> QuerySet[DeputyPeriod]:
    """Return the deputy periods covering ``now``'s day (in the project's zone), with both people."""
    day = timezone.localdate(now or timezone.now())
    return (
        DeputyPeriod.objects.filter(starts__lte=day, ends__gte=day, deputy__is_active=True)
        .select_related("user", "deputy")
        .order_by("user_id", "pk")
    )


def deputies_of(*, users: list[User], now: dt.datetime | None = None) -> dict[int, list[User]]:
    """Return, per absent user among ``users``, their deputies on ``now``'s day (one query)."""
    found: dict[int, list[User]] = {}
    for period in deputy_periods_on(now=now).filter(user__in=users):
        found.setdefault(period.user_id, []).append(period.deputy)
    return found


def deputy_periods_for(*, user: User) -> QuerySet[DeputyPeriod]:
    """Return ``user``'s own deputy periods, newest first, and those in which they stand in."""
    return DeputyPeriod.objects.filter(user=user).select_related("deputy").order_by("-starts", "-pk")


def notices_for_user(*, user: User) -> QuerySet[Notice]:
    """Return the user's notices, unread and read, newest first (the notices page shows a page of them)."""
    return Notice.objects.filter(user=user).order_by("-created_at", "-pk")


class NoticeCount:
    """The navigation's unread count: one query (on an index), made only if a page shows it."""

    def __init__(self, user: User | AnonymousUser, *, counted: Callable[[], int] | None = None) -> None:
        """``counted``: a query the request makes anyway that counts them too (``None``: count them here)."""
        self.user = user
        self._counted = counted

    @cached_property
    def unread(self) -> int:
        if not self.user.is_authenticated:
            return 0
        if self._counted is not None:
            return self._counted()
        return Notice.objects.filter(user_id=self.user.pk, read_at__isnull=True).count()


def notice_count_for(request: HttpRequest, *, counted: Callable[[], int] | None = None) -> NoticeCount:
    """Return the request's unread count, made once per request however many templates ask.

    ``counted`` is used if the count is made here, on the request's first ask.
    """
    count: NoticeCount | None = getattr(request, "_rounds_notice_count", None)
    if count is None:
        count = NoticeCount(request.user, counted=counted)
        request._rounds_notice_count = count  # type: ignore[attr-defined]
    return count
