from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from core.web import safe_next
from people.http import AuthedHttpRequest
from people.models import User
from people.services import user_set_preferences


class PreferencesForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["language", "time_zone"]
        labels = {"language": gettext_lazy("Language"), "time_zone": gettext_lazy("Time zone")}


@login_required
def preferences(request: AuthedHttpRequest) -> HttpResponse:
    """Show and change the user's language and time zone."""
    user = request.user
    assert isinstance(user, User)
    form = PreferencesForm(request.POST or None, instance=User.objects.get(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        user_set_preferences(
            user=user, actor=user, time_zone=form.cleaned_data["time_zone"], language=form.cleaned_data["language"]
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
