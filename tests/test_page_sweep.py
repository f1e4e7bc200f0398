"""Every page a person can reach by following links, over the demo data, as every kind of user.

Logged in as each role's demo user, a superuser and a user without any rights, the sweep
follows every same-site link from "/" and "/admin/" (GET only, each URL once, never logout, no
forms; of the same page with the same query parameters, a few values: pages of a list, the days a
month's "+N more" opens): no page may answer 5xx. Then the rights-less user and the Viewer ask for the pages of
objects only others reached: none may show them.
"""

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.db import transaction
from django.test import Client

from approvals.selectors import post_is_overdue
from people.models import User
from posts.models import Post, PostStatus
from publishing.models import Publication, PublicationStatus, TakedownCause
from tests.demo_data import _media_root, demo_data, demo_folders, state_cache_as_in_production  # noqa: F401  (fixtures)

# One worker runs the whole module: the demo and the sweeps (module fixtures) are built once, not per worker.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.usefixtures("demo_data"),
    pytest.mark.xdist_group("page-sweep"),
]

ROLE_USERS = ("editor", "medical", "legal", "comms", "consent", "governance", "viewer")
NEVER = ("/accounts/logout/", "/static/", "/i18n/")
# The same page with other values of the same query parameters (calendar months, pages of a list,
# the days "+N more" opens) is followed this often: each set of parameters names its own kind of
# page (?view=list, ?page=2, ?view=list&date=…), whose first few values are visited, each URL once.
QUERY_VARIANTS = 3
# The admin lists every object of every model (the audit trail alone has hundreds): of each kind of
# admin page (an object's change, history or delete page; a list with filters) a few are enough.
ADMIN_SAMPLES = 2
ADMIN_QUERY_VARIANTS = 1


# Attributes that name other elements of the page by id: a screen reader reads those with this one.
ID_REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.references: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "a":
            href = named.get("href")
            if href:
                self.hrefs.append(href)
        if named.get("id"):
            self.ids.add(str(named["id"]))
        for attribute in ID_REFERENCES:
            for target in (named.get(attribute) or "").split():
                self.references.append((attribute, target))


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def dangling_references(html: str) -> list[str]:
    """Return each ``aria-describedby="x"`` (and the like) of the page whose id ``x`` no element has."""
    parser = _Links()
    parser.feed(html)
    return [f'{attribute}="{target}"' for attribute, target in parser.references if target not in parser.ids]


@dataclass
class Sweep:
    """The pages one user reached, with their status codes, and the failures met on the way."""

    username: str
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # HTML answers without the strict Content-Security-Policy (tests/test_csp.py has all of it).
    without_policy: list[str] = field(default_factory=list)
    # Pages whose aria references name an id that no element of the page has.
    dangling: list[str] = field(default_factory=list)

    def reached(self) -> set[str]:
        return {url for url, status in self.statuses.items() if status == 200}


def same_site(base: str, href: str) -> str | None:
    """Return the site-relative URL ``href`` points to from ``base``, or None if it leaves the site."""
    if href.startswith(("mailto:", "tel:", "javascript:", "#", "data:")):
        return None
    parts = urlsplit(urljoin(f"http://testserver{base}", href))
    if parts.scheme not in {"http", "https"} or parts.netloc != "testserver":
        return None
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    if url.startswith(NEVER):
        return None
    return url


def query_kind(url: str) -> str:
    """Return ``url``'s path with the names of its query parameters: the kind of page the query asks for.

    ``/calendar/?date=…`` (another month), ``/calendar/?view=list&date=…`` (a day's posts in the list)
    and ``/publishing/?page=…`` (a list's next page) are three kinds; the values do not count, so
    the kinds are as few as the links' parameter names and the sweep ends.
    """
    parts = urlsplit(url)
    names = sorted({name for name, _value in parse_qsl(parts.query, keep_blank_values=True)})
    return parts.path + "?" + "&".join(names)


def sweep(client: Client, username: str) -> Sweep:
    """Follow every same-site link from "/" and "/admin/"; record each URL's status, and every 5xx."""
    result = Sweep(username)
    queue: deque[str] = deque(["/", "/admin/"])
    seen: set[str] = set(queue)
    variants: Counter[str] = Counter()
    samples: Counter[str] = Counter()
    while queue:
        url = queue.popleft()
        try:
            # Each request in its own savepoint: a failed one must not poison the rest of the sweep.
            with transaction.atomic():
                response = client.get(url)
        except Exception as error:  # a 500: the test client re-raises the view's exception
            result.statuses[url] = 500
            result.failures.append(f"{username} GET {url}: {type(error).__name__}: {error}")
            continue
        result.statuses[url] = response.status_code
        html = response.get("Content-Type", "").startswith("text/html")
        header = response.get("Content-Security-Policy", "")
        policy = dict(part.strip().partition(" ")[::2] for part in header.split(";"))
        if html and (policy.get("script-src") != "'self'" or policy.get("style-src") != "'self'"):
            result.without_policy.append(f"{username} GET {url}: {response.status_code}")
        if response.status_code >= 500:
            result.failures.append(f"{username} GET {url}: {response.status_code}")
            continue
        if response.status_code in {301, 302, 303, 307, 308}:
            hrefs = [response["Location"]]
        elif response.status_code == 200 and html:
            page = response.content.decode()
            hrefs = links_of(page)
            result.dangling += [f"{username} GET {url}: {reference}" for reference in dangling_references(page)]
        else:
            continue
        for href in hrefs:
            target = same_site(url, href)
            if target is None or target in seen:
                continue
            path = target.split("?", 1)[0]
            admin = path.startswith("/admin/")
            if "?" in target:
                kind = path if admin else query_kind(target)
                if variants[kind] >= (ADMIN_QUERY_VARIANTS if admin else QUERY_VARIANTS):
                    continue
                variants[kind] += 1
            shape = re.sub(r"\d+", "N", path)
            if admin and shape != path:
                if samples[shape] >= ADMIN_SAMPLES:
                    continue
                samples[shape] += 1
            seen.add(target)
            queue.append(target)
    return result


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def sweeps(request: Any, django_db_blocker: Any) -> dict[str, Sweep]:
    """Sweep once per module, as each role's demo user, a superuser and a user without rights."""
    request.getfixturevalue("demo_data")
    with django_db_blocker.unblock():
        people = {name: User.objects.get(username=name) for name in ROLE_USERS}
        people["root"] = User.objects.create_superuser(username="root", email="root@example.org", password="pw")
        people["nobody"] = User.objects.create_user(username="nobody", email="nobody@example.org", password="pw")
        started = time.process_time()
        # The navigation's counts: counted once per user, not on 700 pages each.
        with state_cache_as_in_production():
            done = {name: sweep(client_for(user), name) for name, user in people.items()}
    print(
        f"\nsweep: {sum(len(s.statuses) for s in done.values())} requests, {time.process_time() - started:.1f} s CPU; "
        + ", ".join(f"{name} {len(s.statuses)}" for name, s in done.items())
    )
    return done


OBJECT_PAGE = re.compile(r"/\d+(/|$)")


def test_no_page_answers_5xx_for_any_user(sweeps: dict[str, Sweep]) -> None:
    failures = [failure for result in sweeps.values() for failure in result.failures]
    assert failures == []
    # The sweep went deep: every demo post's page and review page, for the one who may see them all.
    root = sweeps["root"].reached()
    assert sum(1 for url in root if re.fullmatch(r"/posts/\d+/", url)) >= 25
    assert sum(1 for url in root if re.fullmatch(r"/reviews/posts/\d+/", url)) >= 25
    assert any(url.startswith("/admin/posts/post/") and OBJECT_PAGE.search(url) for url in root)


def test_every_html_page_has_a_content_security_policy(sweeps: dict[str, Sweep]) -> None:
    assert [url for result in sweeps.values() for url in result.without_policy] == []
    assert sum(len(result.reached()) for result in sweeps.values()) > 500


def test_every_aria_reference_names_an_element_of_its_page(sweeps: dict[str, Sweep]) -> None:
    # Our pages, not Django's admin templates: a tabular inline's help is a header icon, and the
    # read-only password field's help has no id there (the admin is governance's, in Django's hands).
    dangling = [entry for result in sweeps.values() for entry in result.dangling if " GET /admin/" not in entry]
    assert dangling == []
    assert dangling_references('<input aria-describedby="id_x_helptext id_x_error"><p id="id_x_helptext">') == [
        'aria-describedby="id_x_error"'
    ]


def test_the_sweep_shows_every_post_state_and_every_publication_state(sweeps: dict[str, Sweep]) -> None:
    """Exhaustive over the choices: the sweep reached a post page in each state, and the page shows it."""
    root = sweeps["root"].reached()
    reached = {int(found.group(1)) for url in root if (found := re.fullmatch(r"/posts/(\d+)/", url))}
    assert set(Post.objects.filter(pk__in=reached).values_list("status", flat=True)) == set(PostStatus.values)
    publications = Publication.objects.filter(post__in=reached)
    assert set(publications.values_list("status", flat=True)) == set(PublicationStatus.values)
    client = client_for(User.objects.get(username="root"))
    for status in PublicationStatus.values:
        publication = publications.filter(status=status).first()
        assert publication is not None
        page = client.get(f"/posts/{publication.post_id}/")
        assert page.status_code == 200
        assert f'data-publication="{publication.pk}" data-status="{status}"' in page.content.decode()
    # The Publishing page lists the overdue publication for a person to decide.
    assert "/publishing/" in sweeps["governance"].reached()
    overdue = Publication.objects.get(status=PublicationStatus.OVERDUE)
    listing = client_for(User.objects.get(username="governance")).get("/publishing/").content.decode()
    assert f'data-publication="{overdue.pk}" data-status="overdue"' in listing
    # And the takedowns of every cause: a consent ended, a review stage rejected after publication.
    for cause in TakedownCause.values:
        assert f'data-cause="{cause}"' in listing.split('id="takedowns"')[1]
    # The post whose time passed in review: its review page says it is overdue.
    late = Post.objects.get(external_id="demo-flu-school-clinic")
    assert post_is_overdue(late) and f"/reviews/posts/{late.pk}/" in root
    assert 'class="review-overdue"' in client.get(f"/reviews/posts/{late.pk}/").content.decode()


def outcome(client: Client, url: str) -> str:
    try:
        with transaction.atomic():
            response = client.get(url)
    except Exception as error:
        return f"500 {type(error).__name__}"
    if response.status_code in {301, 302}:
        return f"{response.status_code} {response['Location'].split('?')[0]}"
    return str(response.status_code)


CONSENT_FILES = re.compile(r"/consent/(people/)?\d+/(document/|fhir\.json)$")


def expected(url: str) -> str:
    """What the app answers a user who may not see ``url``.

    Admin pages send to the admin's login. The consent registry is closed as a whole to everyone
    but Consent officers and Governance (403 before any lookup, so no id tells whether it exists), the
    compliance archive and the purge reports to everyone but Governance (the same);
    a signed form or FHIR export the user may not read is not found. Any other object's page or
    image is not found (no hint that it exists); a whole page the user may not open is forbidden.
    """
    path = url.split("?")[0]
    if path in {"/calendar/", "/reviews/mine/"}:
        # Everyone's calendar and "My posts", of the posts each may see or wrote, any page of them:
        # the test checks they show none of the others' posts.
        return "200"
    if path == "/plans/template.csv":
        return "200"  # the empty plan, a header row: no one's data
    if path.startswith("/withdraw/"):
        return "200"  # the public withdrawal page (linked from a printed form): shows nothing of the consent
    if path.startswith("/admin/"):
        return "302 /admin/login/"
    if path.startswith("/media/"):
        return "404"  # a post's image, served only to who may see the post
    if CONSENT_FILES.search(path):
        return "404"
    if path.startswith(("/consent/", "/evidence/archives/", "/evidence/purges/")):
        return "403"
    if OBJECT_PAGE.search(path):
        return "404"
    return "403"


@pytest.mark.parametrize("username", ["nobody", "viewer"])
def test_pages_only_others_reached_are_not_shown(sweeps: dict[str, Sweep], username: str) -> None:
    mine = set(sweeps[username].statuses)
    others = set().union(*(result.reached() for name, result in sweeps.items() if name != username)) - mine
    if username == "viewer":
        # A Viewer reads the calendar and posts; what they must not see: consent, publishing, the admin.
        others = {url for url in others if url.startswith(("/consent/", "/publishing/", "/admin/", "/takedowns/"))}
    assert len(others) > 20
    client = client_for(User.objects.get(username=username))
    wrong = {url: got for url in sorted(others) if (got := outcome(client, url)) != expected(url)}
    assert wrong == {}, "\n".join(f"{url}: {got}, expected {expected(url)}" for url, got in wrong.items())
    # The calendar's months, days and pages, and the pages of "My posts" others reached, open
    # without a single post of theirs.
    for url in sorted(url for url in others if url.startswith(("/calendar/", "/reviews/mine/"))):
        assert not re.search(r'href="/posts/\d+/', client.get(url).content.decode()), url


def test_the_sweep_reaches_the_review_tools_of_the_demo(sweeps: dict[str, Sweep]) -> None:
    """Threads, signatures, claims, the deputy's inbox, crisis requests and notices are on pages the sweep reached."""
    root, medical, comms = sweeps["root"].reached(), sweeps["medical"].reached(), sweeps["comms"].reached()
    smoking = Post.objects.get(external_id="demo-heart-smoking")
    nutrition = Post.objects.get(external_id="demo-heart-nutrition")
    heat = Post.objects.get(external_id="demo-heart-heat")
    assert {f"/reviews/posts/{smoking.pk}/", f"/reviews/posts/{nutrition.pk}/"} <= root & medical
    client = client_for(User.objects.get(username="legal"))
    page = client.get(f"/reviews/posts/{smoking.pk}/").content.decode()
    assert "data-passage-changed" in page
    assert 'data-signature-valid="true"' in page and 'data-signature-valid="false"' in page
    page = client_for(User.objects.get(username="medical")).get(f"/reviews/posts/{nutrition.pk}/").content.decode()
    assert 'data-checked="true"' in page and 'data-checked="false"' in page
    assert "/reviews/" in medical
    inbox = client_for(User.objects.get(username="medical")).get("/reviews/").content.decode()
    assert 'class="deputy-flag"' in inbox and "Groß-Lüdemann" in inbox
    assert f"/posts/{heat.pk}/" in comms
    assert {"/me/notices/", "/me/preferences/", "/me/deputies/"} <= medical


def test_the_sweep_reaches_the_evidence_and_consent_states_of_the_demo(sweeps: dict[str, Sweep]) -> None:
    """The compliance archive, the purge report with a purged and a held form, the erased person with her
    blocked story, the consent withdrawn online and the one waiting for its copy are on reached pages."""
    from consent.models import ConsentRecord, Subject
    from evidence.models import ArchiveJob, ArchiveStatus, PurgeReport

    governance, officer, root = sweeps["governance"].reached(), sweeps["consent"].reached(), sweeps["root"].reached()
    job = ArchiveJob.objects.get(status=ArchiveStatus.DONE)
    report = PurgeReport.objects.get(dry_run=False)
    archive_pages = {"/evidence/archives/", f"/evidence/archives/{job.pk}/", "/evidence/purges/"}
    assert archive_pages | {f"/evidence/purges/{report.pk}/"} <= governance
    page = client_for(User.objects.get(username="governance")).get(f"/evidence/purges/{report.pk}/").content.decode()
    assert all(f'data-purged="{item["kind"]}-{item["id"]}"' in page for item in report.purged) and report.purged
    assert all(f'data-held="{item["kind"]}-{item["id"]}"' in page for item in report.held) and report.held
    erased = Subject.objects.get(erased_at__isnull=False)
    story = Post.objects.get(external_id="demo-story-ingrid")
    assert f"/consent/people/{erased.pk}/" in officer and f"/posts/{story.pk}/" in root
    assert story.status == PostStatus.BLOCKED
    withdrawn = ConsentRecord.objects.get(revocation_received_via="online")
    waiting = ConsentRecord.objects.get(copy_given_on__isnull=True)
    assert {f"/consent/{withdrawn.pk}/", f"/consent/{waiting.pk}/", f"/consent/{waiting.pk}/print/"} <= officer
    page = client_for(User.objects.get(username="consent")).get(f"/consent/{waiting.pk}/").content.decode()
    assert f'action="/consent/{waiting.pk}/copy-given/"' in page


def test_query_kinds_are_named_by_their_parameters_not_their_values() -> None:
    assert query_kind("/calendar/?date=2026-12-01") == query_kind("/calendar/?date=2027-01-01") == "/calendar/?date"
    assert query_kind("/calendar/?view=list&date=2026-12-08") == query_kind("/calendar/?date=2026-12-09&view=list")
    assert query_kind("/calendar/?view=list&page=2") != query_kind("/calendar/?view=list")


def test_the_sweep_follows_pages_and_the_more_links_of_the_calendar(sweeps: dict[str, Sweep]) -> None:
    """The demo's long lists have second pages and a busy day "+N more": the sweep opened them."""
    editor = sweeps["editor"].reached()
    client = client_for(User.objects.get(username="editor"))
    months = [url for url in editor if url.split("?")[0] == "/calendar/" and "view=" not in url]
    more = {
        same_site(url, unescape(href))
        for url in months
        for href in re.findall(r'class="cal-more" href="([^"]+)"', client.get(url).content.decode())
    }
    assert more and more & editor
    # Each page of a list is its own URL, visited once; a calendar list and a campaign's posts ran on.
    assert any(url.startswith("/calendar/?") and "view=list" in url and "page=2" in url for url in editor)
    assert any(re.fullmatch(r"/campaigns/\d+/\?page=2", url) for url in editor)
    assert any(re.fullmatch(r"/posts/\d+/move/form/\?next=.+", url) for url in editor)
