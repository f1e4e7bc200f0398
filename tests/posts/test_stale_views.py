"""No lost update: the editor and the calendar's move form refuse a save over a colleague's change."""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.versions import version_of
from posts.models import Post, Revision
from posts.services import TargetSpec, post_move, post_update
from tests.posts.test_editor_views import edit_data

pytestmark = pytest.mark.django_db

UTC = dt.UTC
JSON = {"HTTP_ACCEPT": "application/json"}
MINE = "Infotag am 12.12.2026 im Hörsaal 3 – Anmeldung unter 030 1234567. Wir freuen uns auf Sie! 🫀"
THEIRS = "Grippeimpfung für Mitarbeitende: Mo–Fr 8–12 Uhr, Station 4B. ‏Bitte Ausweis mitbringen."


@pytest.fixture
def colleague(editor: Any) -> Any:
    editor.first_name, editor.last_name = "Jana", "Krüger"
    editor.save()
    return editor


@pytest.fixture
def second_editor(other_editor: Any, campaign: Any) -> Any:
    """A second editor on the campaign's team, to edit the same post at the same time."""
    from posts.services import campaign_permissions_sync

    campaign.team.add(other_editor)
    campaign_permissions_sync(campaign=campaign)
    return other_editor


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_editor_page_carries_the_version_it_was_opened_on(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1])
    page = client_for(editor).get(reverse("posts:post_edit", args=[post.pk]))
    version = version_of(model=Post, pk=post.pk)
    assert version > 0
    assert f'name="version" value="{version}"' in page.text


def test_stale_edit_is_refused_with_409_who_when_what_and_the_input_kept(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], title="Infotag", body="Infotag im Dezember.")
    mine = edit_data(post, body=MINE)  # the second editor opens the editor now
    revisions = Revision.objects.filter(post=post).count()
    post_update(post=post, actor=colleague, data={"body": THEIRS}, targets=[TargetSpec(account=accounts[1])])
    events = AuditEvent.objects.count()

    response = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert response.status_code == 409
    post.refresh_from_db()
    assert post.body == THEIRS  # nothing of the stale save was written
    assert Revision.objects.filter(post=post).count() == revisions + 1
    assert AuditEvent.objects.count() == events
    text = response.text
    assert "This post was changed by Jana Krüger at" in text and "since you opened it." in text
    assert response.context["stale"].when == AuditEvent.objects.for_object(post).order_by("-seq").first().created_at
    assert "Nothing was saved." in text
    assert response.context["form"]["body"].value() == MINE  # the user's text is kept
    assert "Infotag am 12.12.2026" in text
    changes = {change.label: change for change in response.context["stale"].changes}
    assert set(changes) == {"Text", "Targets"}
    assert changes["Text"].old == "Infotag im Dezember." and changes["Text"].new.startswith("Grippeimpfung")
    assert accounts[0].handle in changes["Targets"].old and accounts[1].handle in changes["Targets"].new
    # The page now carries the current version: saving again deliberately keeps the user's text.
    assert f'name="version" value="{version_of(model=Post, pk=post.pk)}"' in text


def test_saving_again_after_the_conflict_stores_the_users_text(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1])
    mine = edit_data(post, body=MINE)
    post_update(post=post, actor=colleague, data={"body": THEIRS})
    client = client_for(second_editor)
    refused = client.post(reverse("posts:post_edit", args=[post.pk]), mine)
    assert refused.status_code == 409

    again = client.post(reverse("posts:post_edit", args=[post.pk]), {**mine, "version": refused.context["version"]})

    assert again.status_code == 302
    post.refresh_from_db()
    assert post.body == MINE


def test_saving_again_keeps_the_colleagues_text_where_the_user_changed_only_the_hashtags(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], body="Infotag im Dezember.\nHaus B, Hörsaal 3.")
    # The second editor opens the editor and changes only the hashtags (the text as it was, with a
    # browser's line ends); meanwhile the colleague rewrites the text.
    mine = edit_data(post, body=post.body.replace("\n", "\r\n"), hashtags="Herzgesundheit, Infotag")
    post_update(post=post, actor=colleague, data={"body": THEIRS})
    client = client_for(second_editor)

    refused = client.post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    form = refused.context["form"]
    assert form["body"].value() == THEIRS  # taken over: the user had left the text as it was
    assert form["hashtags"].value() == "Herzgesundheit, Infotag"
    assert refused.context["stale_merge"].taken == ("Text",) and refused.context["stale_merge"].both == ()
    assert "Taken over from this change, as you had left them as they were: Text." in refused.text
    post.refresh_from_db()
    assert f'name="revision" value="{post.current_revision_id}"' in refused.text
    assert post.hashtags == []  # nothing of the refused save was written

    # Saving the form as shown stores both changes: the colleague's text is not written back over.
    shown = {
        **mine,
        "body": form["body"].value(),
        "version": refused.context["version"],
        "revision": post.current_revision_id,
    }
    again = client.post(reverse("posts:post_edit", args=[post.pk]), shown)

    assert again.status_code == 302
    post.refresh_from_db()
    assert post.body == THEIRS
    assert post.hashtags == ["Herzgesundheit", "Infotag"]


def test_a_text_both_changed_keeps_the_users_and_says_both_changed_it(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], body="Infotag im Dezember.")
    mine = edit_data(post, body=MINE, link="https://klinikum-nord.example/infotag")
    post_update(post=post, actor=colleague, data={"body": THEIRS, "sources": "Deutsche Herzstiftung"})

    refused = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    form = refused.context["form"]
    assert form["body"].value() == MINE
    assert form["link"].value() == "https://klinikum-nord.example/infotag"
    assert form["sources"].value() == "Deutsche Herzstiftung"
    merge = refused.context["stale_merge"]
    assert merge.taken == ("Sources",) and merge.both == ("Text",)
    assert "Changed by both of you, yours is kept below: Text." in refused.text


PLATFORMS = ("facebook", "instagram", "linkedin", "x")
INSTAGRAM_ONLY = "Nur hier: Anmeldung über den Link in der Bio ✨ – Hörsaal 3, Haus B."


def shown_form(response: Any) -> dict[str, Any]:
    """Return the refused form's fields as the page shows them, to send again as the browser would."""
    fields = {key: values if len(values) > 1 else values[0] for key, values in response.context["form"].data.lists()}
    # The page's hidden fields name where the form now starts: the colleague's version and revision.
    return {**fields, "version": response.context["version"], "revision": response.context["revision"]}


def test_saving_again_keeps_the_colleagues_added_account_and_its_text_where_the_user_left_the_targets(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], body="Infotag im Dezember.")
    mine = edit_data(post, body=MINE)  # the second editor rewrites the text, the targets as they were
    added = TargetSpec(account=accounts[1], body_override=INSTAGRAM_ONLY)
    post_update(post=post, actor=colleague, targets=[TargetSpec(account=accounts[0]), added])
    client = client_for(second_editor)

    refused = client.post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    form = refused.context["form"]
    assert sorted(form["targets"].value()) == sorted(str(account.pk) for account in accounts[:2])
    assert form[f"override_{accounts[1].pk}"].value() == INSTAGRAM_ONLY
    assert form["body"].value() == MINE
    merge = refused.context["stale_merge"]
    assert merge.taken == ("Target accounts",) and merge.both == ()
    assert "Taken over from this change, as you had left them as they were: Target accounts." in refused.text
    assert re.search(rf'id="id_targets_{accounts[1].pk}"[^>]* checked>', refused.text)  # ticked on the page
    changed = {change.label: change for change in refused.context["stale"].changes}["Targets"]
    assert f"{accounts[1].handle} (own text)" in changed.new and "(own text)" not in changed.old

    again = client.post(reverse("posts:post_edit", args=[post.pk]), shown_form(refused))

    assert again.status_code == 302
    post.refresh_from_db()
    assert post.body == MINE
    assert {(target.account_id, target.body_override) for target in post.targets.all()} == {
        (accounts[0].pk, ""),
        (accounts[1].pk, INSTAGRAM_ONLY),
    }


def test_targets_both_changed_keep_the_users_and_say_both_changed_them(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], body="Infotag im Dezember.")
    mine = edit_data(post, **{f"override_{accounts[0].pk}": "Nur auf Facebook: Parkplätze P3 (Tel. 030 1234-567)."})
    post_update(post=post, actor=colleague, targets=[TargetSpec(account=accounts[1])])

    refused = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    form = refused.context["form"]
    assert form["targets"].value() == [str(accounts[0].pk)]
    assert form[f"override_{accounts[0].pk}"].value().startswith("Nur auf Facebook")
    merge = refused.context["stale_merge"]
    assert merge.taken == () and merge.both == ("Target accounts",)


def test_without_the_opened_revision_nothing_is_merged(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(colleague, campaign, targets=accounts[:1], body="Infotag im Dezember.")
    mine = edit_data(post, hashtags="Infotag")
    del mine["revision"]
    post_update(post=post, actor=colleague, data={"body": THEIRS})

    refused = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    assert refused.context["form"]["body"].value() == "Infotag im Dezember."
    assert refused.context["stale_merge"] is None


def test_current_edit_is_stored(editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1])
    response = client_for(editor).post(reverse("posts:post_edit", args=[post.pk]), edit_data(post, body=MINE))
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == MINE


def test_a_title_change_alone_makes_an_open_editor_stale(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    # The title is reviewed content: its change is a new revision, and the notice reads it from there.
    post = post_factory(colleague, campaign, targets=accounts[:1], title="Infotag")
    mine = edit_data(post, body=MINE)
    post_update(post=post, actor=colleague, data={"title": "Infotag Kardiologie"})

    response = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert response.status_code == 409
    post.refresh_from_db()
    assert post.title == "Infotag Kardiologie" and post.body != MINE
    changes = response.context["stale"].changes
    assert [(c.label, c.old, c.new) for c in changes] == [("Internal title", "Infotag", "Infotag Kardiologie")]
    # The user left the title as it was: the form takes the colleague's, and keeps the user's text.
    assert response.context["form"]["title"].value() == "Infotag Kardiologie"
    assert response.context["form"]["body"].value() == MINE
    assert response.context["stale_merge"].taken == ("Internal title",)


def test_an_edit_without_a_version_is_refused_not_stored(
    editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1])
    data = edit_data(post, body=MINE)
    del data["version"]
    response = client_for(editor).post(reverse("posts:post_edit", args=[post.pk]), data)
    assert response.status_code == 409
    post.refresh_from_db()
    assert post.body != MINE


# The calendar's move form ----------------------------------------------------------------------


def card_version(client: Client, post: Post) -> str:
    page = client.get(reverse("posts:calendar") + f"?view=week&date={post.scheduled_at.date().isoformat()}")
    marker = f'data-post-id="{post.pk}"'
    card = page.text[page.text.index(marker) :]
    return card[card.index('data-version="') + len('data-version="') :].split('"', 1)[0]


def test_calendar_card_carries_its_version(editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    assert card_version(client_for(editor), post) == str(version_of(model=Post, pk=post.pk))


def test_stale_move_by_json_answers_409_with_the_fresh_card(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(colleague, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    client = client_for(second_editor)
    seen = card_version(client, post)
    post_move(post=post, actor=colleague, scheduled_at=dt.datetime(2025, 3, 6, 14, 0, tzinfo=UTC))

    response = client.post(reverse("posts:post_move", args=[post.pk]), {"date": "2025-03-07", "version": seen}, **JSON)

    assert response.status_code == 409
    data = response.json()
    assert data["ok"] is False and data["stale"] is True
    assert data["errors"][0].startswith("This post was changed by Jana Krüger at ")
    assert [change["label"] for change in data["changes"]] == ["Time"]
    assert data["version"] == version_of(model=Post, pk=post.pk)
    assert f'data-version="{data["version"]}"' in data["html"]
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 6, 14, 0, tzinfo=UTC)
    assert AuditEvent.objects.filter(action="post.moved", actor=second_editor).count() == 0


def test_stale_move_by_form_shows_the_change_and_keeps_the_asked_day_and_time(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(colleague, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    client = client_for(second_editor)
    seen = card_version(client, post)
    post_move(post=post, actor=colleague, scheduled_at=dt.datetime(2025, 3, 6, 14, 0, tzinfo=UTC))

    response = client.post(
        reverse("posts:post_move", args=[post.pk]), {"date": "2025-03-09", "time": "11:30", "version": seen}
    )

    assert response.status_code == 409
    assert "This post was changed by Jana Krüger at" in response.text
    assert 'value="2025-03-09"' in response.text and 'value="11:30"' in response.text
    (change,) = response.context["stale"].changes
    # In the viewer's zone (Berlin): 09:15 UTC was 10:15 on 5 March, 14:00 UTC is 15:00 on 6 March.
    assert change.label == "Time" and "5 Mar 2025, 10:15" in change.old and "6 Mar 2025, 15:00" in change.new
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 6, 14, 0, tzinfo=UTC)

    again = client.post(
        reverse("posts:post_move", args=[post.pk]),
        {"date": "2025-03-09", "time": "11:30", "version": response.context["version"]},
    )
    assert again.status_code == 302
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 9, 10, 30, tzinfo=UTC)


def test_current_move_is_stored(editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign, when=dt.datetime(2025, 3, 5, 9, 15, tzinfo=UTC))
    client = client_for(editor)
    response = client.post(
        reverse("posts:post_move", args=[post.pk]),
        {"date": "2025-03-07", "version": card_version(client, post)},
        **JSON,
    )
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime(2025, 3, 7, 9, 15, tzinfo=UTC)


def test_a_change_late_in_a_long_text_is_shown_where_it_differs(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    opening = "Grippeimpfung im Klinikum Nord – am 12.12.2026 von 9–16 Uhr im Foyer (Haus B, Ebene 0). " * 3
    post = post_factory(colleague, campaign, targets=accounts[:1], body=opening + "Fragen: 030 1234567.")
    mine = edit_data(post, body=MINE)
    post_update(post=post, actor=colleague, data={"body": opening + "Fragen: 030 7654321."})

    response = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert response.status_code == 409
    changes = {change.label: change for change in response.context["stale"].changes}
    assert "1234567" in changes["Text"].old and "7654321" in changes["Text"].new
    assert "What changed:" in response.text


def test_a_target_added_past_a_short_lines_end_is_shown_by_name_not_as_data(
    colleague: Any, second_editor: Any, campaign: Any, post_factory: Any, account_factory: Any
) -> None:
    kept = [account_factory(platform, handle=f"klinikum-nord-{platform}-karriere") for platform in PLATFORMS]
    added = account_factory("webhook", handle="intranet-klinikum-nord")
    post = post_factory(colleague, campaign, targets=kept)
    mine = edit_data(post, body=MINE)
    specs = [TargetSpec(account=account) for account in kept] + [TargetSpec(account=added, body_override=THEIRS)]
    post_update(post=post, actor=colleague, targets=specs)

    refused = client_for(second_editor).post(reverse("posts:post_edit", args=[post.pk]), mine)

    assert refused.status_code == 409
    line = {change.label: change for change in refused.context["stale"].changes}["Targets"]
    assert "intranet-klinikum-nord (own text)" in line.new and "intranet" not in line.old
    assert "account_id" not in line.old + line.new
