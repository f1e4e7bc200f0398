from typing import Any

import pytest

from posts.patient_data import content_findings, text_scan


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Write to anna.m@example.org for details", "patient_data_email"),
        ("Call her at +49 170 1234567 tonight", "patient_data_phone"),
        ("Ruf an: 0170/123 45 67", "patient_data_phone"),
        ("Patient MRN 00482913 recovered", "patient_data_record"),
        ("Fall-Nr. A-2024-7781 ist abgeschlossen", "patient_data_record"),
        ("geboren am 03.04.2016 in Hamburg", "patient_data_birth_date"),
        ("born on 2019-07-12, now thriving", "patient_data_birth_date"),
        ("Max (12.05.1961) feiert", "patient_data_birth_date"),
    ],
)
def test_text_scan_finds_patient_data(text: str, code: str) -> None:
    assert code in {scan.code for scan in text_scan(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Flu shots this week at our clinic, 9 to 5.",
        "Open day on 14.11.2026 - everyone welcome!",
        "Over 1,200 vaccinations so far in 2026.",
    ],
)
def test_ordinary_text_has_no_patient_data(text: str) -> None:
    assert text_scan(text) == []


def test_registered_names_not_featured_are_found(db: None, subject_factory: Any) -> None:
    anna = subject_factory(display_name="Anna Berger")
    subject_factory(display_name="Jonas Wolf")

    def findings(featured: set[int]) -> list[str]:
        return [
            f.code
            for f in content_findings(
                texts=["Anna Berger and jonas wolf ran the 5k."],
                featured_subject_ids=featured,
                image_paths=[],
            )
        ]

    assert findings(set()) == ["patient_data_name", "patient_data_name"]
    assert findings({anna.pk}) == ["patient_data_name"]


def test_image_with_exif_is_an_error_and_pipeline_output_is_clean(db: None, tmp_path: Any) -> None:
    from core.imaging import image_process
    from tests.conftest import IMAGES

    raw = IMAGES / "photo_exif_gps_orientation6.jpg"
    clean = tmp_path / "clean.jpg"
    with raw.open("rb") as handle:
        clean.write_bytes(image_process(upload=handle).content)

    findings = content_findings(
        texts=[""],
        featured_subject_ids=set(),
        image_paths=[str(raw), str(clean)],
    )

    assert [(f.code, f.media_index) for f in findings] == [("image_metadata", 0)]


def test_a_loaded_posts_content_findings_are_read_once_and_again_when_its_content_changes(
    db: None, subject_factory: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from posts.selectors import post_for_page
    from posts.services import post_content_findings

    subject_factory(display_name="Anna Berger")
    post = post_factory(editor, campaign, body="Frau Anna Berger dankt dem ganzen Team.")
    loaded = post_for_page(user=editor, pk=post.pk)
    first = [finding.code for finding in post_content_findings(post=loaded)]
    assert first == ["patient_data_name"]
    with CaptureQueriesContext(connection) as again:
        assert [finding.code for finding in post_content_findings(post=loaded)] == first
    assert len(again) == 0  # the page's second ask (the review panel) reads no registry
    loaded.body = "Tag der offenen Tür, Anmeldung: info@klinikum-example.de"
    assert [finding.code for finding in post_content_findings(post=loaded)] == ["patient_data_email"]


def test_a_diagnosis_is_a_finding_unless_the_post_shows_its_featured_persons_condition(db: None) -> None:
    text = ["Frau Berger hat nach ihrer Bypass-Operation wieder mit dem Laufen begonnen."]

    def codes(kinds: set[str]) -> list[str]:
        return [
            finding.code
            for finding in content_findings(
                texts=text,
                featured_subject_ids=set(),
                featured_names=["Erika Berger"],
                featured_kinds=kinds,
                image_paths=[],
            )
        ]

    assert codes({"photo", "name"}) == ["patient_data_diagnosis"]  # her name is hers; her operation needs its kind
    assert codes({"photo", "name", "condition"}) == []


def test_a_person_named_in_the_title_and_more_fully_in_the_text_is_one_finding(db: None) -> None:
    findings = content_findings(
        texts=["Herzwoche: Frau Wüst", "Frau Hannelore Wüst (geb. 14.02.1941) kam mit einem Herzinfarkt zu uns."],
        featured_subject_ids=set(),
        image_paths=[],
        language="de",
    )
    people = [
        finding.passage.marked for finding in findings if finding.code == "patient_data_person" and finding.passage
    ]
    assert people == ["Hannelore Wüst"]


def test_a_texts_scan_is_kept_and_a_changed_text_is_scanned_again() -> None:
    first = text_scan("Rückruf bitte: 0171 2345678", "de")
    assert [scan.code for scan in first] == ["patient_data_phone"]
    first.clear()  # a caller changing its list changes nothing kept
    assert [scan.code for scan in text_scan("Rückruf bitte: 0171 2345678", "de")] == ["patient_data_phone"]
    assert [scan.code for scan in text_scan("Rückruf bitte: info@klinikum.example", "de")] == ["patient_data_email"]


@pytest.fixture
def _state_cache(settings: Any) -> None:
    settings.ROUNDS_STATE_CACHE_SECONDS = 60  # as in production (tests/conftest.py empties the cache first)


@pytest.mark.django_db(transaction=True)
def test_the_registrys_names_are_read_once_per_state_version_and_a_change_shows_at_the_next_request(
    _state_cache: None, editor: Any, campaign: Any, post_factory: Any, subject_factory: Any, officer: Any
) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from consent.services import subject_update

    subject_factory(display_name="Anna Berger")
    post = post_factory(editor, campaign, body="Anna Berger und Jonas Wolf (Station 4B) laufen heute mit.")
    client = Client()
    client.force_login(editor)
    url = reverse("posts:post_detail", args=[post.pk])

    def named() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        reads = [query["sql"] for query in captured if 'FROM "consent_subject"' in query["sql"]]
        found = [
            f.passage.text[f.passage.start : f.passage.end]
            for f in response.context["content_findings"]
            if f.code == "patient_data_name" and f.passage is not None
        ]
        return [*found, f"reads={len(reads)}"]

    assert named() == ["Anna Berger", "reads=1"]
    assert named() == ["Anna Berger", "reads=0"]  # nothing changed: the names this process read stand
    jonas = subject_factory(display_name="Jonas Wolf")  # an audited change: a new state version
    assert named() == ["Anna Berger", "Jonas Wolf", "reads=1"]
    subject_update(subject=jonas, actor=officer, data={"display_name": "Jonas Wolff"})
    assert named() == ["Anna Berger", "reads=1"]  # renamed: the text no longer names him


@pytest.mark.django_db(transaction=True)
def test_the_registrys_names_are_read_afresh_inside_a_transaction_and_outside_a_request(
    _state_cache: None, subject_factory: Any
) -> None:
    from django.db import transaction

    from core import web
    from posts.patient_data import registry_names

    subject_factory(display_name="Anna Berger")
    assert [name for _pk, name, _folded in registry_names()] == ["Anna Berger"]  # no request: read here
    token = web._request_memo.set({})
    try:
        from audit.selectors import state_version, state_version_seen

        state_version_seen(state_version())
        assert [name for _pk, name, _folded in registry_names()] == ["Anna Berger"]
        with transaction.atomic():
            subject_factory(display_name="Jonas Wolf")  # this request's own change, not yet committed
            assert [name for _pk, name, _f in registry_names()] == ["Anna Berger", "Jonas Wolf"]
        # After it, the request's version is the one it read first: kept until the next request.
        assert [name for _pk, name, _folded in registry_names()] == ["Anna Berger"]
    finally:
        web._request_memo.reset(token)
    assert [name for _pk, name, _folded in registry_names()] == ["Anna Berger", "Jonas Wolf"]
