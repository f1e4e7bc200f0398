"""The consent gate: may this content, showing these people, go out on these platforms at this time?

One function answers for submission, every approval, scheduling and the moment of publishing.
It takes plain values (posts sits above consent and passes what a post shows), so every caller
asks the same question the same way.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext_noop

from consent.law import consent_needed_after_death, minor_consent_ends_on
from consent.models import ADULT_AGE, MINOR_OWN_CONSENT_AGE, ConsentRecord, SignerRole, Subject, consent_day
from core.i18n import StoredMessage

# Problem codes, stable for templates and tests.
NO_CONSENT = "no_consent"
WRONG_SUBJECT = "wrong_subject"
NOT_VERIFIED = "not_verified"
REVOKED = "revoked"
NOT_YET_SIGNED = "not_yet_signed"
EXPIRED = "expired"
PLATFORM = "platform"
MEDIA_KIND = "media_kind"
PURPOSE = "purpose"
SIGNERS = "signers"
TURNED_ADULT = "turned_adult"

# The messages, in the reader's language when shown live; stored in English by the publishing worker
# (a blocked publication's reasons) and translated again on display (core.i18n.StoredMessage).
SIGNED_BY_RELATIVE = StoredMessage(gettext_noop("A deceased person's consent must be signed by a relative."))
SIGNED_BY_GUARDIAN = StoredMessage(gettext_noop("A minor's consent must be signed by a parent or guardian."))
SIGNED_BY_MINOR_TOO = StoredMessage(gettext_noop("A minor aged 8 to 17 must sign too, beside the guardian."))
SIGNED_BY_PERSON = StoredMessage(
    gettext_noop("The consent must be signed by the person or their personal representative.")
)
NO_CONSENT_MESSAGE = StoredMessage(gettext_noop("No consent is linked for this person."))
WRONG_SUBJECT_MESSAGE = StoredMessage(gettext_noop("The linked consent belongs to someone else."))
REVOKED_MESSAGE = StoredMessage(gettext_noop("The consent was revoked."))
NOT_VERIFIED_MESSAGE = StoredMessage(gettext_noop("The consent has not been verified by a consent officer."))
NOT_YET_SIGNED_MESSAGE = StoredMessage(gettext_noop("The consent was signed after the publishing date."))
EXPIRED_MESSAGE = StoredMessage(gettext_noop("The consent expires on %(date)s, before publishing."))
PLATFORM_MESSAGE = StoredMessage(gettext_noop("The consent does not cover the platform %(platform)s."))
MEDIA_KIND_MESSAGE = StoredMessage(gettext_noop("The consent does not allow showing: %(kind)s."))
PURPOSE_MESSAGE = StoredMessage(gettext_noop("The consent does not cover the purpose %(purpose)s."))
TURNED_ADULT_MESSAGE = StoredMessage(
    gettext_noop(
        "The person turns 18 on %(date)s: the consent signed while they were a minor does not cover posts "
        "from that day. They must consent again themselves."
    )
)


@dataclass(frozen=True)
class Feature:
    """What one post shows of one person, and the consent it relies on."""

    subject_id: int
    consent_id: int | None
    media_kinds: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Problem:
    code: str
    subject_id: int
    consent_id: int | None
    message: str

    @property
    def key(self) -> str:
        """Return a stable identifier, e.g. for a reviewer's acknowledgement."""
        return f"consent:{self.code}:{self.subject_id}:{self.consent_id or 0}"


def signer_problem(record: ConsentRecord, *, at: dt.datetime, media_kinds: Iterable[str] | None = None) -> str | None:
    """Return why the signatures do not suffice for showing ``media_kinds`` (default: all the record allows)."""
    subject = record.subject
    roles = {signer.role for signer in record.signers.all()}
    if subject.deceased_on is not None and subject.deceased_on <= consent_day(at):
        # KUG §22 sentence 3, and SPEC: after death the relatives decide, even if the person once signed;
        # once no basis protects what the record allows any more, nobody need sign (consent.law).
        if SignerRole.RELATIVE not in roles and consent_needed(
            subject, media_kinds=record.media_kinds if media_kinds is None else media_kinds, at=at
        ):
            return SIGNED_BY_RELATIVE.shown()
        return None
    age = subject.age_on(record.signed_on)
    if age is not None and age < ADULT_AGE:
        if SignerRole.GUARDIAN not in roles:
            return SIGNED_BY_GUARDIAN.shown()
        if age >= MINOR_OWN_CONSENT_AGE and SignerRole.SUBJECT not in roles:
            return SIGNED_BY_MINOR_TOO.shown()
        return None
    if not roles & {SignerRole.SUBJECT, SignerRole.REPRESENTATIVE}:
        return SIGNED_BY_PERSON.shown()
    return None


def consent_needed(subject: Subject, *, media_kinds: Iterable[str], at: dt.datetime) -> bool:
    """Return whether showing ``media_kinds`` of ``subject`` at ``at`` needs consent at all.

    Only a death ends the need, once every legal basis protecting what is shown has run out (consent.law).
    """
    day = consent_day(at)
    if subject.deceased_on is None or subject.deceased_on > day:
        return True
    return consent_needed_after_death(deceased_on=subject.deceased_on, media_kinds=media_kinds, day=day)


def record_problems(
    *, record: ConsentRecord | None, feature: Feature, platforms: Iterable[str], purpose: str, at: dt.datetime
) -> list[Problem]:
    """Return every reason ``record`` does not cover ``feature`` on ``platforms`` for ``purpose`` at ``at``."""

    def problem(code: str, message: str) -> Problem:
        return Problem(code=code, subject_id=feature.subject_id, consent_id=feature.consent_id, message=message)

    if record is None:
        return [problem(NO_CONSENT, NO_CONSENT_MESSAGE.shown())]
    if record.subject_id != feature.subject_id:
        return [problem(WRONG_SUBJECT, WRONG_SUBJECT_MESSAGE.shown())]
    if not consent_needed(record.subject, media_kinds=feature.media_kinds, at=at):
        # KUG §22 and 45 CFR 160.103: the protection after death has run out; the record is kept, not needed.
        return []
    problems = []
    if record.revoked_at is not None:
        problems.append(problem(REVOKED, REVOKED_MESSAGE.shown()))
    if record.verified_at is None:
        problems.append(problem(NOT_VERIFIED, NOT_VERIFIED_MESSAGE.shown()))
    day = consent_day(at)
    if record.signed_on > day:
        problems.append(problem(NOT_YET_SIGNED, NOT_YET_SIGNED_MESSAGE.shown()))
    if record.expires_on is not None and record.expires_on < day:
        problems.append(
            problem(EXPIRED, EXPIRED_MESSAGE.shown(date=formats.date_format(record.expires_on, "SHORT_DATE_FORMAT")))
        )
    if not record.all_platforms:
        for platform in sorted(set(platforms) - set(record.platforms)):
            problems.append(problem(PLATFORM, PLATFORM_MESSAGE.shown(platform=platform)))
    for kind in sorted(feature.media_kinds - set(record.media_kinds)):
        problems.append(problem(MEDIA_KIND, MEDIA_KIND_MESSAGE.shown(kind=kind)))
    if purpose not in record.purposes:
        message = PURPOSE_MESSAGE.shown(purpose=purpose)
        problems.append(problem(PURPOSE, message))
    reason = signer_problem(record, at=at, media_kinds=feature.media_kinds)
    if reason:
        problems.append(problem(SIGNERS, reason))
    adult = minor_consent_ends_on(date_of_birth=record.subject.date_of_birth, signed_on=record.signed_on)
    deceased = record.subject.deceased_on is not None and record.subject.deceased_on <= day
    if adult is not None and day >= adult and not deceased:
        # The parents' consent spoke for a child; from 18 the person alone decides about new posts
        # (GDPR Art. 8 and 7; KUG §22). Posts already out stay: the consent was valid when they went.
        when = formats.date_format(adult, "SHORT_DATE_FORMAT")
        problems.append(problem(TURNED_ADULT, TURNED_ADULT_MESSAGE.shown(date=when)))
    return problems


def consent_records_load(ids: Iterable[int]) -> dict[int, ConsentRecord]:
    """Return the consent records ``consent_problems`` reads, by id: one load for many posts."""
    records = ConsentRecord.objects.filter(pk__in=set(ids)).select_related("subject").prefetch_related("signers")
    return {record.pk: record for record in records}


def consent_problems(
    *,
    features: Sequence[Feature],
    platforms: Iterable[str],
    purpose: str,
    at: dt.datetime,
    records: dict[int, ConsentRecord] | None = None,
) -> list[Problem]:
    """Return every consent problem of content showing ``features``; empty means it may go out.

    ``records`` are the consent records as `consent_records_load` returns them, loaded in the
    caller's transaction (the publisher checks a whole batch of posts at once); by default the
    records of ``features`` are loaded here.
    """
    platforms = list(platforms)
    if records is None:
        records = consent_records_load(feature.consent_id for feature in features if feature.consent_id is not None)
    unlinked = {feature.subject_id for feature in features if records.get(feature.consent_id or 0) is None}
    # Only people without a consent can be shown without one: those whose protection after death ran out.
    deceased = (
        {subject.pk: subject for subject in Subject.objects.filter(pk__in=unlinked, deceased_on__isnull=False)}
        if unlinked
        else {}
    )
    problems: list[Problem] = []
    for feature in features:
        record = records.get(feature.consent_id) if feature.consent_id is not None else None
        subject = deceased.get(feature.subject_id)
        if (
            record is None
            and subject is not None
            and not consent_needed(subject, media_kinds=feature.media_kinds, at=at)
        ):
            continue
        problems.extend(record_problems(record=record, feature=feature, platforms=platforms, purpose=purpose, at=at))
    return problems
