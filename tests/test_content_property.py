"""Any content the editor accepts renders everywhere it is shown: post page, review page, calendar, preview.

Content as hospitals write it: dates, phone numbers, e-mail addresses, record numbers, names,
umlauts, emoji, right-to-left text and marks, markup-looking text, long text up to the limits.
NUL bytes and dates out of range are left out: refusing those is the "hostile input" work.
"""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from people import roles
from posts.models import Post, PostStatus
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

FRAGMENTS = [
    "Infotag am 12.12.2026",
    "030 1234567",
    "+49 (0)40 1234-5678",
    "(212) 555-0147",
    "info@klinikum-nord.de",
    "geb. 03.04.1961",
    "born on 04/12/1958",
    "Fall-Nr. 2024-118734",
    "MRN 00482913",
    "Lindenstraße 12, 20095 Hamburg",
    "Grüße aus der Kardiologie",
    "Studien zeigen: senkt das Risiko um 30 %",
    "🫀",
    "👩🏽‍⚕️",
    "🇩🇪",
    "\u200f",  # right-to-left mark
    "\u202eevil\u202c",  # right-to-left override
    "שלום",
    "مرحبا بكم",
    "日本語のテキスト",
    "<script>alert(1)</script>",
    "{{ post.title }} {% now 'Y' %}",
    "%(name)s %s {0}",
    "&amp; &lt;b&gt;",
    "#Herzwoche",
    "@klinikum_nord",
    "https://example.org/herz?a=1&b=<2>",
    "\t",
    "\r\n",
    "\n\n",
    "Ω≈ç√∫",
    "\u00a0",
]
# Everything a browser can send in a text field except NUL and lone surrogates.
SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


def prose(max_size: int) -> st.SearchStrategy[str]:
    """Text made of hospital fragments and arbitrary characters, cut to ``max_size``."""
    pieces = st.lists(st.one_of(st.sampled_from(FRAGMENTS), SAFE_TEXT), max_size=12)
    repeat = st.sampled_from([1, 1, 1, 3, 40])  # now and then a long text
    return st.builds(lambda parts, times: (" ".join(parts) * times)[:max_size], pieces, repeat)


WORD = st.one_of(
    st.sampled_from(["Herz", "Grippe", "FluShot", "Gesundheit", "Kardiologie", "Über", "Ärztinnen", "日本", "Covid19"]),
    st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=12),
)
LONG_LINK = "https://example.org/" + "herz-" * 396  # 2,000 characters, the form's limit
ZONES = ["Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kathmandu", "Pacific/Chatham", "UTC"]


@st.composite
def post_input(draw: Any, account_ids: list[int]) -> dict[str, Any]:
    targets = draw(st.lists(st.sampled_from(account_ids), unique=True, max_size=len(account_ids)))
    day = timezone.localdate() + dt.timedelta(days=draw(st.integers(min_value=-20, max_value=50)))
    data: dict[str, Any] = {
        "title": draw(prose(200)),
        "body": draw(prose(5000)),
        "link": draw(
            st.sampled_from(["", "https://example.org/herzwoche", "https://beispiel.de/ä?x=1&y=🫀", LONG_LINK])
        ),
        "hashtags": " ".join(draw(st.lists(WORD, max_size=8)))[:2000],
        "content_type": draw(st.sampled_from(["education", "patient_story", "event", "crisis", "other"])),
        "language": draw(st.sampled_from(["de", "en", "tr", "ar"])),
        "sources": draw(prose(1000)),
        "targets": targets,
        "scheduled_date": day.isoformat() if draw(st.booleans()) else "",
        "scheduled_time": f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
        "time_zone": draw(st.sampled_from(ZONES)),
    }
    for account_id in targets:
        if draw(st.booleans()):
            data[f"override_{account_id}"] = draw(prose(3000))
    if not data["scheduled_date"]:
        data["scheduled_time"] = ""
    return data


@pytest.fixture
def setting(editor: Any, campaign_factory: Any, account_factory: Any) -> dict[str, Any]:
    reviewer = make_user("medical", roles.MEDICAL_REVIEWER)
    campaign = campaign_factory(editor, name="Herzwoche 🫀", reviewers=[reviewer])
    accounts = [account_factory(platform) for platform in ("facebook", "instagram", "x", "linkedin")]
    editor_client, reviewer_client = Client(), Client()
    editor_client.force_login(editor)
    reviewer_client.force_login(reviewer)
    return {
        "editor": editor,
        "campaign": campaign,
        "account_ids": [account.pk for account in accounts],
        "editor_client": editor_client,
        "reviewer_client": reviewer_client,
    }


def ok(response: Any, what: str) -> None:
    assert response.status_code == 200, f"{what}: {response.status_code}"


# Shrinking a failure costs minutes over these pages; the unshrunk example is reported as it is.
RENDERING = settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@RENDERING
@given(data=st.data())
def test_any_content_the_editor_accepts_renders_everywhere(setting: dict[str, Any], data: Any) -> None:
    form = {"campaign": setting["campaign"].pk, **data.draw(post_input(setting["account_ids"]))}
    editor: Client = setting["editor_client"]
    preview = editor.post(reverse("posts:findings"), form)
    ok(preview, "preview")
    before = set(Post.objects.values_list("pk", flat=True))
    saved = editor.post(reverse("posts:post_create"), form)
    if saved.status_code == 200:  # refused with form errors: nothing to render
        event(f"refused: {sorted(saved.context['form'].errors)}")
        assert saved.context["form"].errors
        assert set(Post.objects.values_list("pk", flat=True)) == before
        return
    assert saved.status_code == 302, saved.status_code
    post = Post.objects.exclude(pk__in=before).get()
    ok(editor.get(reverse("posts:post_detail", args=[post.pk])), "post page")
    ok(editor.get(reverse("approvals:review", args=[post.pk])), "review page")
    ok(editor.get(reverse("posts:post_edit", args=[post.pk])), "editor")
    when = timezone.localtime(post.scheduled_at).date() if post.scheduled_at else timezone.localdate()
    for view in ("month", "week", "list"):
        ok(editor.get(reverse("posts:calendar"), {"view": view, "date": when.isoformat()}), f"calendar {view}")
    submitted = editor.post(reverse("approvals:submit", args=[post.pk]))
    assert submitted.status_code == 302
    post.refresh_from_db()
    event(f"saved, then {post.status}")
    if post.status == PostStatus.IN_REVIEW:  # else refused with a message (no target, no consent, …)
        reviewer: Client = setting["reviewer_client"]
        ok(reviewer.get(reverse("approvals:review", args=[post.pk])), "review page, reviewer")
        ok(reviewer.get(reverse("posts:post_detail", args=[post.pk])), "post page, reviewer")
        ok(reviewer.get(reverse("approvals:inbox")), "inbox")


# make test's run of the property above (which runs in make test-slow): the same test, a few examples.
test_any_content_the_editor_accepts_renders_everywhere_few = settings(RENDERING, max_examples=4)(
    given(data=st.data())(
        test_any_content_the_editor_accepts_renders_everywhere.hypothesis.inner_test  # type: ignore[attr-defined]
    )
)
