"""A user's rights read once per request and shared by every policy that asks.

One page asks the same questions many times: the two-factor middleware, the evidence panel and
the approvals policy each want the user's groups; the post, crisis, publishing and evidence
policies each want the campaigns the user may change or see. The answers are memoised on the
user object itself (an attribute, as Django's ModelBackend keeps ``_perm_cache``).
Django's authentication middleware loads a fresh User for every request, so a memo lives exactly
as long as its request.

What every page asks first (the user's roles, their Django permissions, their campaign grants) is
also ``kept`` across requests, keyed on the state version (audit.selectors.state_cached): every
way a right changes (roles, permissions, a campaign's team and reviewers, a new campaign, a user
made inactive) goes through an audited service, whose event is written in the same transaction
(invariant 4). So a right given or taken in any process is seen by the next request that reads
the state version after that transaction commits, as before. Nothing is kept from inside a
transaction, which may still roll back.

Rights changed in the same process are seen at once: a change of groups, of permissions or of
guardian object permissions (a campaign's team and reviewers) bumps a generation counter by
signal, and a memo made under an older generation is dropped with Django's own permission caches
on that object. So a service that changes the user's own rights (even through another instance
of the same user) and asks again gets the new answer. What no signal reports is a change rolled
back: a memo filled inside a failed transaction after its change keeps that change's answer for
the rest of the request (services raise, and the request ends with the error page).
"""

import functools
import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from audit.models import AuditEvent
from audit.selectors import state_cached, state_version_seen
from people.models import Notice, User

T = TypeVar("T")

_MEMO = "_rounds_rights"
# Django's ModelBackend and guardian's caches on a user object, dropped with the memo.
_DJANGO_CACHES = ("_perm_cache", "_user_perm_cache", "_group_perm_cache")
_counter = itertools.count(1)
_generation = 0


def rights_changed(**kwargs: Any) -> None:
    """Signal receiver: somebody's rights changed in this process, so every memo made before is stale."""
    global _generation
    _generation = next(_counter)


def memoised(user: User, key: str, compute: Callable[[], T]) -> T:
    """Return ``compute()`` once per ``user`` object and ``key``, until someone's rights change."""
    # Attributes, not user.__dict__: request.user is a lazy proxy that passes them to the User.
    memo = getattr(user, _MEMO, None)
    if memo is None or memo[0] != _generation:
        if memo is not None:
            for name in _DJANGO_CACHES:
                if hasattr(user, name):
                    delattr(user, name)
        memo = (_generation, {})
        setattr(user, _MEMO, memo)
    answers: dict[str, Any] = memo[1]
    if key not in answers:
        answers[key] = compute()
    return answers[key]  # type: ignore[no-any-return]


def kept(user: User, key: str, compute: Callable[[], T]) -> T:
    """Return ``memoised(user, key, compute)``, kept across requests until the next state change.

    For the rights every page reads (module docstring): one indexed read of the state version per
    request instead of their queries, while nothing changed.
    """

    def across_requests() -> T:
        if settings.ROUNDS_STATE_CACHE_SECONDS <= 0 or connection.in_atomic_block or user.pk is None:
            return compute()
        version = request_state(user)[0]
        return state_cached(f"rights:{user.pk}:{_generation}:{key.replace(' ', '-')}", compute, version=version)

    return memoised(user, key, across_requests)


def request_state(user: User) -> tuple[int, int]:
    """Return the state version and the user's unread notices, read in one query once per request.

    Every page reads both: the version for what is kept across requests (rights, the navigation's
    counts), the unread count for the menu. Both are as they were when the request first asked.
    """

    def read() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(_request_state_sql(connection.vendor), [user.pk])
            version, unread = cursor.fetchone()
        state_version_seen(version or 0)
        return (version or 0, unread or 0)

    return memoised(user, "request state", read)


@functools.cache
def _request_state_sql(vendor: str) -> str:
    """Return the query of `request_state`, written once per database vendor.

    Every page runs it first; built through the ORM (two subqueries) it cost a millisecond of
    Python each time for a fixed text. It is ``state_version()`` and the user's unread notices
    (their ``people_notice_unread`` index).
    """
    quote = connection.ops.quote_name
    events, notices = AuditEvent._meta, Notice._meta
    user, read_at = (quote(field.column) for field in (Notice.user.field, Notice.read_at.field))
    # Only our own table and column names go into the text; the user's id is a parameter.
    return (
        f"SELECT (SELECT {quote(events.pk.column)} FROM {quote(events.db_table)} ORDER BY 1 DESC LIMIT 1), "  # noqa: S608
        f"(SELECT COUNT(*) FROM {quote(notices.db_table)} WHERE {user} = %s AND {read_at} IS NULL)"
    )


def _groups(user: User) -> dict[int, str]:
    return kept(user, "groups", lambda: dict(user.groups.values_list("pk", "name")))


def group_ids(user: User | AnonymousUser) -> frozenset[int]:
    """Return the primary keys of the user's groups (their roles); one query per request."""
    if not user.is_authenticated:
        return frozenset()
    return frozenset(_groups(user))


def in_any_group(user: User | AnonymousUser, names: Iterable[str]) -> bool:
    """Return whether the user is in any of the groups named ``names`` (role names, people.roles)."""
    if not user.is_authenticated:
        return False
    return not set(_groups(user).values()).isdisjoint(names)
