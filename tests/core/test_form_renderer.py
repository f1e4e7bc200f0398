"""PythonWidgetRenderer writes what Django's widget templates write, byte for byte."""

import datetime as dt
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from core.form_renderer import WIDGETS, PythonWidgetRenderer

HOSTILE = "Müller & \"Söhne\" <script>alert(1)</script> 'x' 12.05.1950 +49 30 1234-567 😀"
CHOICES = [
    ("", "---------"),
    ("a", HOSTILE),
    (2, gettext_lazy("Draft")),
    ("safe", mark_safe("<b>bold</b>")),
    ("Group & co", [("g1", "Eins"), ("g2", "Zwei <2>")]),
    (None, "nothing"),
]
ATTRS: list[dict[str, Any]] = [
    {},
    {"id": "id_x"},
    {"id": "id_x", "class": "wide & tall", "required": True, "disabled": False, "maxlength": 100, "data-q": HOSTILE},
    {
        "id": "",
        "class": "",
        "aria-describedby": "id_x_helptext",
        "autofocus": True,
        "placeholder": gettext_lazy("Title"),
    },
    {"data-safe": mark_safe("<i>"), "data-tuple": (1, 2), "data-none": None, "data-zero": 0, "data-a&b": "v"},
]

WIDGET_CASES: list[tuple[forms.Widget, Any]] = [
    (forms.TextInput(), "plain"),
    (forms.TextInput(), HOSTILE),
    (forms.TextInput(), None),
    (forms.TextInput(), ""),
    (forms.TextInput(), 0),
    (forms.TextInput(), mark_safe("<safe>")),
    (forms.NumberInput(), 1234567),
    (forms.NumberInput(), 3.5),
    (forms.EmailInput(), "a@b.example"),
    (forms.URLInput(), "https://example.org/?a=1&b=<2>"),
    (forms.PasswordInput(render_value=True), "secret&"),
    (forms.PasswordInput(), "secret"),
    (forms.HiddenInput(), 'h"idden'),
    (forms.DateInput(), dt.date(1950, 5, 12)),
    (forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), dt.date(2026, 12, 6)),
    (forms.TimeInput(), dt.time(9, 30)),
    (forms.DateTimeInput(), dt.datetime(2026, 12, 6, 9, 30)),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.CheckboxInput(), "on"),
    (forms.Textarea(), ""),
    (forms.Textarea(), None),
    (forms.Textarea(), 'Zeile 1\n<Zeile 2> & "3"\n' + HOSTILE),
    (forms.Select(choices=CHOICES), "a"),
    (forms.Select(choices=CHOICES), 2),
    (forms.Select(choices=CHOICES), "g2"),
    (forms.Select(choices=CHOICES), None),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=CHOICES), ["a", "g1"]),
    (forms.NullBooleanSelect(), True),
    (forms.CheckboxSelectMultiple(choices=CHOICES), ["a", "safe", "g2"]),
    (forms.CheckboxSelectMultiple(choices=CHOICES), []),
    (forms.CheckboxSelectMultiple(choices=[]), []),
    (forms.RadioSelect(choices=CHOICES), "g1"),
    (forms.RadioSelect(choices=CHOICES), None),
    (forms.ClearableFileInput(), None),  # left to the engine
    (forms.SplitDateTimeWidget(), dt.datetime(2026, 12, 6, 9, 30)),  # a multi-widget: its parts in Python
]


@pytest.mark.parametrize("language", ["en", "de", "ja"])
@pytest.mark.parametrize("attrs", ATTRS, ids=range(len(ATTRS)))
@pytest.mark.parametrize(("widget", "value"), WIDGET_CASES, ids=lambda case: type(case).__name__)
def test_every_widget_renders_the_same_as_through_the_templates(
    widget: forms.Widget, value: Any, attrs: dict[str, Any], language: str
) -> None:
    with override(language):
        expected = widget.render("the_field", value, attrs=dict(attrs), renderer=DjangoTemplates())
        written = widget.render("the_field", value, attrs=dict(attrs), renderer=PythonWidgetRenderer())
    assert written == expected


def test_every_template_it_stands_for_is_the_installed_one() -> None:
    """A Django upgrade that changes a widget template sends it back to the engine: this test says so."""
    renderer = PythonWidgetRenderer()
    assert sorted(name.rsplit("/", 1)[1] for name in renderer.python) == sorted(WIDGETS)


def test_a_template_whose_source_changed_goes_back_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    source, render = WIDGETS["text.html"]
    monkeypatch.setitem(WIDGETS, "text.html", (source + "<!-- changed -->", render))
    renderer = PythonWidgetRenderer()
    assert "django/forms/widgets/text.html" not in renderer.python
    assert "django/forms/widgets/number.html" in renderer.python
    expected = forms.TextInput().render("n", "v", renderer=DjangoTemplates())
    assert forms.TextInput().render("n", "v", renderer=renderer) == expected


def test_the_project_renders_its_forms_with_it(settings: Any) -> None:
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "core.form_renderer.PythonWidgetRenderer"
    assert isinstance(get_default_renderer(), PythonWidgetRenderer)
