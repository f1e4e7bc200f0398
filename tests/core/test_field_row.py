"""``field_row`` writes the markup the editor's field template wrote, for every field of the post and campaign forms."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation

from core.templatetags.rounds_forms import field_row
from posts.forms import CampaignForm, PostForm

# templates/posts/partials/editor_field.html before field_row replaced it.
FIELD = (Path(__file__).parent / "reference" / "editor_field.html").read_text()
HOSTILE = 'Impftag 12.12. "Grippe" 💉 <script>alert(1)</script> & Rückfragen: 030 / 123-4567 (Dr. Öztürk)'

pytestmark = pytest.mark.django_db


def same(html: str) -> str:
    """Return ``html`` with the whitespace templates leave between and inside tags evened out."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


def _forms(editor: Any, post: Any) -> list[Any]:
    bad = {"title": HOSTILE, "body": "", "link": "javascript:alert(1)", "scheduled_date": "31.02.2026", "campaign": "x"}
    return [
        PostForm(user=editor),
        PostForm(user=editor, post=post),
        PostForm(bad, user=editor, post=post),
        CampaignForm(),
        CampaignForm({"name": HOSTILE, "start_date": "2026-12-31", "end_date": "2026-01-01", "colour": "red"}),
    ]


@pytest.mark.parametrize("language", ["en", "de", "tr", "ja"])
def test_every_field_row_is_the_template(language: str, editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign)
    shown = 0
    with translation.override(language):
        for form in _forms(editor, post):
            form.is_bound and form.is_valid()
            for field in form:
                expected = Template(FIELD).render(Context({"field": field}))
                assert same(field_row(field)) == same(expected), field.name
                shown += 1
    assert shown > 60
