"""Insert many rows in one ``executemany``, for services that write thousands at once.

``bulk_create`` builds a model instance per row and compiles every value through the ORM's
insert compiler; for rows whose ids nobody reads back (targets, revisions, audit events) that
overhead dominates an import. Values that need adapting (JSON, dates and times, ...) still go
through their field's ``get_db_prep_save``; text and integers go to the driver as they are.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.db import connection, models

# Values of these fields reach the database driver unchanged.
_AS_IS = frozenset(
    {
        "CharField",
        "TextField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "ForeignKey",
        "BooleanField",
    }
)


def _adapter(field: "models.Field[Any, Any]") -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _AS_IS:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def rows_insert(*, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``fields``, foreign keys as ids) into ``model``'s table."""
    concrete = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in concrete)
    placeholders = ", ".join(["%s"] * len(concrete))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    adapters = [(index, adapt) for index, field in enumerate(concrete) if (adapt := _adapter(field)) is not None]
    prepared: list[list[Any]] = []
    for row in rows:
        values = list(row)
        for index, adapt in adapters:
            values[index] = adapt(values[index])
        prepared.append(values)
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
