"""Patient data in a post's text, in four languages (issue 18): `posts.phi.detect`."""

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posts.phi import HIGH, LOW, detect, ids
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "phi" / "texts.jsonl"


def found(text: str, language: str | None = None) -> list[tuple[str, str, str]]:
    """(label, text, sensitivity) of every span, each checked to be the written text at its offsets."""
    spans = detect(text, language)
    for span in spans:
        assert text[span.start : span.end] == span.text
    return [(span.label, span.text, span.sensitivity) for span in spans]


def labels(text: str, language: str | None = None) -> set[str]:
    return {label for label, _text, _sensitivity in found(text, language)}


# Check digits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "valid", "invalid"),
    [
        (ids.kvnr_valid, "M924491546", "M924491547"),
        (ids.tc_kimlik_valid, "26480084484", "26480084485"),
        (ids.my_number_valid, "995669413728", "995669413729"),
        (ids.nhs_valid, "549 353 1755", "549 353 1756"),
        (ids.mbi_valid, "2QC7-HN4-RA58", "2QS7-HN4-RA58"),
        (ids.ssn_plausible, "123-45-6789", "666-45-6789"),
    ],
)
def test_identifiers_pass_their_check_digits_and_a_changed_digit_fails(check: Any, valid: str, invalid: str) -> None:
    assert check(valid)
    assert not check(invalid)


def test_an_identifier_without_a_cue_word_is_found_by_its_check_digit_and_a_near_miss_is_not() -> None:
    assert ("NATIONAL_ID", "26480084484", HIGH) in found("Başvuru sahibi: 26480084484 – teşekkürler", "tr")
    assert labels("Bestellnummer 26480084485 ist unterwegs", "de") == set()
    assert ("INSURANCE_ID", "M924491546", HIGH) in found("Karte: M924491546, bitte mitbringen", "de")


def test_a_sample_number_on_an_example_card_is_not_a_persons() -> None:
    assert labels("So sieht die Karte aus – Beispiel: Versichertennummer M924491546", "de") == set()


# Names: patients and relatives, not staff or public figures ----------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "name"),
    [
        ("Wir gratulieren Frau Brunhilde Kowalczyk zum Abschied von Station 7!", "de", "Brunhilde Kowalczyk"),
        ("Heute durfte Herr Lindqvist nach Hause.", "de", "Lindqvist"),
        ("Get well soon, Mrs. Abernathy! The whole ward misses you.", "en", "Abernathy"),
        ("Hastamız Kemal Öztürk Bey taburcu oldu.", "tr", "Kemal Öztürk"),
        ("Zehra'nın cesareti hepimize ilham oldu.", "tr", "Zehra"),
        ("佐々木健一様、ご退院おめでとうございます。", "ja", "佐々木健一"),
        ("結衣ちゃん、手術がんばったね！", "ja", "結衣"),
        ("Thanks for the card, Walter and Evelyn!", "en", "Walter"),
    ],
)
def test_a_patients_name_is_found_without_its_title_or_suffix(text: str, language: str, name: str) -> None:
    assert ("PATIENT_NAME", name, HIGH) in found(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Willkommen, Dr. med. Friederike Albrecht, unsere neue Oberärztin!", "de"),
        ("Herzlich willkommen, Frau Dr. Albrecht!", "de"),
        ("Please welcome Prof. Dr. Thomas Becker to our team.", "en"),
        ("Congratulations to Linda Park, RN, our Nurse of the Year!", "en"),
        ("Uzm. Dr. Selin Arslan aramıza katıldı.", "tr"),
        ("循環器内科の小林健太医師が着任しました。", "ja"),
        ("On this day in 1847, Ignaz Semmelweis introduced handwashing.", "en"),
        ("【患者様の声】いつも皆さんに支えられています。", "ja"),
        ("Unser Team der #Kardiologie sagt #Danke – #TeamEmma", "de"),
    ],
)
def test_staff_in_their_role_public_figures_and_hashtags_are_not_patients(text: str, language: str) -> None:
    assert "PATIENT_NAME" not in labels(text, language)


def test_a_staff_members_name_said_again_later_is_still_staff() -> None:
    text = "Unsere Pflegekraft Marlene koordiniert die Schicht. Marlene lacht viel."
    assert "PATIENT_NAME" not in labels(text, "de")


# Dates, ages, places, diagnoses: of a person, or of nobody in particular --------------------------------


@pytest.mark.parametrize(
    ("text", "language", "date"),
    [
        ("Gerlinde Haas (geb. 14. Februar 1938) feiert heute.", "de", "14. Februar 1938"),
        ("Max (12.05.1961) feiert", "de", "12.05.1961"),
        ("Meet Harriet, born March 9, 1931!", "en", "March 9, 1931"),
        ("Nihat Bey (1944 doğumlu) bugün taburcu oldu.", "tr", "1944"),
        ("田中節子さん（昭和12年3月4日生まれ）が退院されました。", "ja", "昭和12年3月4日"),
    ],
)
def test_a_date_of_birth_is_found_in_each_languages_forms(text: str, language: str, date: str) -> None:
    assert ("DATE_OF_BIRTH", date, HIGH) in found(text, language)


@pytest.mark.parametrize(
    ("text", "language", "label", "value"),
    [
        # A newborn's day, on the day ("günü"), with the weight: a birth, not an event day.
        (
            "17.09.2027 günü saat 06.40'ta 3.180 gram ve 50 cm olarak dünyaya gelen Aras",
            "tr",
            "DATE_OF_BIRTH",
            "17.09.2027",
        ),
        # Born on one date, operated on another: the second is the operation's.
        (
            "大島キヨ様（昭和18年11月3日生まれ）は、10月28日に当院でTAVIを受けられました。",
            "ja",
            "EVENT_DATE_OF_PERSON",
            "10月28日",
        ),
        ("Saal 2: Lindqvist, Karin – Hüft-TEP re.", "de", "LOCATION_IN_HOSPITAL", "Saal 2"),
        ("Mr. Pruitt spent two weeks on 4 West after his kidney transplant.", "en", "LOCATION_IN_HOSPITAL", "4 West"),
        (
            "Pray for my grandpa Leonard Vasquez, ICU bed 14, COVID pneumonia",
            "en",
            "LOCATION_IN_HOSPITAL",
            "ICU bed 14",
        ),
        ("Hr. Yılmaz\nZi. 12\nnüchtern ab 22h!", "de", "PATIENT_NAME", "Yılmaz"),
    ],
)
def test_days_places_and_names_as_wards_and_notes_write_them(text: str, language: str, label: str, value: str) -> None:
    assert (label, value, HIGH) in found(text, language)


def test_a_place_name_with_muster_above_a_name_is_no_specimen_and_a_direction_is_no_ward() -> None:
    # A wristband printed "Klinikum Musterstadt" on the line above the patient's name.
    assert ("PATIENT_NAME", "Bößmann, Jürgen", HIGH) in found(
        "Klinikum Musterstadt\nBößmann, Jürgen\ngeb. 21.09.1944", "de"
    )
    assert "PATIENT_NAME" not in labels("Muster: Erika Beispiel, geb. 12.08.1964", "de")
    assert "LOCATION_IN_HOSPITAL" not in labels("Our 4 West team won the award for patient safety.", "en")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Tag der offenen Tür am 14.06.2027 – alle sind willkommen!", "de"),
        ("Unser Haus wurde am 1. Oktober 1902 eröffnet.", "de"),
        ("Join us for the health fair on June 14!", "en"),
        ("29 Eylül'de hastane bahçemizde ücretsiz ölçüm yapılacaktır.", "tr"),
        ("11月14日は世界糖尿病デーです。", "ja"),
    ],
)
def test_event_and_historical_dates_are_not_patient_data(text: str, language: str) -> None:
    assert labels(text, language) == set()


def test_age_place_date_and_diagnosis_of_a_particular_person_are_found_and_education_is_not() -> None:
    story = "Eine 79-jährige Patientin wurde am 2. Juni mit einem Schlaganfall aufgenommen und liegt auf Station 5C."
    assert labels(story, "de") == {
        "AGE_WITH_CONDITION",
        "EVENT_DATE_OF_PERSON",
        "DIAGNOSIS_OF_PERSON",
        "LOCATION_IN_HOSPITAL",
    }
    education = (
        "Ein Schlaganfall ist ein Notfall: Menschen über 65 sind häufiger betroffen. "
        "Die Stationen 5A und 5C informieren."
    )
    assert labels(education, "de") == set()
    assert labels("Children under 12 must be accompanied by an adult.", "en") == set()


# Contact data: private or the organisation's own ----------------------------------------------------


def test_the_organisations_lines_and_mailboxes_are_low_and_a_patients_are_high() -> None:
    assert found("Fragen? Unsere Zentrale: 0221 4710-0 oder info@klinikum-beispiel.de", "de") == [
        ("PHONE", "0221 4710-0", LOW),
        ("EMAIL", "info@klinikum-beispiel.de", LOW),
    ]
    private = found("Zuschrift von Renate Vogel, renate.vogel@example.com, Tel. 0171 2345678", "de")
    assert ("EMAIL", "renate.vogel@example.com", HIGH) in private
    assert ("PHONE", "0171 2345678", HIGH) in private
    assert ("PHONE", "112", LOW) in found("In Notfällen wählen Sie die 112.", "de")


def test_a_number_with_invisible_characters_inside_is_one_number_at_its_written_offsets() -> None:
    text = "Rückruf bitte an Frau Jansen: 0171\u200b234\u200f5678 – danke!"
    phone = [span for span in detect(text, "de") if span.label == "PHONE"]
    assert [span.text for span in phone] == ["0171\u200b234\u200f5678"]


def test_a_links_digits_are_no_phone_but_its_patient_parameters_are_found() -> None:
    assert labels("Mehr dazu: https://klinikum.example/news/2027/05/1234567890?utm_source=fb&id=48213", "de") == set()
    spans = found("Befund: https://portal.example/view?patient=Heinz+Bauer&dob=1950-05-12", "de")
    assert ("PATIENT_NAME", "Heinz+Bauer", HIGH) in spans and ("DATE_OF_BIRTH", "1950-05-12", HIGH) in spans


# The shared corpus: the goals --------------------------------------------------------------


def _overlaps(predicted: dict[str, Any], gold: dict[str, Any]) -> bool:
    covered = min(predicted["end"], gold["end"]) - max(predicted["start"], gold["start"])
    return covered >= 0.5 * (gold["end"] - gold["start"])


def test_on_the_shared_corpus_phi_posts_are_flagged_in_every_language_and_clean_ones_are_not() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    flagged, phi_posts, clean_flagged, clean = Counter(), Counter(), 0, 0
    recall: dict[str, list[int]] = {}
    predicted = matched = 0
    for row in rows:
        spans = [
            {"start": s.start, "end": s.end, "label": s.label, "sensitivity": s.sensitivity}
            for s in detect(row["text"], row["lang"])
        ]
        raised = any(span["sensitivity"] == HIGH for span in spans)
        if any(gold["sensitivity"] == HIGH for gold in row["spans"]):
            phi_posts[row["lang"]] += 1
            flagged[row["lang"]] += raised
        else:
            clean += 1
            clean_flagged += raised
        for gold in row["spans"]:
            hit = any(span["label"] == gold["label"] and _overlaps(span, gold) for span in spans)
            recall.setdefault(gold["label"], [0, 0])[0] += hit
            recall[gold["label"]][1] += 1
        predicted += len(spans)
        matched += sum(
            any(span["label"] == gold["label"] and _overlaps(span, gold) for gold in row["spans"]) for span in spans
        )
    assert all(flagged[lang] / phi_posts[lang] >= 0.95 for lang in phi_posts), (flagged, phi_posts)
    assert clean_flagged / clean <= 0.05
    for label in ("PATIENT_NAME", "DATE_OF_BIRTH", "RECORD_ID", "INSURANCE_ID", "NATIONAL_ID", "EMAIL", "PHONE"):
        assert recall[label][0] / recall[label][1] >= 0.9, (label, recall[label])
    assert matched / predicted >= 0.8


def test_a_date_at_the_end_of_a_sentence_keeps_its_full_stop_outside() -> None:
    assert ("DATE_OF_BIRTH", "12.05.1961", HIGH) in found("Rückruf: 0170 1234567, geb. am 12.05.1961.", "de")


def test_our_own_harder_corpus_meets_the_goals_too() -> None:
    # tests/fixtures/phi_extra: 64 posts written blind to the recognisers (staff, eponyms, placeholders,
    # mascots, sample ids, URL parameters); the recognisers were improved on it afterwards.
    from pathlib import Path

    rows = [
        json.loads(line)
        for line in (Path(__file__).resolve().parent.parent / "fixtures" / "phi_extra" / "texts.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    clean = [row for row in rows if not any(gold["sensitivity"] == HIGH for gold in row["spans"])]
    phi_rows = [row for row in rows if row not in clean]
    raised = {row["id"] for row in rows if any(span.sensitivity == HIGH for span in detect(row["text"], row["lang"]))}
    assert all(row["id"] in raised for row in phi_rows)
    assert sum(row["id"] in raised for row in clean) / len(clean) <= 0.05


_PIECES = [
    "Frau Hannelore Wüst (geb. 14.02.1941)",
    "kam am 3. März mit einem Herzinfarkt",
    "Station 4B, Zimmer 12",
    "Tel. 0171 2345678",
    "Zentrale: 0221 4710-0",
    "info@klinikum.example",
    "Versichertennummer M924491546",
    "山田花子様（72歳）",
    "Hastamız Ayşe Yılmaz Hanım",
    "https://example.org/x?patient=Heinz&id=4821",
    "#Danke 💙",
    "Dr. Jane Roe, our new cardiologist",
    "\u200b",
    "\u200f",
    "\n",
    "：（）「」",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=12), st.sampled_from([None, "de", "en", "tr", "ja", "de-CH"]))
@settings(max_examples=200, deadline=None)
def test_any_mix_of_text_gives_spans_at_their_written_offsets_never_overlapping_and_decided(
    pieces: list[str], language: str | None
) -> None:
    text = " ".join(pieces)
    spans = detect(text, language)
    for span in spans:
        assert text[span.start : span.end] == span.text and span.start < span.end
        assert span.sensitivity in {HIGH, LOW}
    ordered = sorted((span.start, span.end) for span in spans)
    assert all(end <= next_start for (_start, end), (next_start, _end) in itertools.pairwise(ordered))


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 12)), max_size=25),
    st.lists(st.tuples(st.integers(0, 70), st.integers(0, 12)), max_size=25),
)
@settings(max_examples=300, deadline=None)
def test_the_recognisers_ranges_answer_as_a_scan_of_every_range_would(
    added: list[tuple[int, int]], asked: list[tuple[int, int]]
) -> None:
    from posts.phi.recognisers import _Intervals

    ranges = [(start, start + length) for start, length in added]
    intervals = _Intervals(ranges)
    for start, length in asked:
        end = start + length
        assert intervals.overlaps(start, end) == any(start < e and end > s for s, e in ranges if s < e)
