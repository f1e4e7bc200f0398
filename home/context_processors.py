from django.http import HttpRequest

from home.attention import Attention, attention_for


def attention(request: HttpRequest) -> dict[str, Attention]:
    """Offer the navigation's attention counts; they are read on first use, once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"attention": attention_for(request)}
