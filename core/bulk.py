"""Insert and update many rows in few statements, for services that write thousands at once.

``bulk_create`` builds a model instance per row and compiles every value through the ORM's
insert compiler; for an import of thousands of posts that overhead dominates. These helpers
write the same rows with plain SQL: values that need adapting (JSON, dates and times, ...)
still go through their field's ``get_db_prep_save``; text and integers go to the driver as
they are.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar, cast

from django.db import NotSupportedError, connection, connections, models
from django.utils import timezone

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
# Rows per multi-row INSERT where the database sets no lower limit on parameters.
_ROWS_PER_STATEMENT = 500

ModelT = TypeVar("ModelT", bound=models.Model)


def _adapter(field: "models.Field[Any, Any]") -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _AS_IS:
        return None
    # The connection itself, not the thread-local proxy every attribute of which is a look-up.
    database = connections[connection.alias]
    last: list[Any] = [None, None]

    def adapt(value: Any) -> Any:
        # A batch stamps every row with the same moment: adapt that object once.
        if value is last[0] and isinstance(value, dt.date | dt.time):
            return last[1]
        last[0], last[1] = value, field.get_db_prep_save(value, database)
        return last[1]

    return adapt


def _fields(model: type[models.Model], names: Sequence[str]) -> list["models.Field[Any, Any]"]:
    return [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in names]


def _prepared(fields: Sequence["models.Field[Any, Any]"], rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    adapters = [(index, adapt) for index, field in enumerate(fields) if (adapt := _adapter(field)) is not None]
    for row in rows:
        values = list(row)
        for index, adapt in adapters:
            values[index] = adapt(values[index])
        yield values


def _insert_sql(model: type[models.Model], fields: Sequence["models.Field[Any, Any]"], rows: int = 1) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * rows)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608


def rows_insert(*, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``fields``, foreign keys as ids) into ``model``'s table."""
    concrete = _fields(model, fields)
    prepared = list(_prepared(concrete, rows))
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(_insert_sql(model, concrete), prepared)


def rows_insert_returning(
    *, model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """Insert ``rows`` as `rows_insert` does; returns their new primary keys, in the order of ``rows``.

    Multi-row ``INSERT ... RETURNING``, in statements as large as the database's parameter limit
    allows; like ``bulk_create``, it relies on the rows coming back in the order they were given.
    """
    if not connection.features.can_return_rows_from_bulk_insert:
        raise NotSupportedError("rows_insert_returning needs INSERT ... RETURNING (PostgreSQL, SQLite 3.35+).")
    concrete = _fields(model, fields)
    limit = connection.features.max_query_params
    size = max(1, min(_ROWS_PER_STATEMENT, limit // len(concrete) if limit else _ROWS_PER_STATEMENT))
    pk = connection.ops.quote_name(model._meta.pk.column)
    keys: list[Any] = []
    batch: list[Any] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch.clear()
            chunk = rows[start : start + size]
            for values in _prepared(concrete, chunk):
                batch.extend(values)
            cursor.execute(f"{_insert_sql(model, concrete, len(chunk))} RETURNING {pk}", batch)
            keys.extend(row[0] for row in cursor.fetchall())
    return keys


def instance_maker(model: type[ModelT]) -> Callable[..., ModelT]:
    """Return ``make(**values)``, which builds a new ``model`` instance through the positional constructor.

    ``Model(**values)`` matches the keywords against every field and costs three times what the
    positional path (the one ``Model.from_db`` takes) costs. ``values`` are attribute names
    (``campaign_id``, not ``campaign``); fields not given get their default, a callable one
    called for each instance.
    """
    fields = model._meta.concrete_fields
    index_of = {field.attname: index for index, field in enumerate(fields)}
    called = [index for index, field in enumerate(fields) if field.has_default() and callable(field.default)]
    template = [None if index in called else field.get_default() for index, field in enumerate(fields)]

    def make(**values: Any) -> ModelT:
        args = template.copy()
        for index in called:
            args[index] = fields[index].get_default()
        for name, value in values.items():
            if name not in index_of:
                raise TypeError(f"{model.__name__} has no field {name!r}")
            args[index_of[name]] = value
        return model(*args)

    return make


def objects_insert(*, objects: Sequence[ModelT]) -> list[ModelT]:
    """Save new instances of one model as ``bulk_create`` would (their keys set); returns them.

    Fields that stamp the time (``auto_now``, ``auto_now_add``) get one moment for the whole
    batch; every other field saves what its ``pre_save`` says. No signals, no ``save()``.
    """
    if not objects:
        return []
    model = type(objects[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    stamped = {
        field.attname
        for field in fields
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)
    }
    for obj in objects:
        for name in stamped:
            setattr(obj, name, now)
    readers = [_reader(field, stamped) for field in fields]
    rows = [[read(obj) for read in readers] for obj in objects]
    keys = rows_insert_returning(model=model, fields=[field.attname for field in fields], rows=rows)
    for obj, key in zip(objects, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objects)


def _reader(field: "models.Field[Any, Any]", stamped: set[str]) -> Callable[[models.Model], Any]:
    """Return how to read the value to save: the attribute, where ``pre_save`` would only read it."""
    plain = type(field).pre_save is models.Field.pre_save or (
        isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add)
    )
    if plain or field.attname in stamped:
        return attrgetter(field.attname)
    return partial(_pre_save, field)


def _pre_save(field: "models.Field[Any, Any]", obj: models.Model) -> Any:
    return field.pre_save(obj, True)


def column_set(*, model: type[models.Model], field: str, values: Iterable[tuple[Any, Any]]) -> None:
    """Set one column of many rows: ``values`` holds (primary key, new value) pairs."""
    concrete = _fields(model, [field])[0]
    adapt = _adapter(concrete)
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    params = [[adapt(value) if adapt else value, key] for key, value in values]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {quote(concrete.column)} = %s WHERE {pk} = %s", params)  # noqa: S608
