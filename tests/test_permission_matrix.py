"""The permission matrix: every named URL, for every role, on the user's own and on a foreign object.

The expected answers are data (tests/permission_expectations.py); this module knows how to ask
each URL (``REQUESTS``) and judges the answer. A GET page is allowed (200) or denied (403, 404,
a login redirect). A POST that is denied must change nothing: neither the audit trail's last
sequence number nor the object's row. An allowed POST that writes must have written an audit
event. Every request runs in a savepoint that is rolled back, so the world built once for the
module stays as it was. A named URL with no expectation fails ``test_every_named_url_has_an_expectation``.
"""

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import models, transaction
from django.db.models import Max
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from approvals.policy import current_stage_run
from audit.models import AuditEvent
from audit.versions import version_of
from consent.models import ConsentRecord
from consent.withdrawal_check import WithdrawalLink, link_token
from evidence.archive import archive_request, archive_run
from evidence.models import ArchiveJob, ArchiveStatus, PurgeReport
from evidence.retention import retention_purge
from people.models import Notice
from plans.importing import PlanOptions
from plans.jobs import job_create
from plans.views import SESSION_KEY
from posts.models import Post
from tests.permission_expectations import (
    DENIALS,
    DENIED,
    EXCLUDED,
    EXCLUDED_PREFIXES,
    EXPECTATIONS,
    FORBIDDEN,
    HIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PENDING_FIX,
    REDIRECT,
    REFUSED,
    ROLES,
    SHOWN,
    expected,
)
from tests.permission_world import FOREIGN, OWN, RELATIONS, Side, World, world_build

pytestmark = pytest.mark.django_db

NO_OBJECT = "-"
PLAN_CSV = b"campaign,date,time,accounts,body\nOwn campaign,2030-01-07,09:30,matrix_outbox,Wash your hands.\n"


# The URLs ---------------------------------------------------------------------------------------


def named_urls(resolver: URLResolver) -> set[str]:
    """Return every named URL pattern under ``resolver``, with its namespaces (``app:name``)."""
    names: set[str] = set()

    def walk(patterns: Iterable[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(resolver.url_patterns, "")
    return names


def without_expectation(names: set[str]) -> set[str]:
    """Return the URL names the matrix has no row for and does not exclude."""
    excluded = {name for name in names if name in EXCLUDED or name.startswith(tuple(EXCLUDED_PREFIXES))}
    return names - excluded - set(EXPECTATIONS)


@dataclass(frozen=True)
class Call:
    """How one cell asks its URL, and what it watches."""

    method: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    obj: models.Model | None = None  # the row a denied request must leave as it was
    markers: tuple[str, ...] = ()  # a list page: what shows the object on it
    writes: bool = False  # an allowed POST writes an audit event
    form: bool = False  # a page with a form: a denied user's POST is refused as well


Ask = Callable[[World, str, Side], Call]
REQUESTS: dict[str, tuple[bool, Ask]] = {}


def asks(name: str, *, relational: bool = True) -> Callable[[Ask], Ask]:
    """Register how the matrix asks URL ``name``; ``relational`` URLs are asked about own and foreign objects."""

    def register(ask: Ask) -> Ask:
        REQUESTS[name] = (relational, ask)
        return ask

    return register


def get(name: str, *args: Any, **extra: Any) -> Call:
    return Call("GET", reverse(name, args=args), **extra)


def post(name: str, *args: Any, **extra: Any) -> Call:
    return Call("POST", reverse(name, args=args), **extra)


def simple(name: str, method: str = "GET", **extra: Any) -> None:
    """Register a URL that acts on no object."""
    REQUESTS[name] = (False, lambda world, role, side: Call(method, reverse(name), **extra))


simple("login")
simple("logout", "POST")
simple("people:language", "POST", data={"language": "en", "next": "/calendar/"})
simple("people:preferences", form=True)
simple("people:deputies", form=True)
simple("people:notices")
simple("people:notices_read_all", "POST")
simple("admin:index")
simple("posts:calendar")
simple("home:home")
simple("posts:campaign_create", form=True)
simple("posts:post_create", form=True)
simple("approvals:inbox")
simple("approvals:my_posts")
simple("consent:subject_create", form=True)
simple("plans:import", form=True)
simple("plans:template")


def _notice(world: World, role: str, side: Side) -> Notice:
    """Own: a notice of the role's user; foreign: one of another person's (the foreign campaign's owner)."""
    owner = world.users.get(role) if side is world.sides[OWN] else None
    owner = owner or world.sides[FOREIGN].campaign.owner
    notice, _created = Notice.objects.get_or_create(
        user=owner, key="matrix", defaults={"subject": "Review needed: post #1", "url": "/calendar/"}
    )
    return notice


@asks("people:notice_open")
def _notice_open(world: World, role: str, side: Side) -> Call:
    return get("people:notice_open", _notice(world, role, side).pk)


@asks("people:notice_read")
def _notice_read(world: World, role: str, side: Side) -> Call:
    notice = _notice(world, role, side)
    return post("people:notice_read", notice.pk, obj=notice)


@asks("posts:campaign_list")
def _campaign_list(world: World, role: str, side: Side) -> Call:
    return get("posts:campaign_list", markers=(f'href="/campaigns/{side.campaign.pk}/"',))


@asks("posts:campaign_detail")
def _campaign_detail(world: World, role: str, side: Side) -> Call:
    return get("posts:campaign_detail", side.campaign.pk)


@asks("posts:campaign_edit")
def _campaign_edit(world: World, role: str, side: Side) -> Call:
    return get("posts:campaign_edit", side.campaign.pk, obj=side.campaign, form=True)


@asks("posts:post_detail")
def _post_detail(world: World, role: str, side: Side) -> Call:
    return get("posts:post_detail", side.draft.pk)


@asks("posts:media_checks")
def _media_checks(world: World, role: str, side: Side) -> Call:
    return get("posts:media_checks", side.draft.pk)


@asks("evidence:pack_download")
def _evidence_pack(world: World, role: str, side: Side) -> Call:
    return get("evidence:pack_download", side.due.pk)


@asks("posts:post_edit")
def _post_edit(world: World, role: str, side: Side) -> Call:
    return get("posts:post_edit", side.draft.pk, obj=side.draft, form=True)


@asks("posts:findings")
def _findings(world: World, role: str, side: Side) -> Call:
    return post("posts:findings", data={"post": side.draft.pk, "body": "Call 030 1234567"}, obj=side.draft)


@asks("posts:consent_options")
def _consent_options(world: World, role: str, side: Side) -> Call:
    return Call("GET", reverse("posts:consent_options") + f"?post={side.draft.pk}")


# A kept image's token names its owner: any other token, or another person's, finds nothing.
REQUESTS["posts:pending_thumbnail"] = (
    False,
    lambda world, role, side: Call("GET", reverse("posts:pending_thumbnail", args=["not-a-token"])),
)

# A link card's image is a public page's picture, shown to anyone signed in; a card that was not
# fetched (here: none at all) finds nothing. Serving a fetched one: tests/posts/test_linkcards.py.
REQUESTS["posts:linkcard_image"] = (
    False,
    lambda world, role, side: Call("GET", reverse("posts:linkcard_image", args=[2_000_000_000])),
)


@asks("posts:post_move")
def _post_move(world: World, role: str, side: Side) -> Call:
    day = timezone.localdate() + dt.timedelta(days=9)
    data = {"date": day.isoformat(), "time": "10:15", "version": version_of(model=Post, pk=side.draft.pk)}
    return post("posts:post_move", side.draft.pk, data=data, obj=side.draft, writes=True)


@asks("posts:post_move_form")
def _post_move_form(world: World, role: str, side: Side) -> Call:
    return get("posts:post_move_form", side.draft.pk, obj=side.draft)


@asks("posts:post_schedule")
def _post_schedule(world: World, role: str, side: Side) -> Call:
    return post("posts:post_schedule", side.approved.pk, obj=side.approved, writes=True)


@asks("posts:post_unschedule")
def _post_unschedule(world: World, role: str, side: Side) -> Call:
    return post("posts:post_unschedule", side.scheduled.pk, obj=side.scheduled, writes=True)


@asks("posts:post_withdraw")
def _post_withdraw(world: World, role: str, side: Side) -> Call:
    return post(
        "posts:post_withdraw",
        side.draft.pk,
        data={"reason": "Matrix", "confirm_irreversible": "yes"},
        obj=side.draft,
        writes=True,
    )


@asks("posts:claim_add")
def _claim_add(world: World, role: str, side: Side) -> Call:
    data = {"passage": "it saves lives", "source_kind": "pmid", "source": "31378231", "quote": "Hands matter."}
    return post("posts:claim_add", side.draft.pk, data=data, obj=side.draft, writes=True)


@asks("posts:claim_source")
def _claim_source(world: World, role: str, side: Side) -> Call:
    claim = side.draft.claims.get()
    data = {"source_kind": "doi", "source": "10.1016/S0140-6736(00)02039-0", "quote": "Hands matter."}
    return post("posts:claim_source", side.draft.pk, claim.pk, data=data, obj=claim, writes=True)


@asks("posts:claim_remove")
def _claim_remove(world: World, role: str, side: Side) -> Call:
    claim = side.draft.claims.get()
    return post("posts:claim_remove", side.draft.pk, claim.pk, obj=claim, writes=True)


@asks("approvals:claim_check")
def _claim_check(world: World, role: str, side: Side) -> Call:
    claim = side.claimed.claims.get()
    return post("approvals:claim_check", side.claimed.pk, claim.pk, obj=claim, writes=True)


@asks("posts:post_crisis_request")
def _post_crisis_request(world: World, role: str, side: Side) -> Call:
    data = {"reason": "Power failure: the emergency room closes tonight."}
    return post("posts:post_crisis_request", side.draft.pk, data=data, obj=side.draft, writes=True)


@asks("posts:post_crisis_declare")
def _post_crisis_declare(world: World, role: str, side: Side) -> Call:
    return post(
        "posts:post_crisis_declare", side.draft.pk, data={"confirm_irreversible": "yes"}, obj=side.draft, writes=True
    )


@asks("people:deputy_end", relational=False)
def _deputy_end(world: World, role: str, side: Side) -> Call:
    return post("people:deputy_end", 987654)


@asks("media")
def _media(world: World, role: str, side: Side) -> Call:
    return Call("GET", reverse("media", kwargs={"path": side.media_path}))


@asks("approvals:review")
def _review(world: World, role: str, side: Side) -> Call:
    return get("approvals:review", side.at_stage["medical"].pk)


@asks("approvals:submit")
def _submit(world: World, role: str, side: Side) -> Call:
    return post("approvals:submit", side.draft.pk, obj=side.draft, writes=True)


@asks("approvals:decide")
def _decide(world: World, role: str, side: Side) -> Call:
    waiting = side.at_stage.get(role, side.at_stage["medical"])
    run = current_stage_run(post=waiting)
    assert run is not None
    data = {
        "stage_run": run.pk,
        "verdict": "approve",
        "comment": "Looks right.",
        "version": version_of(model=Post, pk=waiting.pk),
    }
    return post("approvals:decide", waiting.pk, data=data, obj=run, writes=True)


@asks("approvals:comment_add")
def _comment_add(world: World, role: str, side: Side) -> Call:
    post_ = side.at_stage["medical"]
    data = {"anchor": "body", "quote": "Wash your hands", "text": "Matrix: is this right?"}
    return post("approvals:comment_add", post_.pk, data=data, obj=post_, writes=True)


def _comment(side: Side, *, resolved: bool = False) -> Any:
    comment = side.resolved_comment if resolved else side.comment
    assert comment is not None
    return comment


@asks("approvals:comment_reply")
def _comment_reply(world: World, role: str, side: Side) -> Call:
    comment = _comment(side)
    return post("approvals:comment_reply", comment.pk, data={"text": "Matrix reply"}, obj=comment, writes=True)


@asks("approvals:comment_resolve")
def _comment_resolve(world: World, role: str, side: Side) -> Call:
    comment = _comment(side)
    return post("approvals:comment_resolve", comment.pk, obj=comment, writes=True)


@asks("approvals:comment_reopen")
def _comment_reopen(world: World, role: str, side: Side) -> Call:
    comment = _comment(side, resolved=True)
    return post("approvals:comment_reopen", comment.pk, obj=comment, writes=True)


@asks("approvals:comment_blocking")
def _comment_blocking(world: World, role: str, side: Side) -> Call:
    comment = _comment(side)
    return post("approvals:comment_blocking", comment.pk, data={"blocking": "on"}, obj=comment, writes=True)


@asks("approvals:recertify")
def _recertify(world: World, role: str, side: Side) -> Call:
    data = {"outcome": "keep", "reason": "Still right: checked against the 2026 guideline."}
    return post("approvals:recertify", side.due.pk, data=data, obj=side.due, writes=True)


@asks("approvals:chain")
def _chain(world: World, role: str, side: Side) -> Call:
    assert world.chain is not None
    return post("approvals:chain", side.draft.pk, data={"chain": world.chain.pk}, obj=side.draft, writes=True)


@asks("consent:registry")
def _registry(world: World, role: str, side: Side) -> Call:
    return get("consent:registry", markers=(f'data-subject="{side.subject.pk}"',))


@asks("consent:subject_detail")
def _subject_detail(world: World, role: str, side: Side) -> Call:
    return get("consent:subject_detail", side.subject.pk)


@asks("consent:subject_edit")
def _subject_edit(world: World, role: str, side: Side) -> Call:
    return get("consent:subject_edit", side.subject.pk, obj=side.subject, form=True)


@asks("consent:record_create")
def _record_create(world: World, role: str, side: Side) -> Call:
    return get("consent:record_create", side.subject.pk, obj=side.subject, form=True)


@asks("consent:record_detail")
def _record_detail(world: World, role: str, side: Side) -> Call:
    return get("consent:record_detail", side.record.pk)


@asks("consent:record_verify")
def _record_verify(world: World, role: str, side: Side) -> Call:
    data = {"version": version_of(model=ConsentRecord, pk=side.pending.pk)}
    return post("consent:record_verify", side.pending.pk, data=data, obj=side.pending, writes=True)


@asks("consent:record_revoke")
def _record_revoke(world: World, role: str, side: Side) -> Call:
    data = {
        "received_via": "letter",
        "reason": "",
        "version": version_of(model=ConsentRecord, pk=side.record.pk),
        "confirm_irreversible": "yes",
    }
    return post("consent:record_revoke", side.record.pk, data=data, obj=side.record, writes=True)


@asks("consent:record_print")
def _record_print(world: World, role: str, side: Side) -> Call:
    return get("consent:record_print", side.record.pk)


simple("withdrawal:start")
simple("withdrawal:sent")


@asks("withdrawal:confirm", relational=False)
def _withdrawal_confirm(world: World, role: str, side: Side) -> Call:
    token = link_token(WithdrawalLink(reference=side.record.form_reference, contact="matrix"))
    return Call("GET", reverse("withdrawal:confirm", args=[token]), obj=side.record)


@asks("consent:subject_erase")
def _subject_erase(world: World, role: str, side: Side) -> Call:
    data = {"received_via": "letter", "reason": "GDPR Art. 17 request", "confirm_irreversible": "yes"}
    return post("consent:subject_erase", side.subject.pk, data=data, obj=side.subject, writes=True)


@asks("consent:subject_export")
def _subject_export(world: World, role: str, side: Side) -> Call:
    return post("consent:subject_export", side.subject.pk, obj=side.subject, writes=True)


@asks("consent:record_copy_given")
def _record_copy_given(world: World, role: str, side: Side) -> Call:
    data = {
        "copy_given_how": "post",
        "copy_given_on": timezone.localdate().isoformat(),
        "version": version_of(model=ConsentRecord, pk=side.uncopied.pk),
    }
    return post("consent:record_copy_given", side.uncopied.pk, data=data, obj=side.uncopied, writes=True)


@asks("consent:document")
def _document(world: World, role: str, side: Side) -> Call:
    return get("consent:document", side.record.pk)


@asks("consent:fhir")
def _fhir(world: World, role: str, side: Side) -> Call:
    return get("consent:fhir", side.record.pk)


@asks("consent:subject_fhir")
def _consent_subject_fhir(world: World, role: str, side: Side) -> Call:
    return get("consent:subject_fhir", side.subject.pk)


@asks("publishing:publishing")
def _publishing(world: World, role: str, side: Side) -> Call:
    markers = (f'data-publication="{side.failed.pk}"', f'data-takedown="{side.takedown.pk}"')
    return get("publishing:publishing", markers=markers)


@asks("publishing:publication_retry")
def _retry(world: World, role: str, side: Side) -> Call:
    return post("publishing:publication_retry", side.failed.pk, obj=side.failed, writes=True)


@asks("publishing:takedown_confirm")
def _takedown_confirm(world: World, role: str, side: Side) -> Call:
    return post("publishing:takedown_confirm", side.takedown.pk, obj=side.takedown, writes=True)


@asks("publishing:takedown_delete")
def _takedown_delete(world: World, role: str, side: Side) -> Call:
    return post(
        "publishing:takedown_delete",
        side.takedown.pk,
        data={"confirm_irreversible": "yes"},
        obj=side.takedown,
        writes=True,
    )


@asks("plans:export")
def _plan_export(world: World, role: str, side: Side) -> Call:
    """The plan export lists the posts the user may see: the side's draft is one of them or not."""
    return Call("GET", reverse("plans:export") + "?format=csv", markers=(str(side.draft.title),))


def _plan_token(world: World, role: str, side: Side) -> str:
    """Own: the plan the user uploaded (its token is in their session); foreign: another editor's."""
    if side is world.sides[OWN] and role in world.plans:
        return world.plans[role]
    return world.plans["other"]


@asks("plans:preview")
def _plan_preview(world: World, role: str, side: Side) -> Call:
    return get("plans:preview", _plan_token(world, role, side))


@asks("plans:confirm")
def _plan_confirm(world: World, role: str, side: Side) -> Call:
    return post("plans:confirm", _plan_token(world, role, side))


@asks("plans:progress")
def _plan_progress(world: World, role: str, side: Side) -> Call:
    return get("plans:progress", _plan_token(world, role, side))


@asks("plans:errors")
def _plan_errors(world: World, role: str, side: Side) -> Call:
    return get("plans:errors", _plan_token(world, role, side))


# The compliance archive (Governance's): one finished archive and one purge report, for every role.
simple("evidence:archives", form=True)
simple("evidence:purge_reports")


def _archive(world: World) -> ArchiveJob:
    job = ArchiveJob.objects.filter(status=ArchiveStatus.DONE).first()
    if job is None:
        job = archive_request(actor=world.users["governance"], campaign=world.sides[OWN].campaign)
        archive_run(job_id=job.pk)
        job.refresh_from_db()
    return job


@asks("evidence:archive", relational=False)
def _archive_detail(world: World, role: str, side: Side) -> Call:
    return get("evidence:archive", _archive(world).pk)


@asks("evidence:archive_download", relational=False)
def _archive_download(world: World, role: str, side: Side) -> Call:
    return get("evidence:archive_download", _archive(world).pk)


@asks("evidence:purge_report", relational=False)
def _purge_report(world: World, role: str, side: Side) -> Call:
    report = PurgeReport.objects.first() or retention_purge(actor="matrix")
    return get("evidence:purge_report", report.pk)


def cells() -> list[tuple[str, str, str]]:
    """Return every (URL name, role, relation) the matrix checks."""
    return [
        (name, role, relation)
        for name in sorted(EXPECTATIONS)
        for role in ROLES
        for relation in (RELATIONS if REQUESTS.get(name, (True,))[0] else (NO_OBJECT,))
    ]


# The world --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory: Any) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("matrix")
    return {name: root / name for name in ("media", "private", "outbox", "audit")}


@pytest.fixture(autouse=True)
def _media_root(settings: Any, folders: dict[str, Path], tmp_path: Path) -> None:
    """The module's folders, where the world's images and plan uploads are (replaces conftest's)."""
    settings.MEDIA_ROOT = folders["media"]
    settings.PRIVATE_MEDIA_ROOT = folders["private"]
    settings.ROUNDS_OUTBOX_DIR = folders["outbox"]
    settings.ROUNDS_AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, folders: dict[str, Path]) -> Iterator[World]:
    """Build the world once for the module inside a transaction that is rolled back at its end."""
    paths = override_settings(
        MEDIA_ROOT=folders["media"],
        PRIVATE_MEDIA_ROOT=folders["private"],
        ROUNDS_OUTBOX_DIR=folders["outbox"],
        ROUNDS_AUDIT_CHECKPOINT_FILE=folders["audit"] / "checkpoints.jsonl",
    )
    with paths, django_db_blocker.unblock(), transaction.atomic():
        started = time.perf_counter()
        built = world_build()
        owners = {**built.users, "other": built.sides[FOREIGN].campaign.owner}
        built.plans = {
            name: job_create(user=user, data=PLAN_CSV, file_name="plan.csv", options=PlanOptions()).token
            for name, user in owners.items()
        }
        for role, user in built.users.items():
            client = Client()
            client.force_login(user)
            session = client.session
            session[SESSION_KEY] = [built.plans[role]]
            session.save()
            built.sessions[role] = session.session_key
        print(f"\nmatrix world built in {time.perf_counter() - started:.1f} s")
        yield built
        transaction.set_rollback(True)


# Asking and judging -----------------------------------------------------------------------------


ADMIN_LOGIN = "/admin/login/"


def client_for(world: World, role: str) -> Client:
    """Return a client signed in as ``role`` (its session, with the user's plan upload, made with the world)."""
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _row(obj: models.Model | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: str
    changed: bool

    @property
    def to_login(self) -> bool:
        return 300 <= self.status < 400 and urlsplit(self.location).path in {resolve_url("login"), ADMIN_LOGIN}

    def __str__(self) -> str:
        where = f" → {self.location}" if self.location else ""
        return f"{self.status}{where}{' (changed data)' if self.changed else ''}"


def ask(client: Client, call: Call, method: str | None = None) -> Answer:
    """Send ``call`` in a savepoint that is rolled back; return the answer and whether anything changed."""
    method = method or call.method
    with transaction.atomic():
        seq = AuditEvent.objects.aggregate(last=Max("seq"))["last"]
        row = _row(call.obj)
        response = client.get(call.path) if method == "GET" else client.post(call.path, call.data)
        changed = AuditEvent.objects.aggregate(last=Max("seq"))["last"] != seq or _row(call.obj) != row
        streamed = getattr(response, "streaming", False)
        body = "" if streamed else response.content.decode(errors="replace")
        transaction.set_rollback(True)
    return Answer(response.status_code, response.get("Location", ""), body, changed)


def judge(outcome: str, call: Call, answer: Answer, method: str) -> bool:
    """Return whether ``answer`` is ``outcome`` for ``call``."""
    redirect = 300 <= answer.status < 400
    if outcome == OK:
        if method == "GET":
            return answer.status == 200
        return 200 <= answer.status < 400 and not answer.to_login and (answer.changed or not call.writes)
    if outcome == REDIRECT:
        return redirect and not answer.to_login
    if outcome in {SHOWN, HIDDEN}:
        assert call.markers, "a list outcome needs markers"
        shown = [marker in answer.body for marker in call.markers]
        return answer.status == 200 and (all(shown) if outcome == SHOWN else not any(shown))
    if answer.changed:
        return False
    if outcome == FORBIDDEN:
        return answer.status == 403
    if outcome == NOT_FOUND:
        return answer.status == 404
    if outcome == DENIED:
        return answer.status in {403, 404}
    if outcome == REFUSED:
        return redirect and not answer.to_login
    if outcome == LOGIN:
        return answer.to_login
    raise AssertionError(f"unknown outcome {outcome}")


# The tests --------------------------------------------------------------------------------------


def test_every_named_url_has_an_expectation() -> None:
    names = named_urls(get_resolver())
    assert without_expectation(names) == set(), "add a row to tests/permission_expectations.py"
    assert set(EXPECTATIONS) - names == set(), "expectations for URLs that no longer exist"
    assert set(REQUESTS) == set(EXPECTATIONS), "tell REQUESTS how to ask each URL"
    assert {"admin:index", "media", "login"} <= set(EXPECTATIONS)


def test_a_new_url_without_an_expectation_is_named() -> None:
    from django.urls import include, path
    from django.views.generic import View

    extra = [
        path("", include(get_resolver().url_patterns)),
        path("new/", View.as_view(), name="brand_new"),
        path("app/", include(([path("x/", View.as_view(), name="page")], "newapp"))),
    ]
    resolver = URLResolver(get_resolver().pattern, extra)
    assert without_expectation(named_urls(resolver)) == {"brand_new", "newapp:page"}


def test_the_expectation_table_is_well_formed() -> None:
    for name, relational_cells in ((name, REQUESTS[name][0]) for name in EXPECTATIONS):
        assert set(EXPECTATIONS[name]) == set(ROLES), name
        if not relational_cells:
            tuples = [role for role, cell in EXPECTATIONS[name].items() if isinstance(cell, tuple)]
            assert tuples == [], f"{name} acts on no object, yet {tuples} have own/foreign outcomes"
    checked = set(cells())
    for url, role, relation in PENDING_FIX:
        assert (url, role, relation) in checked
        assert expected(url, role, relation) in DENIALS, "a pending fix takes a right away"


def test_the_judge_tells_a_denial_from_a_refusal_that_changed_something() -> None:
    writes = Call("POST", "/posts/1/schedule/", writes=True)
    assert judge(REFUSED, writes, Answer(302, "/posts/1/", "", changed=False), "POST")
    assert not judge(REFUSED, writes, Answer(302, "/posts/1/", "", changed=True), "POST")
    assert not judge(FORBIDDEN, writes, Answer(403, "", "", changed=True), "POST")
    assert not judge(OK, writes, Answer(302, "/posts/1/", "", changed=False), "POST"), "an allowed write wrote"
    assert not judge(OK, writes, Answer(302, "/accounts/login/?next=/posts/1/", "", changed=False), "POST")
    assert judge(LOGIN, writes, Answer(302, "/accounts/login/?next=/posts/1/", "", changed=False), "POST")
    listing = Call("GET", "/publishing/", markers=('data-publication="5"', 'data-takedown="2"'))
    assert not judge(HIDDEN, listing, Answer(200, "", '<tr data-takedown="2">', changed=False), "GET")
    assert not judge(SHOWN, listing, Answer(200, "", '<tr data-takedown="2">', changed=False), "GET")


CELLS = cells()


@pytest.mark.parametrize(("url", "role", "relation"), CELLS, ids=["-".join(cell) for cell in CELLS])
def test_permission(world: World, url: str, role: str, relation: str) -> None:
    outcome = expected(url, role, relation)
    _, ask_for = REQUESTS[url]
    side = world.sides[OWN if relation == NO_OBJECT else relation]
    call = ask_for(world, role, side)
    client = client_for(world, role)
    answer = ask(client, call)
    pending = PENDING_FIX.get((url, role, relation), "")
    note = f" [pending fix on i13-access: {pending}]" if pending else ""
    assert judge(outcome, call, answer, call.method), (
        f"{call.method} {call.path} as {role} ({relation}): expected {outcome}, got {answer}{note}"
    )
    if call.form and outcome in DENIALS - {REFUSED, HIDDEN}:
        posted = ask(client, call, "POST")
        assert judge(outcome, call, posted, "POST"), (
            f"POST {call.path} as {role} ({relation}): expected {outcome}, got {posted}"
        )
