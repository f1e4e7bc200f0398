"""Prepared statements on PostgreSQL: the cursor Rounds' connections use there (issue 17).

Each main page runs the same 8 to 19 queries on every request, and PostgreSQL parsed and planned
each of them each time: with Django's default cursor, psycopg writes the parameters into the SQL
(client-side binding), so no two requests send the same statement. With the parameters sent apart
(server-side binding), psycopg prepares a statement once a connection has run it
``prepare_threshold`` times, and later requests skip the parse and plan: 2 to 5 ms of a 25 to 35 ms
page, measured with bench/http.py's pages. Settings: ``ROUNDS_DB_PREPARED_STATEMENTS``
(docs/operations.md#prepared-statements).

A bound statement carries at most 32,767 parameters (the protocol counts them in a signed 16-bit
integer); Django does not split a long ``pk__in`` list or a large delete on PostgreSQL, since its
default binding has no such limit. A statement with more parameters than that is bound on the
client as before, so nothing that worked with Django's default cursor stops working.
"""

from typing import Any

import psycopg
from psycopg import sql

# The Bind message's parameter count is an Int16.
PARAMETER_LIMIT = 32_767


class PreparingCursor(psycopg.Cursor[Any]):
    """psycopg's server-side binding cursor; client-side binding for a statement over the limit."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> "PreparingCursor":
        if params is not None and len(params) > PARAMETER_LIMIT:
            # The values written into the SQL, as Django's default cursor does; never prepared.
            query = psycopg.ClientCursor(self.connection).mogrify(query, params)
            params, prepare = None, False
        return super().execute(query, params, prepare=prepare, binary=binary)

    def callproc(self, name: Any, args: Any = None) -> Any:
        """Call a database function by name, as Django's PostgreSQL cursors do (``CursorMixin.callproc``)."""
        if not isinstance(name, sql.Identifier):
            name = sql.Identifier(name)
        parts: list[sql.Composable] = [sql.SQL("SELECT * FROM "), name, sql.SQL("(")]
        if args:
            for item in args:
                parts += [sql.Literal(item), sql.SQL(",")]
            del parts[-1]
        parts.append(sql.SQL(")"))
        self.execute(sql.Composed(parts))
        return args
