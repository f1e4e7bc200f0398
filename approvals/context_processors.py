from django.http import HttpRequest

from approvals.selectors import ReviewCounts


def review_counts(request: HttpRequest) -> dict[str, ReviewCounts]:
    """Offer the navigation's review counts; they cost one query, and only if a page shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"review_counts": ReviewCounts(user)}
