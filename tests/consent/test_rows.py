"""The consent registry's rows built in Python give the markup its template gave."""

import datetime as dt
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from consent.models import ConsentRecord, ConsentState, Subject
from consent.rows import RegistryRow, registry_rows
from tests.approvals.test_rows import HOSTILE, same

# The template's rows before they moved to consent.rows (consent/registry.html).
REGISTRY_ROW = (Path(__file__).parent / "reference" / "registry_rows.html").read_text()


def _rows() -> list[RegistryRow]:
    rows: list[RegistryRow] = []
    expiries = [(dt.date(2027, 1, 31), ""), (None, f"Ende der Behandlung {HOSTILE}"), (None, "")]
    for pk, (deceased, count) in enumerate(product([None, dt.date(2026, 5, 1)], [0, 1, 3]), start=1):
        subject = Subject(
            pk=pk,
            display_name=HOSTILE if pk % 2 else f"Ayşe Yılmaz-Müller {pk}",
            reference=f"FALL-2026/{pk:04d} <b>",
            deceased_on=deceased,
        )
        records = []
        for index in range(count):
            expires_on, event = expiries[index % len(expiries)]
            record = ConsentRecord(
                pk=pk * 10 + index,
                subject=subject,
                signed_on=dt.date(2026, 1 + index, 9 + pk),
                expires_on=expires_on,
                expiry_event=event,
            )
            records.append((record, list(ConsentState)[(pk + index) % len(ConsentState)]))
        rows.append({"subject": subject, "records": records})
    return rows


@pytest.mark.parametrize(
    ("language", "zone"), [("en", "UTC"), ("de", "Europe/Berlin"), ("tr", "Europe/Istanbul"), ("ja", "Asia/Tokyo")]
)
def test_registry_rows_are_the_template(language: str, zone: str, db: Any) -> None:
    rows = _rows()
    with translation.override(language), timezone.override(zone):
        expected = Template(REGISTRY_ROW).render(Context({"rows": rows}))
        built = registry_rows(rows)
    assert same(built) == same(expected)
    assert built.count("<tr ") == len(rows) and built.count("data-consent-state=") == 8
    assert "<script>" not in built and "&lt;script&gt;" in built and "<b>" not in built
