"""``{{ form.field|field_row }}``: a form field with its label, help text and errors, written in Python.

The editor shows thirty-odd fields; through an included template each cost it a quarter of a
millisecond before its widget (issue 17). The markup is the one the template gave (tests compare
the two: tests/core/test_field_row.py).
"""

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_REQUIRED = mark_safe(' <span aria-hidden="true">*</span>')


@register.filter
def field_row(field: BoundField) -> SafeString:
    """Return the field's ``<div class="field">``: label (a legend for a group of inputs), widget, help, errors."""
    if field.is_hidden:
        return SafeString(str(field))
    required = _REQUIRED if field.field.required else ""
    if field.use_fieldset:
        head = format_html("<fieldset>\n    <legend>{}{}</legend>\n    {}\n  </fieldset>", field.label, required, field)
    else:
        head = format_html('<label for="{}">{}{}</label>\n  {}', field.id_for_label, field.label, required, field)
    help_text = (
        format_html('<small class="help" id="{}_helptext">{}</small>', field.auto_id, field.help_text)
        if field.help_text
        else ""
    )
    errors = field.errors
    # The widget names both by id in its aria-describedby (Django's BoundField): a screen reader reads them with it.
    errors_html = (
        format_html(
            '<div id="{}_error">{}</div>',
            field.auto_id,
            format_html_join("", '<p class="error" role="alert">{}</p>', ((error,) for error in errors)),
        )
        if errors
        else ""
    )
    return format_html(
        '<div class="field{}">\n  {}\n  {}\n  {}\n</div>',
        " has-error" if errors else "",
        head,
        help_text,
        errors_html,
    )
