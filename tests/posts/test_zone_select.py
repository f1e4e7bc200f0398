"""The time zone list written in Python renders exactly what Django's select template renders."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from posts.forms import ZoneSelect

CHOICES = [
    ("Your zones", [("Europe/Berlin", "Europe/Berlin (UTC+01:00)"), ("Asia/Tokyo", "Tokyo <UTC+09:00> & “more”")]),
    ("Europe", [("Europe/Istanbul", "İstanbul"), ("Europe/Vienna", "Wien 'Österreich'")]),
    ("UTC", "UTC"),
    ('Amérique "Nord"', [("America/New_York", "New York")]),
]


@pytest.mark.parametrize("value", ["Asia/Tokyo", "UTC", "", None, "Nowhere/<script>"])
@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_zone_select_renders_as_djangos_select_template(value: str | None, language: str) -> None:
    attrs = {"id": "id_time_zone", "aria-describedby": 'help "zones"', "required": True}
    with translation.override(language):
        ours = ZoneSelect(choices=CHOICES).render("time_zone", value, attrs=attrs)
        django = forms.Select(choices=CHOICES).render("time_zone", value, attrs=attrs, renderer=DjangoTemplates())
    # Django's template puts each tag on its own line; the markup is otherwise the same.
    assert ours == "".join(line.strip() for line in django.splitlines())
