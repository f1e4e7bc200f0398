"""``{% topbar %}``: every page's header (brand, menu, user tools, language switch), written in Python.

Through the template it was a dozen ``{% url %}``, twenty translations, four icon includes and
six permission checks on every page: about 1.5 ms of each (issue 17). The markup is the one
``templates/base.html`` gave (tests/test_topbar.py holds the two equal for each role and language).
Core knows no app: the counts are read from the context the apps' processors fill
(``review_counts``, ``attention``, ``notice_count``) and the links by their URL names.
"""

from typing import Any

from django import template
from django.conf import settings
from django.template.context import Context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from core.rows import url_named as url

register = template.Library()

_SVG = (
    '<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20" fill="none"'
    ' stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{}</svg>'
)
# The drawings templates/partials/icon.html had (decorative; the caller gives the words).
ICONS = {
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "shield": '<path d="M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z"/><path d="M9 12l2 2 4-4"/>',
    "logout": '<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 16l-4-4 4-4M6 12h10"/>',
    "bell": '<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 21h4"/>',
}


def icon(name: str) -> SafeString:
    return mark_safe(_SVG.format(ICONS[name]))  # noqa: S308  (constant markup)


def _count(value: Any, name: str) -> int:
    return int(getattr(value, name, 0) or 0) if value is not None else 0


def _link(nav: str, here: str, href: str, words: str, extra: SafeString | str = "") -> SafeString:
    current = ' aria-current="page"' if nav == here else ""
    return format_html('<li><a href="{}"{}>{}{}</a></li>', href, mark_safe(current), words, extra)  # noqa: S308


@register.simple_tag(takes_context=True)
def topbar(context: Context) -> SafeString:
    """Return the page's ``<header class="topbar">`` for the user in ``context``."""
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    nav = str(context.get("nav") or "")
    waiting = _("waiting")
    parts = ['<header class="topbar"><a class="brand" href="/">Rounds</a>']
    if signed_in:
        parts.append(
            format_html(
                '<button type="button" class="menu-toggle" aria-expanded="false" aria-controls="topbar-menu"'
                " data-menu-toggle hidden>{}<span>{}</span></button>",
                icon("menu"),
                _("Menu"),
            )
        )
    parts.append('<div class="topbar-menu" id="topbar-menu">')
    if signed_in:
        parts.append(_menu(context, user, nav, waiting))
        parts.append(_user_menu(context, user, nav))
    parts.append(_language_switch(context, request))
    parts.append("</div></header>")
    return mark_safe("".join(parts))  # noqa: S308  (every value is escaped by format_html)


def _menu(context: Context, user: Any, nav: str, waiting: str) -> str:
    attention, counts = context.get("attention"), context.get("review_counts")
    total, publishing = _count(attention, "total"), _count(attention, "publishing")
    reviews_waiting, reviews_overdue = _count(counts, "waiting"), _count(counts, "overdue")
    items = [
        _link(
            nav,
            "home",
            url("home:home"),
            _("Needs attention"),
            format_html(
                ' <span class="badge nav-count" data-attention-count>{}<span class="review-sr-only"> {}</span></span>',
                total,
                waiting,
            )
            if total
            else "",
        ),
        _link(nav, "calendar", url("posts:calendar"), _("Calendar")),
        _link(nav, "campaigns", url("posts:campaign_list"), _("Campaigns")),
        _link(
            nav,
            "reviews",
            url("approvals:inbox"),
            _("My reviews"),
            format_html(
                ' <span class="badge nav-count{}" data-review-count>{}<span class="review-sr-only"> {}</span></span>',
                " nav-count-overdue" if reviews_overdue else "",
                reviews_waiting,
                waiting,
            )
            if reviews_waiting
            else "",
        ),
        _link(nav, "my_posts", url("approvals:my_posts"), _("My posts")),
    ]
    if user.has_perm("consent.view_consentrecord") and user.has_perm("consent.view_consent_document"):
        items.append(_link(nav, "consent", url("consent:registry"), _("Consent")))
    if user.has_perm("posts.import_plan"):
        items.append(_link(nav, "plan_import", url("plans:import"), _("Import plan")))
    if user.has_perm("posts.change_post") or user.has_perm("publishing.view_publication"):
        count = (
            format_html(
                ' <span class="badge nav-count nav-count-overdue" data-publishing-count>{}'
                '<span class="review-sr-only"> {}</span></span>',
                publishing,
                _("to act on"),
            )
            if publishing
            else ""
        )
        items.append(_link(nav, "publishing", url("publishing:publishing"), _("Publishing"), count))
    if user.has_perm("evidence.view_archivejob"):
        items.append(_link(nav, "archive", url("evidence:archives"), _("Archive")))
    if user.is_staff:
        items.append(format_html('<li><a href="{}">{}</a></li>', url("admin:index"), _("Admin")))
    return format_html('<nav aria-label="{}"><ul>{}</ul></nav>', _("Main"), mark_safe("".join(items)))  # noqa: S308


def _user_menu(context: Context, user: Any, nav: str) -> str:
    unread = _count(context.get("notice_count"), "unread")
    notices = format_html(
        '<a href="{}" class="nav-notices user-tool" title="{}"{}>{}<span class="tool-label">{}</span>{}</a>',
        url("people:notices"),
        _("Notices"),
        mark_safe(' aria-current="page"' if nav == "notices" else ""),  # noqa: S308
        icon("bell"),
        _("Notices"),
        format_html(
            ' <span class="badge nav-count" data-notice-count>{}<span class="review-sr-only"> {}</span></span>',
            unread,
            _("unread"),
        )
        if unread
        else "",
    )
    two_factor = _("Two-factor authentication")
    log_out = _("Log out")
    return format_html(
        '<div class="user-menu"><a href="{}" class="user-name">{}</a>{}'
        '<a href="{}" class="user-tool" title="{}">{}<span class="tool-label">{}</span></a>'
        '<form method="post" action="{}" class="inline">{}'
        '<button type="submit" class="link user-tool" title="{}">{}<span class="tool-label">{}</span></button>'
        "</form></div>",
        url("people:preferences"),
        user.get_username(),
        notices,
        url("mfa_index"),
        two_factor,
        icon("shield"),
        two_factor,
        url("logout"),
        _csrf_input(context),
        log_out,
        icon("logout"),
        log_out,
    )


def _csrf_input(context: Context) -> SafeString:
    # As {% csrf_token %}: the masked token of the request (context processor), nothing without one.
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105  (Django's marker for "no token", not a secret)
        return mark_safe("")
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def _language_switch(context: Context, request: Any) -> str:
    current = get_language()
    options = "".join(
        format_html(
            '<option value="{}" lang="{}"{}>{}</option>',
            code,
            code,
            mark_safe(" selected" if code == current else ""),  # noqa: S308
            get_language_info(code)["name_local"],
        )
        for code, _name in settings.LANGUAGES
    )
    return format_html(
        '<form method="post" action="{}" class="language-switch" data-autosubmit>{}'
        '<input type="hidden" name="next" value="{}"><label for="language-select">{}</label>'
        '<select id="language-select" name="language">{}</select><button type="submit">{}</button></form>',
        url("people:language"),
        _csrf_input(context),
        request.get_full_path() if request is not None else "",
        _("Language"),
        mark_safe(options),  # noqa: S308  (each option escaped above)
        _("Switch"),
    )
