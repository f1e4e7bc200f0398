from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from core.pagination import page_of
from core.web import safe_next
from people.http import AuthedHttpRequest
from people.models import Notice, User
from people.selectors import notices_for_user
from people.services import notice_read, notices_read_all, user_set_preferences

NOTICES_PAGE_SIZE = 50


class PreferencesForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["language", "time_zone", "email_delivery"]
        labels = {
            "language": gettext_lazy("Language"),
            "time_zone": gettext_lazy("Time zone"),
            "email_delivery": gettext_lazy("E-mail notifications"),
        }


@login_required
def preferences(request: AuthedHttpRequest) -> HttpResponse:
    """Show and change the user's language, time zone and how they get e-mail."""
    user = request.user
    assert isinstance(user, User)
    form = PreferencesForm(request.POST or None, instance=User.objects.get(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        user_set_preferences(
            user=user,
            actor=user,
            time_zone=form.cleaned_data["time_zone"],
            language=form.cleaned_data["language"],
            email_delivery=form.cleaned_data["email_delivery"],
        )
        translation.activate(user.language)
        messages.success(request, _("Your preferences were saved."))
        return redirect(safe_next(request, reverse("people:preferences")))
    return render(request, "people/preferences.html", {"form": form})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; for a logged-in user it becomes their saved preference."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user = User.objects.get(pk=request.user.pk)
        user_set_preferences(user=user, actor=user, language=language)
    return set_language(request)


@require_GET
@login_required
def notices(request: AuthedHttpRequest) -> HttpResponse:
    """The user's notices, newest first, unread ones marked, a page at a time (without counting them all)."""
    page = page_of(request, notices_for_user(user=request.user), per_page=NOTICES_PAGE_SIZE, count=False)
    return render(request, "people/notices.html", {"notices": page, "page": page, "nav": "notices"})


def _own_notice(request: AuthedHttpRequest, pk: int) -> Notice:
    # Someone else's notice is not found: no hint that it exists.
    return get_object_or_404(Notice, pk=pk, user=request.user)


@require_GET
@login_required
def notice_open(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Open a notice: mark it read and go where it points (the notices page if nowhere)."""
    notice = notice_read(notice=_own_notice(request, pk), user=request.user)
    target = notice.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("people:notices")
    return redirect(target)


@require_POST
@login_required
def notice_mark_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark read: one notice, without opening it."""
    notice_read(notice=_own_notice(request, pk), user=request.user)
    return redirect(safe_next(request, reverse("people:notices")))


@require_POST
@login_required
def notices_mark_all_read(request: AuthedHttpRequest) -> HttpResponse:
    """Mark all read."""
    count = notices_read_all(user=request.user)
    if count:
        messages.success(request, _("All notices are marked read."))
    return redirect(safe_next(request, reverse("people:notices")))
