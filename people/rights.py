"""A user's rights read once per request and shared by every policy that asks.

One page asks the same questions many times: the two-factor middleware, the evidence panel and
the approvals policy each want the user's groups; the post, crisis, publishing and evidence
policies each want the campaigns the user may change or see. The answers are memoised on the
user object itself (an attribute, as Django's ModelBackend keeps ``_perm_cache``).
Django's authentication middleware loads a fresh User for every request, so a memo lives exactly
as long as its request; nothing about anyone's rights is kept per process or across requests.

Rights changed in the same process are seen at once: a change of groups, of permissions or of
guardian object permissions (a campaign's team and reviewers) bumps a generation counter by
signal, and a memo made under an older generation is dropped with Django's own permission caches
on that object. So a service that changes the user's own rights (even through another instance
of the same user) and asks again gets the new answer. What no signal reports is a change rolled
back: a memo filled inside a failed transaction after its change keeps that change's answer for
the rest of the request (services raise, and the request ends with the error page).
"""

import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser

from people.models import User

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


def _groups(user: User) -> dict[int, str]:
    return memoised(user, "groups", lambda: dict(user.groups.values_list("pk", "name")))


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
