"""The consent gate agrees with a plainly written oracle on random consents and posts."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent import gate
from consent.gate import Feature, consent_problems
from consent.models import ConsentPlatform, ConsentPurpose, ConsentRecord, ConsentSigner, MediaKind, Subject
from posts.models import Platform, Purpose

pytestmark = pytest.mark.django_db

PLATFORMS = ["facebook", "instagram", "linkedin", "x", "youtube", "tiktok"]
KINDS = [kind.value for kind in MediaKind]
PURPOSES = [purpose.value for purpose in ConsentPurpose]
TODAY = dt.date(2026, 6, 15)


def test_consent_vocabulary_matches_posts() -> None:
    assert ConsentPlatform.values == Platform.values
    assert ConsentPurpose.values == Purpose.values


def years_before(day: dt.date, years: int, extra_days: int = 0) -> dt.date:
    return day.replace(year=day.year - years) - dt.timedelta(days=extra_days)


def same_day_later(day: dt.date, years: int) -> dt.date:
    if (day.month, day.day) == (2, 29) and (day.year + years) % 4:
        return dt.date(day.year + years, 2, 28)
    return dt.date(day.year + years, day.month, day.day)


def protected_after_death(case: dict[str, Any], publish_day: dt.date) -> bool:
    """Whether any law still protects what the post shows of the dead person on ``publish_day``."""
    rules = case["after_death"]
    for kind in case["post_kinds"] or KINDS:
        ends = []
        if "kug" in rules and kind in ("photo", "video"):
            ends.append(same_day_later(case["deceased_on"], rules["kug"]))
        if "hipaa" in rules:
            ends.append(same_day_later(case["deceased_on"], rules["hipaa"]))
        if not ends or publish_day <= max(ends):
            return True
    return False


def oracle(case: dict[str, Any], publish_day: dt.date) -> bool:
    """Written without looking at the gate: may a post with these facts go out?"""
    dead = case["deceased_on"] is not None and case["deceased_on"] <= publish_day
    if dead and not protected_after_death(case, publish_day):
        return True
    if case["revoked"] or not case["verified"]:
        return False
    if case["signed_on"] > publish_day:
        return False
    if case["expires_on"] is not None and publish_day > case["expires_on"]:
        return False
    if not case["all_platforms"]:
        for platform in case["post_platforms"]:
            if platform not in case["platforms"]:
                return False
    for kind in case["post_kinds"]:
        if kind not in case["kinds"]:
            return False
    if case["post_purpose"] not in case["purposes"]:
        return False
    signed_by = set(case["signers"])
    if dead:
        return "relative" in signed_by
    born = case["born"]
    if born is not None:
        signed = case["signed_on"]
        age = signed.year - born.year
        if (signed.month, signed.day) < (born.month, born.day):
            age -= 1
        if age < 18:
            eighteen = dt.date(born.year + 18, 3, 1) if (born.month, born.day) == (2, 29) else same_day_later(born, 18)
            if publish_day >= eighteen:
                return False
            if "guardian" not in signed_by:
                return False
            return not (age >= 8 and "subject" not in signed_by)
    return "subject" in signed_by or "representative" in signed_by


cases = st.fixed_dictionaries(
    {
        # Weighted towards valid consents, so the later checks are reached often.
        "verified": st.sampled_from([True, True, True, False]),
        "revoked": st.sampled_from([False, False, False, True]),
        "signed_on": st.integers(-400, 20).map(lambda d: TODAY + dt.timedelta(days=d)),
        "expires_on": st.one_of(st.none(), st.integers(-30, 400).map(lambda d: TODAY + dt.timedelta(days=d))),
        "all_platforms": st.booleans(),
        "platforms": st.sets(st.sampled_from(PLATFORMS)),
        "kinds": st.sets(st.sampled_from(KINDS), min_size=1),
        "purposes": st.sets(st.sampled_from(PURPOSES), min_size=1),
        "signers": st.sets(st.sampled_from(["subject", "guardian", "representative", "relative"]), min_size=1),
        "post_same_as_consent": st.booleans(),
        # None (adult, no birth date kept), or (age at signing, days around that birthday).
        "age_at_signing": st.one_of(
            st.none(), st.tuples(st.sampled_from([3, 7, 8, 9, 16, 17, 18, 19, 30]), st.integers(-2, 2))
        ),
        "deceased_on": st.one_of(
            st.none(),
            st.integers(-3000, 30).map(lambda d: TODAY + dt.timedelta(days=d)),
            # Around the ends of the periods after death (10 and 50 years), and far beyond.
            st.tuples(st.sampled_from([10, 50]), st.integers(-430, 30)).map(
                lambda yd: same_day_later(TODAY, -yd[0]) + dt.timedelta(days=yd[1])
            ),
            st.integers(-30000, -19000).map(lambda d: TODAY + dt.timedelta(days=d)),
        ),
        "after_death": st.sampled_from([{"kug": 10, "hipaa": 50}, {"kug": 10}, {"hipaa": 50}, {}]),
        "post_platforms": st.sets(st.sampled_from(PLATFORMS), min_size=1, max_size=3),
        "post_kinds": st.sets(st.sampled_from(KINDS), max_size=3),
        "post_purpose": st.sampled_from(PURPOSES),
        "publish_offset": st.integers(-20, 420),
    }
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_gate_agrees_with_oracle(case: dict[str, Any], officer: Any, officer2: Any) -> None:
    if case["expires_on"] is not None and case["expires_on"] < case["signed_on"]:
        case["expires_on"] = case["signed_on"]
    age = case["age_at_signing"]
    case["born"] = None if age is None else years_before(case["signed_on"], age[0], age[1])
    if case["post_same_as_consent"]:
        # Half the posts stay inside the consent's scope, so the signer rules decide more often.
        case["post_platforms"] = case["post_platforms"] if case["all_platforms"] else case["platforms"] or {"x"}
        case["post_kinds"] = case["post_kinds"] & case["kinds"]
        case["post_purpose"] = sorted(case["purposes"])[0]
    subject = Subject.objects.create(
        display_name="P",
        reference=f"R-{Subject.objects.count()}-{id(case)}",
        date_of_birth=case["born"],
        deceased_on=case["deceased_on"],
    )
    now = timezone.now()
    record = ConsentRecord.objects.create(
        subject=subject,
        media_kinds=sorted(case["kinds"]),
        description="Fotos und Geschichte",
        disclosing_organisation="Klinikum Nord",
        all_platforms=case["all_platforms"],
        platforms=sorted(case["platforms"]),
        purposes=sorted(case["purposes"]),
        expires_on=case["expires_on"],
        expiry_event="" if case["expires_on"] else "Until revoked",
        signed_on=case["signed_on"],
        states_right_to_revoke=True,
        states_no_conditioning=True,
        states_redisclosure=True,
        document="consent/x.pdf",
        document_name="x.pdf",
        document_type="application/pdf",
        document_checksum="0" * 64,
        recorded_by=officer,
        verified_at=now if case["verified"] else None,
        verified_by=officer2 if case["verified"] else None,
        revoked_at=now if case["revoked"] else None,
        revoked_by=officer if case["revoked"] else None,
        revocation_received_via="letter" if case["revoked"] else "",
    )
    for role in case["signers"]:
        ConsentSigner.objects.create(
            record=record, role=role, name="N", authority="" if role == "subject" else "mother"
        )
    publish_day = TODAY + dt.timedelta(days=case["publish_offset"])
    at = dt.datetime.combine(publish_day, dt.time(12, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))

    with override_settings(ROUNDS_CONSENT_AFTER_DEATH_YEARS=case["after_death"]):
        problems = consent_problems(
            features=[Feature(subject_id=subject.pk, consent_id=record.pk, media_kinds=frozenset(case["post_kinds"]))],
            platforms=case["post_platforms"],
            purpose=case["post_purpose"],
            at=at,
        )

    assert (not problems) == oracle(case, publish_day), [p.code for p in problems]


def test_missing_and_foreign_consent_are_problems(subject_factory: Any, record_factory: Any) -> None:
    anna, ben = subject_factory(), subject_factory()
    record = record_factory(anna)
    at = timezone.now() + dt.timedelta(days=1)

    missing = consent_problems(features=[Feature(anna.pk, None)], platforms=["x"], purpose="education", at=at)
    foreign = consent_problems(features=[Feature(ben.pk, record.pk)], platforms=["x"], purpose="education", at=at)
    fine = consent_problems(
        features=[Feature(anna.pk, record.pk, frozenset({"photo"}))], platforms=["x"], purpose="education", at=at
    )

    assert [p.code for p in missing] == [gate.NO_CONSENT]
    assert [p.code for p in foreign] == [gate.WRONG_SUBJECT]
    assert fine == []


def test_gate_reads_all_features_in_constant_queries(
    subject_factory: Any, record_factory: Any, django_assert_max_num_queries: Any
) -> None:
    features = []
    for _ in range(10):
        subject = subject_factory()
        features.append(Feature(subject.pk, record_factory(subject).pk, frozenset({"photo"})))

    with django_assert_max_num_queries(2):
        problems = consent_problems(features=features, platforms=["facebook"], purpose="education", at=timezone.now())

    assert problems == []


@pytest.mark.parametrize(
    ("age", "signers", "deceased", "ok"),
    [
        (7, {"guardian"}, False, True),
        (8, {"guardian"}, False, False),
        (8, {"guardian", "subject"}, False, True),
        (17, {"subject"}, False, False),
        (18, {"subject"}, False, True),
        (None, {"representative"}, False, True),
        (None, {"guardian"}, False, False),
        (None, {"subject"}, True, False),
        (None, {"relative"}, True, True),
    ],
)
def test_signer_rules_for_minors_and_deceased(
    age: int | None, signers: set[str], deceased: bool, ok: bool, subject_factory: Any, record_factory: Any
) -> None:
    from consent.services import SignerSpec

    signed_on = timezone.localdate() - dt.timedelta(days=5)
    subject = subject_factory(
        date_of_birth=None if age is None else years_before(signed_on, age),
        deceased_on=signed_on if deceased else None,
    )
    record = record_factory(
        subject,
        signed_on=signed_on,
        signers=[
            SignerSpec(role=role, name="Signer", authority="" if role == "subject" else "mother") for role in signers
        ],
    )

    problems = consent_problems(
        features=[Feature(subject.pk, record.pk, frozenset({"photo"}))],
        platforms=["facebook"],
        purpose="education",
        at=timezone.now(),
    )

    assert [p.code for p in problems] == ([] if ok else [gate.SIGNERS])
