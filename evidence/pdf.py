"""The pack's human-readable part: the post's record as a PDF, made with ReportLab.

ReportLab (pure Python wheels) rather than WeasyPrint, which needs Pango and other system
libraries on every server. Text is set in DejaVu Sans where the system has it (Latin, Greek,
Cyrillic, Turkish) and in ReportLab's built-in CID font HeiseiKakuGo-W5 for Japanese; a character
neither font has (most emoji) prints as an empty box, never as an error.
"""

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from evidence.facts import Facts

CJK_FONT = "HeiseiKakuGo-W5"
DEJAVU_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
# Characters the CID font may carry: CJK punctuation, kana, ideographs, full-width forms.
_CJK_RANGES = ((0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


@cache
def _fonts() -> tuple[str, frozenset[int]]:
    """Register the fonts once; return the main font's name and the code points it has glyphs for."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    for path in DEJAVU_PATHS:
        if path.exists():
            font = TTFont("DejaVuSans", str(path))
            pdfmetrics.registerFont(font)
            return "DejaVuSans", frozenset(font.face.charToGlyph)
    # Helvetica's WinAnsi encoding: Latin-1 is safe, anything else goes to the CID font or a box.
    return "Helvetica", frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK_RANGES)


def markup(text: object) -> str:
    """Return ``text`` as Paragraph markup: escaped, newlines kept, runs of Japanese in the CID font."""
    main, covered = _fonts()
    parts: list[str] = []
    run: list[str] = []
    run_cjk = False

    def flush() -> None:
        if run:
            chunk = escape("".join(run)).replace("\n", "<br/>")
            parts.append(f'<font name="{CJK_FONT}">{chunk}</font>' if run_cjk else chunk)
            run.clear()

    for char in str(text):
        code = ord(char)
        if code < 0x20 and char != "\n":
            char, code = " ", 0x20  # control characters have no glyph anywhere
        cjk = code not in covered and _is_cjk(code)
        if not cjk and code not in covered and main == "Helvetica":
            char = "?"
        if cjk != run_cjk:
            flush()
            run_cjk = cjk
        run.append(char)
    flush()
    return "".join(parts)


def _styles() -> dict[str, ParagraphStyle]:
    main, _covered = _fonts()
    base = ParagraphStyle("body", fontName=main, fontSize=9, leading=12, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=20, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontSize=10, leading=13, spaceBefore=6, spaceAfter=2),
    }


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    main, _covered = _fonts()
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), main),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")))
    table.setStyle(TableStyle(style))
    return table


def _or_dash(value: object) -> str:
    return "—" if value in (None, "", []) else str(value)


def _who(person: dict[str, Any] | None) -> str:
    return person["name"] if person else "—"


def evidence_pdf(*, facts: Facts, manifest_head: dict[str, Any], fingerprint: str, **options: Any) -> bytes:
    """Return the PDF of one post's record. ``options`` go to ReportLab's document (``invariant`` for tests)."""
    styles = _styles()
    p: Callable[..., Paragraph] = lambda text, style="body": Paragraph(markup(text), styles[style])  # noqa: E731
    post = facts["post"]
    story: list[Any] = [
        p(_("Evidence pack: post %(id)s") % {"id": post["id"]}, "h1"),
        p(post["title"] or "—", "h2"),
        p(
            _("Campaign: %(campaign)s · status: %(status)s · content type: %(type)s · language: %(language)s")
            % {
                "campaign": post["campaign"]["name"],
                "status": post["status"],
                "type": post["content_type"],
                "language": post["language"],
            }
        ),
        p(
            _("Created %(created)s for %(instance)s. Current content hash %(hash)s (revision %(revision)s).")
            % {
                "created": manifest_head["created_at"],
                "instance": manifest_head["instance"],
                "hash": _or_dash(post["content_hash"]),
                "revision": _or_dash(post["current_revision"]),
            },
            "small",
        ),
        p(_("Signing key fingerprint (SHA-256): %(fingerprint)s") % {"fingerprint": fingerprint}, "small"),
    ]

    story.append(p(_("Content as published, per target"), "h2"))
    if not facts["publications"]:
        story.append(p(_("Nothing was published.")))
    for publication in facts["publications"]:
        account = publication["account"]
        block = [
            p(f"{account['name']} ({account['platform']}, @{account['handle'].lstrip('@')})", "h3"),
            p(
                _("Status %(status)s · published %(when)s · revision %(revision)s · content hash sent %(hash)s")
                % {
                    "status": publication["status"],
                    "when": _or_dash(publication["published_at"]),
                    "revision": _or_dash(publication["revision"]),
                    "hash": _or_dash(publication["content_hash"]),
                },
                "small",
            ),
            p(
                _("External id %(id)s · URL %(url)s")
                % {"id": _or_dash(publication["external_id"]), "url": _or_dash(publication["url"])},
                "small",
            ),
            p(_or_dash(publication["text"])),
        ]
        if publication["link"]:
            block.append(p(_("Link: %(link)s") % {"link": publication["link"]}, "small"))
        if publication["hashtags"]:
            block.append(p(" ".join(f"#{tag}" for tag in publication["hashtags"]), "small"))
        for item in publication["media"]:
            block.append(
                p(
                    _("Media (%(kind)s) SHA-256 %(sha)s · alt text: %(alt)s")
                    % {"kind": item.get("kind", ""), "sha": item.get("checksum", ""), "alt": item.get("alt_text", "")},
                    "small",
                )
            )
        story.append(KeepTogether(block))

    if post["media"]:
        story.append(p(_("Media of the current revision"), "h3"))
        rows: list[list[Any]] = [[_("#"), _("kind"), _("SHA-256"), _("alt text")]]
        rows += [
            [str(item["position"]), item["kind"], p(item["sha256"], "small"), p(item["alt_text"], "small")]
            for item in post["media"]
        ]
        story.append(_table(rows, [8 * mm, 14 * mm, 70 * mm, 78 * mm]))

    story.append(p(_("Review: signatures per round"), "h2"))
    if not facts["rounds"]:
        story.append(p(_("The post was never submitted for review.")))
    for round_ in facts["rounds"]:
        story.append(
            p(
                _(
                    "Round %(id)s on revision %(revision)s (content hash %(hash)s), chain %(chain)s: %(status)s; "
                    "submitted by %(who)s at %(when)s"
                )
                % {
                    "id": round_["id"],
                    "revision": round_["revision"],
                    "hash": round_["content_hash"],
                    "chain": round_["chain"],
                    "status": round_["status"],
                    "who": _who(round_["submitted_by"]),
                    "when": round_["submitted_at"],
                },
                "h3",
            )
        )
        for decision in round_["decisions"]:
            meaning = {
                "approve": _("approved revision %(revision)s with content hash %(hash)s"),
                "request_changes": _("requested changes to revision %(revision)s with content hash %(hash)s"),
                "reject": _("rejected revision %(revision)s with content hash %(hash)s"),
            }.get(decision["verdict"], "%(revision)s %(hash)s") % {
                "revision": decision["revision"],
                "hash": decision["content_hash"],
            }
            lines = [
                _("Signed by %(name)s (%(user)s) as %(role)s, stage %(stage)s, at %(when)s")
                % {
                    "name": decision["signer_name"],
                    "user": (decision["reviewer"] or {}).get("username", ""),
                    "role": decision["signer_role"],
                    "stage": decision["stage"],
                    "when": decision["created_at"],
                },
                _("Meaning: %(meaning)s") % {"meaning": meaning},
            ]
            if decision["comment"]:
                lines.append(_("Comment: %(comment)s") % {"comment": decision["comment"]})
            story.append(KeepTogether([p(line, "small") for line in lines] + [Spacer(1, 3)]))

    story.append(p(_("Consents relied on"), "h2"))
    if not facts["consents"]:
        story.append(p(_("The post relied on no consent.")))
    for consent in facts["consents"]:
        platforms = _("all platforms") if consent["all_platforms"] else ", ".join(consent["platforms"])
        lines = [
            _("Consent %(id)s, form reference %(reference)s, person %(person)s (%(subject)s)")
            % {
                "id": consent["id"],
                "reference": _or_dash(consent["form_reference"]),
                "person": consent["subject"]["name"],
                "subject": consent["subject"]["reference"],
            },
            _("May show: %(kinds)s · platforms: %(platforms)s · purposes: %(purposes)s")
            % {
                "kinds": ", ".join(consent["media_kinds"]),
                "platforms": platforms or "—",
                "purposes": ", ".join(consent["purposes"]),
            },
            _("Period: signed %(signed)s, expires %(expires)s %(event)s")
            % {
                "signed": consent["signed_on"],
                "expires": _or_dash(consent["expires_on"]),
                "event": consent["expiry_event"],
            },
            _("Signers: %(signers)s")
            % {
                "signers": "; ".join(
                    f"{s['name']} ({s['role']}{', ' + s['authority'] if s['authority'] else ''})"
                    for s in consent["signers"]
                )
                or "—"
            },
            _("Recorded by %(recorder)s at %(recorded)s; verified by %(verifier)s at %(verified)s")
            % {
                "recorder": _who(consent["recorded_by"]),
                "recorded": consent["recorded_at"],
                "verifier": _who(consent["verified_by"]),
                "verified": _or_dash(consent["verified_at"]),
            },
            _("State at publishing: %(then)s · state now: %(now)s · signed form SHA-256 %(sha)s")
            % {
                "then": _or_dash(consent["state_at_publishing"]),
                "now": consent["state_now"],
                "sha": consent["document_sha256"],
            },
        ]
        if consent["description"]:
            lines.insert(2, _("Description: %(text)s") % {"text": consent["description"]})
        if consent["revoked_at"]:
            lines.append(
                _("Revoked at %(when)s by %(who)s, received via %(via)s: %(reason)s")
                % {
                    "when": consent["revoked_at"],
                    "who": _who(consent["revoked_by"]),
                    "via": consent["revocation_received_via"],
                    "reason": consent["revocation_reason"],
                }
            )
        story.append(KeepTogether([p(line, "small") for line in lines] + [Spacer(1, 4)]))

    story.append(p(_("Takedowns"), "h2"))
    if not facts["takedowns"]:
        story.append(p(_("No takedown was listed.")))
    for item in facts["takedowns"]:
        account = item["account"]
        lines = [
            _("%(account)s (%(platform)s): %(cause)s, listed %(when)s; %(reason)s")
            % {
                "account": account["name"],
                "platform": account["platform"],
                "cause": item["cause"],
                "when": item["created_at"],
                "reason": item["reason"],
            },
            _("Deletion on the platform: %(status)s at %(when)s by %(who)s")
            % {
                "status": _or_dash(item["deletion_status"]),
                "when": _or_dash(item["deletion_at"]),
                "who": _who(item["deletion_by"]),
            },
            _("Platform's answer (proof): %(answer)s") % {"answer": _or_dash(item["deletion_response"])},
            _("Confirmed taken down at %(when)s by %(who)s")
            % {"when": _or_dash(item["confirmed_at"]), "who": _who(item["confirmed_by"])},
        ]
        if item["comment"]:
            lines.append(_("Comment: %(comment)s") % {"comment": item["comment"]})
        if item["deletion_note"]:
            lines.append(_("Note: %(note)s") % {"note": item["deletion_note"]})
        story.append(KeepTogether([p(line, "small") for line in lines] + [Spacer(1, 4)]))

    story.append(p(_("Audit events (positions in the hash chain)"), "h2"))
    rows = [[_("seq"), _("time (UTC)"), _("action"), _("actor"), _("hash")]]
    rows += [
        [str(e["seq"]), e["created_at"][:19], e["action"][:40], e["actor"][:24], e["hash"]] for e in facts["events"]
    ]
    events_table = _table(rows, [12 * mm, 28 * mm, 38 * mm, 24 * mm, 78 * mm])
    events_table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 5.5), ("FONTSIZE", (0, 0), (-1, 0), 7)]))
    story.append(events_table)

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Evidence pack: post {post['id']}",
        author=str(manifest_head["instance"]),
        **options,
    )
    document.build(story)
    return out.getvalue()
