"""Tell an ordinary web link valid without running Django's URLValidator over all of it.

``URLValidator`` costs about 20 µs a call (a large Unicode pattern, then ``urlsplit``); a plan
of 20,000 rows pays that in the preview, again in the import, and again in ``full_clean``.
Most links are ordinary: ``http(s)://`` an ASCII host name, maybe a port, then a path without
white space. For those, the validator's verdict depends only on the part before the path
(scheme, host and port), which a plan repeats and this module checks once. Everything else
returns False, and the caller runs the full validator, whose message it shows.
"""

import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# scheme://host[:port] and a path, query or fragment without white space. Host: ASCII letters,
# digits, dots and dashes only, so no user:password@, no [IPv6] and no Unicode look-alikes.
_ORDINARY = re.compile(r"(?P<scheme>[A-Za-z]+)://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?P<rest>[/?#]\S*)?")
_WEB = frozenset({"http", "https"})
_ORIGIN_VALIDATOR = URLValidator(schemes=sorted(_WEB))


@lru_cache(maxsize=4096)
def _origin_valid(origin: str) -> bool:
    try:
        _ORIGIN_VALIDATOR(origin)
    except ValidationError:
        return False
    return True


def ordinary_web_link_valid(value: str, *, max_length: int) -> bool:
    """Return True only if ``value`` is an http(s) address every ``URLValidator`` with those schemes accepts.

    True is certain: ``URLValidator`` matches such a value exactly when it matches its origin,
    since the rest (``[/?#]`` then no white space) is what its pattern allows after any host,
    and ``urlsplit`` sees the same host and port in both. False means "not shown here", not
    "invalid": run the full validator.
    """
    if len(value) > min(max_length, URLValidator.max_length):
        return False
    match = _ORDINARY.fullmatch(value)
    if match is None or match["scheme"].lower() not in _WEB:
        return False
    rest = match["rest"]
    return _origin_valid(value[: len(value) - len(rest)] if rest else value)
