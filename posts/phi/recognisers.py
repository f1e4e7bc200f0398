"""Patient-data recognisers for German, English, Turkish and Japanese posts (issue 18).

Each recogniser proposes spans with a label and the reason it saw; `detect` keeps the strongest
span where two overlap and drops what needs a person when the post is about nobody in particular
(a diagnosis in an education post, a ward in a visiting-hours notice). Rules, word lists and check
digits, no model: they run offline in well under a millisecond per hundred characters, and each
finding can say why it was raised.
"""

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from posts.phi import ids
from posts.phi.lexicon import (
    ascii_fold,
    ascii_given_names,
    condition_pattern,
    given_names_latin,
    japanese_given_names,
    japanese_surnames,
    public_figures,
)
from posts.phi.text import HASHTAG, URL, Clean, clean, guess_language

HIGH, LOW = "high", "low"

PATIENT_NAME = "PATIENT_NAME"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
AGE_WITH_CONDITION = "AGE_WITH_CONDITION"
RECORD_ID = "RECORD_ID"
INSURANCE_ID = "INSURANCE_ID"
NATIONAL_ID = "NATIONAL_ID"
PHONE = "PHONE"
EMAIL = "EMAIL"
ADDRESS = "ADDRESS"
LOCATION_IN_HOSPITAL = "LOCATION_IN_HOSPITAL"
DIAGNOSIS_OF_PERSON = "DIAGNOSIS_OF_PERSON"
EVENT_DATE_OF_PERSON = "EVENT_DATE_OF_PERSON"

# Where two proposals overlap, the earlier label wins.
PRIORITY = (
    EMAIL,
    NATIONAL_ID,
    INSURANCE_ID,
    RECORD_ID,
    ADDRESS,
    DATE_OF_BIRTH,
    EVENT_DATE_OF_PERSON,
    PHONE,
    LOCATION_IN_HOSPITAL,
    AGE_WITH_CONDITION,
    PATIENT_NAME,
    DIAGNOSIS_OF_PERSON,
)
# Labels that are patient data only where the post is about a particular person.
NEEDS_PERSON = frozenset({AGE_WITH_CONDITION, LOCATION_IN_HOSPITAL, DIAGNOSIS_OF_PERSON, EVENT_DATE_OF_PERSON})


@dataclass(frozen=True)
class PhiSpan:
    start: int
    end: int
    label: str
    sensitivity: str
    reason: str  # a short code of what was seen (`posts.patient_data.REASONS` words it for people)
    text: str = ""


class _Intervals:
    """Ranges ``[start, end)``, merged as they are added, asking whether a range touches any in O(log n).

    The recognisers ask this for every match: over a list, a long post with many numbers took minutes.
    """

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in ranges:
            self.add(start, end)

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self.starts, start) - 1
        if index >= 0 and self.ends[index] > start and end > self.starts[index]:
            return True
        return index + 1 < len(self.starts) and self.starts[index + 1] < end

    def add(self, start: int, end: int) -> None:
        if start >= end:
            return
        # Only ranges that overlap it are merged: touching ones stay apart, as a scan would see them.
        low = bisect.bisect_right(self.ends, start)
        high = bisect.bisect_left(self.starts, end)
        if low < high:
            start, end = min(start, self.starts[low]), max(end, self.ends[high - 1])
            del self.starts[low:high], self.ends[low:high]
        self.starts.insert(low, start)
        self.ends.insert(low, end)


@dataclass
class _Post:
    text: str
    language: str
    masked: _Intervals = field(default_factory=_Intervals)  # URLs and hashtags: no names or numbers there
    staff_words: set[str] = field(default_factory=set)  # name words of staff in their role
    person: bool = False  # the post is about a particular person (patient or relative)
    conditions: list[tuple[int, int]] = field(default_factory=list)
    dates: list[tuple[int, int]] = field(default_factory=list)  # every date, a person's or not (no names there)

    def masked_at(self, start: int, end: int) -> bool:
        return self.masked.overlaps(start, end)


def detect(text: str, language: str | None = None) -> list[PhiSpan]:
    """Return the spans of ``text`` that look like patient data, in text order, with offsets into ``text``."""
    if not text or not text.strip():
        return []
    cleaned = clean(text)
    primary = (language or "").split("-")[0].split("_")[0].casefold()  # "de-CH" is German
    lang = primary if primary in {"de", "en", "tr", "ja"} else guess_language(cleaned.text)
    post = _Post(text=cleaned.text, language=lang or "en")
    post.masked = _Intervals(
        [match.span() for match in URL.finditer(post.text)] + [match.span() for match in HASHTAG.finditer(post.text)]
    )
    proposals: list[PhiSpan] = []
    proposals += _emails(post)
    proposals += _url_parameters(post)
    proposals += _identifiers(post)
    proposals += _addresses(post)
    proposals += _dates(post)
    proposals += _phones(post)
    names = _names(post)
    post.conditions = [
        match.span()
        for match in condition_pattern(post.language).finditer(post.text)
        if not _NOT_A_CONDITION_AFTER.match(_after(post, match.end(), 16))
    ]
    post.person = (
        bool(names)
        or _individual_cues(post)
        or any(span.label in {RECORD_ID, INSURANCE_ID, NATIONAL_ID} for span in proposals)
    )
    proposals = [_phone_owner(post, span, names) for span in proposals]
    # An address is a private person's in a post about a person; else (an event's venue) the organisation's.
    proposals = [
        PhiSpan(span.start, span.end, span.label, HIGH if post.person else LOW, span.reason)
        if span.label == ADDRESS and span.sensitivity == _UNDECIDED
        else span
        for span in proposals
    ]
    proposals += names
    proposals = _dates_after_names(post, proposals, names)
    proposals += _locations(post)
    proposals += _ages(post)
    proposals += _diagnoses(post)
    proposals = [span for span in proposals if post.person or span.label not in NEEDS_PERSON]
    kept = _resolve(proposals)
    return [_written(span, cleaned, text) for span in kept]


def _dates_after_names(post: _Post, proposals: list[PhiSpan], names: list[PhiSpan]) -> list[PhiSpan]:
    """A full date right after a person's name is their birth date.

    "WHITCOMBE E, 14/03/1937", "藤原 千尋 様 1988/07/19".
    """
    this_year = dt.datetime.now(tz=dt.UTC).year
    births = {(span.start, span.end) for span in proposals if span.label == DATE_OF_BIRTH}
    added: list[PhiSpan] = []
    for start, end in post.dates:
        if (start, end) in births:
            continue
        year = re.search(r"(?:19|20)\d{2}", post.text[start:end])
        if year is None or int(year.group()) > this_year:
            continue
        if any(
            0 <= start - name.end <= 6 and re.fullmatch(r"[\s,(（様さん]*", post.text[name.end : start])
            for name in names
        ):
            added.append(_span(post, start, end, DATE_OF_BIRTH, HIGH, "date_after_name"))
    if not added:
        return proposals
    spans = {(span.start, span.end) for span in added}
    return [span for span in proposals if (span.start, span.end) not in spans] + added


def _written(span: PhiSpan, cleaned: Clean, text: str) -> PhiSpan:
    start, end = cleaned.span(span.start, span.end)
    return PhiSpan(start, end, span.label, span.sensitivity, span.reason, text[start:end])


def _resolve(proposals: list[PhiSpan]) -> list[PhiSpan]:
    rank = {label: position for position, label in enumerate(PRIORITY)}
    ordered = sorted(proposals, key=lambda span: (rank[span.label], -(span.end - span.start), span.start))
    kept: list[PhiSpan] = []
    taken = _Intervals()
    for span in ordered:
        if span.end <= span.start or taken.overlaps(span.start, span.end):
            continue
        kept.append(span)
        taken.add(span.start, span.end)
    return sorted(kept, key=lambda span: (span.start, span.end))


def _span(post: _Post, start: int, end: int, label: str, sensitivity: str, reason: str) -> PhiSpan:
    # Trim spaces and punctuation the patterns let in at the edges.
    while start < end and post.text[start] in " \t\n,;:.(（「“\"'":
        if post.text[start] == "(" and ")" in post.text[start:end]:
            break  # "(212) 555-0147": the bracket belongs to the number
        start += 1
    while end > start and post.text[end - 1] in " \t\n,;:(（「“\"'":
        end -= 1
    return PhiSpan(start, end, label, sensitivity, reason)


def _before(post: _Post, start: int, width: int = 40) -> str:
    return post.text[max(0, start - width) : start]


def _after(post: _Post, end: int, width: int = 40) -> str:
    return post.text[end : end + width]


# How far a sentence reaches on each side of a passage: a run-on text with no full stop must not
# make every date read the whole post (a 95,000-character paste took 35 s).
SENTENCE_REACH = 300


def _sentence(post: _Post, start: int, end: int) -> str:
    """Return the sentence around ``[start, end)`` (cut at . ! ? 。 and line ends, not at abbreviations)."""
    left = start
    floor, ceiling = max(0, start - SENTENCE_REACH), min(len(post.text), end + SENTENCE_REACH)
    while left > floor:
        char = post.text[left - 1]
        if char in "\n!?。！？" or (
            char == "." and post.text[left : left + 1] in {" ", "\n"} and _ends_word(post, left - 1)
        ):
            break
        left -= 1
    right = end
    while right < ceiling:
        char = post.text[right]
        if char in "\n!?。！？":
            break
        if char == "." and right + 1 < len(post.text) and post.text[right + 1] in " \n" and _ends_word(post, right):
            break
        right += 1
    return post.text[left:right]


_ABBREVIATIONS = frozenset(
    [
        "dr",
        "prof",
        "med",
        "geb",
        "nr",
        "no",
        "str",
        "tel",
        "fr",
        "hr",
        "mr",
        "mrs",
        "ms",
        "st",
        "ave",
        "dipl",
        "ing",
        "uzm",
        "op",
        "doç",
        "sn",
        "vs",
        "ca",
        "etc",
        "bzw",
        "inkl",
        "jan",
        "feb",
        "mär",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "oct",
        "nov",
        "dez",
        "dec",
        "z.b",
        "u.a",
        "d.h",
        "v.a",
        "a",
    ]
)


def _ends_word(post: _Post, dot: int) -> bool:
    """Whether the full stop at ``dot`` ends a sentence rather than an abbreviation or an ordinal."""
    word = re.search(r"([\wäöüß.]+)$", post.text[max(0, dot - 12) : dot])
    if word is None:
        return True
    token = word.group(1).casefold()
    return not (token in _ABBREVIATIONS or token.isdigit() or len(token) == 1)


# E-mail ---------------------------------------------------------------------------------------------

EMAIL_PATTERN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A mailbox of the organisation (department, hotline, role) rather than of a person.
_ORG_DOMAIN = re.compile(
    r"klinik|clinic|hospital|hosp|krankenhaus|health|hastane|saglik|sağlık|byoin|medical|medizin|"
    r"uniklinik|praxis|charite|spital|kh-|\.gov|\.edu|ärzte|aerzte|pflege|care",
    re.IGNORECASE,
)
_ROLE_MAILBOX = re.compile(
    r"^(?:info|kontakt|contact|presse|press|pr|jobs?|karriere|careers?|bewerbung|ausbildung|ik|hr|saiyo|security|"
    r"veranstaltungen|events?|service|team|office|sekretariat|empfang|anmeldung|recruiting|marketing|"
    r"kommunikation|patientenservice|noreply|no-reply|datenschutz|privacy|dpo|social|web|hello|hallo|mail|post|"
    r"zentrale|notaufnahme|spenden|donate|volunteer|ehrenamt|bilgi|iletisim|halkla|uketsuke|soudan|koho)\b",
    re.IGNORECASE,
)


def _emails(post: _Post) -> Iterator[PhiSpan]:
    for match in EMAIL_PATTERN.finditer(post.text):
        local, _at, domain = match.group().partition("@")
        organisational = bool(_ORG_DOMAIN.search(domain) or _ROLE_MAILBOX.search(local)) or not _personal_mailbox(local)
        yield _span(
            post, *match.span(), EMAIL, LOW if organisational else HIGH, "email_org" if organisational else "email"
        )


_DEPARTMENT_MAILBOX = re.compile(
    r"logie|klinik|station|ambulanz|bibliothek|library|pharmacy|apotheke|chirurgie|surgery|zentrum|center|centre|"
    r"abteilung|dept|servis|birim|poliklinik|labor|radiolog|pflege|nursing|kita|schule|school|akademie|academy",
    re.IGNORECASE,
)


def _personal_mailbox(local: str) -> bool:
    """Whether a mailbox's name looks like a person's: a given name in it, digits, or an initial and a name."""
    if _DEPARTMENT_MAILBOX.search(local):
        return False
    parts = [part for part in re.split(r"[._+-]|\d+", ascii_fold(local)) if part]
    names = ascii_given_names()
    return (
        any(part in names for part in parts)
        or bool(re.search(r"\d", local))
        or bool(re.fullmatch(r"[a-z]\.[a-z]{2,}", local.casefold()))
    )


# Link query strings ---------------------------------------------------------------------------------

_PARAMETER = re.compile(r"[?&;]([\w.-]+)=([^&#\s]+)")
_PARAMETER_LABELS = {
    "name": PATIENT_NAME,
    "patient": PATIENT_NAME,
    "patientname": PATIENT_NAME,
    "firstname": PATIENT_NAME,
    "lastname": PATIENT_NAME,
    "vorname": PATIENT_NAME,
    "nachname": PATIENT_NAME,
    "dob": DATE_OF_BIRTH,
    "birthdate": DATE_OF_BIRTH,
    "geburtsdatum": DATE_OF_BIRTH,
    "mrn": RECORD_ID,
    "pid": RECORD_ID,
    "patientid": RECORD_ID,
    "patient_id": RECORD_ID,
    "fallnummer": RECORD_ID,
    "case": RECORD_ID,
    "email": EMAIL,
    "mail": EMAIL,
    "phone": PHONE,
    "tel": PHONE,
}


def _url_parameters(post: _Post) -> Iterator[PhiSpan]:
    """A link's query string that carries a patient's name or number (``?patient=…&dob=…``).

    The rest of a URL is not read.
    """
    for match in URL.finditer(post.text):
        for parameter in _PARAMETER.finditer(match.group()):
            label = _PARAMETER_LABELS.get(parameter.group(1).casefold())
            if label is not None and len(parameter.group(2)) >= 2:
                start = match.start() + parameter.start(2)
                yield _span(post, start, start + len(parameter.group(2)), label, HIGH, "url_parameter")


# Identifiers --------------------------------------------------------------------------------------

_ID_VALUE = r"([A-Z0-9][A-Z0-9./-]*\d[A-Z0-9]*(?:[ -]\d{2,}){0,3})"
_CUE_GAP = r"\s*(?:[:#：]|No\.?|Nr\.?|number|numarası|n[oº]\.?)?\s*[:#：]?\s*[(（]?\s*"
_RECORD_CUES = (
    r"MRN|PID|(?<![\w-])ID(?=\s*[:#]?\s*\d)|Vorgang(?:snummer)?|Bezugsnummer|Fall[- ]?(?:nummer|nr\.?)|Fall-Nr\.?|"
    r"Patienten[- ]?(?:ID|nummer|nr\.?)|Aufnahmenummer|Aktenzeichen|"
    r"medical record(?: number| no\.?)?|record (?:number|no\.?)|case (?:number|no\.?)|chart (?:number|no\.?)|"
    r"patient (?:ID|number|no\.?)|hospital number|hasta (?:no|numarası|numarasi)|protokol (?:no|numarası)|"
    r"dosya (?:no|numarası)|カルテ番号|診察券番号|患者ID|患者番号|ID番号"
)
_INSURANCE_CUES = (
    r"Versichertennummer|Krankenversichertennummer|Versicherungsnummer|KVNR|Versicherten-Nr\.?|"
    r"Medicare (?:ID|number|no\.?|card)|MBI|NHS (?:number|no\.?)|policy (?:number|no\.?)|member (?:ID|number)|"
    r"insurance (?:ID|number|no\.?)|poliçe (?:no|numarası)|sigorta (?:no|numarası)|"
    r"被保険者番号|保険証番号|記号番号"
)
_NATIONAL_CUES = (
    r"T\.?\s?C\.?\s?Kimlik(?:\s?No\.?|\s?numarası)?|T\.C\.|TCKN|マイナンバー|個人番号|SSN|"
    r"Social Security (?:number|no\.?)|"
    r"Personalausweis(?:nummer)?|Ausweisnummer|Ausweis-Nr\.?|passport (?:number|no\.?)|Reisepassnummer|pasaport no"
)
_CUED = re.compile(
    rf"(?P<cue>(?P<record>{_RECORD_CUES})|(?P<insurance>{_INSURANCE_CUES})|(?P<national>{_NATIONAL_CUES})){_CUE_GAP}"
    + _ID_VALUE,
    re.IGNORECASE,
)
# Examples and specimens, not a person's number ("Beispiel", "sample", "Muster").
_SAMPLE = re.compile(
    r"(?<![@.\w-])(?:sample|example|Beispiel|Muster\w*|örnek|dummy|placeholder|e\.g\.|z\.\s?B\.)(?![.\w-])|見本|サンプル|記入例",
    re.IGNORECASE,
)

_CUE_AFTER = re.compile(
    r"(?<![\w-])([A-Z]{0,4}-?\d[\d-]{5,}\d)\s+((?:poliçe|sigorta|hasta|dosya|protokol|kimlik)\s+(?:no|numarası|numaranız|numaralı)\w*)",
    re.IGNORECASE,
)
_ID_CARD = re.compile(r"(?<![\w-])(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[CFGHJKLMNPRTVWXYZ0-9]{9}\d(?![\w-])")
_KVNR = re.compile(r"(?<![\w-])[A-Z]\d{9}(?![\w-])")
_MBI_ANY = re.compile(r"(?<![\w-])[1-9][A-Z][A-Z0-9]\d-?[A-Z][A-Z0-9]\d-?[A-Z]{2}\d{2}(?![\w-])")
_ELEVEN = re.compile(r"(?<![\d-])[1-9]\d{10}(?![\d-])")
_TWELVE = re.compile(r"(?<![\d-])\d{4}[ -]?\d{4}[ -]?\d{4}(?![\d-])")
_NHS = re.compile(r"(?<![\d-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")


def _identifiers(post: _Post) -> Iterator[PhiSpan]:
    taken = _Intervals()
    for match in _CUED.finditer(post.text):
        if post.masked_at(*match.span()) or _SAMPLE.search(_before(post, match.start(), 25)):
            continue
        if _PLACEHOLDER.search(_sentence(post, *match.span())):
            continue  # the number on an example form ("John Doe: 1EG4-TE5-MK73")
        label = RECORD_ID if match.group("record") else INSURANCE_ID if match.group("insurance") else NATIONAL_ID
        value_start = match.start(len(match.groups()))
        value = match.group(len(match.groups())).rstrip(".-/")
        if sum(char.isdigit() for char in value) < 4:
            continue
        taken.add(value_start, value_start + len(value))
        yield _span(post, value_start, value_start + len(value), label, HIGH, "id_cue")

    # Turkish puts the noun after the number: "TSS-88104273 poliçe numaranız", "2027004513 numaralı dosya".
    for match in _CUE_AFTER.finditer(post.text):
        start, end = match.span(1)
        if post.masked_at(start, end) or taken.overlaps(start, end):
            continue
        cue = match.group(2).casefold()
        label = INSURANCE_ID if cue.startswith(("poliçe", "sigorta")) else NATIONAL_ID if "kimlik" in cue else RECORD_ID
        taken.add(start, end)
        yield _span(post, start, end, label, HIGH, "id_cue")

    def free(start: int, end: int) -> bool:
        return not post.masked_at(start, end) and not taken.overlaps(start, end)

    checks = (
        (_KVNR, ids.kvnr_valid, INSURANCE_ID, "id_kvnr"),
        (_MBI_ANY, ids.mbi_valid, INSURANCE_ID, "id_mbi"),
        (_ELEVEN, ids.tc_kimlik_valid, NATIONAL_ID, "id_tc"),
        (_TWELVE, ids.my_number_valid, NATIONAL_ID, "id_my_number"),
        (_SSN, ids.ssn_plausible, NATIONAL_ID, "id_ssn"),
        (_NHS, ids.nhs_valid, INSURANCE_ID, "id_nhs"),
        (_ID_CARD, ids.german_id_card_valid, NATIONAL_ID, "id_card"),
    )
    for pattern, valid, label, reason in checks:
        for match in pattern.finditer(post.text):
            if not free(*match.span()) or not valid(match.group()):
                continue
            before = _before(post, match.start(), 30)
            sentence = _sentence(post, *match.span())
            if (
                _SAMPLE.search(sentence)
                or _PLACEHOLDER.search(sentence)
                or (reason == "id_nhs" and _PHONE_CUE.search(before))
            ):
                continue
            taken.add(*match.span())
            yield _span(post, *match.span(), label, HIGH, reason)


# Addresses ----------------------------------------------------------------------------------------

_UPPER = "A-ZÄÖÜÇĞİŞ"
_LOWER = "a-zäöüßçğıöşü"
_ADDRESS_PATTERNS = (
    # Lindenweg 7, 79098 Freiburg · Hauptstraße 12a · Am Markt 3, 72070 Tübingen
    re.compile(
        rf"(?<!\w)[{_UPPER}][{_LOWER}-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|steig|pfad|chaussee|"
        rf"stieg|graben|markt)\s+\d{{1,4}}\s?[a-z]?(?:\s*,\s*(?:D-)?\d{{5}}\s+[{_UPPER}][{_LOWER}-]+(?:\s+[{_UPPER}][{_LOWER}-]+)?)?"
    ),
    # 482 Birch Lane, Dayton, OH 45402
    re.compile(
        r"(?<![\w,])\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.|"
        r"Boulevard|Blvd\.?|Court|Ct\.?|Way|Place|Pl\.?|Terrace|Circle|Parkway)"
        r"(?:,?\s+(?:Apt\.?|Suite|Unit)\s*\w+)?(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
    ),
    # Bağdat Caddesi No: 214 D: 5, Kadıköy/İstanbul
    re.compile(
        rf"(?<!\w)[{_UPPER}][{_LOWER}]+\s+(?:Caddesi|Cad\.|Sokak|Sokağı|Sok\.|Bulvarı|Blv\.|Mahallesi|Mah\.)"
        rf"(?:\s+[{_UPPER}][{_LOWER}]+\s+(?:Sokak|Sokağı|Sok\.|Caddesi|Cad\.))?\s*(?:No|Nr)\s*[:.]?\s*\d+[\w/]*"
        rf"(?:\s*(?:D|Daire)\s*[:.]?\s*\d+)?(?:\s*,\s*[{_UPPER}][{_LOWER}]+(?:\s*/\s*[{_UPPER}][{_LOWER}]+)?)?"
    ),
    # 東京都世田谷区桜丘3-12-5 · 大阪府大阪市北区梅田1丁目2番3号
    re.compile(
        r"(?:東京都|北海道|大阪府|京都府|[\u4e00-\u9fff]{2,3}県)[\u4e00-\u9fff\u3040-\u30ff]{1,12}?"
        r"(?:\d+(?:-\d+){1,3}|\d+丁目\d+(?:番地?\d*(?:号)?)?)"
    ),
)
_ORG_ADDRESS = re.compile(
    r"\b(?:unser(?:e|em)?\s+(?:Haus|Klinik|Klinikum|Standort|Campus)|Anfahrt|Adresse des|"
    r"our (?:hospital|campus|clinic)|"
    r"hastanemiz|Klinikum|Hospital|Krankenhaus)\b|当院|所在地",
    re.IGNORECASE,
)


def _addresses(post: _Post) -> Iterator[PhiSpan]:
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(post.text):
            if post.masked_at(*match.span()):
                continue
            organisational = bool(_ORG_ADDRESS.search(_before(post, match.start(), 50)))
            yield _span(post, *match.span(), ADDRESS, LOW if organisational else _UNDECIDED, "address")


# Dates --------------------------------------------------------------------------------------------

_MONTHS = {
    "de": r"Januar|Jänner|Jan\.?|Februar|Feb\.?|März|Mär\.?|April|Apr\.?|Mai|Juni|Jun\.?|Juli|Jul\.?|August|Aug\.?|"
    r"September|Sept?\.?|Oktober|Okt\.?|November|Nov\.?|Dezember|Dez\.?",
    "en": r"January|Jan\.?|February|Feb\.?|March|Mar\.?|April|Apr\.?|May|June|Jun\.?|July|Jul\.?|August|Aug\.?|"
    r"September|Sept?\.?|October|Oct\.?|November|Nov\.?|December|Dec\.?",
    "tr": r"Ocak|Şubat|Mart|Nisan|Mayıs|Haziran|Temmuz|Ağustos|Eylül|Ekim|Kasım|Aralık",
}
_ALL_MONTHS = "|".join(_MONTHS.values())
_DATE_PATTERNS = (
    re.compile(r"(?<![\d.:/-])\d{4}[-/]\d{1,2}[-/]\d{1,2}(?![\d-])"),
    re.compile(r"(?<![\d.:/-])\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})(?!\d|[./:-]\d)"),
    # 12. Mai 1950 · 12 May 1950 · 12 Mayıs 2027 · 3. März
    re.compile(rf"(?<![\w.])\d{{1,2}}\.?\s+(?:{_ALL_MONTHS})(?!\w)(?:\s+\d{{4}})?"),
    # May 12th · March 3, 2026 · Feb. 6
    re.compile(rf"(?<!\w)(?:{_MONTHS['en']})(?!\w)\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d)(?:,?\s+\d{{4}})?"),
    # 1950年5月12日 · 4月3日 · 昭和25年5月12日 · 2027年1月1日
    re.compile(
        r"(?:(?:明治|大正|昭和|平成|令和)\s?\d{1,2}|\d{4})年\s?\d{1,2}月\s?\d{1,2}日|(?<!\d)\d{1,2}月\s?\d{1,2}日"
    ),
)
# A birth year alone, after or before the words that make it one.
_BIRTH_YEAR = re.compile(
    r"(?:\b(?:geb\.|geboren|born(?:\s+in)?|Jahrgang|b\.|DOB:?|Geburtsjahr)\s*(?:am\s+|in\s+)?)((?:19|20)\d{2})(?![\d]|[-./]\d)"
    r"|(?<![\d./-])((?:19|20)\d{2})\s*(?:doğumlu|yılında doğdu|年生まれ|年生)",
    re.IGNORECASE,
)
_BIRTH_BEFORE = re.compile(
    r"(?:\bgeb(?:oren)?\.?|\bborn\b|\bb\.|\bDOB\b|\bD\.O\.B\.|date of birth|Geburtsdatum|Geburtstag am|birthday|"
    # 生まれ follows its date (1950年5月12日生まれ: `_BIRTH_AFTER`); before one it is only a label.
    r"doğum tarihi|生年月日|生まれ[:：])[^\n.!?。]{0,25}$",
    re.IGNORECASE,
)
_BIRTH_AFTER = re.compile(r"^\s*(?:'?[dt]e\s+)?(?:doğumlu|生まれ|年生まれ|geboren)", re.IGNORECASE)
# The sentence tells of a birth (a newborn's date of birth is its date of birth).
_BIRTH_EVENT = re.compile(
    r"zur Welt|geboren|das Licht der Welt|Geburt|born|birth\b|newborn|welcome (?:baby|little)|"
    r"dünyaya (?:gel|gözlerini)|"
    r"doğdu|doğum|誕生|生まれ|出生|\d[.,]?\d{3}\s?(?:g|gram|Gramm|grams)\b|\d+\s?lb\s+\d+\s?oz|\d{3,4}\s?グラム",
    re.IGNORECASE,
)
# The sentence tells what happened to a person: admitted, operated, treated, discharged.
_PERSON_EVENT = re.compile(
    r"eingeliefert|aufgenommen|kam (?:am|mit|zu uns)|operiert|behandel|therapiert|entlassen|verlegt|reanimiert|"
    r"admitted|brought in|flown|underwent|performed|operated|treated|diagnosed|discharged|transferred|rushed|"
    r"resuscitated|had (?:a|an|her|his) |oldu|yatırıldı|kaldırıldı|ameliyat edildi|taburcu|tedavi|getirildi|"
    r"搬送|入院|手術|治療|退院|診断|受診|運ばれ|を受け",
    re.IGNORECASE,
)
# The date is one of the organisation's (an event, a deadline, a commemorative day), not a person's.
_EVENT_CUE = re.compile(
    r"join us (?:for|on|at)|join our|save the date|open day|Tag der|lädt|laden|findet|statt|Anmeldung|register|"
    r"sign up|apply by|"
    r"deadline|Bewerbung|Frist|bis zum|ab dem|ab sofort|Veranstaltung|Vortrag|Infoabend|Sprechstunde|"
    # "Dünya Kalp Günü" names a day; "17.09.2027 günü" is "on 17.09.2027".
    r"\bDay\b|World|Welt\w*tag|Bayram|(?<=[^\W\d]\s)[Gg]ünü|etkinlik|son başvuru|başvuru|davet|"
    r"の日|デー|開催|イベント|お知らせ|投稿|説明会|募集|締切|予定",
    re.IGNORECASE,
)


def _dates(post: _Post) -> Iterator[PhiSpan]:
    found = _Intervals()
    born_in: set[str] = set()  # sentences with a date of birth found by its cue word
    this_year = dt.datetime.now(tz=dt.UTC).year
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(post.text):
            start, end = match.span()
            if post.masked_at(start, end) or found.overlaps(start, end):
                continue
            if not _plausible_date(match.group()):
                continue
            found.add(start, end)
            post.dates.append((start, end))
            year = re.search(r"(?:19|20|18|17)\d{2}", match.group())
            if year is not None and int(year.group()) < 1900:
                continue  # history: nobody born then is a patient now
            sentence = _sentence(post, start, end)
            if _BIRTH_BEFORE.search(_before(post, start, 40)) or _BIRTH_AFTER.search(_after(post, end, 12)):
                born_in.add(sentence)
                yield _span(post, start, end, DATE_OF_BIRTH, HIGH, "date_birth_cue")
            elif (
                _AFTER_NAME.search(_before(post, start, 40))
                and re.match(r"\s*\)", _after(post, end, 3))
                and re.search(r"\d{4}", match.group())
            ):
                yield _span(post, start, end, DATE_OF_BIRTH, HIGH, "date_after_name")
            # The sentence's birth word is another date's ("born 3 Nov 1943, operated on 28 Oct"): not this one's.
            elif _BIRTH_EVENT.search(sentence) and not _EVENT_CUE.search(sentence) and sentence not in born_in:
                yield _span(post, start, end, DATE_OF_BIRTH, HIGH, "date_birth_event")
            elif (_PERSON_EVENT.search(sentence) or _has_condition(post, sentence)) and not _EVENT_CUE.search(sentence):
                yield _span(post, start, end, EVENT_DATE_OF_PERSON, HIGH, "date_person_event")
    for match in _BIRTH_YEAR.finditer(post.text):
        group = 1 if match.group(1) else 2
        start, end = match.span(group)
        if found.overlaps(start, end):
            continue  # the year of a full date found above
        if "jahrgang" in match.group().casefold() and int(match.group(group)) > this_year - 5:
            continue  # "Jahrgang 2028": a class of trainees, not a birth year
        found.add(start, end)
        yield _span(post, start, end, DATE_OF_BIRTH, HIGH, "date_birth_cue")


# "Max Muster (12.05.1961)": a full date in brackets right after a name is that person's birthday.
_AFTER_NAME = re.compile(rf"(?:{'|'.join(['[' + 'A-ZÄÖÜÇĞİŞ' + '][' + 'a-zäöüßçğıöşü' + ']+'])})\s*\(\s*$")


def _plausible_date(value: str) -> bool:
    numbers = [int(number) for number in re.findall(r"\d+", value)]
    if re.fullmatch(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}", value):
        return 1 <= numbers[1] <= 12 and 1 <= numbers[2] <= 31
    if re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", value):
        first, second = numbers[0], numbers[1]
        return 1 <= first <= 31 and 1 <= second <= 31 and (first <= 12 or second <= 12)
    return True


def _has_condition(post: _Post, sentence: str) -> bool:
    return bool(condition_pattern(post.language).search(sentence))


# Phone numbers ------------------------------------------------------------------------------------

_PHONE_PATTERN = re.compile(r"(?<![\w+/.,-])(?:\+|00)?\(?\d[\d ()./-]{4,}\d(?![\w/-]|[.,]\d)")
_EMERGENCY = re.compile(r"(?<![\d.,])(?:112|110|911|999|116\s?117|116\s?111|19222|144|155|119)(?!\d|[.,]\d)")
_DIAL_CUE = re.compile(
    r"(?:wählen|anrufen|rufen|Notruf|call|dial|text|arayın|arayabilirsiniz|ara|電話|ダイヤル)[^\n.!?。]{0,20}$",
    re.IGNORECASE,
)
_PHONE_CUE = re.compile(
    r"(?:Tel\.?|Telefon|Fon|Phone|phone|call|Handy|Mobil\w*|mobile|cell|cep|GSM|text|Fax|電話|携帯|TEL)[^\n]{0,12}$",
    re.IGNORECASE,
)
# Numbers of the organisation: switchboard, hotline, department, service line.
_ORG_PHONE = re.compile(
    r"Zentrale|Telefonzentrale|Hotline|Service|Anmeldung|Info|Sekretariat|Notaufnahme|Team|Abteilung|Station|"
    r"Ambulanz|Sprechstunde|Pforte|Empfang|Bürgertelefon|Kontakt|Auskunft|main line|switchboard|Security|Desk|"
    r"office|department|scheduling|appointment|helpline|hotline|front desk|reception|Call Center|çağrı merkez|"
    r"santral|bilgi için|randevu|danışma|birim|代表|お問い合わせ|問い合わせ|受付|窓口|予約|センター|相談",
    re.IGNORECASE,
)
# Private: mobile ranges (DE 015x-017x, UK 07, TR 05xx, JP 070/080/090), or said so.
_MOBILE = re.compile(r"^(?:\+49\s?0?1[5-7]|01[5-7]|\+44\s?0?7|07\d{3}|\+90\s?0?5|0\s?5\d{2}|\+81\s?0?[789]0|0[789]0)")
_PRIVATE_PHONE = re.compile(
    r"privat|private|home|zu Hause|mobile|Handy|cep|自宅|携帯|dad|mom|mother|father|Vater|Mutter|Tochter|Sohn",
    re.IGNORECASE,
)


def _phones(post: _Post) -> Iterator[PhiSpan]:
    for match in _PHONE_PATTERN.finditer(post.text):
        start, end = match.span()
        value = match.group()
        digits = sum(char.isdigit() for char in value)
        if digits < 7 or digits > 15 or post.masked_at(start, end):
            continue
        if re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,3}(?:[.,]\d{3})+", value.strip()):
            continue  # a date, or a figure with thousands separators
        if value.strip().isdigit() and not value.strip().startswith("0"):
            continue  # one run of digits without a trunk prefix: a number of another kind
        if re.search(r"\d[.:]\d{2}\s?-\s?\d", value) and digits <= 8:
            continue  # a time range (10.00-15.00)
        if re.fullmatch(r"(?:1[89]|20)\d{2}\s?-\s?(?:(?:1[89]|20)\d{2}|\d{4})", value.strip(" ()")):
            continue  # years (1902-1979) or a year and a number (2027-0412)
        yield _span(post, start, end, PHONE, _phone_sensitivity(post, start, value), "phone")
    for match in _EMERGENCY.finditer(post.text):
        after = _after(post, match.end(), 12)
        if re.match(r"\s*(?:Betten|beds|yatak|床|Jahre|years|yıl|年|Mitarbeit|staff|%|€|\$)", after):
            continue
        if not post.masked_at(*match.span()):
            yield _span(post, *match.span(), PHONE, LOW, "phone_emergency")


def _phone_sensitivity(post: _Post, start: int, value: str) -> str:
    before = _before(post, start, 60)
    line_start = post.text.rfind("\n", 0, start) + 1
    clause = post.text[max(line_start, start - 60) : start]
    if _MOBILE.search(value.strip()) or _PRIVATE_PHONE.search(clause[-40:]):
        return HIGH
    if _ORG_PHONE.search(before) or re.search(r"-0$|^\(?0?\d{2,5}\)?[ /-]?\d{2,4}[ -]0$", value.strip()):
        return LOW
    if post.language == "tr" and re.match(r"(?:444|0850|0800)", value.strip()):
        return LOW
    return _UNDECIDED


# Decided once the names are known: a patient's name just before, in the same line, makes it theirs.
_UNDECIDED = "undecided"


def _phone_owner(post: _Post, phone: PhiSpan, names: list[PhiSpan]) -> PhiSpan:
    if phone.label != PHONE or phone.sensitivity != _UNDECIDED:
        return phone
    line_start = post.text.rfind("\n", 0, phone.start) + 1
    near = any(line_start <= name.start and phone.start - name.end <= 80 and name.end <= phone.start for name in names)
    return PhiSpan(phone.start, phone.end, PHONE, HIGH if near else LOW, phone.reason)


# Names --------------------------------------------------------------------------------------------

_WORD = (
    rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}]?[{_LOWER}]+)?|Mac[{_UPPER}][{_LOWER}]+|O'[{_UPPER}][{_LOWER}]+|"
    rf"Mc[{_UPPER}][{_LOWER}]+"
)
_CAPITALISED = re.compile(rf"(?<![\w'’-])(?:{_WORD})(?![\w])")
_HONORIFIC_BEFORE = re.compile(
    r"(?:\b(?:Herr|Herrn|Hr\.|Frau|Fr\.|Pat\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Mister|Coach|Patientin|patient|Sayın|Bay|Bayan|"
    r"Familie|family|Baby|baby|bebek|kleine[nr]?|little|Oma|Opa|Grandma|Grandpa|Tante|Onkel|Anne|Baba|anne|baba|"
    r"Mama|Papa|mom|dad|Mom|Dad|Vater|Mutter|Tochter|Sohn|Eltern|parents?|wife|husband|son|daughter|Ehefrau|Ehemann)"
    r"\s+)$"
)
_HONORIFIC_AFTER = re.compile(
    r"^(?:'[\w]+)?\s+(?:Bey|Hanım|amca|amcamız|teyze|teyzemiz|nine|ninemiz\w*|dede|dedemiz\w*|abla|ağabey)\b"
)
# Who is named in their role: a title before, a role next to the name.
_STAFF_BEFORE = re.compile(
    r"(?:\b(?:Dr|Prof|PD|Doz|Dipl|Uzm|Op|Doç|Yrd|Hemşire|Ebe|Dyt|Fzt|Psk)\.?(?:\s*(?:med|rer|nat|dent|Dr|Prof)\.)*"
    rf"\s+(?:[{_UPPER}][{_LOWER}]+\s+)?$|"
    r"\b(?:[Mm]üdür\w*|[Ss]orumlusu|[Kk]oordinatör\w*|[Bb]aşhekim\w*|[Bb]aşkanı|Leiterin|Leiter|Chef\w*)\s+$|"
    r"\b(?:Chefarzt|Chefärztin|Oberarzt|Oberärztin|Assistenzarzt|Assistenzärztin|Ärztin|Arzt|Pflegedirektor(?:in)?|"
    r"Pflegedienstleitung|Pflegekraft|Pflegefachkraft|Pfleger(?:in)?|Krankenschwester|Stationsleitung|Hebamme|"
    r"Physiotherapeut(?:in)?|Therapeut(?:in)?|Kollege|Kollegin|Mitarbeiter(?:in)?|Ansprechpartner(?:in)?|"
    r"Geschäftsführer(?:in)?|Direktor(?:in)?|Leiter(?:in)?|Sprecher(?:in)?|Seelsorger(?:in)?|Koch|Köchin|"
    r"Azubi|Auszubildende[rn]?|Stationsleiter(?:in)?|Vorlesepat(?:e|in)|Ehrenamtliche[rn]?|Praktikant(?:in)?|"
    r"Schüler(?:in)?|Studentin|Student|Lotsin|Lotse|Hausmeister|trainee|intern|resident|student|"
    r"nurse|Nurse|doctor|Doctor|surgeon|physician|cardiologist|oncologist|chef|recruiter|CEO|director|Director|"
    r"manager|Manager|president|President|therapist|midwife|chaplain|colleague|volunteer|coordinator|RN|"
    r"hemşire(?:miz)?|doktor(?:umuz)?|başhekim|müdür|uzman|personelimiz|ebemiz)\s*:?\s+)$"
)
_STAFF_AFTER = re.compile(
    r"^(?:,?\s*(?:RN|MD|DO|PhD|NP|PA|MBA|MSN|BSN|FACS|M\.D\.)\b|,\s+(?:our|unser\w*|the|die|der)\s+(?:new\s+|neue[rn]?\s+)?"
    r"(?:\w+\s+){0,2}(?:nurse|doctor|surgeon|physician|cardiologist|chef|director|manager|Ärztin|Arzt|Chefarzt|"
    r"Chefärztin|Pflege\w*|Leiter\w*|Kolleg\w*)|\s+(?:als|as)\s+(?:neue[rn]?\s+|new\s+|our\s+)?[\w-]*(?:ärztin|arzt|"
    r"direktor\w*|leiter\w*|nurse|doctor|director|chief|head|manager)|\s*,?\s*(?:our\s+)?Nurse of the Year)",
    re.IGNORECASE,
)
# Words that look like names but are not, at a sentence's start or in a title.
# Titles are never a name's part ("Frau Dr. Demir" is a doctor).
_TITLES = frozenset(["dr", "prof", "med", "doz", "dipl", "uzm", "op", "doç", "yrd", "pd"])
_NOT_NAMES = frozenset(
    [
        "can",
        "may",
        "will",
        "mark",
        "bill",
        "grace",
        "rose",
        "hope",
        "joy",
        "ray",
        "rich",
        "art",
        "sun",
        "deniz",
        "gül",
        "nur",
        "umut",
        "barış",
        "bahar",
        "ece",
        "doğan",
        "august",
        "paula",
        "sterling",
        "will",
    ]
)


def _names(post: _Post) -> list[PhiSpan]:
    if post.language == "ja":
        return _japanese_names(post)
    found: list[PhiSpan] = []
    given = given_names_latin()
    public = public_figures()
    dates = _Intervals(post.dates)
    tokens = [
        match
        for match in _CAPITALISED.finditer(post.text)
        if not post.masked_at(*match.span()) and not dates.overlaps(*match.span())
    ]
    used: set[int] = set()
    candidates: list[tuple[int, int, str]] = []  # start, end, reason
    for index, token in enumerate(tokens):
        if index in used:
            continue
        word = token.group()
        # A possessive or a Turkish case ending after an apostrophe is not the name (Tyler's, Elif'in).
        folded = re.split(r"['’]", word)[0].casefold()
        if folded in _TITLES:
            continue
        before = _before(post, token.start(), 30)
        cue = _HONORIFIC_BEFORE.search(before)
        is_given = folded in given
        if (
            cue
            and _STAFF_BEFORE.search(before) is None
            and re.match(r"\s*(?:Dr|Prof|Uzm|Op|Doç)\b", post.text[token.start() :])
        ):
            continue
        if not (is_given or cue):
            # "Bauer, Heinz": a surname, a comma, a given name (lists, boards, wristbands).
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if (
                following is not None
                and post.text[token.end() : following.start()] == ", "
                and following.group().casefold() in given
                and following.group().casefold() not in _NOT_NAMES
            ):
                candidates.append((token.start(), following.end(), "name_list"))
                used.add(index + 1)
            continue
        if is_given and not cue and folded in _NOT_NAMES and not re.search(r"['’]\w+$", word):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or post.text[token.end() : following.start()] != " ":
                continue
        end = token.end()
        # The surname(s): capitalised words right after, separated by one space or a hyphen.
        for next_index in range(index + 1, min(index + 3, len(tokens))):
            following = tokens[next_index]
            gap = post.text[end : following.start()]
            if gap not in {" ", "-"} or following.group().casefold() in _FUNCTION_WORDS | _HONORIFIC_WORDS:
                break
            end = following.end()
            used.add(next_index)
        if not is_given and end == token.end() and cue and cue.group().strip().casefold() in _RELATION_CUES:
            continue  # "Baby Born", "little Helpers": a relation word before one capitalised word is weak
        candidates.append((token.start(), end, "name_cue" if cue else "name_list"))
    # "KORKUT, Halil", "TRAN, GIA-HUY": a surname in capitals, a comma, a given name (boards, wristbands).
    for match in _CAPS_LIST.finditer(post.text):
        surname, given_name = match.group(1), match.group(2)
        if surname in _ACRONYMS or post.masked_at(*match.span()):
            continue
        if given_name.casefold() in given or given_name.isupper():
            candidates.append((match.start(), match.end(), "name_list"))
    # "J. Miller": an initial and a surname (boards, lists, signatures).
    for match in _INITIAL_NAME.finditer(post.text):
        if re.search(rf"[{_UPPER}]\w*[ \t]$", _before(post, match.start(), 20)):
            continue  # "Lot B. Questions", "Morbus B. Crohn": a letter of something named before it
        if not post.masked_at(*match.span()) and match.group(1).casefold() not in _FUNCTION_WORDS | _TITLES:
            candidates.append((match.start(), match.end(), "name_list"))
    # Turkish honorifics after the name: "Ayşe Yılmaz Hanım", "Hüseyin amca".
    for match in re.finditer(
        rf"((?:{_WORD})(?:\s+(?:{_WORD}))?)(?='?\w*\s+(?:Bey|Hanım|amca|teyze|nine|dede)\w*\b)", post.text
    ):
        candidates.append((match.start(1), match.end(1), "name_cue"))
    for start, end, reason in candidates:
        name = post.text[start:end]
        if _NOT_A_PERSON_BEFORE.search(_before(post, start, 40)) or _ORG_AFTER.match(_after(post, end, 20)):
            continue
        # A specimen word on the name's own line ("Muster: Erika ..."), not one on the line above (a
        # wristband printed "Klinikum Musterstadt" over the patient's name).
        if _PLACEHOLDER.search(name) or _SAMPLE.search(_before(post, start, 40).rsplit("\n", 1)[-1]):
            continue
        later_words = name.split()[1:]
        if any(_ORG_AFTER.match(" " + word) for word in later_words) or any(
            figure in name.casefold() for figure in public if " " in figure
        ):
            continue  # "Onur Ödülü" (an award), "Ronald McDonald House" (a charity's house)
        # A Turkish suffix after an apostrophe is not part of the name (Elif'in, Aydın'ı).
        name_end = start + len(re.split(r"['’]", name)[0])
        words = [part.casefold() for part in re.split(r"[\s,]+", post.text[start:name_end]) if part]
        if any(word in public for word in words) or post.text[start:name_end].casefold() in public:
            continue
        if _is_staff(post, start, name_end):
            post.staff_words.update(words)
            continue
        found.append(_span(post, start, name_end, PATIENT_NAME, HIGH, reason))
    # A later mention of a staff member's name ("Jana vor dem Tracking-Board") is staff too.
    return [
        span
        for span in found
        if not set(re.split(r"[\s,]+", post.text[span.start : span.end].casefold())) & post.staff_words
    ]


# A mascot, an animal, a place or a fictional character is named, not a person.
_NOT_A_PERSON_BEFORE = re.compile(
    r"(?:Maskottchen|mascot|maskot\w*|Therapiehund\w*|Hund|Hündin|therapy dog|dog|köpe\w*|Katze|cat|"
    r"Teddy|Puppe|doll|Roman|novel|Buch|book|Film|movie|Lied|song|Sankt|St\.)\s*$",
    re.IGNORECASE,
)
_ORG_AFTER = re.compile(
    r"[-\s]?(?:House|Haus|Klinik|Klinikum|Krankenhaus|Hospital|Stiftung|Foundation|Center|Centre|Zentrum|Institut|"
    r"Institute|School|Schule|Straße|Strasse|Str\.|Street|Avenue|Road|Platz|Allee|Weg|Hastanesi|Vakfı|Caddesi|"
    r"Sokak|Award|Preis|Ödülü|Lecture|Vorlesung|Syndrom|syndrome|disease|Krankheit|hastalığı)\b"
)
# Names that stand for anybody on forms and examples.
_PLACEHOLDER = re.compile(r"Mustermann|Musterfrau|Normalverbraucher|\bDoe\b|Bloggs|山田太郎|\bÖrnek\b", re.IGNORECASE)
_NOT_ADJECTIVES = frozenset(
    [
        "einer",
        "einem",
        "einen",
        "eine",
        "seine",
        "seiner",
        "seinem",
        "ihre",
        "ihrer",
        "ihrem",
        "ihren",
        "seinen",
        "unsere",
        "unserer",
        "unseren",
        "wegen",
        "nach",
        "the",
        "her",
        "his",
        "their",
        "our",
        "with",
        "after",
        "before",
        "during",
        "have",
        "had",
        "has",
        "were",
        "was",
        "are",
        "ve",
        "ile",
        "bir",
        "için",
        "sonra",
        "her",
        "gegen",
        "werden",
        "wurde",
        "haben",
        "hatte",
        "sehr",
    ]
)
_FUNCTION_WORDS = frozenset(
    [
        "und",
        "und",
        "der",
        "die",
        "das",
        "the",
        "and",
        "or",
        "oder",
        "of",
        "von",
        "vom",
        "zum",
        "zur",
        "im",
        "in",
        "am",
        "an",
        "auf",
        "for",
        "für",
        "mit",
        "with",
        "ve",
        "ile",
        "bir",
        "bu",
        "da",
        "de",
    ]
)
_HONORIFIC_WORDS = frozenset(["bey", "hanım", "hanim", "efendi", "amca", "teyze", "nine", "dede", "abla", "ağabey"])
_RELATION_CUES = frozenset(
    [
        "baby",
        "bebek",
        "kleine",
        "kleiner",
        "kleinen",
        "little",
        "familie",
        "family",
        "oma",
        "opa",
        "grandma",
        "grandpa",
        "mama",
        "papa",
        "mom",
        "dad",
    ]
)


_INITIAL_NAME = re.compile(
    rf"(?<![\w.])[{_UPPER}]\.\s(?:[{_UPPER}]\.\s)?([{_UPPER}][{_LOWER}]{{2,}}(?:-[{_UPPER}][{_LOWER}]+)?)(?![\w.])"
)
_CAPS_LIST = re.compile(
    rf"(?<![\w-])([{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})?),\s+([{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?|[{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})?)(?![\w-])"
)
_ACRONYMS = frozenset(
    [
        "ICU",
        "NICU",
        "ER",
        "OR",
        "MRN",
        "NHS",
        "MRI",
        "CT",
        "EKG",
        "ECG",
        "IV",
        "ID",
        "DOB",
        "COVID",
        "COPD",
        "KOAH",
        "OP",
        "ZNA",
        "ITS",
        "IMC",
        "KIS",
        "TC",
        "USA",
        "UK",
        "EU",
        "WHO",
        "CDC",
        "RKI",
        "NPO",
        "PT",
        "HIV",
        "AIDS",
        "MRSA",
        "ADHS",
        "ADHD",
        "ALS",
        "MS",
    ]
)


def _is_staff(post: _Post, start: int, end: int) -> bool:
    return bool(_STAFF_BEFORE.search(_before(post, start, 40)) or _STAFF_AFTER.search(_after(post, end, 60)))


_KANJI_KANA = r"\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff々"
_JA_HONORIFIC = re.compile(r"([\u4e00-\u9fff々\u30a0-\u30ff\u3040-\u309f]{1,6}?)\s?(様|さん|ちゃん|くん|君|氏)")
_JA_STAFF_AFTER = re.compile(
    r"^\s?(?:医師|先生|看護師|部長|院長|教授|課長|主任|師長|技師|薬剤師|理事長|センター長|科長)"
)
# Words before an honorific that are not names (everyone, patient, customer, nurse, mother).
_JA_NOT_NAMES = re.compile(
    r"(?:患者|皆|客|家族|子|母|父|奥|看護師|先生|医師|職員|方|赤|妹|姉|兄|弟|祖母|祖父|娘|息子|利用者|会員|ご|お)$"
)
_JA_STAFF_BEFORE = re.compile(
    r"(?:部長|医師|課|科|院長|教授|看護師|スタッフ|職員|技師|薬剤師|栄養士|助産師|保育士|療法士|事務|先生)[、の]?\s?$"
)
_JA_PARTICLES = re.compile(r"[のがはをにでとへもや、。・「」（）()【】\s]")


def _japanese_names(post: _Post) -> list[PhiSpan]:
    found: list[PhiSpan] = []
    surnames = japanese_surnames()
    given = japanese_given_names()
    public = public_figures()
    for match in _JA_HONORIFIC.finditer(post.text):
        start, end = match.span(1)
        # The name is the run of kanji or kana right before the honorific, cut at a particle or mark.
        run = post.text[start:end]
        cut = max((m.end() for m in _JA_PARTICLES.finditer(run)), default=0)
        start += cut
        head = post.text[max(0, start - 6) : end]
        full = re.search(rf"[{_KANJI_KANA}]{{1,6}}$", head)
        if full is not None:
            candidate_start = max(0, start - 6) + full.start()
            prefix = post.text[candidate_start:end]
            cut = max((m.end() for m in _JA_PARTICLES.finditer(prefix)), default=0)
            start = candidate_start + cut
        name = post.text[start:end]
        if not name or _JA_NOT_NAMES.search(name) or name in public:
            continue
        # Hiragana-only runs are names only when short and a given name (ひまり), not a word (みなさん).
        if re.fullmatch(r"[\u3040-\u309f]+", name) and name not in given:
            continue
        found.append(_span(post, start, end, PATIENT_NAME, HIGH, "name_cue"))
    # Surname + given name from the lists, without an honorific (山田花子, 渡辺真由美).
    for surname in surnames:
        for match in re.finditer(re.escape(surname), post.text):
            end = match.end()
            space = re.match(r"[ \u3000]?", post.text[end:])
            end += space.end() if space else 0
            rest = re.match(rf"[{_KANJI_KANA}]{{1,3}}", post.text[end:])
            if rest is None or (rest.group() not in given and not any(rest.group().startswith(g) for g in given)):
                continue
            given_part = next((g for g in sorted(given, key=len, reverse=True) if rest.group().startswith(g)), "")
            if not given_part:
                continue
            found.append(_span(post, match.start(), end + len(given_part), PATIENT_NAME, HIGH, "name_list"))
    kept: list[PhiSpan] = []
    staff: list[str] = []
    for span in sorted(found, key=lambda item: item.start):
        name = post.text[span.start : span.end]
        before = _before(post, span.start, 20)
        # "青木 拓海": a listed surname, a space, the given name.
        spaced = re.search(r"([\u4e00-\u9fff]{1,3})\s$", before)
        if spaced is not None and spaced.group(1) in surnames:
            span = PhiSpan(span.start - len(spaced.group()), span.end, span.label, span.sensitivity, span.reason)
            name = post.text[span.start : span.end]
            before = _before(post, span.start, 20)
        if _JA_STAFF_AFTER.search(_after(post, span.end, 6)) or _JA_STAFF_BEFORE.search(before):
            staff.append(name)
            continue
        if _PLACEHOLDER.search(name) or re.search(r"(?:記入例|例[：:]|見本|サンプル)[^。\n]{0,12}$", before):
            continue
        kept.append(span)
    # A staff member's surname said again later ("田村さん") is staff too.
    return [span for span in kept if not any(member.startswith(post.text[span.start : span.end]) for member in staff)]


# Is the post about a particular person? ------------------------------------------------------------

_INDIVIDUAL = re.compile(
    r"\b\d{1,3}[- ](?:jährige|jähriger|jährigen|Jahre alte[nrm]?|year-old|years? old|yaşındaki|yaşında)\b|"
    r"\b(?:eine[nrm]?|ein)\s+(?:\w+\s+){0,4}(?:Patientin|Patienten|Mann|Frau|Junge|Mädchen|Kind|Säugling)\b|"
    r"\b(?:a|an|one)\s+(?:[\w-]+\s+){0,3}(?:patient|man|woman|boy|girl|child|baby|cyclist|mother|father|teenager)\b|"
    r"\b(?:hastamız|hastamızın|hastamıza|bir hasta|amcamız|teyzemiz|ninemiz)\b|"
    r"\d{1,3}歳(?!以上|未満|から|～|代|まで)|患者様[がはの]|患者さん[がはの]|"
    r"\b(?:meine[mnrs]?|my|bana|benim|ich wurde|I was|I had)\b",
    re.IGNORECASE,
)


_STAFF_AFTER_AGE = re.compile(
    r"^\s*(?:\w+\s+)?(?:Azubi|Auszubildende\w*|Kolleg\w*|Mitarbeiter\w*|Pflege\w*|Ärztin|Arzt|trainee|nurse|"
    r"doctor|intern|colleague|hemşire\w*|doktor\w*|stajyer\w*|personel\w*|看護師|医師|スタッフ|職員|の看護師)",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"\b(?:seine[rmns]?|ihre[rmns]?|his|her|onun|kendi)\s+(?:\w+\s+)?$", re.IGNORECASE)


def _individual_cues(post: _Post) -> bool:
    for match in _INDIVIDUAL.finditer(post.text):
        if not _STAFF_AFTER_AGE.search(_after(post, match.end(), 30)):
            return True
    # "nach seiner Herztransplantation", "during her chemotherapy": a condition someone has.
    return any(_POSSESSIVE.search(_before(post, start, 30)) for start, _end in post.conditions)


# Wards, rooms and beds ---------------------------------------------------------------------------

_LOCATION = re.compile(
    r"(?<![\w-])(?:(?:Station|Stat\.)\s+\d{1,2}\s?[A-Z]?\b(?:\s*[,·/]\s*(?:Zimmer|Zi\.)\s*\d{1,4}[a-z]?)?(?:\s*[,·/]\s*Bett\s*\d+)?|"
    r"(?:Zimmer|Zi\.|Bett|Box|Raum|Kabine|(?:OP-|Kreiß)?Saal)\s*\d{1,4}[a-z]?\b|"
    r"(?:Intensivstation|Intensiv|ITS|IMC|ICU|CCU|NICU|PICU|HDU|ITU)\s+(?:bed|Bett|Bed|Box)\s+\d{1,3}\b|"
    r"(?:Ward|Room|Bed|Bay|Pod|Unit)\s+(?:\d{1,4}[A-Z]?|[A-H])\b(?:\s*,\s*(?:Bed|Room|Bay)\s+(?:\d+|[A-H])\b)?|"
    r"(?<![\d.,:/-])\d{1,2}\s?(?:West|East|North|South)\b|"
    r"(?:Oda|Yatak|Servis)\s+\d{1,4}\w*|"
    rf"[{_UPPER}][{_LOWER}]+\s+Servisi(?:'?\w*)?)"
    r"|\d{1,2}階[東西南北]?病棟(?:\d{1,4}号室)?|(?<!\d)\d{1,4}号室|[東西南北]病棟"
)


def _locations(post: _Post) -> Iterator[PhiSpan]:
    for match in _LOCATION.finditer(post.text):
        value = match.group()
        start, end = match.span()
        # Turkish case endings after a room number ("Oda 214'te") are not part of it.
        cut = re.search(r"['’]\w*$", value)
        if cut is not None:
            end = start + cut.start()
        if post.masked_at(start, end):
            continue
        yield _span(post, start, end, LOCATION_IN_HOSPITAL, HIGH, "location")


# Ages ---------------------------------------------------------------------------------------------

_AGE = re.compile(
    r"(?<![\w.,])(?:\d{1,3}-?(?:jährige[rn]?|jährig)|\d{1,3}\s+Jahre\s+alte[nrm]?|\d{1,3}\.\s+Geburtstag|"
    r"\d{1,3}-year-old|\d{1,3}\s+years?\s+old|aged\s+\d{1,3}|\d{1,3}(?:st|nd|rd|th)\s+birthday|"
    r"\d{1,3}\s+yaşındaki|\d{1,3}\s+yaşında|\d{1,3}\.\s+yaş\s+günü|\d{1,3}歳)"
)
_AGE_AFTER_NAME = re.compile(
    rf"(?:{_WORD})(?:\s+(?:{_WORD}))?\s*(?:\((\d{{1,3}})\)|（(\d{{1,3}})歳?）|,\s(\d{{1,2}}),)"
)
_GENERIC_AGE = re.compile(
    r"^\s*(?:und älter|and older|and over|or older|plus|\+|ve üzeri|yaş ve üzeri|以上|未満)|"
    r"(?:über|ab|unter|bis|under|over|from|aged over|ab dem|Kinder unter|children under|en az|以上の)\s*$",
    re.IGNORECASE,
)


def _ages(post: _Post) -> Iterator[PhiSpan]:
    if not post.conditions and not re.search(r"Geburtstag|birthday|doğum günü|誕生日", post.text, re.IGNORECASE):
        return
    for match in _AGE.finditer(post.text):
        start, end = match.span()
        if _GENERIC_AGE.search(_after(post, end, 12)) or _GENERIC_AGE.search(_before(post, start, 15)):
            continue
        yield _span(post, start, end, AGE_WITH_CONDITION, HIGH, "age")
    for match in _AGE_AFTER_NAME.finditer(post.text):
        group = next(index for index in (1, 2, 3) if match.group(index))
        yield _span(post, *match.span(group), AGE_WITH_CONDITION, HIGH, "age")


# Diagnoses ----------------------------------------------------------------------------------------

# A sentence about many people (statistics, advice), not about the person the post is about.
_GENERIC_SENTENCE = re.compile(
    r"\d+(?:[.,]\d+)?\s?%|Millionen|million|Menschen in|\b(?:people|Americans|Deutschen|adults|Erwachsene|women|men)\b|"
    r"jährlich|each year|every year|jedes Jahr|her yıl|yılda|yaklaşık|Türkiye'de|人に|万人|約|Wussten Sie|Did you know|"
    r"Mythos|myth|fact|Fakt|Risiko|risk|symptoms|Symptome|Anzeichen|signs|belirti|症状|予防|prevent|vorbeugen",
    re.IGNORECASE,
)
_CONDITION_LEFT = re.compile(
    r"(?:fortgeschrittene[rnms]?|akute[rnms]?|chronische[rnms]?|schwere[rnms]?|schweren|leichte[rnms]?|"
    r"advanced|acute|chronic|severe|emergency|mild|ileri evre|akut|kronik|ağır|V\.\s?a\.)\s+$",
    re.IGNORECASE,
)


# "Dialysis Center", "Yanık Ünitesi", "World Parkinson's Day", "パーキンソン病デー": a unit or a day.
_NOT_A_CONDITION_AFTER = re.compile(
    r"[-\s]?(?:Center|Centre|Unit|Ward|Department|Clinic|Zentrum|Station|Ambulanz|Klinik|Abteilung|Team|Ünitesi|"
    r"Merkezi|Servisi|Bölümü|Polikliniği|Day|Tag|Woche|Week|Month|Monat|Günü|Haftası|Awareness|Aktionstag|"
    r"デー|週間|月間|センター|病棟|外来|科)",
    re.IGNORECASE,
)


def _diagnoses(post: _Post) -> Iterator[PhiSpan]:
    for start, end in post.conditions:
        if post.masked_at(start, end):
            continue
        if post.language != "ja":
            # The whole word the condition ends (Bauchaortenaneurysma), and adjectives before it
            # (distalen, akuten myeloischen).
            while start > 0 and (post.text[start - 1].isalpha() or post.text[start - 1] == "-"):
                start -= 1
            for _ in range(2):
                adjective = re.search(
                    r"(?<!\S)[a-zäöüßçğıöşü]+(?:en|er|es|em|e|al|ic|ed|ive|ous|ar|ary|li|lı|lu|lü)\s+$",
                    post.text[max(0, start - 25) : start],
                )
                if adjective is None or adjective.group().strip() in _FUNCTION_WORDS | _NOT_ADJECTIVES:
                    break
                start -= len(adjective.group())
        sentence = _sentence(post, start, end)
        if _GENERIC_SENTENCE.search(sentence):
            continue
        left = _CONDITION_LEFT.search(_before(post, start, 30))
        if left is not None:
            start -= len(left.group())
        # "chemotherapy for lymphoma", "Lyse bei Lungenembolie": one treatment of one condition.
        joined = re.match(r"\s+(?:for|of|bei|gegen|wegen|nach)\s+", _after(post, end, 12))
        if joined is not None:
            following = condition_pattern(post.language).match(post.text, end + joined.end())
            if following is not None:
                end = following.end()
        # Japanese: the operation on a condition is one phrase (大腸がんの手術).
        after = re.match(r"の?(?:手術|治療|移植)", _after(post, end, 4)) if post.language == "ja" else None
        if after is not None:
            end += after.end()
        # Turkish: the operation word that follows a condition belongs to it (bypass ameliyatı).
        after = re.match(r"\s+(?:ameliyatı|ameliyatından|tedavisi|tedavisini|nakli)", _after(post, end, 16))
        if after is not None:
            end += after.end()
        yield _span(post, start, end, DIAGNOSIS_OF_PERSON, HIGH, "diagnosis")
