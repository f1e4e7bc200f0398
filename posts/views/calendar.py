from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    return render(request, "posts/calendar.html", {})


@login_required
def post_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
