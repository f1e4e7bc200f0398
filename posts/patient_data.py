"""Findings about a post's content as a whole: possible patient data, leftover metadata, removed locations.

These are warnings for reviewers, not proof: a phone number may be the hospital's switchboard.
Legal acknowledges each one before approving (SPEC section 4).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from consent.models import Subject
from posts.platforms import Finding, Passage, Severity

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DATE = re.compile(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?!\d)|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
DOB_WORDS = re.compile(
    r"\b(?:geb(?:oren)?\.?(?:\s+am)?|born(?:\s+on)?|DOB|date of birth|Geburtsdatum|birthday)\b", re.I
)
RECORD = re.compile(
    r"\b(?:MRN|PID|Fall(?:nummer|[- ]?Nr\.?)|Patient(?:en)?(?:nummer|[- ]?ID|[- ]?Nr\.?)|"
    r"case\s+(?:no\.?|number)|record\s+(?:no\.?|number)|Aktenzeichen)\s*[:#]?\s*[A-Z0-9][\w-]*\d",
    re.I,
)
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \t/().-]{5,}\d(?!\w)")
MEDICAL_CLAIM = re.compile(
    r"\b(?:stud(?:y|ies)|Studie[n]?|reduces?|lowers?|prevents?|cures?|risk|senkt|verringert|verhindert|heilt|"
    r"Risiko|wirksam|effective|proven|nachgewiesen)\b|\d+\s?%",
    re.I,
)
OLD_DATE_YEARS = 3


@dataclass(frozen=True)
class TextScan:
    code: str
    excerpt: str
    start: int = 0  # text[start:end] == excerpt
    end: int = 0


def text_scan(text: str) -> list[TextScan]:
    """Return what in ``text`` looks like patient data (e-mail, phone, record number, date of birth)."""
    found: list[TextScan] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= start or span[0] >= end for start, end in taken)

    for match in EMAIL.finditer(text):
        found.append(TextScan("patient_data_email", match.group(), *match.span()))
        taken.append(match.span())
    for match in RECORD.finditer(text):
        if free(match.span()):
            found.append(TextScan("patient_data_record", match.group(), *match.span()))
            taken.append(match.span())
    this_year = timezone.localdate().year
    for match in DATE.finditer(text):
        taken.append(match.span())
        year_text = match.group(3) or match.group(4)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        before = text[max(0, match.start() - 25) : match.start()]
        if DOB_WORDS.search(before) or year <= this_year - OLD_DATE_YEARS:
            found.append(TextScan("patient_data_birth_date", match.group(), *match.span()))
    for match in PHONE.finditer(text):
        digits = sum(char.isdigit() for char in match.group())
        if digits >= 7 and free(match.span()):
            excerpt = match.group().strip()
            start = match.start() + match.group().index(excerpt)
            found.append(TextScan("patient_data_phone", excerpt, start, start + len(excerpt)))
            taken.append(match.span())
    return found


MESSAGES = {
    "patient_data_email": lambda excerpt: (
        _("The text contains an e-mail address (%(excerpt)s).") % {"excerpt": excerpt}
    ),
    "patient_data_phone": lambda excerpt: (
        _("The text contains what looks like a phone number (%(excerpt)s).") % {"excerpt": excerpt}
    ),
    "patient_data_record": lambda excerpt: (
        _("The text contains what looks like a record number (%(excerpt)s).") % {"excerpt": excerpt}
    ),
    "patient_data_birth_date": lambda excerpt: (
        _("The text contains what may be a date of birth (%(excerpt)s).") % {"excerpt": excerpt}
    ),
}


def _name_pattern(name: str) -> str:
    return rf"(?<!\w){re.escape(name)}(?!\w)"


def _name_passage(name: str, texts: list[str]) -> Passage | None:
    for text in texts:
        match = re.search(_name_pattern(name), text, re.I)
        if match:
            return Passage(text, *match.span())
    return None


def names_not_featured(texts: Iterable[str], featured_subject_ids: set[int]) -> list[str]:
    """Return registered people named in ``texts`` whom the post does not feature with consent."""
    joined = "\n".join(texts)
    if not joined.strip():
        return []
    folded = joined.casefold()
    names = []
    for name in Subject.objects.exclude(pk__in=featured_subject_ids).values_list("display_name", flat=True):
        # A plain substring test first (looser than the pattern, so it drops no match): the registry
        # holds thousands of names and compiling a pattern for each cost the editor most of its time.
        if len(name) >= 3 and name.casefold() in folded and re.search(_name_pattern(name), joined, re.I):
            names.append(name)
    return sorted(names)


def image_has_metadata(path: str) -> bool:
    """True if a stored image still carries EXIF or XMP (the pipeline removes both; this double-checks)."""
    try:
        with Image.open(path) as image:
            return bool(image.getexif()) or "xmp" in image.info or "exif" in image.info
    except OSError:
        return False


IMAGE_LOCATION = "image_location"


def location_finding(index: int) -> Finding:
    """Return the warning that image ``index`` (0-based) came from an original carrying a location.

    The pipeline removed the place from the file; the picture itself may still show it (a street
    sign, the ward's door), which only a person can judge.
    """
    return Finding(
        IMAGE_LOCATION,
        Severity.WARNING,
        _(
            "Image %(number)s: the original photo carried a location; it was removed — "
            "check the picture shows no identifying place."
        )
        % {"number": index + 1},
        "",
        media_index=index,
    )


def content_findings(
    *,
    texts: Iterable[str],
    featured_subject_ids: set[int],
    image_paths: Iterable[str],
    located_images: Iterable[int] = (),
) -> list[Finding]:
    """Return the post-level findings of content (warnings; platform "" = every platform).

    ``located_images`` are the 0-based positions of the images whose original carried a location.
    """
    texts = list(texts)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        for scan in text_scan(text):
            if (scan.code, scan.excerpt) in seen:
                continue
            seen.add((scan.code, scan.excerpt))
            message = MESSAGES[scan.code](scan.excerpt)
            passage = Passage(text, scan.start, scan.end)
            findings.append(Finding(scan.code, Severity.WARNING, message, "", passage=passage))
    for name in names_not_featured(texts, featured_subject_ids):
        findings.append(
            Finding(
                "patient_data_name",
                Severity.WARNING,
                _("The text names %(name)s, a registered person the post does not feature with consent.")
                % {"name": name},
                "",
                passage=_name_passage(name, texts),
            )
        )
    for index, path in enumerate(image_paths):
        if image_has_metadata(path):
            findings.append(
                Finding(
                    "image_metadata",
                    Severity.ERROR,
                    _("Image %(number)s still carries metadata.") % {"number": index + 1},
                    "",
                    media_index=index,
                )
            )
    findings.extend(location_finding(index) for index in sorted(set(located_images)))
    return findings
