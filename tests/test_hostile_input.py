"""Hostile input into every form of the web app: no 5xx, a clear error, and no row written.

The corpus holds what people and scripts really send: huge and empty texts, NUL, RTL and
zero-width marks, lone surrogates and bytes that are not UTF-8, dates far outside any plan,
days the calendar does not have, and every time-zone edge (the clocks going forward and back in
Europe/Berlin and America/Los_Angeles, a date shifted past year 1 or 9999 by its zone).
Each form is posted as the role that may use it. Run with ``DATABASE_URL`` set to a PostgreSQL
database, this file also shows what only PostgreSQL refuses (NUL in text, BC timestamps).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.policy import current_stage_run
from audit.versions import version_of
from consent.models import ConsentRecord, Subject
from people import roles
from people.models import User
from posts.models import Campaign, Post
from tests.conftest import PDF_BYTES, make_user

pytestmark = pytest.mark.django_db

OUR_APPS = ("audit", "people", "consent", "posts", "approvals")

RANGE = "between 1900-01-01 and 2100-12-31"  # the words of core.inputs.date_range_error
UNSTORABLE = ("cannot be stored", "Null characters are not allowed")
NOT_A_DATE = ("Enter a valid date", "is not a day of the calendar")

# Texts every field must survive: refused with a message (NUL) or stored as typed.
NUL = "Herz\x00woche"
HUGE = "Ärztin 🫀 " * 25_000  # 250,000 characters
TEXTS_ACCEPTABLE = {
    "empty": "",
    "tiny": "a",
    "huge": HUGE,
    "rtl-and-zero-width": "\u202eevil\u202c \u200f\u05e9\u05dc\u05d5\u05dd\u200b\u2060Herz\ufeff",
}
FAR_DATES = {"year-1": "0001-01-01", "year-9999": "9999-12-31", "1899-12-31": "1899-12-31", "2101-01-01": "2101-01-01"}
NON_DATES = {"february-30": "2026-02-30", "month-13": "2026-13-01"}

# (date, time, zone) the editor must refuse, and the words of its message.
ZONE_EDGES = [
    ("9999-12-31", "23:59", "America/Los_Angeles", RANGE),
    ("0001-01-01", "00:30", "Europe/Berlin", RANGE),
    ("0001-01-01", "00:00", "America/Los_Angeles", RANGE),
    ("2101-01-01", "00:00", "Europe/Berlin", RANGE),
    ("1899-12-31", "23:59", "America/Los_Angeles", RANGE),
    ("2026-03-29", "02:30", "Europe/Berlin", "does not exist"),
    ("2026-10-25", "02:30", "Europe/Berlin", "happens twice"),
    ("2026-03-08", "02:30", "America/Los_Angeles", "does not exist"),
    ("2026-11-01", "01:30", "America/Los_Angeles", "happens twice"),
]


def row_counts() -> dict[str, int]:
    """Return the number of rows of every model of ours (audit events included)."""
    return {
        model._meta.label: model._default_manager.count()
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


def text_of(response: Any) -> str:
    return response.content.decode("utf-8", "replace")


def assert_refused(response: Any, before: dict[str, int], expected: tuple[str, ...] | str) -> None:
    """No 5xx, one of the ``expected`` messages in what the user sees, and no row written."""
    assert response.status_code < 500, text_of(response)[:2000]
    words = (expected,) if isinstance(expected, str) else expected
    body = text_of(response)
    assert any(word in body for word in words), (words, response.status_code, body[:3000])
    assert row_counts() == before


# The world the forms act on --------------------------------------------------------------------


@dataclass
class World:
    editor: Any
    medical: Any
    officer: Any
    officer2: Any
    superuser: Any
    campaign: Any
    draft: Any
    in_review: Any
    subject: Any
    pending: Any
    verified: Any
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            client.force_login(getattr(self, role))
            self.clients[role] = client
        return self.clients[role]


@pytest.fixture
def world(
    editor: Any,
    officer: Any,
    officer2: Any,
    account_factory: Any,
    campaign_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> World:
    from approvals.services import round_submit

    medical = make_user("medical", roles.MEDICAL_REVIEWER)
    make_user("medical2", roles.MEDICAL_REVIEWER)  # a deputy medical may name
    superuser = make_user("root", is_staff=True, is_superuser=True)
    campaign = campaign_factory(editor, name="Herzwochen", reviewers=[medical])
    account = account_factory("facebook")
    soon = timezone.now() + dt.timedelta(days=5)
    draft = post_factory(editor, campaign, targets=[account], when=soon)
    in_review = post_factory(editor, campaign, targets=[account], when=soon, body="Grippeimpfung jetzt.")
    round_submit(post=in_review, actor=editor)
    subject = subject_factory(display_name="Anna Beispiel")
    return World(
        editor=editor,
        medical=medical,
        officer=officer,
        officer2=officer2,
        superuser=superuser,
        campaign=campaign,
        draft=draft,
        in_review=Post.objects.get(pk=in_review.pk),
        subject=subject,
        pending=record_factory(subject, verify=False),
        verified=record_factory(subject),
    )


# Every form of the web app, with the data a careful user would send ----------------------------


def _post_data(w: World) -> dict[str, Any]:
    return {
        "campaign": w.campaign.pk,
        "title": "Herzwochen Auftakt",
        "body": "Infotag am 12.12.2026, Anmeldung unter 030 1234567.",
        "link": "",
        "hashtags": "#Herz",
        "content_type": "education",
        "language": "de",
        "sources": "",
        "targets": [],
        "scheduled_date": "2027-03-01",
        "scheduled_time": "09:30",
        "time_zone": "Europe/Berlin",
    }


def _record_data(w: World) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "media_kinds": ["photo", "name"],
        "description": "Fotos auf Station",
        "disclosing_organisation": "Klinikum Nord",
        "recipients": "Die Öffentlichkeit",
        "platform_scope": "all",
        "purposes": ["education"],
        "signed_on": (today - dt.timedelta(days=2)).isoformat(),
        "expires_on": (today + dt.timedelta(days=365)).isoformat(),
        "expiry_event": "",
        "states_right_to_revoke": "on",
        "states_no_conditioning": "on",
        "states_redisclosure": "on",
        "signer1_role": "subject",
        "signer1_name": "Anna Beispiel",
        "notes": "",
        "document": SimpleUploadedFile("form.pdf", PDF_BYTES, content_type="application/pdf"),
    }


def _campaign_data(w: World) -> dict[str, Any]:
    return {
        "name": "Grippesaison",
        "goal": "Impfquote steigern",
        "start_date": "2027-01-01",
        "end_date": "2027-03-31",
        "colour": "#2563eb",
        "hashtags": "",
        "purpose": "education",
    }


@dataclass(frozen=True)
class FormCase:
    """One form: who may use it, where it posts, its valid data, and its text and date fields."""

    name: str
    role: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]]
    texts: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    method: str = "post"


FORMS = [
    FormCase(
        "post-create",
        "editor",
        lambda w: reverse("posts:post_create"),
        _post_data,
        texts=("title", "body", "hashtags", "sources", "link"),
        dates=("scheduled_date",),
    ),
    FormCase(
        "post-edit",
        "editor",
        lambda w: reverse("posts:post_edit", args=[w.draft.pk]),
        lambda w: {**_post_data(w), "version": version_of(model=Post, pk=w.draft.pk)},
        texts=("title", "body", "hashtags", "sources", "link"),
        dates=("scheduled_date",),
    ),
    FormCase(
        "post-move",
        "editor",
        lambda w: reverse("posts:post_move", args=[w.draft.pk]),
        lambda w: {"date": "2027-03-02", "time": "10:00", "version": version_of(model=Post, pk=w.draft.pk)},
        texts=("time",),
        dates=("date",),
    ),
    FormCase(
        "post-withdraw",
        "editor",
        lambda w: reverse("posts:post_withdraw", args=[w.draft.pk]),
        lambda w: {"reason": "Termin abgesagt", "confirm_irreversible": "yes"},
        texts=("reason",),
    ),
    FormCase(
        "claim-add",
        "editor",
        lambda w: reverse("posts:claim_add", args=[w.draft.pk]),
        lambda w: {
            "passage": "it saves lives",  # of the draft's text (tests/conftest.py post_factory)
            "source_kind": "doi",
            "source": "10.1136/bmj.39579.538216.AE",
            "quote": "Handwashing reduces the risk of respiratory infections by 16%.",
        },
        texts=("passage", "source", "quote"),
    ),
    FormCase(
        "review-decision",
        "medical",
        lambda w: reverse("approvals:decide", args=[w.in_review.pk]),
        lambda w: {
            "stage_run": current_stage_run(post=w.in_review).pk,  # type: ignore[union-attr]
            "verdict": "request_changes",
            "comment": "Bitte Quelle angeben.",
            "version": version_of(model=Post, pk=w.in_review.pk),
        },
        texts=("comment",),
    ),
    FormCase(
        "consent-subject-create",
        "officer",
        lambda w: reverse("consent:subject_create"),
        lambda w: {"display_name": "Ben Beispiel", "reference": "CASE-9000", "date_of_birth": "2015-05-01"},
        texts=("display_name", "reference"),
        dates=("date_of_birth", "deceased_on"),
    ),
    FormCase(
        "consent-subject-edit",
        "officer",
        lambda w: reverse("consent:subject_edit", args=[w.subject.pk]),
        lambda w: {
            "display_name": "Anna Beispiel",
            "reference": w.subject.reference,
            "date_of_birth": "",
            "version": version_of(model=Subject, pk=w.subject.pk),
        },
        texts=("display_name", "reference"),
        dates=("date_of_birth", "deceased_on"),
    ),
    FormCase(
        "consent-record",
        "officer",
        lambda w: reverse("consent:record_create", args=[w.subject.pk]),
        _record_data,
        texts=("description", "disclosing_organisation", "recipients", "expiry_event", "notes", "signer1_name"),
        dates=("signed_on", "expires_on"),
    ),
    FormCase(
        "consent-revoke",
        "officer2",
        lambda w: reverse("consent:record_revoke", args=[w.verified.pk]),
        lambda w: {
            "received_via": "email",
            "reason": "Sie hat es sich anders überlegt",
            "received_at": "",
            "version": version_of(model=ConsentRecord, pk=w.verified.pk),
            "confirm_irreversible": "yes",
        },
        texts=("reason",),
        dates=("received_at",),
    ),
    FormCase(
        "campaign-create",
        "editor",
        lambda w: reverse("posts:campaign_create"),
        _campaign_data,
        texts=("name", "goal", "hashtags"),
        dates=("start_date", "end_date"),
    ),
    FormCase(
        "campaign-edit",
        "editor",
        lambda w: reverse("posts:campaign_edit", args=[w.campaign.pk]),
        _campaign_data,
        texts=("name", "goal", "hashtags"),
        dates=("start_date", "end_date"),
    ),
    FormCase(
        "preferences",
        "editor",
        lambda w: reverse("people:preferences"),
        lambda w: {"language": "de", "time_zone": "Europe/Berlin"},
        texts=("language", "time_zone"),
    ),
    FormCase(
        "review-comment",
        "medical",
        lambda w: reverse("approvals:comment_add", args=[w.in_review.pk]),
        lambda w: {"anchor": "body", "quote": "Grippeimpfung", "text": "Quelle für die Wirksamkeit?"},
        texts=("quote", "text"),
    ),
    FormCase(
        "crisis-request",
        "editor",
        lambda w: reverse("posts:post_crisis_request", args=[w.draft.pk]),
        lambda w: {"reason": "Stromausfall in der Notaufnahme Nord"},
        texts=("reason",),
    ),
    FormCase(
        "deputies",
        "medical",
        lambda w: reverse("people:deputies"),
        lambda w: {
            "deputy": User.objects.get(username="medical2").pk,
            "starts": "2027-03-01",
            "ends": "2027-03-14",
        },
        dates=("starts", "ends"),
    ),
    FormCase(
        "plan-export",
        "editor",
        lambda w: reverse("plans:export"),
        lambda w: {"campaign": "", "start": "2027-01-01", "end": "2027-12-31", "format": "csv"},
        dates=("start", "end"),
        method="get",
    ),
]
FORM_IDS = [case.name for case in FORMS]

# Forms that post nothing a user types, hit by the raw-bytes cases only.
BARE_POSTS: list[tuple[str, str, Callable[[World], str]]] = [
    ("post-schedule", "editor", lambda w: reverse("posts:post_schedule", args=[w.draft.pk])),
    ("post-unschedule", "editor", lambda w: reverse("posts:post_unschedule", args=[w.draft.pk])),
    ("review-submit", "editor", lambda w: reverse("approvals:submit", args=[w.draft.pk])),
    ("crisis-declare", "superuser", lambda w: reverse("posts:post_crisis_declare", args=[w.draft.pk])),
    ("consent-verify", "officer2", lambda w: reverse("consent:record_verify", args=[w.pending.pk])),
    ("language", "editor", lambda w: reverse("people:language")),
    ("plan-import", "editor", lambda w: reverse("plans:import")),
]


def send(w: World, case: FormCase, data: dict[str, Any]) -> Any:
    client = w.client(case.role)
    url = case.url(w)
    if case.method == "get":
        return client.get(url, data, follow=True)
    return client.post(url, data, follow=True)


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(case, name, marks=(), id=f"{case.name}-{name}") for case in FORMS for name in getattr(case, kind)
    ]


# The tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "name"), _cases("texts"))
def test_nul_in_a_text_field_is_refused_with_a_message_and_writes_nothing(
    world: World, case: FormCase, name: str
) -> None:
    data = case.data(world)
    data[name] = NUL
    before = row_counts()
    response = send(world, case, data)
    # A choice field says the NUL is not one of its choices; anything else names the character.
    assert_refused(response, before, (*UNSTORABLE, "valid choice", "valid time", "not a valid"))


@pytest.mark.parametrize("value", TEXTS_ACCEPTABLE.values(), ids=TEXTS_ACCEPTABLE.keys())
@pytest.mark.parametrize("case", FORMS, ids=FORM_IDS)
def test_every_text_field_survives_huge_empty_and_marked_text(world: World, case: FormCase, value: str) -> None:
    data = case.data(world)
    data.update(dict.fromkeys(case.texts, value))
    response = send(world, case, data)
    assert response.status_code < 500, text_of(response)[:2000]


@pytest.mark.parametrize("value", [*FAR_DATES.values(), *NON_DATES.values()], ids=[*FAR_DATES, *NON_DATES])
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles"])
@pytest.mark.parametrize(("case", "name"), _cases("dates"))
def test_far_and_impossible_dates_are_refused_naming_the_range(
    world: World, case: FormCase, name: str, zone: str, value: str
) -> None:
    user = getattr(world, case.role)
    user.time_zone = zone
    user.save(update_fields=["time_zone"])
    data = case.data(world)
    if name == "scheduled_date":
        data["time_zone"] = zone
    data[name] = f"{value}T00:30" if name == "received_at" else value
    before = row_counts()
    response = send(world, case, data)
    expected = (RANGE,) if value in FAR_DATES.values() else (*NOT_A_DATE, "valid date/time")
    assert_refused(response, before, expected)


@pytest.mark.parametrize(("day", "time", "zone", "expected"), ZONE_EDGES)
@pytest.mark.parametrize("case", [FORMS[0], FORMS[1]], ids=["post-create", "post-edit"])
def test_editor_refuses_every_time_zone_edge(
    world: World, case: FormCase, day: str, time: str, zone: str, expected: str
) -> None:
    data = case.data(world) | {"scheduled_date": day, "scheduled_time": time, "time_zone": zone}
    before = row_counts()
    response = send(world, case, data)
    assert_refused(response, before, expected)


@pytest.mark.parametrize(
    ("day", "time", "zone", "expected"),
    [edge for edge in ZONE_EDGES if edge[3] != "happens twice"],  # a move picks the first of two
)
def test_move_refuses_far_dates_and_skipped_hours_in_the_users_zone(
    world: World, day: str, time: str, zone: str, expected: str
) -> None:
    world.editor.time_zone = zone
    world.editor.save(update_fields=["time_zone"])
    before = row_counts()
    response = world.client("editor").post(
        reverse("posts:post_move", args=[world.draft.pk]),
        {"date": day, "time": time},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert any(expected in error for error in response.json()["errors"]), response.json()
    assert row_counts() == before


@pytest.mark.parametrize(
    "received_at",
    ["0001-01-01T00:00", "0001-01-01T00:30", "9999-12-31T23:59", "1899-12-31T23:59", "2101-01-01T00:00"],
)
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles"])
def test_revocation_with_a_far_date_is_refused_and_the_registry_stays_up(
    world: World, zone: str, received_at: str
) -> None:
    world.officer2.time_zone = zone
    world.officer2.save(update_fields=["time_zone"])
    before = row_counts()
    response = world.client("officer2").post(
        reverse("consent:record_revoke", args=[world.verified.pk]),
        {"received_via": "email", "reason": "", "received_at": received_at, "confirm_irreversible": "yes"},
    )
    assert_refused(response, before, RANGE)
    assert ConsentRecord.objects.get(pk=world.verified.pk).revoked_at is None
    for url in (
        reverse("consent:registry"),
        reverse("posts:post_create"),
        reverse("posts:post_edit", args=[world.draft.pk]),
    ):
        assert world.client("editor" if "posts" in url else "officer").get(url).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"comment=%FF%FEbroken&reason=%C3%28",  # bytes that are not UTF-8
        b"comment=%ED%A0%80lone&reason=%ED%B0%80",  # lone surrogates, as CESU-8 bytes
        b"\xff\xfe=\xc3\x28",  # not even percent-encoded
    ],
    ids=["invalid-utf8", "lone-surrogates", "raw-bytes"],
)
@pytest.mark.parametrize(
    "target",
    [*((case.name, case.role, case.url) for case in FORMS if case.method == "post"), *BARE_POSTS],
    ids=[*(case.name for case in FORMS if case.method == "post"), *(name for name, _role, _url in BARE_POSTS)],
)
def test_a_form_body_that_is_not_utf8_is_answered_400(
    world: World, target: tuple[str, str, Callable[[World], str]], body: bytes
) -> None:
    _name, role, url = target
    before = row_counts()
    response = world.client(role).generic("POST", url(world), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in text_of(response)
    assert row_counts() == before


@pytest.mark.parametrize(
    "target",
    [*((case.name, case.role, case.url) for case in FORMS if case.method == "post"), *BARE_POSTS],
    ids=[*(case.name for case in FORMS if case.method == "post"), *(name for name, _role, _url in BARE_POSTS)],
)
def test_a_request_over_the_size_cap_is_answered_413_naming_the_limit(
    world: World, target: tuple[str, str, Callable[[World], str]], settings: Any
) -> None:
    settings.ROUNDS_MAX_REQUEST_BYTES = 64 * 1024
    _name, role, url = target
    before = row_counts()
    upload = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100_000, "image/png")
    response = world.client(role).post(url(world), {"new_file_0": upload, "document": upload, "file": upload})
    assert response.status_code == 413
    assert "Rounds accepts at most 64.0\xa0KB at once" in text_of(response)
    assert response.context is None or "request_id" in response.context  # the error page, not the form
    assert row_counts() == before


def test_the_size_cap_refuses_before_reading_a_byte_of_the_body(settings: Any) -> None:
    import io

    from django.test import RequestFactory

    from core.inputs import RequestSizeMiddleware

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Counting.read_bytes += len(chunk)
            return chunk

    settings.ROUNDS_MAX_REQUEST_BYTES = 1000
    request = RequestFactory().post("/posts/new/", data=b"x", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = "1001"
    request.META["wsgi.input"] = Counting(b"x" * 1001)
    response = RequestSizeMiddleware(lambda request: pytest.fail("the view ran"))(request)
    assert response.status_code == 413 and Counting.read_bytes == 0
    request.META["CONTENT_LENGTH"] = "1000"
    passed = RequestSizeMiddleware(lambda request: HttpResponse("ok"))(request)
    assert passed.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/media/posts/%00.jpg",
        "/posts/%00/",
        "/consent/?q=Anna%00",
        "/calendar/?date=%FF%FE",
        "/calendar/?date=%ED%A0%80",
        "/plans/export/?start=2027-01-01%00",
    ],
)
def test_a_nul_or_broken_byte_in_the_address_is_answered_400(world: World, url: str) -> None:
    before = row_counts()
    response = world.client("officer" if "consent" in url else "editor").get(url)
    assert response.status_code == 400
    assert "not allowed" in text_of(response)
    assert row_counts() == before


@pytest.mark.parametrize("value", [*FAR_DATES.values(), "2026-02-30", "30.02.2026"])
def test_plan_import_refuses_far_and_impossible_date_cells(world: World, value: str) -> None:
    from tests.plans.test_plans import plan_bytes, plan_row

    data = plan_bytes(plan_row(campaign=world.campaign.name, date=value, accounts=""))
    before = row_counts()
    response = world.client("editor").post(
        reverse("plans:import"),
        {"file": SimpleUploadedFile("plan.csv", data, content_type="text/csv"), "kind": "plan"},
        follow=True,
    )
    expected = (RANGE,) if value in FAR_DATES.values() else NOT_A_DATE
    assert_refused(response, before, expected)
    token = response.redirect_chain[-1][0].rstrip("/").split("/")[-1]
    confirmed = world.client("editor").post(reverse("plans:confirm", args=[token]), follow=True)
    assert confirmed.status_code < 500
    assert row_counts() == before


@pytest.mark.parametrize(("day", "time", "zone", "expected"), ZONE_EDGES[:5])
def test_plan_import_refuses_dates_a_zone_shifts_off_the_calendar(
    world: World, day: str, time: str, zone: str, expected: str
) -> None:
    from tests.plans.test_plans import plan_bytes, plan_row

    data = plan_bytes(plan_row(campaign=world.campaign.name, date=day, time=time, timezone=zone, accounts=""))
    before = row_counts()
    response = world.client("editor").post(
        reverse("plans:import"),
        {"file": SimpleUploadedFile("plan.csv", data, content_type="text/csv"), "kind": "plan"},
        follow=True,
    )
    assert_refused(response, before, expected)


# The admin's add and change forms of our models ---------------------------------------------------


def _admin_models() -> list[Any]:
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


class _FormFields(HTMLParser):
    """Collect the inputs, textareas and selects of the admin's change form, as the browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.fields: list[dict[str, Any]] = []
        self._textarea: dict[str, Any] | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and attributes.get("id", "").endswith("_form"):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input":
            self.fields.append({"tag": tag, **attributes})
        elif tag == "textarea":
            self._textarea = {"tag": tag, "text": "", **attributes}
            self.fields.append(self._textarea)
        elif tag == "select":
            self._select = {"tag": tag, "options": [], **attributes}
            self.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] += data


_FORMSET_COUNTS = ("-TOTAL_FORMS", "-INITIAL_FORMS", "-MIN_NUM_FORMS", "-MAX_NUM_FORMS")


def _is_text(element: dict[str, Any], kind: str, classes: list[str]) -> bool:
    name = element.get("name", "")
    if name.endswith(_FORMSET_COUNTS) or "__prefix__" in name or "vTimeField" in classes:
        return False
    return bool(element["tag"] == "textarea" or kind == "text")


def _admin_data(client: Client, url: str, *, date_value: str | None, text_value: str | None) -> dict[str, Any] | None:
    """Return the admin form's own initial data with every date and text input set hostile, or None."""
    page = client.get(url)
    if page.status_code != 200:
        return None
    parser = _FormFields()
    parser.feed(text_of(page))
    data: dict[str, Any] = {}
    hostile = False
    for element in parser.fields:
        name = element.get("name")
        kind = element.get("type", "text")
        if not name or kind in ("submit", "file", "button"):
            continue
        if element["tag"] == "select":
            options = element["options"]
            chosen = next((o for o in options if "selected" in o), options[0] if options else {})
            data[name] = chosen.get("value", "")
            continue
        if kind == "checkbox":
            if "checked" in element:
                data.setdefault(name, []).append(element.get("value", "on"))
            continue
        value = element["text"] if element["tag"] == "textarea" else element.get("value", "")
        classes = element.get("class", "").split()
        if "vTimeField" in classes and not value:
            value = "10:00"  # so that only the date under test can be wrong
        elif date_value is not None and ("vDateField" in classes or kind == "date"):
            value, hostile = date_value, True
        elif text_value is not None and _is_text(element, kind, classes):
            value, hostile = text_value, True
        data[name] = value
    return data if hostile else None


@pytest.mark.parametrize(
    ("date_value", "text_value"),
    [("0001-01-01", None), ("9999-12-31", None), ("2026-02-30", None), (None, NUL)],
    ids=["year-1", "year-9999", "february-30", "nul"],
)
@pytest.mark.parametrize("model", _admin_models(), ids=lambda model: model._meta.label)
def test_admin_add_and_change_forms_refuse_hostile_values(
    world: World, model: Any, date_value: str | None, text_value: str | None
) -> None:
    client = world.client("superuser")
    info = (model._meta.app_label, model._meta.model_name)
    urls = [reverse("admin:{}_{}_add".format(*info))]
    existing = model._default_manager.order_by("pk").first()
    if existing is not None:
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[existing.pk]))
    for url in urls:
        data = _admin_data(client, url, date_value=date_value, text_value=text_value)
        if data is None:
            continue  # read-only: the admin offers no form to fill
        before = row_counts()
        response = client.post(url, data)
        assert response.status_code < 500
        assert response.status_code == 200, (url, response.status_code)  # re-rendered with errors, not saved
        body = text_of(response)
        assert "errornote" in body or "errorlist" in body, (url, body[:2000])
        assert row_counts() == before


# The shared validators, on their own --------------------------------------------------------------


def test_the_shared_validator_bounds_dates_and_moments_without_overflowing() -> None:
    from django.core.exceptions import ValidationError

    from core.inputs import date_in_range

    with pytest.raises(ValidationError):
        date_in_range(dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    with pytest.raises(ValidationError):
        date_in_range(dt.date(2101, 1, 1))
    with pytest.raises(ValidationError):
        date_in_range(dt.date(1899, 12, 31))
    # A wall time on the last day, stored in UTC a day later, is still in range.
    date_in_range(dt.datetime(2100, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-8))))
    date_in_range(dt.date(1900, 1, 1))


def test_revoke_service_refuses_a_bc_timestamp_without_a_form(world: World) -> None:
    from django.core.exceptions import ValidationError

    from consent.services import consent_revoke

    before = row_counts()
    with pytest.raises(ValidationError) as caught:
        consent_revoke(
            record=world.verified,
            actor=world.officer2,
            received_via="email",
            received_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        )
    assert "revoked_at" in caught.value.message_dict
    assert row_counts() == before
    assert ConsentRecord.objects.get(pk=world.verified.pk).revoked_at is None


def test_move_service_refuses_a_far_date_without_a_form(world: World) -> None:
    from django.core.exceptions import ValidationError

    from posts.services import post_move

    with pytest.raises(ValidationError):
        post_move(post=world.draft, actor=world.editor, scheduled_at=dt.datetime(2101, 6, 1, tzinfo=dt.UTC))
    assert Post.objects.get(pk=world.draft.pk).scheduled_at == world.draft.scheduled_at


def test_a_nul_that_reaches_the_audit_trail_is_replaced_not_fatal(world: World) -> None:
    from audit.models import AuditEvent
    from audit.selectors import chain_verify
    from audit.services import event_record

    event = event_record(
        actor=world.editor, action="test.hostile", obj=world.draft, changes={"reason": NUL, "ta\x00g": ["\ud800"]}
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    # A post's name is sealed under its erasure key (``_repr``, docs/erasure.md); the rest is as given.
    assert {key: value for key, value in stored.changes.items() if key != "_repr"} == {
        "reason": "Herz\ufffdwoche",
        "ta\ufffdg": ["\ufffd"],
    }
    assert chain_verify() is None


def test_storable_and_text_storable_agree() -> None:
    from django.core.exceptions import ValidationError

    from core.inputs import storable, text_storable

    for value in ("", "Ärztin 🫀", "\u202eevil\u200b"):
        text_storable(value)
        assert storable(value) == value
    for value in (NUL, "\ud800", "a\udfffb"):
        with pytest.raises(ValidationError):
            text_storable(value)
        text_storable(storable(value))


def test_subjects_and_campaigns_refuse_far_dates_at_full_clean(world: World) -> None:
    from django.core.exceptions import ValidationError

    subject = Subject(display_name="X", reference="R-1", date_of_birth=dt.date(1, 1, 1), created_by=world.officer)
    with pytest.raises(ValidationError) as caught:
        subject.full_clean()
    assert "date_of_birth" in caught.value.message_dict
    campaign = Campaign.objects.get(pk=world.campaign.pk)
    campaign.end_date = dt.date(9999, 12, 31)
    with pytest.raises(ValidationError) as caught:
        campaign.full_clean()
    assert "end_date" in caught.value.message_dict


# PostgreSQL: what only it refuses, in a fresh server process ----------------------------------------

_BC_TIMESTAMP_OUTAGE = """
import io
import json
import datetime as dt
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# Pages render without collectstatic: the manifest storage is the only thing changed from production.
plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain_static}).enable()
from django.utils import timezone
from consent.services import SignerSpec, consent_record_create, consent_verify, subject_create
from people import roles
from people.models import User
from posts.services import campaign_create, post_create
from audit.versions import version_of
from consent.models import ConsentRecord

def user(name, *groups, **extra):
    person = User.objects.create_user(username=name, password="pw", **extra)
    for group in groups:
        person.groups.add(__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(name=group))
    return person

officer, officer2 = user("officer", roles.CONSENT_OFFICER), user("officer2", roles.CONSENT_OFFICER)
editor, root = user("editor", roles.EDITOR), user("root", is_staff=True, is_superuser=True)
subject = subject_create(actor=officer, data={"display_name": "Anna Beispiel", "reference": "CASE-1"})
today = timezone.localdate()
record = consent_record_create(
    actor=officer,
    subject=subject,
    data={
        "media_kinds": ["photo"], "disclosing_organisation": "Klinikum Nord", "all_platforms": True,
        "description": "Foto vom Infotag", "copy_given_on": today - dt.timedelta(days=2), "copy_given_how": "email",
        "purposes": ["education"], "signed_on": today - dt.timedelta(days=2),
        "expires_on": today + dt.timedelta(days=365), "states_right_to_revoke": True,
        "states_no_conditioning": True, "states_redisclosure": True,
    },
    signers=[SignerSpec(role="subject", name="Anna Beispiel")],
    document=io.BytesIO(b"%PDF-1.4\\n1 0 obj << /Type /Catalog >> endobj\\ntrailer << /Root 1 0 R >>\\n%%EOF\\n"),
    document_name="form.pdf",
)
record = consent_verify(record=record, actor=officer2)
campaign = campaign_create(actor=editor, name="Herzwochen", start_date=today, end_date=today + dt.timedelta(days=60))
post = post_create(actor=editor, campaign=campaign, data={"body": "Infotag"}, targets=[])

def client(person):
    browser = Client(HTTP_HOST="rounds.example.org", raise_request_exception=False)
    browser.force_login(person)
    return browser

revoked = client(officer2).post(
    f"/consent/{record.pk}/revoke/",
    {"received_via": "email", "reason": "", "received_at": "0001-01-01T00:00",
     "version": version_of(model=ConsentRecord, pk=record.pk), "confirm_irreversible": "yes"},
    secure=True,
)
withdrawn = client(editor).post(
    f"/posts/{post.pk}/withdraw/", {"reason": "abgesagt\\x00", "confirm_irreversible": "yes"}, secure=True
)
pages = {
    "consent_registry": client(officer).get("/consent/", secure=True).status_code,
    "post_new": client(editor).get("/posts/new/", secure=True).status_code,
    "post_edit": client(editor).get(f"/posts/{post.pk}/edit/", secure=True).status_code,
    "admin_consent_list": client(root).get("/admin/consent/consentrecord/", secure=True).status_code,
    "media_nul": client(editor).get("/media/posts/%00.jpg", secure=True).status_code,
}
print(json.dumps({"revoke": revoked.status_code, "withdraw": withdrawn.status_code, "pages": pages}))
"""


@pytest.fixture(scope="module")
def pg_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Yield a production server's environment on a new, migrated PostgreSQL database; drop it afterwards."""
    import secrets
    import uuid

    import psycopg
    from cryptography.fernet import Fernet
    from psycopg import sql

    from tests.conftest import need_service
    from tests.test_deploy import django_env, manage

    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"rounds_hostile_{uuid.uuid4().hex[:12]}"
    files = tmp_path_factory.mktemp("pg-hostile")

    def maintenance() -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)

    with maintenance() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        env = django_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
            ROUNDS_SECRET_KEY=secrets.token_urlsafe(64),
            ROUNDS_ALLOWED_HOSTS="rounds.example.org",
            ROUNDS_CREDENTIALS_KEYS=Fernet.generate_key().decode(),
            ROUNDS_MEDIA_ROOT=str(files / "media"),
            ROUNDS_PRIVATE_MEDIA_ROOT=str(files / "private"),
            ROUNDS_LOG_LEVEL="WARNING",
            # The script signs in with force_login: no second factor, no sign-in time (docs/security.md).
            ROUNDS_TWO_FACTOR_REQUIRED="0",
            ROUNDS_REAUTHENTICATION_REQUIRED="0",
        )
        migrated = manage("migrate", "--no-input", env=env)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        env["_DATABASE"] = name
        yield env
    finally:
        with maintenance() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _pg_query(env: dict[str, str], statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=env["_DATABASE"]) as connection:
        return connection.execute(statement).fetchall()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_bc_revocation_date_cannot_take_the_registry_down_on_postgresql(pg_env: dict[str, str]) -> None:
    import json

    from tests.test_deploy import python

    result = python("-c", _BC_TIMESTAMP_OUTAGE, env=pg_env)

    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # The revocation is refused with a form error (400), not stored as a BC timestamp; the NUL
    # reason sends the editor back to the post with a message instead of a 500 from the audit
    # JSON; every page the stored timestamp used to take down still opens.
    assert outcome == {
        "revoke": 400,
        "withdraw": 302,
        "pages": {
            "consent_registry": 200,
            "post_new": 200,
            "post_edit": 200,
            "admin_consent_list": 200,
            "media_nul": 400,
        },
    }, result.stderr[-3000:]
    assert _pg_query(pg_env, "SELECT count(*) FROM consent_consentrecord WHERE revoked_at IS NOT NULL") == [(0,)]
    assert _pg_query(pg_env, "SELECT count(*) FROM posts_post WHERE status = 'withdrawn'") == [(0,)]
