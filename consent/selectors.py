"""Reads of the consent registry: the lists and pages Consent officers work with.

Each selector owns its joins and prefetches, so a page costs the same number of queries for
one record as for fifty. Apps above consent (posts) add blocks to the subject and record pages
through :func:`registry_panel_register` (e.g. "posts using this consent") without consent
importing them.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from consent.models import ConsentRecord, ConsentState, Subject, consent_day
from people.models import User

REGISTRY_PAGE_SIZE = 50
# The order of the state filter and its counts on the registry page.
REGISTRY_STATES = (
    ConsentState.PENDING,
    ConsentState.ACTIVE,
    ConsentState.EXPIRING_SOON,
    ConsentState.EXPIRED,
    ConsentState.REVOKED,
)


def registry_subjects(*, query: str = "", state: str = "", now: dt.datetime | None = None) -> QuerySet[Subject]:
    """Return subjects matching ``query`` (name or reference), each with ``listed_records`` in ``state``.

    With a state, only subjects that have a record in that state are returned, and only those
    records are attached; without one, every record is.
    """
    records = ConsentRecord.objects.all()
    if state:
        records = records.with_state(state, now=now)
    subjects = Subject.objects.all()
    query = query.strip()
    if query:
        subjects = subjects.filter(Q(display_name__icontains=query) | Q(reference__icontains=query))
    if state:
        subjects = subjects.filter(pk__in=records.values("subject_id"))
    return subjects.order_by("display_name", "pk").prefetch_related(
        Prefetch("consent_records", queryset=records.order_by("-signed_on", "-pk"), to_attr="listed_records")
    )


def registry_state_counts(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Return how many consent records are in each state, in one query."""
    now = now or timezone.now()
    base = ConsentRecord.objects.all()
    counts = base.aggregate(
        **{
            state.value: Count("pk", filter=Q(pk__in=base.with_state(state, now=now).values("pk")))
            for state in REGISTRY_STATES
        }
    )
    return {state.value: int(counts[state.value] or 0) for state in REGISTRY_STATES}


def _records_with_people() -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.select_related("subject", "recorded_by", "verified_by", "revoked_by").prefetch_related(
        "signers"
    )


def subject_for_registry(*, pk: int) -> Subject:
    """Return the subject with ``records`` (all, newest first, with signers); raises Subject.DoesNotExist."""
    records = _records_with_people().order_by("-signed_on", "-pk")
    return (
        Subject.objects.select_related("created_by")
        .prefetch_related(Prefetch("consent_records", queryset=records, to_attr="records"))
        .get(pk=pk)
    )


def record_for_registry(*, pk: int) -> ConsentRecord:
    """Return one record with its subject, signers and the people who acted; raises DoesNotExist."""
    return _records_with_people().get(pk=pk)


def record_by_id(*, pk: int) -> ConsentRecord | None:
    """Return the record with this id, or None (for the download and export, which decide access after)."""
    return ConsentRecord.objects.select_related("subject").filter(pk=pk).first()


# Blocks that apps above consent add to the subject and record pages -------------------------


@dataclass(frozen=True)
class RegistryPanel:
    """One block on a registry page: a template and the context it reads as ``panel``."""

    template_name: str
    order: int = 100
    context: dict[str, object] = field(default_factory=dict)


# Called with the viewing user, the subject and the records shown on the page.
RegistryPanelProvider = Callable[[User | AnonymousUser, Subject, Sequence[ConsentRecord]], RegistryPanel | None]

_panel_providers: dict[str, RegistryPanelProvider] = {}


def registry_panel_register(key: str, provider: RegistryPanelProvider) -> None:
    """Register (or replace) the provider known as ``key``, e.g. posts' "posts using this consent"."""
    _panel_providers[key] = provider


def registry_panels(
    *, user: User | AnonymousUser, subject: Subject, records: Sequence[ConsentRecord]
) -> list[RegistryPanel]:
    """Return the blocks every registered provider offers for these records, in display order."""
    panels = [
        panel for provider in _panel_providers.values() if (panel := provider(user, subject, records)) is not None
    ]
    return sorted(panels, key=lambda panel: panel.order)


def records_expiring(*, now: dt.datetime | None = None) -> QuerySet[ConsentRecord]:
    """Return the verified, unrevoked records that end within the next 30 days, soonest first."""
    return (
        ConsentRecord.objects.with_state(ConsentState.EXPIRING_SOON, now=now)
        .select_related("subject")
        .order_by("expires_on", "pk")
    )


def records_reconsent_due(*, now: dt.datetime | None = None) -> QuerySet[ConsentRecord]:
    """Return the consents signed for a minor who turns (or turned) 18, not yet renewed, soonest birthday first.

    The daily job ``consent_reconsent_notices_send`` marks them; a record leaves this list once it is
    revoked or expired, the person dies, or a consent they signed as an adult is verified.
    """
    today = consent_day(now or timezone.now())
    renewed = ConsentRecord.objects.filter(
        subject_id=OuterRef("subject_id"),
        revoked_at__isnull=True,
        verified_at__isnull=False,
        signed_on__gte=OuterRef("reconsent_due_on"),
    )
    return (
        ConsentRecord.objects.filter(
            reconsent_due_on__isnull=False, revoked_at__isnull=True, subject__deceased_on__isnull=True
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=F("reconsent_due_on")))
        .exclude(Exists(renewed))
        .select_related("subject")
        .order_by("reconsent_due_on", "pk")
    )
