"""Statements the hot paths write by hand, on SQLite and PostgreSQL alike.

The ORM spends about 0.4 ms of CPU compiling a statement that PostgreSQL answers in 0.1
(a carrier's single event ran twelve: two thirds of its CPU went to compiling them). The
statements a request runs for every event are written once, here and in the selectors that
use these helpers; everything else stays with the ORM. Values go through the fields'
own conversions both ways, so what is stored and read is what the ORM would store and read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import NOT_PROVIDED, Field, Model

# Up to this many rows go in one INSERT … VALUES; more are streamed with COPY on
# PostgreSQL (a thousand timeline rows: 6 ms instead of 40 ms of binding parameters).
COPY_FROM_ROWS = 20


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


class Columns:
    """Some columns of a model (all by default), in the order given, as a SELECT list under
    ``alias``; and the values and instances rows holding them make, as the ORM makes them
    (the same converters)."""

    def __init__(self, model: type[Model], alias: str, fields: Sequence[str] | None = None):
        concrete = list(model._meta.concrete_fields)
        self.model = model
        self.alias = alias
        self.fields: list[Field] = (
            concrete if fields is None else [model._meta.get_field(name) for name in fields]
        )
        self.width = len(self.fields)
        self.sql = ", ".join(f"{quote(alias)}.{quote(f.column)}" for f in self.fields)
        # ``Model.from_db`` takes the values in the model's order.
        self._model_order = sorted(range(self.width), key=lambda i: concrete.index(self.fields[i]))
        self._attnames = [self.fields[i].attname for i in self._model_order]
        self._converters: dict[str, list] = {}

    def converters(self) -> list[tuple[int, list, Any]]:
        vendor = connection.vendor
        if vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(column)
                functions += column.get_db_converters(connection)
                if functions:
                    found.append((index, functions, column))
            self._converters[vendor] = found
        return self._converters[vendor]

    def values(self, row: Sequence[Any], start: int = 0) -> list[Any]:
        """The Python values of ``row[start:start + width]``, as the fields read them."""
        values = list(row[start : start + self.width])
        for index, functions, column in self.converters():
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        return values

    def instance(self, row: Sequence[Any], start: int = 0) -> Model:
        """The instance ``row[start:start + width]`` holds (the other fields deferred)."""
        values = self.values(row, start)
        values = [values[i] for i in self._model_order]
        return self.model.from_db(connection.alias, self._attnames, values)


def any_of(column: str, field: Field, values: Iterable[Any]) -> tuple[str, list]:
    """``column`` is one of ``values``: ``= ANY(%s)`` on PostgreSQL, one statement text
    (prepared once) whatever their number; ``IN (…)`` elsewhere."""
    prepped = [field.get_db_prep_value(v, connection) for v in values]
    if not prepped:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [prepped]
    return f"{column} IN ({', '.join(['%s'] * len(prepped))})", prepped


def for_update_of(alias: str) -> str:
    """Lock the rows of ``alias`` that a SELECT reads, where the database can."""
    if not connection.features.has_select_for_update:
        return ""  # SQLite: a write transaction holds the whole database (IMMEDIATE)
    return f" FOR UPDATE OF {quote(alias)}"


@cache
def _insert_columns(model: type[Model]) -> tuple[list[Field], str]:
    fields = []
    for field in model._meta.concrete_fields:
        if field.generated or (field.primary_key and field.db_returning):
            continue  # made by the database
        if field.db_default is not NOT_PROVIDED:
            raise ValueError(f"{model.__name__}.{field.name}: rows_insert sets every column.")
        fields.append(field)
    return fields, ", ".join(quote(f.column) for f in fields)


def rows_insert(objs: Sequence[Model]) -> None:
    """Insert new instances of one model: ``bulk_create`` without its compiling, for rows
    whose primary key is made in Python or never read back (an auto id stays unset). No
    ``save()``, no signals, as with ``bulk_create``."""
    if not objs:
        return
    model = type(objs[0])
    fields, names = _insert_columns(model)
    rows = [
        [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields] for obj in objs
    ]
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > COPY_FROM_ROWS:
            statement = f"COPY {table} ({names}) FROM STDIN"
            began = time.monotonic()
            # A unique violation comes out as Django's IntegrityError.
            with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            if connection.queries_logged:  # counted like the statements Django runs
                took = time.monotonic() - began
                connection.queries_log.append({"sql": statement, "time": f"{took:.3f}"})
        elif connection.vendor == "postgresql":
            one = f"({', '.join(['%s'] * len(fields))})"
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}",
                [value for row in rows for value in row],
            )
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def rows_update(
    model: type[Model],
    *,
    ids: Sequence[Any],
    where_in: dict[str, Iterable[Any]],
    columns: dict[str, Any],
    per_row: dict[str, dict[Any, Any]] | None = None,
) -> int:
    """``UPDATE`` the rows of ``ids`` whose ``where_in`` columns hold one of the values
    given (a compare-and-set), writing ``columns`` and, per column of ``per_row``, each
    row's own value (by id; rows without one keep theirs). Returns the rows changed."""
    opts = model._meta
    pk = opts.pk
    sets, params = [], []
    for name, value in columns.items():
        field = opts.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    for name, values in (per_row or {}).items():
        if not values:
            continue
        field = opts.get_field(name)
        column = quote(field.column)
        whens = " ".join(["WHEN %s THEN %s"] * len(values))
        sets.append(f"{column} = CASE {quote(pk.column)} {whens} ELSE {column} END")
        for row_id, value in values.items():
            params += [
                pk.get_db_prep_value(row_id, connection),
                field.get_db_prep_save(value, connection),
            ]
    where, where_params = any_of(quote(pk.column), pk, ids)
    conditions, params = [where], params + where_params
    for name, values in where_in.items():
        field = opts.get_field(name)
        condition, condition_params = any_of(quote(field.column), field, values)
        conditions.append(condition)
        params += condition_params
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(opts.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}",
            params,
        )
        return cursor.rowcount
