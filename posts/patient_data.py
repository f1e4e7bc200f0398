"""Findings about a post's content as a whole: possible patient data, leftover metadata, removed locations.

These are warnings for reviewers, not proof: a phone number may be the hospital's switchboard.
Legal acknowledges each one before approving (SPEC section 4).
"""

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from PIL import Image

from audit.selectors import request_state_version, state_cached
from consent.models import MediaKind, Subject
from posts import phi
from posts.platforms import Finding, Passage, Severity

MEDICAL_CLAIM = re.compile(
    r"\b(?:stud(?:y|ies)|Studie[n]?|reduces?|lowers?|prevents?|cures?|risk|senkt|verringert|verhindert|heilt|"
    r"Risiko|wirksam|effective|proven|nachgewiesen)\b|\d+\s?%",
    re.I,
)


@dataclass(frozen=True)
class TextScan:
    code: str
    excerpt: str
    start: int = 0  # text[start:end] == excerpt
    end: int = 0
    sensitivity: str = phi.HIGH
    reason: str = ""


# The finding code of each kind of patient data (`posts.phi`'s labels).
CODES = {
    "EMAIL": "patient_data_email",
    "PHONE": "patient_data_phone",
    "RECORD_ID": "patient_data_record",
    "DATE_OF_BIRTH": "patient_data_birth_date",
    "PATIENT_NAME": "patient_data_person",
    "INSURANCE_ID": "patient_data_insurance_id",
    "NATIONAL_ID": "patient_data_national_id",
    "AGE_WITH_CONDITION": "patient_data_age",
    "ADDRESS": "patient_data_address",
    "LOCATION_IN_HOSPITAL": "patient_data_location",
    "DIAGNOSIS_OF_PERSON": "patient_data_diagnosis",
    "EVENT_DATE_OF_PERSON": "patient_data_event_date",
}


def text_scan(text: str, language: str | None = None) -> list[TextScan]:
    """Return what in ``text`` looks like patient data (`posts.phi.detect`), each with its finding code and reason."""
    return list(_scanned(text, language))


@functools.lru_cache(maxsize=2048)
def _scanned(text: str, language: str | None) -> tuple[TextScan, ...]:
    # The detector depends on the text and its language alone: every page showing a post's findings
    # (editor, detail, review, each live check) would otherwise read the same text again.
    return tuple(
        TextScan(CODES[span.label], span.text, span.start, span.end, span.sensitivity, span.reason)
        for span in phi.detect(text, language)
    )


MESSAGES = {
    "patient_data_email": gettext_lazy("The text contains an e-mail address (%(excerpt)s)."),
    "patient_data_phone": gettext_lazy("The text contains what looks like a phone number (%(excerpt)s)."),
    "patient_data_record": gettext_lazy("The text contains what looks like a record number (%(excerpt)s)."),
    "patient_data_birth_date": gettext_lazy("The text contains what may be a date of birth (%(excerpt)s)."),
    "patient_data_person": gettext_lazy("The text may name a patient or a relative (%(excerpt)s)."),
    "patient_data_insurance_id": gettext_lazy(
        "The text contains what looks like a health insurance number (%(excerpt)s)."
    ),
    "patient_data_national_id": gettext_lazy(
        "The text contains what looks like a national identity number (%(excerpt)s)."
    ),
    "patient_data_age": gettext_lazy("The text gives a person's age (%(excerpt)s)."),
    "patient_data_address": gettext_lazy("The text contains what looks like a postal address (%(excerpt)s)."),
    "patient_data_location": gettext_lazy("The text places a person in the hospital (%(excerpt)s)."),
    "patient_data_diagnosis": gettext_lazy("The text ties a diagnosis or treatment to a person (%(excerpt)s)."),
    "patient_data_event_date": gettext_lazy(
        "The text dates a person's admission, operation or treatment (%(excerpt)s)."
    ),
}


# Why a passage was taken for patient data, per `posts.phi` reason code.
REASONS = {
    "email": gettext_lazy("It looks like a private mailbox."),
    "phone": gettext_lazy("It looks like a private number: a mobile range, or next to a person's name."),
    "url_parameter": gettext_lazy("It is in a link's query string, under a parameter for patient data."),
    "id_cue": gettext_lazy("A word before it says what kind of number it is."),
    "id_kvnr": gettext_lazy("It has the form and check digit of a German health insurance number (KVNR)."),
    "id_mbi": gettext_lazy("It has the form of a US Medicare number (MBI)."),
    "id_tc": gettext_lazy("It has the check digits of a Turkish identity number (TC Kimlik No)."),
    "id_my_number": gettext_lazy("It has the check digit of a Japanese Individual Number (My Number)."),
    "id_ssn": gettext_lazy("It has the form of a US Social Security number."),
    "id_nhs": gettext_lazy("It has the check digit of an NHS number."),
    "address": gettext_lazy("It has the form of a street address."),
    "date_birth_cue": gettext_lazy("A word next to it marks a date of birth."),
    "date_birth_event": gettext_lazy("The sentence tells of a birth."),
    "date_after_name": gettext_lazy("It stands in brackets after a name."),
    "date_person_event": gettext_lazy("The sentence tells what happened to a person that day."),
    "name_cue": gettext_lazy("A word next to it introduces a person (Frau, Mr, Hanım, 様), not a member of staff."),
    "name_list": gettext_lazy("It is a first name from the name lists, not named as staff in their role."),
    "location": gettext_lazy("The post is about a person, and this places them in the hospital."),
    "age": gettext_lazy("The post tells of a person's age and health."),
    "diagnosis": gettext_lazy("The post is about a person, and this is a diagnosis or treatment."),
}
LOW_SENSITIVITY = gettext_lazy("It looks like the organisation's own contact or a public number: low sensitivity.")


def reason_text(reason: str, sensitivity: str) -> str:
    """Say why a passage was taken for patient data (`posts.phi` reason codes), and when it is the organisation's."""
    if sensitivity == phi.LOW:
        return str(LOW_SENSITIVITY)
    return str(REASONS.get(reason, ""))


def _name_pattern(name: str) -> str:
    return rf"(?<!\w){re.escape(name)}(?!\w)"


def _name_passage(name: str, texts: list[str]) -> Passage | None:
    for text in texts:
        match = re.search(_name_pattern(name), text, re.I)
        if match:
            return Passage(text, *match.span())
    return None


Registry = tuple[tuple[int, str, str], ...]  # (subject id, display name, display name casefolded)


def registry_names() -> Registry:
    """Return every registered person's id, display name and its casefold.

    Every post page reads them for its findings; with thousands of people that was thousands of
    rows a page. So they are kept (`audit.selectors.state_cached`) for the state version the
    request read first (`audit.selectors.request_state_version`): a person registered or renamed is
    an audited change (consent.services), and the next request sees it. Read afresh outside a
    request and inside a transaction (the submit gate's: exactly what the database holds then).
    """

    def read() -> Registry:
        rows = Subject.objects.order_by("pk").values_list("pk", "display_name")
        return tuple((pk, name, name.casefold()) for pk, name in rows)

    version = request_state_version()
    if version is None or connection.in_atomic_block:
        return read()
    return state_cached("registry-names", read, version=version)


def names_not_featured(texts: Iterable[str], featured_subject_ids: set[int]) -> list[str]:
    """Return registered people named in ``texts`` whom the post does not feature with consent."""
    joined = "\n".join(texts)
    if not joined.strip():
        return []
    folded = joined.casefold()
    names = []
    for pk, name, name_folded in registry_names():
        # A plain substring test first (looser than the pattern, so it drops no match): the registry
        # holds thousands of names and compiling a pattern for each cost the editor most of its time.
        if (
            len(name) >= 3
            and name_folded in folded
            and pk not in featured_subject_ids
            and re.search(_name_pattern(name), joined, re.I)
        ):
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


@dataclass(frozen=True)
class ImageCheck:
    """What the image check (`posts.scans`) found in one image, as the findings need it.

    ``status`` is a `posts.models.ScanStatus` value ("waiting" too for an image not yet stored or
    stored before checks existed); ``spans`` as `posts.models.MediaScan.spans`; ``faces`` boxes.
    """

    status: str = "waiting"
    spans: tuple[dict[str, Any], ...] = ()
    faces: tuple[tuple[int, int, int, int], ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def image_check_of(scan: Any) -> ImageCheck:
    """The `ImageCheck` of a `posts.models.MediaScan` (None: not checked yet)."""
    if scan is None:
        return ImageCheck()
    return ImageCheck(
        status=scan.status,
        spans=tuple(scan.spans),
        faces=tuple(tuple(face) for face in scan.faces),
        problems=tuple(scan.problems),
    )


IMAGE_WAITING = "image_check_waiting"
IMAGE_NOT_READ = "image_check_failed"
IMAGE_FACE = "image_face"
IMAGE_PROBLEMS = {
    "ocr_missing": gettext_lazy(
        "Image %(number)s: its text could not be read (OCR is not installed on the server). "
        "Look for names, dates and numbers in it yourself."
    ),
    "faces_missing": gettext_lazy(
        "Image %(number)s: faces could not be looked for (the face detector is missing). Look at it yourself."
    ),
}
IMAGE_NOT_CHECKED = gettext_lazy(
    "Image %(number)s could not be checked for text and faces. Look for faces, names, dates and numbers in it yourself."
)


def image_text_code(code: str) -> str:
    """The finding code of patient data read in an image: ``image_text_<kind>`` for ``patient_data_<kind>``."""
    return "image_text_" + code.removeprefix("patient_data_")


def _box(values: Any) -> tuple[int, int, int, int] | None:
    if not values or len(values) != 4:
        return None
    left, top, width, height = (int(value) for value in values)
    return (left, top, width, height)


def image_findings(*, checks: Sequence[ImageCheck], photo_people: int) -> list[Finding]:
    """Return the findings of each image's check: not checked yet, not read, patient data in its text, faces.

    ``photo_people``: how many people the post features showing their photo (the consent gate answers
    for them): that many faces in an image are taken for theirs; a face beyond them is a finding.
    """
    findings: list[Finding] = []
    for index, check in enumerate(checks):
        number = index + 1
        if check.status in {"waiting", "running"}:
            findings.append(
                Finding(
                    IMAGE_WAITING,
                    Severity.WARNING,
                    _(
                        "Image %(number)s has not been checked for text and faces yet: "
                        "the check runs in the background after saving."
                    )
                    % {"number": number},
                    "",
                    media_index=index,
                )
            )
            continue
        if check.status == "failed" or "unreadable" in check.problems or "error" in check.problems:
            findings.append(
                Finding(IMAGE_NOT_READ, Severity.WARNING, str(IMAGE_NOT_CHECKED) % {"number": number}, "", index)
            )
            continue
        findings.extend(
            Finding(IMAGE_NOT_READ, Severity.WARNING, str(IMAGE_PROBLEMS[problem]) % {"number": number}, "", index)
            for problem in check.problems
            if problem in IMAGE_PROBLEMS
        )
        for span in check.spans:
            code = CODES.get(str(span.get("label")))
            if code is None:
                continue
            excerpt = str(span.get("text", ""))
            message = str(MESSAGES[code]) % {"excerpt": excerpt}
            why = reason_text(str(span.get("reason", "")), str(span.get("sensitivity", phi.HIGH)))
            box = _box(span.get("box"))
            findings.append(
                Finding(
                    image_text_code(code),
                    Severity.WARNING,
                    _("Image %(number)s, text read in it: %(finding)s")
                    % {"number": number, "finding": f"{message} {why}".strip()},
                    "",
                    media_index=index,
                    boxes=(box,) if box else (),
                )
            )
        faces = [box for box in (_box(face) for face in check.faces) if box]
        if len(faces) > photo_people:
            if photo_people:
                message = ngettext(
                    "Image %(number)s: %(count)s faces are visible and %(people)s featured person shows their photo "
                    "with consent: link each person's consent or confirm nobody else is identifiable.",
                    "Image %(number)s: %(count)s faces are visible and %(people)s featured people show their photo "
                    "with consent: link each person's consent or confirm nobody else is identifiable.",
                    photo_people,
                ) % {"number": number, "count": len(faces), "people": photo_people}
            else:
                message = ngettext(
                    "Image %(number)s: a face is visible: link the person's consent or confirm nobody is identifiable.",
                    "Image %(number)s: %(count)s faces are visible: link each person's consent or confirm "
                    "nobody is identifiable.",
                    len(faces),
                ) % {"number": number, "count": len(faces)}
            findings.append(Finding(IMAGE_FACE, Severity.WARNING, message, "", media_index=index, boxes=tuple(faces)))
    return findings


def content_findings(
    *,
    texts: Iterable[str],
    featured_subject_ids: set[int],
    image_paths: Iterable[str],
    located_images: Iterable[int] = (),
    language: str | None = None,
    featured_names: Iterable[str] | None = None,
    featured_kinds: Iterable[str] = (),
    image_checks: Sequence[ImageCheck] | None = None,
    photo_people: int = 0,
) -> list[Finding]:
    """Return the post-level findings of content (warnings; platform "" = every platform).

    ``located_images`` are the 0-based positions of the images whose original carried a location.
    ``language``: the post's (else each text's is guessed). ``featured_names``: the display names of
    the people featured with consent, where the caller has them loaded (else read here): a name
    the text gives for one of them is theirs, and the consent gate answers for it.
    ``featured_kinds``: what the post shows of its featured people; with "condition" among them
    (their consent covers it, or the gate says it does not), a diagnosis is theirs too.
    ``image_checks``: the check of each image, in the order of ``image_paths`` (`image_findings`);
    ``photo_people``: how many featured people show their photo.
    """
    texts = list(texts)
    registered = names_not_featured(texts, featured_subject_ids)
    if featured_names is None:
        featured_names = (
            Subject.objects.filter(pk__in=featured_subject_ids).values_list("display_name", flat=True)
            if featured_subject_ids
            else []
        )
    known = [name.casefold() for name in [*registered, *featured_names] if name]
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    scans = [(text, scan) for text in texts for scan in text_scan(text, language)]
    # "Frau Wüst" in the title and "Hannelore Wüst" in the text are one person: the fuller name is listed.
    people = [scan.excerpt.casefold() for _text, scan in scans if scan.code == "patient_data_person"]
    for text, scan in scans:
        folded = scan.excerpt.casefold()
        if (scan.code, scan.excerpt) in seen:
            continue
        if scan.code == "patient_data_person" and (
            _names_known_person(scan.excerpt, known)
            or any(set(folded.split()) <= set(other.split()) for other in people if len(other) > len(folded))
        ):
            continue
        if scan.code == "patient_data_diagnosis" and CONDITION_KIND in set(featured_kinds):
            continue
        seen.add((scan.code, scan.excerpt))
        message = str(MESSAGES[scan.code]) % {"excerpt": scan.excerpt}
        why = reason_text(scan.reason, scan.sensitivity)
        passage = Passage(text, scan.start, scan.end)
        findings.append(Finding(scan.code, Severity.WARNING, f"{message} {why}".strip(), "", passage=passage))
    for name in registered:
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
    if image_checks is not None:
        findings.extend(image_findings(checks=image_checks, photo_people=photo_people))
    return findings


# The consent media kind that covers a person's condition or diagnosis.
CONDITION_KIND = MediaKind.CONDITION.value


def _names_known_person(excerpt: str, known: list[str]) -> bool:
    """Whether the name ``excerpt`` is (part of) a registered or featured person's name: found already, or consented."""
    folded = excerpt.casefold()
    words = set(folded.replace(",", " ").split())
    return any(folded in name or name in folded or words <= set(name.split()) for name in known)
