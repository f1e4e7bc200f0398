"""Secrets stored encrypted: Fernet keys from ROUNDS_CREDENTIALS_KEYS (the first encrypts, all decrypt)."""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def fernet() -> MultiFernet:
    """Return the keys as one MultiFernet; refuse (ImproperlyConfigured) when none is set."""
    keys = settings.ROUNDS_CREDENTIALS_KEYS
    if not keys:
        raise ImproperlyConfigured(
            "Set ROUNDS_CREDENTIALS_KEYS to a Fernet key to store secrets (platform credentials, two-factor "
            "keys): python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'."
        )
    return _multi(tuple(keys))


@lru_cache(maxsize=4)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    # Built once per set of keys (a batch seals thousands of values); a new setting is a new entry.
    return MultiFernet([Fernet(key) for key in keys])
