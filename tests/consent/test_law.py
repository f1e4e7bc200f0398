"""Consent as the law reads it: the periods after a death (KUG §22, HIPAA), coming of age at 18,
the signer's copy (45 CFR 164.508(c)(4)) and the required description."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.versions import version_of
from consent import gate
from consent.gate import Feature, consent_problems
from consent.law import adult_on, after_death_periods, years_after
from consent.models import ConsentRecord
from consent.selectors import records_reconsent_due
from consent.services import (
    SignerSpec,
    consent_copy_given_record,
    consent_reconsent_notices_send,
    consent_verify,
    subject_update,
)
from tests.consent.test_views import record_post
from tests.home.test_home_views import sections

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo(settings.TIME_ZONE)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=BERLIN)


def codes(subject: Any, record: Any, day: dt.date, kinds: tuple[str, ...] = ("photo",)) -> list[str]:
    feature = Feature(subject.pk, record.pk if record else None, frozenset(kinds))
    return [
        p.code for p in consent_problems(features=[feature], platforms=["instagram"], purpose="education", at=noon(day))
    ]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audited(record: ConsentRecord, action: str) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(record.pk)).count()


# After a death ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "kinds", "needed_until"),
    [
        # KUG alone: photos are free the day after the tenth anniversary of the death.
        ({"kug": 10}, ("photo",), dt.date(2025, 3, 3)),
        ({"kug": 10}, ("photo", "video"), dt.date(2025, 3, 3)),
        # HIPAA protects everything for fifty years, so with both it decides.
        ({"kug": 10, "hipaa": 50}, ("photo",), dt.date(2065, 3, 3)),
        ({"hipaa": 50}, ("story", "condition"), dt.date(2065, 3, 3)),
    ],
)
def test_consent_is_needed_after_a_death_up_to_and_including_the_last_day_of_the_period(
    rules: dict[str, int], kinds: tuple[str, ...], needed_until: dt.date, subject_factory: Any, settings: Any
) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = rules
    person = subject_factory(display_name="Dr. Friedrich Hahn", deceased_on=dt.date(2015, 3, 3))

    assert codes(person, None, needed_until, kinds) == [gate.NO_CONSENT]
    assert codes(person, None, needed_until + dt.timedelta(days=1), kinds) == []


def test_a_story_stays_protected_when_no_configured_law_releases_it(subject_factory: Any, settings: Any) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = {"kug": 10}
    person = subject_factory(deceased_on=dt.date(1950, 1, 1))

    assert codes(person, None, dt.date(2026, 6, 1), ("photo",)) == []
    assert codes(person, None, dt.date(2026, 6, 1), ("photo", "story")) == [gate.NO_CONSENT]
    assert codes(person, None, dt.date(2026, 6, 1), ()) == [gate.NO_CONSENT]  # names no kind: counts as everything


def test_a_death_on_29_february_ends_the_period_on_28_february(subject_factory: Any, settings: Any) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = {"kug": 10}
    person = subject_factory(deceased_on=dt.date(2016, 2, 29))

    assert [period.ends_on for period in after_death_periods(dt.date(2016, 2, 29))] == [dt.date(2026, 2, 28)]
    assert codes(person, None, dt.date(2026, 2, 28)) == [gate.NO_CONSENT]
    assert codes(person, None, dt.date(2026, 3, 1)) == []


def test_the_relatives_must_sign_only_while_the_period_runs(
    subject_factory: Any, record_factory: Any, settings: Any
) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = {"kug": 10}
    today = timezone.localdate()
    # She signed herself; she died ten years ago, tomorrow.
    person = subject_factory(display_name="Ingrid Weiß")
    record = record_factory(person, media_kinds=["photo"], expires_on=None, expiry_event="Bis auf Widerruf")
    subject_update(subject=person, actor=record.recorded_by, data={"deceased_on": years_after(today, -10)})
    record.refresh_from_db()

    assert codes(person, record, today) == [gate.SIGNERS]
    assert codes(person, record, today + dt.timedelta(days=1)) == []


def test_an_unknown_legal_basis_in_the_setting_is_refused(subject_factory: Any, settings: Any) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = {"kug": 10, "gdpr": 5}
    person = subject_factory(deceased_on=dt.date(2000, 1, 1))

    with pytest.raises(ImproperlyConfigured, match="gdpr"):
        codes(person, None, dt.date(2026, 1, 1))


def test_the_person_page_explains_the_periods_after_death(officer: Any, subject_factory: Any, settings: Any) -> None:
    settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS = {"kug": 10, "hipaa": 50}
    person = subject_factory(display_name="Dr. Friedrich Hahn", deceased_on=dt.date(2015, 3, 3))

    html = client_for(officer).get(reverse("consent:subject_detail", args=[person.pk])).content.decode()

    assert 'data-law="after-death"' in html
    assert "Died on 3 Mar 2015." in html
    assert "Under KUG §22, the relatives' consent is needed for photos and videos until 3 Mar 2025" in html
    assert html.count("This period has ended.") == 1  # KUG's; HIPAA's runs on
    assert "Under HIPAA (45 CFR 160.103), the health information stays protected until 3 Mar 2065" in html


# Coming of age ---------------------------------------------------------------------------------


def minor_turning_18_in(days: int, subject_factory: Any, record_factory: Any, **record: Any) -> tuple[Any, Any]:
    today = timezone.localdate()
    person = subject_factory(display_name="Timo K.", date_of_birth=years_after(today, -18) + dt.timedelta(days=days))
    signers = [SignerSpec("subject", "Timo K."), SignerSpec("guardian", "Sabine K.", "mother")]
    record.setdefault("signed_on", today - dt.timedelta(days=200))
    return person, record_factory(person, signers=signers, **record)


def test_a_consent_signed_as_a_minor_stops_covering_posts_on_the_18th_birthday(
    subject_factory: Any, record_factory: Any
) -> None:
    person, record = minor_turning_18_in(20, subject_factory, record_factory)
    birthday = adult_on(person.date_of_birth)

    assert codes(person, record, birthday - dt.timedelta(days=1)) == []
    assert codes(person, record, birthday) == [gate.TURNED_ADULT]
    problem = consent_problems(
        features=[Feature(person.pk, record.pk, frozenset({"photo"}))],
        platforms=["x"],
        purpose="education",
        at=noon(birthday),
    )[0]
    assert "turns 18 on" in problem.message


def test_born_on_29_february_comes_of_age_on_1_march() -> None:
    assert adult_on(dt.date(2008, 2, 29)) == dt.date(2026, 3, 1)
    assert adult_on(dt.date(2008, 3, 1)) == dt.date(2026, 3, 1)


def test_a_consent_signed_as_an_adult_is_not_touched(subject_factory: Any, record_factory: Any) -> None:
    today = timezone.localdate()
    person = subject_factory(date_of_birth=years_after(today, -18) - dt.timedelta(days=30))
    record = record_factory(person, signed_on=today - dt.timedelta(days=5))

    assert codes(person, record, today + dt.timedelta(days=300)) == []


def test_the_reconsent_job_tells_officers_once_and_the_home_page_lists_it(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person, record = minor_turning_18_in(30, subject_factory, record_factory)
    _later, far = minor_turning_18_in(90, subject_factory, record_factory)

    with django_capture_on_commit_callbacks(execute=True):
        assert consent_reconsent_notices_send() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_reconsent_notices_send() == 0  # a second run, a retried task: nothing twice

    record.refresh_from_db()
    assert record.reconsent_due_on == adult_on(person.date_of_birth)
    assert audited(record, "consent.reconsent_due") == 1 and audited(far, "consent.reconsent_due") == 0
    assert sorted(message.to[0] for message in mail.outbox) == sorted([officer.email, officer2.email])
    assert all("Timo K." in m.body and "Timo" not in m.subject for m in mail.outbox)
    assert list(records_reconsent_due()) == [record]

    html = client_for(officer).get("/").content.decode()
    assert sections(html)["reconsents"] == 1
    assert reverse("consent:record_detail", args=[record.pk]) in html

    page = client_for(officer).get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert 'data-law="turns-18"' in page and "Turns 18 on" in page and "re-consent needed" in page


def test_a_new_consent_signed_as_an_adult_ends_the_reconsent_task(subject_factory: Any, record_factory: Any) -> None:
    today = timezone.localdate()
    # Turned 18 ten days ago; the old consent was signed for him as a child, a new one five days ago.
    person, old = minor_turning_18_in(-10, subject_factory, record_factory)
    assert consent_reconsent_notices_send() == 1
    assert list(records_reconsent_due()) == [old]

    record_factory(person, signed_on=today - dt.timedelta(days=5))

    assert list(records_reconsent_due()) == []
    assert codes(person, old, today) == [gate.TURNED_ADULT]  # the old one still does not cover new posts


def test_a_consent_that_ends_before_the_birthday_needs_no_reconsent(subject_factory: Any, record_factory: Any) -> None:
    today = timezone.localdate()
    minor_turning_18_in(40, subject_factory, record_factory, expires_on=today + dt.timedelta(days=20))

    assert consent_reconsent_notices_send() == 0


def test_a_corrected_birth_date_is_worked_out_again(officer: Any, subject_factory: Any, record_factory: Any) -> None:
    person, record = minor_turning_18_in(30, subject_factory, record_factory)
    assert consent_reconsent_notices_send() == 1

    subject_update(subject=person, actor=officer, data={"date_of_birth": person.date_of_birth - dt.timedelta(days=5)})
    assert consent_reconsent_notices_send() == 1

    record.refresh_from_db()
    assert record.reconsent_due_on == adult_on(person.date_of_birth - dt.timedelta(days=5))
    assert audited(record, "consent.reconsent_due") == 2


# The signer's copy -----------------------------------------------------------------------------


def test_verify_is_refused_until_the_copy_is_recorded_then_allowed(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory(), verify=False, copy_given_on=None)

    with pytest.raises(ValidationError) as refused:
        consent_verify(record=record, actor=officer2)
    assert refused.value.code == "copy_not_given"
    record.refresh_from_db()
    assert record.verified_at is None

    today = timezone.localdate()
    consent_copy_given_record(record=record, actor=officer, given_on=today, how="email")
    assert audited(record, "consent.copy_given") == 1
    with pytest.raises(ValidationError):  # recorded once; never changed
        consent_copy_given_record(record=record, actor=officer2, given_on=today, how="post")

    consent_verify(record=record, actor=officer2)
    record.refresh_from_db()
    assert (record.copy_given_on, record.copy_given_how, record.verified_by) == (today, "email", officer2)


@pytest.mark.parametrize(
    ("given_on", "how"),
    [
        (dt.timedelta(days=-30), "post"),  # before the form was signed
        (dt.timedelta(days=2), "post"),  # in the future
        (dt.timedelta(days=0), "fax"),  # no such way
    ],
)
def test_a_bad_copy_given_is_refused_and_nothing_changes(
    given_on: dt.timedelta, how: str, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory(), verify=False, copy_given_on=None)

    with pytest.raises(ValidationError):
        consent_copy_given_record(record=record, actor=officer, given_on=timezone.localdate() + given_on, how=how)
    record.refresh_from_db()
    assert record.copy_given_on is None and audited(record, "consent.copy_given") == 0


def test_the_officer_records_the_copy_from_the_record_page(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory(), verify=False, copy_given_on=None)
    url = reverse("consent:record_copy_given", args=[record.pk])
    client = client_for(officer)
    page = client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert "Record copy given" in page and "Not recorded yet" in page

    missing = client.post(url, {"copy_given_how": "post", "version": version_of(model=ConsentRecord, pk=record.pk)})
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    record.refresh_from_db()
    assert record.copy_given_on is None

    today = timezone.localdate().isoformat()
    done = client.post(
        url,
        {"copy_given_how": "post", "copy_given_on": today, "version": version_of(model=ConsentRecord, pk=record.pk)},
    )
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.copy_given_how == "post" and audited(record, "consent.copy_given") == 1
    page = client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert "Record copy given" not in page and "By post" in page


# The Record consent form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"description": "  "}, "description", "Describe what may be shown"),
        ({"copy_given_how": None}, "copy_given_how", "Say how the signer received their copy"),
        ({"copy_given_on": ""}, "copy_given_on", "Give the day the signer received their copy."),
    ],
)
def test_the_record_form_requires_a_description_and_an_answer_about_the_copy(
    overrides: dict[str, Any], field: str, error: str, officer: Any, subject_factory: Any
) -> None:
    person = subject_factory()
    response = client_for(officer).post(reverse("consent:record_create", args=[person.pk]), record_post(**overrides))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert field in response.context["form"].errors
    assert ConsentRecord.objects.count() == 0


def test_the_copy_can_be_left_for_later_in_the_record_form(officer: Any, subject_factory: Any) -> None:
    person = subject_factory()
    response = client_for(officer).post(
        reverse("consent:record_create", args=[person.pk]), record_post(copy_given_how="later", copy_given_on="")
    )

    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.copy_given_on, record.copy_given_how) == (None, "")


# The database ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"description": ""}, "consent_has_description"),
        ({"copy_given_on": dt.date(2026, 1, 2), "copy_given_how": ""}, "consent_copy_given_how"),
        ({"copy_given_how": "post"}, "consent_copy_given_how"),
    ],
)
def test_the_database_refuses_a_record_without_description_or_with_half_a_copy(
    fields: dict[str, Any], constraint: str, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory(), verify=False, copy_given_on=None)

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(**fields)


def test_a_post_scheduled_from_the_18th_birthday_on_is_blocked_by_the_old_consent(
    editor: Any, campaign: Any, accounts: list[Any], post_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    from posts.gates import post_consent_problems
    from posts.services import FeatureSpec, post_update

    person, record = minor_turning_18_in(20, subject_factory, record_factory)
    birthday = adult_on(person.date_of_birth)
    before = post_factory(editor, campaign, targets=accounts[:1], when=noon(birthday - dt.timedelta(days=1)))
    after = post_factory(editor, campaign, targets=accounts[:1], when=noon(birthday))
    for post in (before, after):
        post_update(
            post=post, actor=editor, featured=[FeatureSpec(subject=person, consent=record, media_kinds=("photo",))]
        )

    assert [p.code for p in post_consent_problems(post=before)] == []
    assert [p.code for p in post_consent_problems(post=after)] == [gate.TURNED_ADULT]
