"""Reads of the people app that views share: a user's in-app notices and their unread count."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest

from people.models import Notice, User

NOTICES_SHOWN = 200


def notices_for_user(*, user: User) -> QuerySet[Notice]:
    """Return the user's newest notices, unread and read, newest first (one query)."""
    return Notice.objects.filter(user=user).order_by("-created_at", "-pk")[:NOTICES_SHOWN]


class NoticeCount:
    """The navigation's unread count: one query (on an index), made only if a page shows it."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        if not self.user.is_authenticated:
            return 0
        return Notice.objects.filter(user_id=self.user.pk, read_at__isnull=True).count()


def notice_count_for(request: HttpRequest) -> NoticeCount:
    """Return the request's unread count, made once per request however many templates ask."""
    count: NoticeCount | None = getattr(request, "_rounds_notice_count", None)
    if count is None:
        count = NoticeCount(request.user)
        request._rounds_notice_count = count  # type: ignore[attr-defined]
    return count
