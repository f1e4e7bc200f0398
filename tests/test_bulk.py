"""Bulk writes: rows come back with their own keys; instances are saved as bulk_create would save them."""

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.bulk import JsonText, column_set, instance_maker, objects_insert, rows_insert_returning
from posts.models import Post, PostStatus, Revision

pytestmark = pytest.mark.django_db


def test_rows_insert_returning_gives_each_row_its_own_key_over_several_statements(
    editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    when = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
    rows = [(post.pk, number, {"n": number}, f"{number:064x}", editor.pk, when) for number in range(2, 1202)]
    fields = ("post_id", "number", "content", "content_hash", "created_by_id", "created_at")
    with CaptureQueriesContext(connection) as captured:
        keys = rows_insert_returning(model=Revision, fields=fields, rows=rows)
    assert len(captured) > 1  # more rows than one statement's parameters allow
    assert len(keys) == len(set(keys)) == 1200
    stored = {revision.pk: revision for revision in Revision.objects.filter(pk__in=keys)}
    for key, (_post, number, content, digest, _by, created_at) in zip(keys, rows, strict=True):
        assert (stored[key].number, stored[key].content, stored[key].content_hash) == (number, content, digest)
        assert stored[key].created_at == created_at


def test_objects_insert_saves_new_posts_as_bulk_create_would(editor: Any, campaign: Any) -> None:
    when = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
    posts = [
        Post(
            campaign=campaign,
            author=editor,
            body=f"Post {n}",
            hashtags=["Herz", f"T{n}"],
            scheduled_at=when + dt.timedelta(minutes=n),
            time_zone="Europe/Berlin",
            external_id=f"X-{n}",
        )
        for n in range(130)
    ]
    assert objects_insert(objects=posts) == posts
    assert all(post.pk is not None and not post._state.adding for post in posts)
    stamps = {post.created_at for post in posts} | {post.updated_at for post in posts}
    assert len(stamps) == 1  # one moment for the batch
    for post in posts:
        stored = Post.objects.get(pk=post.pk)
        assert (stored.external_id, stored.body, stored.hashtags) == (post.external_id, post.body, post.hashtags)
        assert (stored.scheduled_at, stored.status, stored.campaign_id) == (
            post.scheduled_at,
            PostStatus.DRAFT,
            campaign.pk,
        )
        assert stored.created_at == stored.updated_at == post.created_at
    posts[5].title = "Saved again"
    posts[5].save()  # an update of the stored row, not a second insert
    assert Post.objects.filter(external_id="X-5").get().title == "Saved again"
    assert Post.objects.count() == 130
    assert objects_insert(objects=[]) == []


def test_column_set_changes_one_column_of_the_rows_named(editor: Any, campaign: Any, post_factory: Any) -> None:
    posts = [post_factory(editor, campaign, title=f"T{n}") for n in range(3)]
    column_set(model=Post, field="title", values=[(posts[0].pk, "first"), (posts[2].pk, "third")])
    assert list(Post.objects.order_by("pk").values_list("title", flat=True)) == ["first", "T1", "third"]


def test_instance_maker_builds_what_the_keyword_constructor_builds(editor: Any, campaign: Any) -> None:
    values = {
        "campaign_id": campaign.pk,
        "author_id": editor.pk,
        "body": "Text",
        "scheduled_at": dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC),
        "external_id": "M-1",
    }
    make = instance_maker(Post)
    built, expected = make(**values), Post(**values)
    for field in Post._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(expected, field.attname), field.name
    assert built._state.adding and built.pk is None
    assert make(**values).hashtags is not built.hashtags  # a callable default, called for each
    with pytest.raises(TypeError):
        make(campaign=campaign)


def test_json_text_is_stored_as_the_json_it_encodes(editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign)
    when = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
    content = {"body": "Sprechstunde für Angehörige „Herz“ – 030 1234-5678 · 心臓", "n": [1, 2.5, None, True]}
    texts = [
        JsonText(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)),
        JsonText(json.dumps(content)),  # escaped to ASCII, with spaces: the same value
    ]
    rows = [(post.pk, number, text, f"{number:064x}", editor.pk, when) for number, text in enumerate(texts, start=2)]
    fields = ("post_id", "number", "content", "content_hash", "created_by_id", "created_at")
    keys = rows_insert_returning(model=Revision, fields=fields, rows=rows)
    stored = [Revision.objects.get(pk=key).content for key in keys]
    assert stored == [content, content]  # not the text as a JSON string
    # A plain string is a value like any other: encoded as a JSON string.
    plain = rows_insert_returning(
        model=Revision, fields=fields, rows=[(post.pk, 9, '{"a":1}', "f" * 64, editor.pk, when)]
    )
    assert Revision.objects.get(pk=plain[0]).content == '{"a":1}'
