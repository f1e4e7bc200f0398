from django.http import HttpRequest

from people.selectors import NoticeCount, notice_count_for


def notice_count(request: HttpRequest) -> dict[str, NoticeCount]:
    """Offer the navigation's unread notice count; one query per request, and only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notice_count": notice_count_for(request)}
