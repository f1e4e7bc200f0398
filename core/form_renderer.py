"""Django's commonest widget templates, written out in Python (``FORM_RENDERER``).

A widget renders through the template engine: an ``<input>`` is three templates (text.html,
input.html, attrs.html), a checkbox list of twenty-five options about eighty. The editor's 31 fields
and the calendar's filters spent 5 to 10 ms a page there. ``PythonWidgetRenderer`` writes the same
bytes for the templates in ``WIDGETS`` with Django's own escaping and localisation
(``render_value_in_context``) and leaves every other template to the engine.

Each Python version stands for one exact template source, kept next to it: when Django ships a
changed template, that template goes back to the engine (tests/core/test_form_renderer.py fails
then, and renders every widget both ways to hold them equal).
"""

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

Widget = dict[str, Any]


class _Context:
    """What ``render_value_in_context`` reads of a template context: Django's defaults for a form template."""

    autoescape = True
    use_l10n = None
    use_tz = None


_CONTEXT = _Context()


def _out(value: Any) -> str:
    """``{{ value }}``."""
    return str(render_value_in_context(value, _CONTEXT))  # type: ignore[arg-type]  # reads only these three


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` (the filter keeps a safe value safe)."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (TypeError, ValueError):
        text = ""
    return _out(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308 (was safe before)


def _attrs(widget: Widget) -> str:
    parts = []
    for name, value in widget.get("attrs", {}).items():
        if value is False:
            continue
        parts.append(" " + _out(name))
        if value is not True:
            parts.append('="' + _formatted(value) + '"')
    return "".join(parts)


def attrs_html(attrs: dict[str, Any]) -> str:
    """Return ``attrs`` as Django's ``attrs.html`` writes them (in their order; True bare, False left out)."""
    return _attrs({"attrs": attrs})


def _input(widget: Widget) -> str:
    value = widget.get("value", "")
    shown = ' value="' + _formatted(value) + '"' if value != None else ""  # noqa: E711 (the template's comparison)
    return (
        '<input type="'
        + _out(widget.get("type", ""))
        + '" name="'
        + _out(widget.get("name", ""))
        + '"'
        + shown
        + _attrs(widget)
        + ">\n"
    )


def _input_option(widget: Widget) -> str:
    wrap = widget.get("wrap_label")
    label_id = widget.get("attrs", {}).get("id")
    opening = ("<label" + (' for="' + _out(label_id) + '"' if label_id else "") + ">") if wrap else ""
    closing = (" " + _out(widget.get("label", "")) + "</label>") if wrap else ""
    return opening + _input(widget) + closing + "\n"


def _multiple_input(widget: Widget, renderer: "PythonWidgetRenderer") -> str:
    attrs = widget.get("attrs", {})
    parts = [
        "<div"
        + (' id="' + _out(attrs["id"]) + '"' if attrs.get("id") else "")
        + (' class="' + _out(attrs["class"]) + '"' if attrs.get("class") else "")
        + ">"
    ]
    for group, options, _index in widget.get("optgroups", ()):
        if group:
            parts.append("\n  <div><label>" + _out(group) + "</label>")
        for option in options:
            parts.append("<div>\n    " + renderer.included(option) + "</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>\n")
    return "".join(parts)


def _select(widget: Widget, renderer: "PythonWidgetRenderer") -> str:
    parts = ['<select name="' + _out(widget.get("name", "")) + '"' + _attrs(widget) + ">"]
    for group, options, _index in widget.get("optgroups", ()):
        if group:
            parts.append('\n  <optgroup label="' + _out(group) + '">')
        for option in options:
            parts.append("\n  " + renderer.included(option))
        if group:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _select_option(widget: Widget) -> str:
    return (
        '<option value="'
        + _formatted(widget.get("value", ""))
        + '"'
        + _attrs(widget)
        + ">"
        + _out(widget.get("label", ""))
        + "</option>\n"
    )


def _textarea(widget: Widget) -> str:
    value = widget.get("value", "")
    return (
        '<textarea name="'
        + _out(widget.get("name", ""))
        + '"'
        + _attrs(widget)
        + ">\n"
        + (_out(value) if value else "")
        + "</textarea>\n"
    )


_INCLUDE_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
_INCLUDE_OPTION = '{% include "django/forms/widgets/input_option.html" %}\n'
_INCLUDE_MULTIPLE = '{% include "django/forms/widgets/multiple_input.html" %}\n'
_PREFIX = "django/forms/widgets/"


def _included(render: Callable[..., str]) -> Callable[..., str]:
    """A template that is one ``{% include %}`` and a line break."""
    return lambda widget, renderer: render(widget, renderer) + "\n"


def _plain(render: Callable[[Widget], str]) -> Callable[..., str]:
    return lambda widget, _renderer: render(widget)


# Template name: (its source in Django 5.2, the same output written in Python).
WIDGETS: dict[str, tuple[str, Callable[[Widget, "PythonWidgetRenderer"], str]]] = {
    "input.html": (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} value="{{ widget.value'
        '|stringformat:\'s\' }}"{% endif %}{% include "django/forms/widgets/attrs.html" %}>\n',
        _plain(_input),
    ),
    **{
        name: (_INCLUDE_INPUT, _included(_plain(_input)))
        for name in (
            "text.html",
            "number.html",
            "email.html",
            "url.html",
            "password.html",
            "hidden.html",
            "date.html",
            "time.html",
            "datetime.html",
            "search.html",
            "tel.html",
            "color.html",
            "checkbox.html",
        )
    },
    "input_option.html": (
        '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"{% endif %}>{% endif %}'
        '{% include "django/forms/widgets/input.html" %}{% if widget.wrap_label %} {{ widget.label }}</label>'
        "{% endif %}\n",
        _plain(_input_option),
    ),
    "checkbox_option.html": (_INCLUDE_OPTION, _included(_plain(_input_option))),
    "radio_option.html": (_INCLUDE_OPTION, _included(_plain(_input_option))),
    "multiple_input.html": (
        '{% with id=widget.attrs.id %}<div{% if id %} id="{{ id }}"{% endif %}{% if widget.attrs.class %} class="'
        '{{ widget.attrs.class }}"{% endif %}>{% for group, options, index in widget.optgroups %}{% if group %}\n'
        "  <div><label>{{ group }}</label>{% endif %}{% for option in options %}<div>\n"
        "    {% include option.template_name with widget=option %}</div>{% endfor %}{% if group %}\n"
        "  </div>{% endif %}{% endfor %}\n</div>{% endwith %}\n",
        _multiple_input,
    ),
    "checkbox_select.html": (_INCLUDE_MULTIPLE, _included(_multiple_input)),
    "radio.html": (_INCLUDE_MULTIPLE, _included(_multiple_input)),
    "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>{% for group_name, '
        "group_choices, group_index in widget.optgroups %}{% if group_name %}\n"
        '  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n'
        "  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n"
        "  </optgroup>{% endif %}{% endfor %}\n</select>\n",
        _select,
    ),
    "select_option.html": (
        '<option value="{{ widget.value|stringformat:\'s\' }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{{ widget.label }}</option>\n",
        _plain(_select_option),
    ),
    "textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n",
        _plain(_textarea),
    ),
}
# What input.html and select_option.html include; checked with them, never rendered on its own by a widget.
ATTRS_SOURCE = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}{% if value is not True %}"
    "=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}"
)


class PythonWidgetRenderer(DjangoTemplates):
    """Django's template renderer, with the templates of ``WIDGETS`` in Python where their source matches."""

    def __init__(self) -> None:
        super().__init__()
        self._python: dict[str, Callable[[Widget, PythonWidgetRenderer], str]] | None = None

    @property
    def python(self) -> dict[str, Callable[[Widget, "PythonWidgetRenderer"], str]]:
        """Return the templates written out in Python: those whose installed source is the one they were written for."""
        if self._python is None:
            attrs_matches = self._source("attrs.html") == ATTRS_SOURCE
            self._python = {
                _PREFIX + name: render
                for name, (source, render) in WIDGETS.items()
                if attrs_matches and self._source(name) == source
            }
        return self._python

    def _source(self, name: str) -> str | None:
        try:
            return str(self.get_template(_PREFIX + name).template.source)
        except Exception:
            return None

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        render = self.python.get(template_name)
        if render is None or set(context) != {"widget"}:
            return super().render(template_name, context, request=request)
        return render(context["widget"], self).strip()

    def included(self, option: Widget) -> str:
        """``{% include option.template_name with widget=option %}``."""
        render = self.python.get(option.get("template_name", ""))
        if render is None:
            return str(self.get_template(option["template_name"]).render({"widget": option}))
        return render(option, self)
