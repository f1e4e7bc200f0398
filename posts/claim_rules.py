"""Rules for claims on plain values: which sources are valid, where claims sit in a text, what is a finding.

No writes here (`posts.claims` holds the services): `posts.services.post_content_findings` and the
review page read these too.
"""

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from core.inputs import text_storable
from posts.links import ordinary_web_link_valid
from posts.models import Claim, ContentType, Post, SourceKind
from posts.patient_data import MEDICAL_CLAIM
from posts.platforms import Finding, Severity

# Content types whose detected claims must be marked (as the former "sources missing" finding).
CLAIMS_NEED_SOURCES = frozenset({ContentType.EDUCATION, ContentType.PATIENT_STORY})

_URL_MAX = Claim._meta.get_field("source").max_length or 2000
_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
# Crossref's pattern for modern DOIs, with any non-space suffix (old Wiley DOIs hold "<" and ">").
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.I)
_PMID = re.compile(r"[1-9]\d{0,8}")
_PMID_PREFIX = re.compile(r"^pmid:?\s*", re.I)
# A sentence: up to its closing punctuation or the end of the line.
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.M)


# Sources ------------------------------------------------------------------------------------


def _url_clean(value: str) -> str:
    if not ordinary_web_link_valid(value, max_length=_URL_MAX):
        try:
            _URL_VALIDATOR(value)
        except ValidationError:
            raise ValidationError(
                {"source": _("Enter a web address starting with http:// or https://.")}, code="source_url"
            ) from None
        if len(value) > _URL_MAX:
            raise ValidationError({"source": _("This web address is too long.")}, code="source_url")
    host = (urllib.parse.urlsplit(value).hostname or "").rstrip(".").lower()
    # Rounds never fetches a source (reviewers open it), so no name is resolved here; but an
    # address inside the hospital's network or this machine is no source a reader can check.
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if private:
        raise ValidationError(
            {"source": _("Link a public source: this address is not reachable from the internet.")},
            code="source_private",
        )
    return value


def source_kind_guess(value: str) -> str:
    """Return the kind of source ``value`` is written as (a web address, a DOI, a PubMed id), or ""."""
    value = value.strip()
    if _DOI.fullmatch(_DOI_PREFIX.sub("", value)):
        return SourceKind.DOI
    if _PMID.fullmatch(_PMID_PREFIX.sub("", value)):
        return SourceKind.PMID
    if re.match(r"https?://", value, re.I):
        return SourceKind.URL
    return ""


def source_clean(*, kind: str, value: str) -> str:
    """Return the source in its stored form for ``kind``; ValidationError (on "source") if it is not one.

    A DOI is stored bare (``10.1234/…``: a "doi:" or doi.org prefix is taken off), a PubMed id as
    its digits (a "PMID:" prefix is taken off), a web address as typed.
    """
    value = value.strip()
    text_storable(value)
    if not value:
        raise ValidationError({"source": _("Give the source: a web address, a DOI or a PubMed id.")}, code="required")
    if kind == SourceKind.URL:
        return _url_clean(value)
    if kind == SourceKind.DOI:
        doi = _DOI_PREFIX.sub("", value)
        if not _DOI.fullmatch(doi) or len(doi) > _URL_MAX:
            raise ValidationError(
                {
                    "source": _(
                        "A DOI starts with 10., four to nine digits and a slash, e.g. 10.1161/CIR.0000000000001123."
                    )
                },
                code="source_doi",
            )
        return doi
    if kind == SourceKind.PMID:
        pmid = _PMID_PREFIX.sub("", value)
        if not _PMID.fullmatch(pmid):
            raise ValidationError(
                {"source": _("A PubMed id is a number of up to nine digits, e.g. 31378231.")}, code="source_pmid"
            )
        return pmid
    raise ValidationError({"source_kind": _("Choose a web address, a DOI or a PubMed id.")}, code="source_kind")


# Reading the text ---------------------------------------------------------------------------


def _spans(text: str, passage: str) -> list[tuple[int, int]]:
    spans, start = [], text.find(passage)
    while passage and start != -1:
        spans.append((start, start + len(passage)))
        start = text.find(passage, start + 1)
    return spans


def detected_claims(text: str, passages: Iterable[str]) -> list[str]:
    """Return the sentences of ``text`` the claim detector hits outside every marked passage, in order."""
    marked = [span for passage in passages for span in _spans(text, passage)]
    sentences: list[str] = []
    for sentence in _SENTENCE.finditer(text):
        hits = [
            (sentence.start() + match.start(), sentence.start() + match.end())
            for match in MEDICAL_CLAIM.finditer(sentence.group())
        ]
        unmarked = [hit for hit in hits if all(hit[1] <= start or hit[0] >= end for start, end in marked)]
        words = sentence.group().strip()
        if unmarked and words and words not in sentences:
            sentences.append(words)
    return sentences


@dataclass(frozen=True)
class Segment:
    """A piece of the post's text; ``claim`` is the 1-based number of the claim it is, 0 for plain text."""

    text: str
    claim: int = 0


def text_segments(text: str, claims: Sequence[Claim]) -> list[Segment]:
    """Return ``text`` cut into plain pieces and claim passages (each at its first place; overlaps left plain)."""
    spans: list[tuple[int, int, int]] = []
    for number, claim in enumerate(claims, start=1):
        start = text.find(claim.passage)
        end = start + len(claim.passage)
        if start != -1 and all(end <= other[0] or start >= other[1] for other in spans):
            spans.append((start, end, number))
    segments, position = [], 0
    for start, end, number in sorted(spans):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], number))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def claim_findings(*, post: Post, texts: Sequence[str], claims: Sequence[Claim]) -> list[Finding]:
    """Return the findings about claims: detected claims not marked, claims without source or out of the text."""
    findings: list[Finding] = []
    for claim in claims:
        if not claim.has_source:
            findings.append(
                Finding(
                    "claim_source_missing",
                    Severity.WARNING,
                    _("The claim “%(claim)s” has no source: link a web address, a DOI or a PubMed id.")
                    % {"claim": claim},
                    "",
                )
            )
        if claim.passage not in post.body:
            findings.append(
                Finding(
                    "claim_passage_missing",
                    Severity.WARNING,
                    _("The claim “%(claim)s” is no longer in the text: mark it again or remove it.") % {"claim": claim},
                    "",
                )
            )
    if post.content_type in CLAIMS_NEED_SOURCES:
        passages = [claim.passage for claim in claims]
        seen: set[str] = set()
        for text in texts:
            for sentence in detected_claims(text, passages):
                if sentence in seen:
                    continue
                seen.add(sentence)
                # The code of the former post-wide finding: the same check, now per sentence.
                findings.append(
                    Finding(
                        "sources_missing",
                        Severity.WARNING,
                        _("“%(sentence)s” looks like a medical claim: mark it as a claim and link its source.")
                        % {"sentence": sentence},
                        "",
                    )
                )
    return findings
