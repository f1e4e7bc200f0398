"""Absolute links to Rounds, for what is read outside it (e-mail)."""

from django.conf import settings


def site_url(path: str) -> str:
    """Return ``path`` (a path on this site, e.g. from ``reverse``) as an absolute URL.

    The base is ``ROUNDS_SITE_URL``; without it, the first allowed host (https when ``HTTPS`` is on).
    """
    base = getattr(settings, "ROUNDS_SITE_URL", "")
    if not base:
        hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in {"*", ""}]
        scheme = "https" if getattr(settings, "HTTPS", False) else "http"
        base = f"{scheme}://{hosts[0] if hosts else 'localhost'}"
    return base.rstrip("/") + "/" + path.lstrip("/")
