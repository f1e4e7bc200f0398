"""The home page "Needs attention"."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from home.attention import attention_for
from people.http import AuthedHttpRequest


@require_GET
@login_required
def home_view(request: AuthedHttpRequest) -> HttpResponse:
    """List what waits on the user, section by section, for the roles each section concerns."""
    attention = attention_for(request)
    sections = attention.sections()
    context = {"sections": sections, "all_clear": not any(section.count for section in sections), "nav": "home"}
    return render(request, "home/home.html", context)
