"""Reads about people that other apps share: who is away and who stands in for them."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from people.models import DeputyPeriod, User


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
