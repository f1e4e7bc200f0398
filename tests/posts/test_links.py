"""The shortcut for ordinary links: only ever says "valid" where Django's URLValidator does."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from posts.links import ordinary_web_link_valid
from posts.models import Post
from posts.services import PostDraft, TargetSpec, posts_create_many

WEB = URLValidator(schemes=["http", "https"])
MODEL_FIELD = [*Post._meta.get_field("link").validators]  # URLValidator() and the length limit

LINKS = st.builds(
    "{}://{}{}{}".format,
    st.sampled_from(["http", "https", "HTTPS", "hTTp", "ftp", "javascript", "h"]),
    st.text(alphabet="abzAZ09.-_@:[]äK\u212a", min_size=0, max_size=12),
    st.sampled_from(["", ":8", ":80", ":65535", ":123456", ":x"]),
    st.text(alphabet="/?#@:aZ9 \t\n\u00a0\u2028%.-", max_size=10),
)


def accepted(validators: list[Any], value: str) -> bool:
    try:
        for validator in validators:
            validator(value)
    except ValidationError:
        return False
    return True


@settings(max_examples=2000, deadline=None)
@given(value=LINKS)
def test_a_link_called_valid_is_valid_for_the_plan_and_for_the_model(value: str) -> None:
    if ordinary_web_link_valid(value, max_length=2000):
        assert accepted([WEB], value)
        assert accepted(MODEL_FIELD, value)


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/herzwochen",
        "http://EXAMPLE.org:8080/a/b?c=d&e=f#g",
        "https://sub.example.co.uk",
        "https://example.org/?q=@x:y",
        "http://localhost:8000/plan",
    ],
)
def test_ordinary_links_take_the_shortcut(value: str) -> None:
    assert ordinary_web_link_valid(value, max_length=2000) and accepted([WEB], value)


@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.org/x",  # valid for the model field, but not an ordinary web link
        "https://user:pw@example.org/",
        "https://[::1]/x",
        "https://bücher.example/x",
        "https://example.org/a b",
        "https://example/x",
        "example.org",
        "javascript:alert(1)",
        "https://example.org/" + "x" * 2000,
    ],
)
def test_anything_else_is_left_to_the_full_validator(value: str) -> None:
    assert not ordinary_web_link_valid(value, max_length=2000)


@pytest.mark.django_db
def test_posts_create_many_still_checks_links_the_shortcut_leaves_alone(
    editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    def create(link: str) -> list[Post]:
        draft = PostDraft(
            data={"body": "Text", "link": link},
            targets=[TargetSpec(account=accounts[0])],
            scheduled_at=dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC),
        )
        return posts_create_many(actor=editor, campaign=campaign, drafts=[draft])

    with pytest.raises(ValidationError) as caught:
        create("javascript:alert(1)")
    assert list(caught.value.message_dict) == ["link"]
    assert [post.link for post in create("ftp://example.org/x")] == ["ftp://example.org/x"]  # the model's own rule
    assert [post.link for post in create("https://example.org/x")] == ["https://example.org/x"]
