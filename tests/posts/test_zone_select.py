"""Editor fields listed without the template or the database: the same markup as Django's own way."""

from typing import Any

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from posts.forms import PostForm, ZoneChoices, ZoneSelect, zone_choices_grouped
from posts.models import Post
from posts.selectors import post_for_page

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


@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_the_grouped_zones_render_as_djangos_select_for_each_value_while_their_options_are_kept(language: str) -> None:
    attrs = {"id": "id_time_zone", "required": True}
    with translation.override(language):
        zones = zone_choices_grouped(first=["Europe/Berlin", "Asia/Tokyo"])
        assert isinstance(zones, ZoneChoices)
        as_lists = [(group, list(options)) for group, options in zones]
        # Twice each (the second from the kept options), one value after another, then the first again.
        for value in ["Asia/Tokyo", "Asia/Tokyo", "America/New_York", "", "Nowhere/<script>", "Asia/Tokyo"]:
            field = forms.ChoiceField(choices=time_zone_placeholder(), widget=ZoneSelect)
            field.choices = zones
            assert field.widget.choices is zones  # kept as it is, not normalised again
            ours = field.widget.render("time_zone", value, attrs=attrs)
            django = forms.Select(choices=as_lists).render("time_zone", value, attrs=attrs, renderer=DjangoTemplates())
            assert ours == "".join(line.strip() for line in django.splitlines())
            assert ours.count(" selected") == (1 if value in {"Asia/Tokyo", "America/New_York"} else 0)
        field = forms.ChoiceField(choices=time_zone_placeholder())
        field.choices = zones
        assert field.clean("America/New_York") == "America/New_York"
        with pytest.raises(forms.ValidationError):
            field.clean("Nowhere/Else")


def time_zone_placeholder() -> list[tuple[str, str]]:
    return [("UTC", "UTC")]


@pytest.mark.django_db
def test_the_campaign_of_a_loaded_post_is_listed_without_a_query_as_its_queryset_lists_it(
    editor: Any, campaign: Any, post_factory: Any
) -> None:
    campaign.name = "Herzwochen <2027> & „Vorsorge“"
    campaign.save()
    post = post_factory(editor, campaign)
    loaded = post_for_page(user=editor, pk=post.pk)  # as the editor loads it: campaign included
    with CaptureQueriesContext(connection) as captured:
        ours = str(PostForm(user=editor, post=loaded)["campaign"])
    assert not [q for q in captured if "posts_campaign" in q["sql"]]  # neither listed nor its purpose read
    plain = Post.objects.get(pk=post.pk)  # campaign not loaded: the field lists its queryset
    assert not Post.campaign.is_cached(plain)
    assert ours == str(PostForm(user=editor, post=plain)["campaign"])
    assert f'<option value="{campaign.pk}" selected>Herzwochen &lt;2027&gt; &amp; „Vorsorge“</option>' in ours
