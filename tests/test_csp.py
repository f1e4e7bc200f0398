"""The Content-Security-Policy: on every page, kept where a response sets its own, never broken.

Templates carry no inline script, style or event handler (a static scan of every template of
ours); every HTML answer carries the policy; the browser fixtures of tests/conftest.py fail a test
on any violation, and the admin, whose templates are Django's, breaks none.
"""

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from people import roles
from posts.media import image_process
from posts.services import NewMedia, post_create
from tests.conftest import PDF_BYTES, browser_context, browser_login, make_user
from tests.test_deploy import django_env, python

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
SANDBOX = "default-src 'none'; sandbox"

# The templates of this project: the project's own folder and every app of ours (not site-packages).
TEMPLATE_ROOTS = [
    *(Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]),
    *(
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR) and ".venv" not in Path(config.path).parts
    ),
]

# A <script> without src runs inline (json_script's application/json tags are rendered, not written).
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def inline_code(source: str) -> list[str]:
    """Return "line N: kind" for each inline script, style or event handler in a template's source."""
    found = []
    for kind, pattern in INLINE.items():
        for match in pattern.finditer(source):
            found.append(f"line {source.count(chr(10), 0, match.start()) + 1}: {kind}")
    return found


def test_the_scan_finds_every_kind_of_inline_code() -> None:
    source = "\n".join(
        [
            "<script src=\"{% static 'rounds/rounds.js' %}\" defer></script>",
            "<script>alert(1)</script>",
            '<script type="module">import x from "/x.js"</script>',
            "<style>p { color: red }</style>",
            '<p class="note" style="color: red">',
            '<button type="button" onclick="go()">Go</button>',
            "<form onsubmit='return check()'>",
            '<a href="javascript:void(0)">',
            '<a href="{% url \'posts:calendar\' %}" data-online="yes" class="styled">Calendar</a>',
        ]
    )
    assert inline_code(source) == [
        "line 2: inline script",
        "line 3: inline script",
        "line 4: style element",
        "line 5: style attribute",
        "line 6: event handler",
        "line 7: event handler",
        "line 8: javascript: URL",
    ]


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    templates = sorted({path for root in TEMPLATE_ROOTS if root.is_dir() for path in root.rglob("*.html")})
    assert len(templates) > 40  # every app's folder was found
    assert any(path.parent.parts[-3:] == ("admin", "audit", "auditevent") for path in templates)
    base = settings.BASE_DIR
    found = [f"{path.relative_to(base)} {at}" for path in templates for at in inline_code(path.read_text())]
    assert found == [], "\n".join(found)


# Headers ------------------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    """Return a Content-Security-Policy header's directives with their sources (django-csp's order varies)."""
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in parts}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_every_kind_of_page_answers_with_the_policy(
    editor: Any, governance: Any, viewer: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], title="Herzwoche: Öffnungszeiten")
    pages = {
        None: ["/accounts/login/", "/no-such-page/"],
        editor: ["/calendar/", f"/posts/{post.pk}/", f"/posts/{post.pk}/edit/", "/reviews/", "/me/preferences/"],
        viewer: ["/calendar/", f"/posts/{post.pk}/", "/consent/"],  # the last: 403
        governance: ["/admin/", "/admin/posts/post/", f"/admin/posts/post/{post.pk}/change/", "/publishing/"],
    }
    answered = {}
    for user, urls in pages.items():
        client = client_for(user) if user else Client()
        for url in urls:
            response = client.get(url)
            answered[(user.username if user else "anonymous", url)] = response.status_code
            assert response["Content-Type"].startswith("text/html"), url
            assert directives(response["Content-Security-Policy"]) == POLICY, url
    assert answered[("anonymous", "/no-such-page/")] == 404
    assert answered[("viewer", "/consent/")] == 403
    assert sum(status == 200 for status in answered.values()) >= 12


@pytest.mark.urls("tests.error_urls")
@pytest.mark.django_db
def test_the_error_pages_answer_with_the_policy() -> None:
    """A view's failure is answered below the policy's middleware: 500 (and the outage 503) carry it."""
    client = Client(raise_request_exception=False)
    for url, status in {"/boom/": 500, "/forbidden/": 403, "/suspicious/": 400}.items():
        response = client.get(url)
        assert response.status_code == status
        assert directives(response["Content-Security-Policy"]) == POLICY, url


@pytest.mark.django_db
def test_the_too_large_page_answers_with_the_policy(editor: Any, settings: Any) -> None:
    settings.ROUNDS_MAX_REQUEST_BYTES = 1024
    response = client_for(editor).post("/me/preferences/", {"note": "x" * 2048})
    assert response.status_code == 413
    assert directives(response["Content-Security-Policy"]) == POLICY


@pytest.mark.django_db
def test_media_and_consent_documents_keep_their_sandbox(
    editor: Any, campaign: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, "JPEG")
    buffer.seek(0)
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"title": "Tag der offenen Tür", "body": "Wir freuen uns auf Sie!"},
        targets=[],
        media=[NewMedia(image=image_process(upload=buffer), alt_text="Eingang Haus B")],
    )
    media = post.media.get()
    image = client_for(editor).get(reverse("media", args=[media.file.name]))
    assert image.status_code == 200 and image["Content-Security-Policy"] == SANDBOX
    record = record_factory(subject_factory())
    document = client_for(officer).get(reverse("consent:document", args=[record.pk]))
    assert document.status_code == 200 and document["Content-Security-Policy"] == SANDBOX
    assert b"".join(document.streaming_content if document.streaming else [document.content]) == PDF_BYTES


def test_sign_on_origins_can_be_added_to_form_action() -> None:
    """A login form's redirect to an identity provider is a form action too: the provider is named."""
    show = "import django; django.setup(); from django.conf import settings as s; "
    show += "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
    env = django_env(ROUNDS_DEBUG="1", ROUNDS_CSP_FORM_ACTION="https://login.example.org, https://idp.example.net")
    result = python("-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'self'", "https://login.example.org", "https://idp.example.net"]
    assert python("-c", show, env=django_env(ROUNDS_DEBUG="1")).stdout.split() == ["'self'"]


# In a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_browser_guard_names_the_directive_and_the_blocked_uri(browser: Any, live_server: Any) -> None:
    make_user("kim", roles.EDITOR)
    with pytest.raises(AssertionError) as failure, browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, "kim")
        page.goto("/calendar/")
        # Markup a script might insert: a style attribute and an image from another site.
        page.evaluate(
            """document.querySelector("main").insertAdjacentHTML("beforeend",
               '<p style="color: red">Achtung</p><img alt="" src="https://tracker.example.org/pixel.gif">')"""
        )
        expect(page.locator("main img")).to_have_count(1)
    report = str(failure.value)
    assert "Content-Security-Policy violations" in report
    assert '"directive":"style-src-attr","blocked":"inline"' in report
    assert '"directive":"img-src","blocked":"https://tracker.example.org/pixel.gif"' in report
    assert live_server.url + "/calendar/" in report
    assert '"blocked":"eval"' not in report  # the test's own waiting ran nothing through eval


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_breaks_no_policy(
    browser: Any, live_server: Any, editor: Any, campaign: Any, post_factory: Any, accounts: list[Any]
) -> None:
    """Governance opens every admin list, add form and one change form of each model; no page breaks the CSP."""
    post_factory(editor, campaign, targets=accounts[:1], when=timezone.now() + dt.timedelta(days=3))
    # Also an Editor: importing a plan (the admin's import page) is an Editor's right, not Governance's.
    governance = make_user("gov", roles.GOVERNANCE, roles.EDITOR, is_staff=True)
    request = type("Request", (), {"user": governance})()
    urls = ["/admin/", "/admin/posts/post/import/", "/admin/posts/post/export/"]
    reverse("admin:index")  # loads the URLconf first: it unregisters models, which would change the dict below
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if not model_admin.has_view_permission(request):
            continue
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        first = model_admin.get_queryset(request).first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    assert len(urls) > 30
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, "gov")
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.status == 200, url
        # The date widgets and the related-object links draw their controls with script.
        page.goto(reverse("admin:posts_campaign_add"))
        page.get_by_role("link", name="Today").first.click()
        assert page.locator("#id_start_date").input_value() == timezone.localdate().isoformat()
