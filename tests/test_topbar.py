"""Every page's header written in Python (core.templatetags.rounds_chrome) gives the markup base.html gave."""

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from people import roles
from tests.conftest import make_user

# The header as templates/base.html wrote it before it moved to Python.
REFERENCE = (Path(__file__).parent / "reference" / "topbar.html").read_text()


def norm(html: str) -> str:
    """Return ``html`` without the whitespace a template leaves between tags, before ``>`` and at an element's end.

    Words keep their spaces: "My reviews <span…" must stay apart.
    """
    html = re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html))
    return re.sub(r"\s+</", "</", re.sub(r"\s+>", ">", html)).strip()


def _users() -> dict[str, Any]:
    return {
        "anonymous": AnonymousUser(),
        "editor": make_user("editor", roles.EDITOR),
        "viewer": make_user("viewer", roles.VIEWER),
        "consent": make_user("consent", roles.CONSENT_OFFICER),
        "communications": make_user("comms", roles.COMMUNICATIONS_REVIEWER),
        "governance": make_user("governance", roles.GOVERNANCE, is_staff=True),
    }


COUNTS = [
    {},  # nothing waiting: no badges
    {
        "attention": SimpleNamespace(total=12, publishing=3),
        "review_counts": SimpleNamespace(waiting=5, overdue=2),
        "notice_count": SimpleNamespace(unread=7),
    },
    {
        "attention": SimpleNamespace(total=1, publishing=0),
        "review_counts": SimpleNamespace(waiting=1, overdue=0),
        "notice_count": SimpleNamespace(unread=0),
    },
]
NAVS = ["", "home", "calendar", "campaigns", "reviews", "my_posts", "consent", "plan_import", "publishing", "archive"]


@pytest.mark.parametrize("language", ["en", "de", "tr", "ja"])
def test_the_topbar_is_the_templates_for_every_role_count_and_page(db: None, language: str) -> None:
    engine = engines["django"]
    reference = engine.from_string(REFERENCE)
    written = engine.from_string("{% topbar %}")
    # A path with what must be escaped, as the language switch sends it back.
    request = RequestFactory().get('/calendar/?view=month&q=<script>"x"&date=2026-12-15')
    compared = 0
    with translation.override(language):
        for name, user in _users().items():
            for index, counts in enumerate(COUNTS):
                for nav in NAVS if index == 0 else ["notices", "publishing"]:
                    context = {
                        "request": request,
                        "user": user,
                        "perms": PermWrapper(user),
                        "nav": nav,
                        "csrf_token": 'tOkEn"<&>',
                        **counts,
                    }
                    expected, built = reference.render(context), written.render(context)
                    assert norm(built) == norm(expected), (name, nav, counts)
                    compared += 1
    assert compared == 6 * (len(NAVS) + 4)


def test_the_topbar_escapes_what_it_is_given(db: None) -> None:
    user = make_user("editor", roles.EDITOR)
    request = RequestFactory().get("/calendar/?view=month&date=2026-12-15")
    built = (
        engines["django"]
        .from_string("{% topbar %}")
        .render(
            {"request": request, "user": user, "perms": PermWrapper(user), "nav": "calendar", "csrf_token": '"><b>'}
        )
    )
    assert "<b>" not in built and built.count('value="&quot;&gt;&lt;b&gt;"') == 2  # logout and language forms
    assert 'name="next" value="/calendar/?view=month&amp;date=2026-12-15"' in built
