from django.http import HttpRequest

from approvals.selectors import ReviewCounts
from home.attention import Attention, attention_for


def attention(request: HttpRequest) -> dict[str, Attention | ReviewCounts]:
    """Offer the navigation's attention counts; they are read on first use, once per request.

    A reviewer's menu count comes from the same query (this processor runs after approvals' own,
    whose count it replaces).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    found = attention_for(request)
    return {"attention": found, "review_counts": ReviewCounts(user, counted=found.review_counts)}
