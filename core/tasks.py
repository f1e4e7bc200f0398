"""How services hand work to django-q2: only after their transaction commits."""

from typing import Any

from django.db import transaction
from django_q.tasks import async_task


def enqueue_after_commit(func: str, /, **kwargs: Any) -> None:
    """Queue ``func`` (a dotted path) with keyword arguments once the current transaction commits."""
    transaction.on_commit(lambda: async_task(func, **kwargs))
