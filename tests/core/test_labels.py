from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation

from posts.models import Post, PostStatus
from publishing.models import Publication


@pytest.mark.parametrize("language", ["en", "de", "tr", "ja"])
def test_a_choice_label_is_what_get_display_gives_in_every_language(language: str) -> None:
    post = Post(status=PostStatus.CHANGES_REQUESTED, content_type="patient_story")
    publication = Publication(status="confirmed")
    template = Template('{{ post|label:"status" }}|{{ post|label:"content_type" }}|{{ publication|label:"status" }}')
    with translation.override(language):
        expected = f"{post.get_status_display()}|{post.get_content_type_display()}|{publication.get_status_display()}"
        assert template.render(Context({"post": post, "publication": publication})) == expected
    if language != "en":
        with translation.override("en"):
            english = template.render(Context({"post": post, "publication": publication}))
        assert english != expected  # the labels follow the language, not the first one asked


def test_a_value_outside_the_choices_shows_as_stored_and_escaped(db: Any) -> None:
    post = Post(status="<b>legacy</b>")
    assert Template('{{ post|label:"status" }}').render(Context({"post": post})) == "&lt;b&gt;legacy&lt;/b&gt;"
