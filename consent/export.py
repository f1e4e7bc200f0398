"""Article 15 (GDPR right of access): everything Rounds stores about one person, as JSON and a PDF.

Apps above consent add their part with `export_section_register` (posts: the posts that featured
the person; publishing: where those went out), so consent never imports them.
"""

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Preformatted

from audit.erasure import Opener
from audit.models import AuditEvent, object_type_of
from consent.models import ConsentRecord, Subject

# A CID font the PDF viewer supplies: umlauts, accents and Japanese without shipping a font file.
PDF_FONT = "HeiseiKakuGo-W5"

ExportSection = Callable[[Subject], Any]
_sections: dict[str, ExportSection] = {}


def export_section_register(key: str, section: ExportSection) -> None:
    """Add a part to every person's export under ``key`` (called from a higher app's ``ready()``)."""
    _sections[key] = section


def _record(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "form_reference": record.form_reference,
        "state": record.state,
        "media_kinds": record.media_kinds,
        "description": record.description,
        "disclosing_organisation": record.disclosing_organisation,
        "recipients": record.recipients,
        "platforms": "all" if record.all_platforms else record.platforms,
        "purposes": record.purposes,
        "signed_on": record.signed_on,
        "expires_on": record.expires_on,
        "expiry_event": record.expiry_event,
        "signers": [
            {"role": signer.role, "name": signer.name, "authority": signer.authority} for signer in record.signers.all()
        ],
        "document": {"name": record.document_name, "type": record.document_type, "sha256": record.document_checksum},
        "notes": record.notes,
        "recorded_at": record.recorded_at,
        "recorded_by": str(record.recorded_by),
        "verified_at": record.verified_at,
        "verified_by": str(record.verified_by) if record.verified_by else None,
        "revoked_at": record.revoked_at,
        "revocation_received_via": record.revocation_received_via,
        "revocation_reason": record.revocation_reason,
    }


def _events(subject: Subject, records: list[ConsentRecord]) -> list[dict[str, Any]]:
    about = Q(object_type=object_type_of(Subject), object_id=str(subject.pk)) | Q(
        object_type=object_type_of(ConsentRecord), object_id__in=[str(record.pk) for record in records]
    )
    events = list(AuditEvent.objects.filter(about).order_by("seq"))
    opener = Opener()
    opener.preload(events)
    return [
        {
            "seq": event.seq,
            "time": event.created_at,
            "actor": event.actor_repr,
            "action": event.action,
            "object": f"{event.object_type} #{event.object_id}",
            "name": opener.repr(event),
            "changes": opener.changes(event),
            "content_hash": event.content_hash,
            "hash": event.hash,
        }
        for event in events
    ]


def subject_data(subject: Subject) -> dict[str, Any]:
    """Return everything stored about ``subject``, as plain JSON-ready values."""
    records = list(ConsentRecord.objects.filter(subject=subject).prefetch_related("signers").order_by("pk"))
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "subject": {
            "id": subject.pk,
            "name": subject.display_name,
            "reference": subject.reference,
            "date_of_birth": subject.date_of_birth,
            "date_of_death": subject.deceased_on,
            "registered_at": subject.created_at,
            "erased_at": subject.erased_at,
        },
        "consent_records": [_record(record) for record in records],
    }
    for key, section in _sections.items():
        data[key] = section(subject)
    data["audit_events"] = _events(subject, records)
    return data


def _pdf(data: dict[str, Any], text: str) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    title = ParagraphStyle("title", fontName=PDF_FONT, fontSize=16, leading=20)
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=8, leading=10)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title="Art. 15")
    heading = f"{data['subject']['name']} ({data['subject']['reference']})"
    story = [
        Paragraph("Personal data stored by Rounds (GDPR Art. 15)", title),
        Paragraph(_escape(heading), title),
        Spacer(1, 6 * mm),
        Preformatted(text, body, maxLineLength=110),
    ]
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subject_export_zip(subject: Subject) -> tuple[bytes, dict[str, Any]]:
    """Return a ZIP of ``subject.json`` and ``subject.pdf`` with everything about ``subject``, and the data."""
    data = subject_data(subject)
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject.json", text)
        archive.writestr("subject.pdf", _pdf(data, text))
    return buffer.getvalue(), data
