"""Irreversible acts ("Revoke consent", "Withdraw", "Delete on platform", "Declare crisis") are
confirmed on the server: the POST must carry the ticked "I understand …" box, or nothing changes.

The box is a plain checkbox (``templates/partials/confirm_irreversible.html``), so the step works
without JavaScript; the browser's own ``required`` check is only a convenience on top.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FIELD = "confirm_irreversible"
VALUE = "yes"


def confirmed(request: HttpRequest) -> bool:
    """Return whether the POST carries the ticked confirmation box of an irreversible act."""
    return request.POST.get(FIELD) == VALUE


def refuse_unconfirmed(request: HttpRequest, *, act: str) -> None:
    """Tell the user why nothing happened: the act cannot be undone and was not confirmed."""
    messages.error(
        request,
        _("Nothing was changed: “%(act)s” cannot be undone, so tick “I understand” before you confirm it.")
        % {"act": act},
    )


class _ConfirmBox(forms.CheckboxInput):
    """A checkbox posting "yes"; only that value counts as ticked, like ``confirmed``."""

    def __init__(self) -> None:
        super().__init__(attrs={"value": VALUE})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        return bool(data.get(name) == VALUE)


class ConfirmField(forms.BooleanField):
    """The same box inside a Django form: required, named ``confirm_irreversible``, posting "yes"."""

    def __init__(self, *, label: str | Promise, **kwargs: object) -> None:
        kwargs.setdefault("required", True)
        kwargs.setdefault(
            "error_messages",
            {"required": gettext_lazy("Nothing was changed: tick this box to confirm an act that cannot be undone.")},
        )
        super().__init__(label=label, widget=_ConfirmBox(), **kwargs)  # type: ignore[arg-type]
