"""No mail subject names a featured person: each ``*_subject.txt`` rendered with a patient named everywhere."""

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.template.loader import render_to_string

ROOT = Path(__file__).resolve().parent.parent
PATIENT = "Maria Schmidt-Öztürk"
# Parts of the name a subject could carry on its own.
NAME_PARTS = ("Maria", "Schmidt", "Öztürk")
MISSING = "«missing variable»"


def subject_templates() -> list[str]:
    """Return the name of every mail subject template of the project (tests' own excepted)."""
    names = []
    for path in ROOT.rglob("*_subject.txt"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "var"}:
            continue
        names.append("/".join(parts[parts.index("templates") + 1 :]))
    return sorted(names)


def test_the_project_has_subject_templates_of_every_app_that_mails() -> None:
    folders = {name.split("/")[0] for name in subject_templates()}

    assert folders == {"approvals", "consent", "people", "posts", "publishing"}


def _context() -> dict[str, Any]:
    # A post whose internal title, text, hashtags, campaign and featured person all name the patient,
    # as hospitals write them ("Danke, Maria!"); ids, dates, accounts and review words do not.
    person = SimpleNamespace(pk=31, display_name=PATIENT, name=PATIENT, reference="MRN 448812")
    campaign = SimpleNamespace(pk=5, name=f"Herzwochen mit {PATIENT}")
    post = SimpleNamespace(
        pk=4711,
        id=4711,
        title=f"Danke, {PATIENT}! 💙",
        body=f"{PATIENT} (54) lief nach ihrer Herz-OP ihren ersten 5-km-Lauf.",
        hashtags=f"#{PATIENT.split()[0]}",
        campaign=campaign,
        featured=[person],
    )
    stage = SimpleNamespace(name="Medical review", display_name="Medical review")
    return {
        "post": post,
        "status": "Approved",
        "stage_run": SimpleNamespace(pk=8, stage=stage, post=post),
        "publication": SimpleNamespace(pk=12, post=post, account="Instagram @klinikum-nord"),
        "record": SimpleNamespace(
            pk=9,
            subject=person,
            expires_on=dt.date(2026, 4, 30),
            reconsent_due_on=dt.date(2026, 5, 2),
            signer=person,
            form_reference="RC-7K3M-Q9TD",
        ),
        # Online withdrawal mails the person their form reference (consent/email/withdrawal_*).
        "reference": "RC-7K3M-Q9TD",
        "subject": person,
        "campaign": campaign,
        "round": SimpleNamespace(pk=3, post=post),
        "recipient": SimpleNamespace(get_full_name=lambda: "Jonas Weber", username="jonas"),
        # The daily digest: its notices' subjects are themselves subjects (checked above).
        "day": dt.date(2026, 4, 30),
        "notices": [(SimpleNamespace(subject="Review needed: post #4711", url="/reviews/posts/4711/"), "")],
    }


@pytest.fixture
def strict_templates(settings: Any) -> None:
    # A variable a subject uses that this test does not provide shows up instead of rendering empty.
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine.get("OPTIONS", {}), "string_if_invalid": MISSING}}
        for engine in settings.TEMPLATES
    ]


@pytest.mark.parametrize("template", subject_templates())
@pytest.mark.usefixtures("strict_templates")
def test_no_subject_names_a_featured_person(template: str) -> None:
    subject = " ".join(render_to_string(template, _context()).split())

    assert subject
    assert MISSING not in subject
    assert not [part for part in NAME_PARTS if part in subject], subject
