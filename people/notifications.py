"""The daily digest: one mail a day to each person who chose it, with the notices of their day."""

import datetime as dt
import zoneinfo

from django.urls import reverse
from django.utils import timezone

from core.mail import mail_once
from core.site import site_url
from people.models import EmailDelivery, Notice, User


def _zone(user: User) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Mail each digest reader the notices of their last whole day (in their zone), once per day; returns mails sent.

    The key ``digest:<user>:<day>`` makes a second run the same day, or two workers, mail nobody twice.
    """
    now = now or timezone.now()
    readers = list(User.objects.filter(is_active=True, email_delivery=EmailDelivery.DIGEST).exclude(email=""))
    if not readers:
        return 0
    days: dict[int, tuple[dt.date, dt.datetime, dt.datetime]] = {}
    for user in readers:
        zone = _zone(user)
        day = now.astimezone(zone).date() - dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        days[user.pk] = (day, start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    earliest = min(start for _day, start, _end in days.values())
    latest = max(end for _day, _start, end in days.values())
    notices: dict[int, list[Notice]] = {}
    for notice in Notice.objects.filter(user__in=readers, created_at__gte=earliest, created_at__lt=latest).order_by(
        "created_at", "pk"
    ):
        _day, start, end = days[notice.user_id]
        if start <= notice.created_at < end:
            notices.setdefault(notice.user_id, []).append(notice)
    sent = 0
    for user in readers:
        mine = notices.get(user.pk)
        if not mine:
            continue
        day = days[user.pk][0]
        sent += mail_once(
            key=f"digest:{user.pk}:{day.isoformat()}",
            recipients=[user],
            template="people/email/digest",
            context={
                "day": day,
                "notices": [(notice, site_url(notice.url) if notice.url else "") for notice in mine],
                "notices_url": site_url(reverse("people:notices")),
            },
            notice=False,
        )
    return sent
