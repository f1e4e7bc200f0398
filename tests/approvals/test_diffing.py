"""The review page's word-level diff: words, scripts without spaces, emoji, long texts, media, escaping."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.diffing import ADD, DEL, GAP, SAME, Segment, snapshot_diff, text_segments, tokens
from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
from posts.services import post_update
from tests.approvals.test_views import client_for, decide


def shown(segments: Any) -> list[tuple[str, str]]:
    return [(segment.kind, segment.text) for segment in segments]


def test_tokens_give_the_text_back_and_keep_words_emoji_and_cjk_characters_whole() -> None:
    text = "Grüße aus der Kinderklinik 👨‍👩‍👧 🇩🇪 👋🏽 — 東京都の病院 Café\u0301\n\n  Ende"
    parts = tokens(text)
    assert "".join(parts) == text
    assert "Grüße" in parts and "Kinderklinik" in parts
    assert "👨‍👩‍👧" in parts and "🇩🇪" in parts and "👋🏽" in parts
    assert parts[parts.index("東") : parts.index("東") + 6] == ["東", "京", "都", "の", "病", "院"]


def test_a_changed_word_is_marked_alone_not_the_whole_line() -> None:
    old = "Impftag am Dienstag, 8 bis 12 Uhr, im Hörsaal 2 🫀"
    new = "Impftag am Mittwoch, 8 bis 12 Uhr, im Hörsaal 2 🫀"
    assert shown(text_segments(old, new)) == [
        (SAME, "Impftag am "),
        (DEL, "Dienstag"),
        (ADD, "Mittwoch"),
        (SAME, ", 8 bis 12 Uhr, im Hörsaal 2 🫀"),
    ]


def test_umlauts_are_part_of_the_word() -> None:
    assert shown(text_segments("Hände waschen", "Füße waschen")) == [(DEL, "Hände"), (ADD, "Füße"), (SAME, " waschen")]


def test_chinese_and_japanese_text_is_compared_character_by_character() -> None:
    assert shown(text_segments("我们明天在医院见", "我们后天在医院见")) == [
        (SAME, "我们"),
        (DEL, "明"),
        (ADD, "后"),
        (SAME, "天在医院见"),
    ]
    assert shown(text_segments("東京の病院です", "大阪の病院です")) == [
        (DEL, "東京"),
        (ADD, "大阪"),
        (SAME, "の病院です"),
    ]


def test_an_emoji_changes_as_one_sign() -> None:
    assert shown(text_segments("Danke 👍🏻!", "Danke 👍🏿!")) == [
        (SAME, "Danke "),
        (DEL, "👍🏻"),
        (ADD, "👍🏿"),
        (SAME, "!"),
    ]


def test_a_long_text_keeps_every_change_whole_and_shortens_only_unchanged_stretches() -> None:
    filler = "Händewaschen schützt Patientinnen und Patienten. " * 40  # about 2,000 characters
    long_change = "Neu: Desinfektionsspender an jeder Tür der Station 4B, bitte benutzen. " * 5
    old = filler + "Ende."
    new = filler + long_change + filler + "Ende."
    segments = text_segments(old, new)
    assert (ADD, long_change + filler) in shown(segments) or any(
        kind == ADD and long_change in text for kind, text in shown(segments)
    )
    added = "".join(text for kind, text in shown(segments) if kind == ADD)
    assert long_change in added
    assert GAP in [kind for kind, _ in shown(segments)]
    assert sum(len(text) for kind, text in shown(segments) if kind == SAME) < len(filler)


def test_snapshot_diff_covers_overrides_link_hashtags_title_targets_and_media() -> None:
    old = {
        "title": "Grippe",
        "body": "Impfen hilft.",
        "link": "https://klinikum.example/grippe",
        "hashtags": ["Grippe", "Impfen"],
        "media": [
            {"checksum": "a" * 64, "alt_text": "Pflegerin mit Spritze", "kind": "photo"},
            {"checksum": "b" * 64, "alt_text": "Plakat", "kind": "photo"},
        ],
        "targets": [
            {"account_id": 1, "platform": "facebook", "handle": "klinikum", "body_override": "Kommt vorbei!"},
            {"account_id": 2, "platform": "x", "handle": "klinikum_x", "body_override": ""},
        ],
    }
    new = {
        **old,
        "title": "Grippe 2026",
        "link": "https://klinikum.example/grippe-2026",
        "hashtags": ["Grippe", "Gesundheit"],
        "media": [
            {"checksum": "a" * 64, "alt_text": "Pfleger mit Spritze", "kind": "photo"},
            {"checksum": "c" * 64, "alt_text": "Wartezimmer", "kind": "photo"},
        ],
        "targets": [
            {"account_id": 1, "platform": "facebook", "handle": "klinikum", "body_override": "Kommt alle vorbei!"},
            {"account_id": 3, "platform": "linkedin", "handle": "klinikum_li", "body_override": ""},
        ],
    }
    fields = {field.key: field for field in snapshot_diff(old, new)}
    assert shown(fields["title"].segments) == [(SAME, "Grippe"), (ADD, " 2026")]
    assert (ADD, "-2026") in shown(fields["link"].segments)
    assert shown(fields["hashtags"].segments) == [(SAME, "#Grippe #"), (DEL, "Impfen"), (ADD, "Gesundheit")]
    assert shown(fields["override:1"].segments) == [(SAME, "Kommt"), (ADD, " alle"), (SAME, " vorbei!")]
    assert fields["target:3"].change == "added" and fields["target:2"].change == "removed"
    assert shown(fields["media:" + "a" * 64].segments) == [(DEL, "Pflegerin"), (ADD, "Pfleger"), (SAME, " mit Spritze")]
    assert fields["media:" + "c" * 64].change == "added"
    assert fields["media:" + "b" * 64].change == "removed"
    assert "body" not in fields
    assert snapshot_diff(old, old) == []


@pytest.mark.django_db
def test_the_diff_escapes_what_the_author_wrote(submitted_post: Any, reviewers: dict[str, Any], editor: Any) -> None:
    medical = client_for(reviewers["medical"])
    decide(medical, submitted_post, "approve")
    decide(client_for(reviewers["legal"]), submitted_post, "request_changes", "Bitte anders.", [])
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    post_update(post=submitted_post, actor=editor, data={"body": f"Wash your hands {evil}", "title": "<b>Titel</b>"})
    client_for(editor).post(reverse("approvals:submit", args=[submitted_post.pk]))
    html = medical.get(reverse("approvals:review", args=[submitted_post.pk])).content.decode()
    section = html[html.index('class="review-diff"') :]
    section = section[: section.index("</dl>")]
    assert "<script>" not in section and "<img" not in section and "<b>" not in section
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in section
    assert "&lt;b&gt;Titel&lt;/b&gt;" in section


@pytest.fixture
def make_submitted(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    account = account_factory("facebook")

    def make(**data: Any) -> Any:
        post = post_factory(
            editor, review_campaign, targets=[account], when=timezone.now() + dt.timedelta(days=5), **data
        )
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        return post

    return make


@pytest.mark.django_db
def test_a_first_version_has_no_base(make_submitted: Any, reviewers: dict[str, Any]) -> None:
    post = make_submitted(body="Erste Fassung.")
    response = client_for(reviewers["medical"]).get(reverse("approvals:review", args=[post.pk]))
    assert response.context["diff"].base is None
    assert 'data-diff="none"' in response.content.decode()


@pytest.mark.django_db
def test_without_an_approval_of_their_own_stage_reviewers_see_the_last_approved_revision(
    make_submitted: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    post = make_submitted(body="Sprechstunde montags.")
    for stage in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[stage], verdict=Verdict.APPROVE, acknowledged=[], comment="")
        post.refresh_from_db()
    post_update(post=post, actor=editor, data={"body": "Sprechstunde dienstags."})
    client_for(editor).post(reverse("approvals:submit", args=[post.pk]))
    # The author approved nothing and is in no stage's group: the chain's last approved revision is the base.
    diff = client_for(editor).get(reverse("approvals:review", args=[post.pk])).context["diff"]
    assert diff.base is not None and diff.base.number == 1
    assert diff.basis == "approved"
    assert (
        client_for(reviewers["legal"]).get(reverse("approvals:review", args=[post.pk])).context["diff"].basis == "mine"
    )
    [body] = diff.fields
    assert shown(body.segments) == [(SAME, "Sprechstunde "), (DEL, "montags"), (ADD, "dienstags"), (SAME, ".")]


def test_changed_words_next_to_each_other_read_as_one_change() -> None:
    assert shown(
        text_segments("Impftag am Dienstag und Mittwoch, 8 Uhr", "Impftag am Donnerstag oder Freitag, 8 Uhr")
    ) == [
        (SAME, "Impftag am "),
        (DEL, "Dienstag und Mittwoch"),
        (ADD, "Donnerstag oder Freitag"),
        (SAME, ", 8 Uhr"),
    ]


def test_a_rewritten_text_is_shown_removed_whole_then_added_whole() -> None:
    old, new = "Wash your hands: it saves lives.", "Flu jabs: Monday to Friday, 8 to 12, in the main hall."
    assert shown(text_segments(old, new)) == [(DEL, old), (ADD, new)]


def test_a_change_of_whitespace_alone_is_shown_with_visible_signs() -> None:
    segments = text_segments("Impfung heute.\nDanke!", "Impfung heute.\n\nDanke!")
    assert [(segment.kind, segment.blank_marks) for segment in segments if segment.kind != SAME] == [
        (DEL, "⏎"),
        (ADD, "⏎⏎"),
    ]
    assert Segment(DEL, "  ").blank_marks == "␣␣" and Segment(ADD, "neu ").blank_marks == ""
