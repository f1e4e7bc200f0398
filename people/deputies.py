"""The deputy page: a reviewer names who gets their review mail while they are away."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.inputs import BoundedDateField
from core.web import service_action
from people.http import AuthedHttpRequest
from people.models import DeputyPeriod, User
from people.roles import REVIEWER_ROLES
from people.selectors import deputy_periods_for
from people.services import deputy_period_delete, deputy_period_save


def deputy_candidates(user: User) -> QuerySet[User]:
    """Return the active people who share one of ``user``'s review groups (the service checks all of them)."""
    groups = user.groups.filter(name__in=REVIEWER_ROLES)
    return User.objects.filter(is_active=True, groups__in=groups).exclude(pk=user.pk).distinct().order_by("username")


class DeputyPeriodForm(forms.Form):
    deputy = forms.ModelChoiceField(queryset=User.objects.none(), label=gettext_lazy("Deputy"))
    starts = BoundedDateField(label=gettext_lazy("First day away"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = BoundedDateField(label=gettext_lazy("Last day away"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["deputy"].queryset = deputy_candidates(user)  # type: ignore[attr-defined]


@login_required
def deputies_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the user's deputy periods and add one."""
    user = User.objects.get(pk=request.user.pk)
    form = DeputyPeriodForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        period = DeputyPeriod(user=user, **form.cleaned_data)
        with service_action(request, success=_("Your deputy is set."), form=form) as call:
            deputy_period_save(period=period, actor=user)
        if call.ok:
            return redirect(reverse("people:deputies"))
    context = {"form": form, "periods": deputy_periods_for(user=user)}
    return render(request, "people/deputies.html", context, status=200 if not form.errors else 400)


@require_POST
@login_required
def deputy_end_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Remove one of the user's own deputy periods."""
    period = DeputyPeriod.objects.filter(pk=pk, user=request.user).first()
    if period is None:
        raise Http404
    with service_action(request, success=_("The deputy period was removed.")):
        deputy_period_delete(period=period, actor=request.user)
    return redirect(reverse("people:deputies"))
