"""Insert and update many rows in few statements, for services that write thousands at once.

``bulk_create`` builds a model instance per row and compiles every value through the ORM's
insert compiler; for an import of thousands of posts that overhead dominates. These helpers
write the same rows with plain SQL: values that need adapting (JSON, dates and times, ...)
still go through their field's ``get_db_prep_save``; text and integers go to the driver as
they are.

On PostgreSQL the rows are streamed with ``COPY ... FROM STDIN``: one statement for any number
of rows, and no SQL text to build or parse (Django's psycopg cursors bind parameters on the
client, so a multi-row INSERT quotes every value into a string the server then parses again).
New primary keys come from the table's sequence beforehand, since COPY returns nothing.
SQLite, in the same process, is fastest with ``executemany`` and multi-row ``RETURNING``.
"""

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
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
# Rows per multi-row INSERT where the database sets no lower limit on parameters: as many as a
# plan import writes in one batch (plans.importing), so a batch is one statement per table.
_ROWS_PER_STATEMENT = 1000

ModelT = TypeVar("ModelT", bound=models.Model)


class JsonText(str):
    """A JSON field's value already encoded as JSON text, written as it is.

    For a writer that encoded the value anyway (to hash it): the database parses the text, as it
    would parse the driver's own encoding of the value, so the row holds the same JSON.
    """

    __slots__ = ()


def _adapter(field: "models.Field[Any, Any]") -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _AS_IS:
        return None
    # The connection itself, not the thread-local proxy every attribute of which is a look-up.
    database = connections[connection.alias]
    last: list[Any] = [None, None]
    encoded = isinstance(field, models.JSONField)

    def adapt(value: Any) -> Any:
        if encoded and type(value) is JsonText:
            return str(value)
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


def _copies() -> bool:
    return connection.vendor == "postgresql"


def _copy(model: type[models.Model], fields: Sequence["models.Field[Any, Any]"], rows: Iterable[Sequence[Any]]) -> None:
    """Stream ``rows`` (already prepared) into ``model``'s table in one COPY (PostgreSQL)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    connection.validate_no_broken_transaction()
    with connection.cursor() as cursor:
        # Logged like any query (with DEBUG, and for tests that count queries), errors raised as
        # Django's (IntegrityError ...): the cursor wrapper does neither for COPY by itself.
        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, connection.wrap_database_errors, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _keys_reserved(model: type[models.Model], count: int) -> list[int]:
    """Return ``count`` new primary keys of ``model`` taken from its table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def keys_reserve(*, model: type[models.Model], count: int) -> list[int] | None:
    """Return ``count`` new primary keys of ``model`` to insert rows under, or None where keys
    come only from an insert (SQLite: use `rows_insert_returning` there)."""
    return _keys_reserved(model, count) if _copies() and count else None


def rows_insert(*, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``fields``, foreign keys as ids) into ``model``'s table."""
    concrete = _fields(model, fields)
    if _copies():
        _copy(model, concrete, _prepared(concrete, rows))
        return
    prepared = list(_prepared(concrete, rows))
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(_insert_sql(model, concrete), prepared)


def rows_insert_returning(
    *, model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """Insert ``rows`` as `rows_insert` does; returns their new primary keys, in the order of ``rows``.

    PostgreSQL: keys taken from the sequence in one query, then one COPY. Elsewhere: multi-row
    ``INSERT ... RETURNING``, in statements as large as the database's parameter limit allows;
    like ``bulk_create``, it relies on the rows coming back in the order they were given.
    """
    concrete = _fields(model, fields)
    if _copies():
        if not rows:
            return []
        reserved = _keys_reserved(model, len(rows))
        with_keys = [model._meta.pk, *concrete]
        prepared = _prepared(concrete, rows)
        _copy(model, with_keys, ([key, *values] for key, values in zip(reserved, prepared, strict=True)))
        return reserved
    if not connection.features.can_return_rows_from_bulk_insert:
        raise NotSupportedError("rows_insert_returning needs INSERT ... RETURNING (PostgreSQL, SQLite 3.35+).")
    limit = _parameter_limit()
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


def _parameter_limit() -> int | None:
    """Return how many parameters one statement may hold here: SQLite's own limit, not Django's guess."""
    if connection.vendor != "sqlite":
        return connection.features.max_query_params
    # Django 5.2 assumes 999, the limit of SQLite before 3.32; the library in use says its own.
    connection.ensure_connection()
    return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


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
    if params and _copies():
        # One statement: the pairs as two arrays, joined to the table by key.
        key_type, value_type = model._meta.pk.db_type(connection), concrete.db_type(connection)
        sql = (
            f"UPDATE {table} SET {quote(concrete.column)} = new.value "  # noqa: S608
            f"FROM unnest(%s::{key_type}[], %s::{value_type}[]) AS new(key, value) WHERE {table}.{pk} = new.key"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [[key for _, key in params], [value for value, _ in params]])
        return
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {quote(concrete.column)} = %s WHERE {pk} = %s", params)  # noqa: S608
