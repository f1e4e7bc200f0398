"""How long consent is needed, as the law reads it: after a death, and when a minor comes of age.

Plain values in, plain values out: the gate (publishing, review) and the registry pages ask the
same functions, so what the page says is what the gate does.

After a death (``ROUNDS_CONSENT_AFTER_DEATH_YEARS``, one entry per legal basis that applies to
the hospital; a basis left out does not apply):

* KUG §22 sentence 3: images of a deceased person need the relatives' consent until ten years
  after the death; after that, none (§22 protects images only: photos and videos).
* HIPAA, 45 CFR 160.103 "protected health information": information about a person dead for more
  than 50 years is no longer PHI; until then a disclosure needs an authorisation (for a decedent,
  signed by the personal representative: 164.502(g)(4)). It covers every kind of content.
* GDPR: does not apply to the dead (Recital 27), so it sets no period.

What no configured basis covers stays as before: the relatives' consent is needed, with no end
(e.g. a German hospital with only KUG: a patient's story stays under medical confidentiality).

A period "until" a date includes that date: died 3 March 2015, KUG period ends at the end of
3 March 2025 (BGB §187(1), §188(2)); consent is no longer needed from 4 March 2025. HIPAA says
"more than 50 years", which falls on the same day. A death on 29 February ends on 28 February
(BGB §188(3)).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consent.models import ADULT_AGE, MediaKind

IMAGE_KINDS = frozenset({"photo", "video"})


@dataclass(frozen=True)
class LegalBasis:
    key: str
    label: str | Promise
    # The media kinds (consent.models.MediaKind values) the basis protects; None: all of them.
    media_kinds: frozenset[str] | None


AFTER_DEATH_BASES = {
    "kug": LegalBasis("kug", _("KUG §22"), IMAGE_KINDS),
    "hipaa": LegalBasis("hipaa", _("HIPAA (45 CFR 160.103)"), None),
}


@dataclass(frozen=True)
class AfterDeathPeriod:
    """One basis's period after a death: consent is needed up to and including ``ends_on``."""

    basis: LegalBasis
    years: int
    ends_on: dt.date

    def covers(self, kind: str) -> bool:
        return self.basis.media_kinds is None or kind in self.basis.media_kinds

    def in_force_on(self, day: dt.date) -> bool:
        return day <= self.ends_on


def after_death_years() -> dict[str, int]:
    """Return the configured years per legal basis; raises ImproperlyConfigured for an unknown basis."""
    configured = dict(settings.ROUNDS_CONSENT_AFTER_DEATH_YEARS)
    for key, years in configured.items():
        if key not in AFTER_DEATH_BASES:
            known = ", ".join(AFTER_DEATH_BASES)
            raise ImproperlyConfigured(f"ROUNDS_CONSENT_AFTER_DEATH_YEARS: unknown basis {key!r} (known: {known})")
        if not isinstance(years, int) or years < 0:
            raise ImproperlyConfigured(f"ROUNDS_CONSENT_AFTER_DEATH_YEARS[{key!r}] must be whole years, not {years!r}")
    return configured


def years_after(day: dt.date, years: int) -> dt.date:
    """Return the same day ``years`` later; 29 February falls on 28 February (BGB §188(3))."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def after_death_periods(deceased_on: dt.date) -> list[AfterDeathPeriod]:
    """Return each configured basis's period for a death on ``deceased_on``, shortest first."""
    periods = [
        AfterDeathPeriod(basis=AFTER_DEATH_BASES[key], years=years, ends_on=years_after(deceased_on, years))
        for key, years in after_death_years().items()
    ]
    return sorted(periods, key=lambda period: (period.ends_on, period.basis.key))


def uncovered_kinds(kinds: Iterable[str]) -> list[str]:
    """Return the kinds no configured basis covers: for them the relatives' consent never stops being needed."""
    periods = [AFTER_DEATH_BASES[key] for key in after_death_years()]
    return [kind for kind in kinds if not any(b.media_kinds is None or kind in b.media_kinds for b in periods)]


def consent_needed_after_death(*, deceased_on: dt.date, media_kinds: Iterable[str], day: dt.date) -> bool:
    """Return whether showing ``media_kinds`` of a person who died on ``deceased_on`` still needs consent on ``day``.

    Content that names no kind counts as showing everything.
    """
    kinds = list(media_kinds) or list(MediaKind.values)
    periods = after_death_periods(deceased_on)
    for kind in kinds:
        covering = [period for period in periods if period.covers(kind)]
        if not covering or any(period.in_force_on(day) for period in covering):
            return True
    return False


def adult_on(date_of_birth: dt.date) -> dt.date:
    """Return the 18th birthday; for 29 February, 1 March (the first day ``Subject.age_on`` says 18)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + ADULT_AGE)
    except ValueError:
        return dt.date(date_of_birth.year + ADULT_AGE, 3, 1)


def minor_consent_ends_on(*, date_of_birth: dt.date | None, signed_on: dt.date) -> dt.date | None:
    """Return the 18th birthday if the consent was signed while the person was a minor, else None.

    From that day the consent signed for the child no longer covers new posts: the adult decides.
    """
    if date_of_birth is None:
        return None
    birthday = adult_on(date_of_birth)
    return birthday if signed_on < birthday else None


@dataclass(frozen=True)
class PeriodNote:
    label: str | Promise
    years: int
    ends_on: dt.date
    images_only: bool
    passed: bool


@dataclass(frozen=True)
class LawNotes:
    """What the registry says about the law's periods for one person (and, on a record page, one record)."""

    deceased_on: dt.date | None = None
    periods: tuple[PeriodNote, ...] = ()
    # Labels of the kinds of content no configured basis releases after death.
    never_released: tuple[str, ...] = ()
    # The 18th birthday, when a consent signed for the person as a minor needs renewing.
    reconsent_on: dt.date | None = None
    reconsent_passed: bool = False


def law_notes(
    *, date_of_birth: dt.date | None, deceased_on: dt.date | None, signed_on: Iterable[dt.date], today: dt.date
) -> LawNotes:
    """Return the notes for a person with these dates and unrevoked consents signed on ``signed_on``.

    No re-consent note once one of those consents was signed on or after the 18th birthday.
    """
    if deceased_on is not None:
        periods = tuple(
            PeriodNote(
                label=period.basis.label,
                years=period.years,
                ends_on=period.ends_on,
                images_only=period.basis.media_kinds == IMAGE_KINDS,
                passed=not period.in_force_on(today),
            )
            for period in after_death_periods(deceased_on)
        )
        never = tuple(str(MediaKind(kind).label) for kind in uncovered_kinds(MediaKind.values))
        return LawNotes(deceased_on=deceased_on, periods=periods, never_released=never)
    days = list(signed_on)
    ends = [end for day in days if (end := minor_consent_ends_on(date_of_birth=date_of_birth, signed_on=day))]
    if not ends or len(ends) < len(days):
        return LawNotes()
    reconsent_on = min(ends)
    return LawNotes(reconsent_on=reconsent_on, reconsent_passed=today >= reconsent_on)
