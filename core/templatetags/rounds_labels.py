"""``{{ post|label:"status" }}``: the label of a field's choice, as ``post.get_status_display``, for lists.

Django's ``get_FOO_display`` hashes every choice of the field, translating each lazy label, on
every call: a list of 50 posts paid that 50 times. Here each field's labels are made once per
language. A builtin (settings.TEMPLATES), so no template needs ``{% load %}``.
"""

from functools import cache
from typing import Any

from django import template
from django.db.models import Model
from django.utils.translation import get_language

register = template.Library()


@cache
def _labels(model: type[Model], name: str, language: str | None) -> dict[Any, str]:
    return {value: str(text) for value, text in model._meta.get_field(name).flatchoices}  # type: ignore[union-attr]


def choice_labels(model: type[Model], name: str) -> dict[Any, str]:
    """Return the labels of the choices of ``model``'s field ``name`` by value, in the active language."""
    return _labels(model._meta.concrete_model or model, name, get_language())


def choice_label(instance: Model, name: str) -> Any:
    """Return the label of ``instance``'s value of the choice field ``name`` (the value itself if not a choice)."""
    value = getattr(instance, name)
    return _labels(type(instance)._meta.concrete_model, name, get_language()).get(value, value)


@register.filter(is_safe=False)
def label(instance: Model, name: str) -> Any:
    """Render ``instance.get_<name>_display()``: ``{{ post|label:"status" }}``."""
    return choice_label(instance, name)
