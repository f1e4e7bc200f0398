"""Row locks whose reads are current, on PostgreSQL and on SQLite.

On PostgreSQL a ``SELECT … FOR UPDATE`` that waited for another transaction re-reads the locked
row once that transaction commits (EvalPlanQual), but not the rows ``select_related`` joined to
it: those stay as they were before the wait, or vanish. A post locked with its current revision
joined can so carry a revision that is no longer current, and number the next one after it.
These helpers lock the rows alone and read what they point to with queries of their own once
the lock is held; under READ COMMITTED each such query sees every commit made before it.

On SQLite ``select_for_update`` does nothing; the IMMEDIATE transactions of settings.py take the
database's write lock when the transaction begins, so every read inside it is current anyway.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.db import models, transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=models.Model)

Related = Sequence[str | Prefetch[str]]


def rows_lock(queryset: QuerySet[M], *, related: Related = (), no_key: bool = False) -> list[M]:
    """Lock the rows of ``queryset`` in its order; return them with ``related`` read after the lock.

    ``related`` takes what ``prefetch_related`` takes (foreign keys too). ``no_key`` locks
    ``FOR NO KEY UPDATE``: enough for rows whose key stays, and it lets inserts that refer to
    them through. Only the queryset's own rows are locked, never rows its filters join.
    """
    if queryset.query.select_related:
        raise ValueError("Lock rows alone: pass what they point to as related=, not select_related().")
    if not queryset.query.order_by:
        raise ValueError("Lock rows in a fixed order: give the queryset an explicit order_by().")
    if not transaction.get_connection(queryset.db).in_atomic_block:
        raise TransactionManagementError("A row lock lasts until commit: take it inside transaction.atomic().")
    # A filter across a relation joins other tables; FOR UPDATE would lock their rows too.
    joined = len(queryset.query.alias_map) > 1
    rows = list(queryset.select_for_update(no_key=no_key, of=("self",) if joined else ()))
    prefetch_related_objects(rows, *related)
    return rows


def row_lock(model: type[M], pk: object, *, related: Related = (), no_key: bool = False) -> M:
    """Lock the row of ``model`` with primary key ``pk``; return it with ``related`` read after the lock.

    Raises ``model.DoesNotExist`` when there is no such row.
    """
    rows = rows_lock(model._default_manager.filter(pk=pk).order_by("pk"), related=related, no_key=no_key)
    if not rows:
        missing = f"{model._meta.object_name} matching pk={pk!r} does not exist."
        raise model.DoesNotExist(missing)  # type: ignore[attr-defined]
    return rows[0]
