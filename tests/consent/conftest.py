import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from people import roles
from tests.conftest import make_user

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf() -> io.BytesIO:
    return io.BytesIO(PDF_BYTES)


@pytest.fixture
def officer(db: None) -> Any:
    return make_user("consent", roles.CONSENT_OFFICER)


@pytest.fixture
def officer2(db: None) -> Any:
    return make_user("consent2", roles.CONSENT_OFFICER)


@pytest.fixture
def subject_factory(officer: Any) -> Any:
    from consent.services import subject_create

    counter = {"n": 0}

    def make(**data: Any) -> Any:
        counter["n"] += 1
        data.setdefault("display_name", f"Patient {counter['n']}")
        data.setdefault("reference", f"CASE-{counter['n']:04d}")
        return subject_create(actor=officer, data=data)

    return make


@pytest.fixture
def record_factory(officer: Any, officer2: Any) -> Any:
    """Record (and by default verify) a consent through the real services."""
    from consent.services import SignerSpec, consent_record_create, consent_verify

    def make(subject: Any, *, verify: bool = True, signers: list[Any] | None = None, **data: Any) -> Any:
        data.setdefault("media_kinds", ["photo", "name", "story"])
        data.setdefault("disclosing_organisation", "Klinikum Nord")
        data.setdefault("all_platforms", True)
        data.setdefault("purposes", ["education"])
        data.setdefault("signed_on", timezone.localdate() - dt.timedelta(days=10))
        data.setdefault("expires_on", timezone.localdate() + dt.timedelta(days=365))
        data.setdefault("states_right_to_revoke", True)
        data.setdefault("states_no_conditioning", True)
        data.setdefault("states_redisclosure", True)
        record = consent_record_create(
            actor=officer,
            subject=subject,
            data=data,
            signers=signers or [SignerSpec(role="subject", name=subject.display_name)],
            document=pdf(),
            document_name="form.pdf",
        )
        if verify:
            record = consent_verify(record=record, actor=officer2)
        return record

    return make
