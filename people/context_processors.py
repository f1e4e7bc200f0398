from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from people.selectors import notice_count_for


def notice_count(request: HttpRequest) -> dict[str, object]:
    """Offer the navigation's unread notice count; one query per request, and only if a page shows it.

    Made on first use, after every context processor ran: the attention counts (home) read it in
    the query they make anyway.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notice_count": SimpleLazyObject(lambda: notice_count_for(request))}
