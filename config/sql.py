"""Statements the hot paths write by hand, on SQLite and PostgreSQL alike.

The ORM spends about 0.4 ms of CPU compiling a statement that PostgreSQL answers in 0.1
(a carrier's single event ran twelve: two thirds of its CPU went to compiling them). The
statements a request runs for every event are written once, here and in the selectors that
use these helpers; everything else stays with the ORM. Values go through the fields'
own conversions both ways, so what is stored and read is what the ORM would store and read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import NOT_PROVIDED, Field, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from psycopg.pq import Format
from psycopg.types.json import Jsonb, JsonbBinaryDumper

# Up to this many rows go in one INSERT … VALUES (which a pipeline can carry); more are
# streamed with COPY on PostgreSQL, which binds no parameters.
COPY_FROM_ROWS = 20


def _db():
    # The connection itself: ``django.db.connection`` is a proxy that looks it up again
    # on every attribute read, thousands of times in a batch.
    return connections[DEFAULT_DB_ALIAS]


def current_connection():
    """This thread's default connection itself, to hand to calls made for each of many rows
    (looking it up costs a thread-local read each time)."""
    return _db()


def quote(name: str) -> str:
    return _db().ops.quote_name(name)


def param(field: Field, value: Any) -> Any:
    """``value`` as a statement parameter for a column of ``field``."""
    return field.get_db_prep_value(value, _db())


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

    def converters(self, connection) -> list[tuple[int, list, Any]]:
        vendor = connection.vendor
        if vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(column)
                functions += column.get_db_converters(connection)
                functions = [_json_loader(field, f) for f in functions]
                if functions:
                    found.append((index, functions, column))
            self._converters[vendor] = found
        return self._converters[vendor]

    def values(self, row: Sequence[Any], start: int = 0, connection=None) -> list[Any]:
        """The Python values of ``row[start:start + width]``, as the fields read them;
        ``connection`` (``current_connection()``) saves looking it up for each of many rows."""
        connection = connection or _db()
        values = list(row[start : start + self.width])
        for index, functions, column in self.converters(connection):
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        return values

    def instance(self, row: Sequence[Any], start: int = 0, connection=None) -> Model:
        """The instance ``row[start:start + width]`` holds (the other fields deferred), as
        ``Model.from_db`` makes it; without going through ``Model.__init__`` where the model
        has no loading or init hooks of its own (a batch reads a thousand orders)."""
        values = self.values(row, start, connection)
        values = [values[i] for i in self._model_order]
        model = self.model
        if not _plainly_initialised(model):
            return model.from_db(DEFAULT_DB_ALIAS, self._attnames, values)
        obj = model.__new__(model)
        obj._state = ModelState()
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
        obj.__dict__.update(zip(self._attnames, values, strict=True))
        return obj


def _plainly_initialised(model: type[Model]) -> bool:
    return (
        model.from_db.__func__ is Model.from_db.__func__
        and model.__init__ is Model.__init__
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )


def _json_loader(field: Field, function: Callable) -> Callable:
    """A JSON column read by orjson (several times faster than ``json.loads``) where the
    field has no decoder of its own; what orjson refuses goes to the field's own reading."""
    if not isinstance(field, models.JSONField) or field.decoder is not None:
        return function
    if getattr(function, "__func__", None) is not models.JSONField.from_db_value:
        return function

    def loaded(value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        try:
            return orjson.loads(value)
        except (ValueError, TypeError):  # orjson's JSONDecodeError is a ValueError
            return function(value, expression, connection)

    return loaded


@cache
def _instance_fields(model: type[Model]) -> tuple[dict[str, tuple], list[tuple[str, Field]]]:
    by_name: dict[str, tuple] = {}
    for field in model._meta.concrete_fields:
        by_name[field.attname] = (field.attname, None)
        if field.is_relation:
            by_name[field.name] = (field.attname, field)
    return by_name, [(f.attname, f) for f in model._meta.concrete_fields]


def instance_new(model: type[Model], **values: Any) -> Model:
    """A new, unsaved instance, as ``model(**values)`` makes it, for rows a hot path builds by
    the thousand (``Model.__init__`` spent a sixth of a batch of carrier events going
    through every field's descriptor). Relations may be given as instances or by attname;
    missing fields get their defaults. A model with init signals is made by its class."""
    if not _plainly_initialised(model):
        return model(**values)
    by_name, fields = _instance_fields(model)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attrs = obj.__dict__
    for name, value in values.items():
        try:
            attname, relation = by_name[name]
        except KeyError:
            message = f"{model.__name__}() got an unexpected keyword argument {name!r}"
            raise TypeError(message) from None
        if relation is not None:
            if value is not None and not isinstance(value, relation.related_model):
                raise ValueError(f"{model.__name__}.{name} must be a {relation.related_model}.")
            state.fields_cache[name] = value
            value = None if value is None else getattr(value, relation.target_field.attname)
        attrs[attname] = value
    for attname, field in fields:
        if attname not in attrs:
            attrs[attname] = field.get_default()
    return obj


def any_of(column: str, field: Field, values: Iterable[Any]) -> tuple[str, list]:
    """``column`` is one of ``values``. One value is ``= %s``; more are ``= ANY(%s)`` on
    PostgreSQL, one statement text (prepared once) whatever their number, ``IN (…)``
    elsewhere. One value apart: PostgreSQL plans ``ANY`` for ten, finds its prepared plan
    dearer than planning anew for one, and plans that statement on every call."""
    connection = _db()
    prepped = [field.get_db_prep_value(v, connection) for v in values]
    if not prepped:
        return "1 = 0", []
    if len(prepped) == 1:
        return f"{column} = %s", prepped
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [prepped]
    return f"{column} IN ({', '.join(['%s'] * len(prepped))})", prepped


def for_update_of(alias: str) -> str:
    """Lock the rows of ``alias`` that a SELECT reads, where the database can."""
    if not _db().features.has_select_for_update:
        return ""  # SQLite: a write transaction holds the whole database (IMMEDIATE)
    return f" FOR UPDATE OF {quote(alias)}"


# Values psycopg takes as they are for columns of these fields on PostgreSQL: no field
# conversion to run for them (a batch of carrier events converts some 60,000 values).
_AS_IS_ON_POSTGRESQL = (
    (models.BooleanField, (bool,)),
    (models.CharField, (str,)),
    (models.TextField, (str,)),
    (models.FloatField, (float,)),
    (models.IntegerField, (int,)),
    (models.UUIDField, (uuid.UUID,)),
)


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


def _column_writer(field: Field, connection) -> Callable[[Model], Any]:
    """The value of ``field`` an instance is inserted with, as ``get_db_prep_save`` makes
    it (after ``pre_save``, which stamps ``auto_now`` fields)."""
    prep = field.get_db_prep_save
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: prep(field.pre_save(obj, True), connection)
    attname = field.attname
    target = field.target_field if field.is_relation else field
    as_is: tuple = ()
    if connection.vendor == "postgresql":
        if isinstance(target, models.DateTimeField):
            return lambda obj: _aware_or_prepped(getattr(obj, attname), prep, connection)
        if isinstance(target, models.JSONField):
            default = target.encoder().default if target.encoder else None
            return lambda obj: _json_or_prepped(getattr(obj, attname), prep, connection, default)
        as_is = next((t for kind, t in _AS_IS_ON_POSTGRESQL if isinstance(target, kind)), ())

    def value(obj: Model) -> Any:
        value = getattr(obj, attname)
        return value if value is None or type(value) in as_is else prep(value, connection)

    return value


# Most JSON columns of a timeline row hold nothing: their text, without a dump each.
_EMPTY_JSON = {dict: "{}", list: "[]"}
# What orjson would write differently from the field's encoder goes to that encoder.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_or_prepped(value: Any, prep: Callable, connection, default: Callable | None) -> Any:
    """The JSON text of ``value``: by orjson, which dumps an event's payload several times
    faster than ``json.dumps`` (a tenth of a batch of carrier events went to those dumps),
    and by the field itself for what orjson refuses (non-string keys, huge integers)."""
    if value is None:
        return None  # SQL NULL, as the field stores it
    if not value and type(value) in _EMPTY_JSON:
        return _EMPTY_JSON[type(value)]
    try:
        return orjson.dumps(value, default=default, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson's JSONEncodeError is one
        return prep(value, connection)


def _aware_or_prepped(value: Any, prep: Callable, connection) -> Any:
    if value is None or (type(value) is datetime and value.tzinfo is not None):
        return value
    return prep(value, connection)


_writers: dict[tuple, list] = {}


def _column_writers(model: type[Model], connection) -> list[Callable[[Model], Any]]:
    key = (model, connection.vendor)
    if key not in _writers:
        fields, _ = _insert_columns(model)
        _writers[key] = [_column_writer(field, connection) for field in fields]
    return _writers[key]


class _Block:
    """A ``writes_together`` block: its pipeline, the cursor its writes go through and the
    compare-and-sets whose counts are checked when it ends."""

    def __init__(self, connection, pipeline) -> None:
        self.connection = connection
        self.pipeline = pipeline
        self.cursor = connection.cursor()
        self.checks: list[tuple[Any, int, Exception]] = []
        self.writing = False  # one of this module's writes is being sent

    def send(self, statement: str, params: Sequence[Any], cursor=None) -> None:
        self.writing = True
        try:
            (cursor or self.cursor).execute(statement, params)
        finally:
            self.writing = False

    def others_synced(self, execute, sql, params, many, context):
        # Any other statement in the block waits for its results, as it would outside it
        # (in pipeline mode an UPDATE's count would read -1).
        result = execute(sql, params, many, context)
        if not self.writing:
            with self.connection.wrap_database_errors:
                self.pipeline.sync()
        return result


_together: ContextVar[_Block | None] = ContextVar("writes_together", default=None)


@contextmanager
def writes_together() -> Iterator[None]:
    """Send the ``rows_insert`` and ``rows_compare_and_set`` calls of the block as they are
    made, without waiting for each other (psycopg's pipeline mode, on PostgreSQL): the
    server writes them, and checks their foreign keys, while this process goes on with the
    block; everything is waited for when the block ends, where a compare-and-set that found
    rows changed raises its error and a failed write its own. Foreign keys are checked per
    statement inside the block (``SET CONSTRAINTS ALL IMMEDIATE``), deferred again after it.

    Nothing in the block may read the rows it writes before it ends; any other statement
    in it waits for what was sent before it (and raises what failed). An error in the block
    leaves the transaction to be rolled back. Outside a transaction, elsewhere than
    PostgreSQL, and nested, the writes run as called."""
    connection = _db()
    if (
        connection.vendor != "postgresql"
        or _together.get() is not None
        or not connection.in_atomic_block
    ):
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline() as pipeline:
        block = _Block(connection, pipeline)
        token = _together.set(block)
        try:
            with connection.execute_wrapper(block.others_synced):
                block.send("SET CONSTRAINTS ALL IMMEDIATE", [])
                yield
                block.send("SET CONSTRAINTS ALL DEFERRED", [])
        finally:
            _together.reset(token)
            block.cursor.close()
    # The pipeline is through: the counts are known.
    try:
        for cursor, expected, error in block.checks:
            if cursor.rowcount != expected:
                raise error
    finally:
        for cursor, _, _ in block.checks:
            cursor.close()


def _times_loaded_in_c(cursor) -> None:
    """Read ``timestamptz`` with psycopg's own (C) loader where it gives what Django's does:
    Django's is a Python subclass of the pure Python loader, which took a tenth of a batch of
    carrier events parsing the timeline's times. Both give UTC times when the session's
    zone is UTC and Django's is too."""
    connection = _db()
    if connection.timezone is not UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    oid = psycopg.postgres.types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))


def rows_read(statements: Sequence[tuple[str, list]]) -> list[list[tuple]]:
    """The rows of each ``(statement, params)``: on PostgreSQL sent together, one round trip."""
    connection = _db()
    if connection.vendor != "postgresql" or len(statements) < 2:
        results = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _times_loaded_in_c(cursor)
            for statement, params in statements:
                cursor.execute(statement, params)
                results.append(cursor.fetchall())
        return results
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    for cursor in cursors:
        _times_loaded_in_c(cursor)
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (statement, params) in zip(cursors, statements, strict=True):
                cursor.execute(statement, params)
            return [cursor.fetchall() for cursor in cursors]  # the first fetch sends them
    finally:
        for cursor in cursors:
            cursor.close()


def rows_insert(objs: Sequence[Model]) -> None:
    """Insert new instances of one model: ``bulk_create`` without its compiling, for rows
    whose primary key is made in Python or never read back (an auto id stays unset). No
    ``save()``, no signals, as with ``bulk_create``. Inside ``writes_together``, sent at
    its end."""
    if not objs:
        return
    connection = _db()
    model = type(objs[0])
    fields, names = _insert_columns(model)
    writers = _column_writers(model, connection)
    rows = [[write(obj) for write in writers] for obj in objs]
    table = quote(model._meta.db_table)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
    block = _together.get()
    if connection.vendor == "postgresql" and len(rows) > COPY_FROM_ROWS:
        if block is None:
            _copy(connection, model, table, names, rows)
        else:  # no COPY in a pipeline: the rows as one array per column
            block.send(_unnest_insert(model), _columns_of(model, rows))
        return
    if connection.vendor == "postgresql":
        one = f"({', '.join(['%s'] * len(fields))})"
        statement = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}"
        params = [value for row in rows for value in row]
        if block is not None:
            block.send(statement, params)
            return
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
        return
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


class _JsonTextBinaryDumper(JsonbBinaryDumper):
    # The column writers give JSON as its text (or as the Jsonb the field made of it).
    def dump(self, obj: Any) -> Any:
        return b"\x01" + obj.encode() if type(obj) is str else super().dump(obj)


@cache
def _column_types(model: type[Model]) -> list[str]:
    """The PostgreSQL types of the columns ``rows_insert`` writes, without their lengths
    (which the columns themselves enforce)."""
    connection = _db()
    return [f.db_type(connection).split("(")[0].strip() for f in _insert_columns(model)[0]]


@cache
def _copy_oids(model: type[Model]) -> list[int] | None:
    """The oids of ``_column_types``; None when one is not a built-in type psycopg knows."""
    infos = [psycopg.postgres.types.get(name) for name in _column_types(model)]
    return None if None in infos else [info.oid for info in infos]


@cache
def _unnest_insert(model: type[Model]) -> str:
    _, names = _insert_columns(model)
    types = _column_types(model)
    # JSON arrives as its text: an array of text, each element cast.
    arrays = ", ".join(f"%s::{'text' if t == 'jsonb' else t}[]" for t in types)
    columns = [f"c{i}" for i in range(len(types))]
    selected = ", ".join(
        f"{c}::jsonb" if t == "jsonb" else c for c, t in zip(columns, types, strict=True)
    )
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT {selected} "
        f"FROM unnest({arrays}) AS u({', '.join(columns)})"
    )


def _columns_of(model: type[Model], rows: list[list]) -> list[list]:
    columns = [list(column) for column in zip(*rows, strict=True)]
    for index, kind in enumerate(_column_types(model)):
        if kind == "jsonb":  # a Jsonb the field made, as its text
            columns[index] = [_json_text(v) for v in columns[index]]
    return columns


def _json_text(value: Any) -> Any:
    if isinstance(value, Jsonb):
        return (value.dumps or json.dumps)(value.obj)
    return value


def _copy(connection, model: type[Model], table: str, names: str, rows: list) -> None:
    """Stream ``rows`` in with ``COPY``, in its binary format where the columns' types are
    known: psycopg's text format spent some 3 µs writing each time and 1 µs each UUID, its
    binary format a tenth of that."""
    oids = _copy_oids(model)
    statement = f"COPY {table} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if oids else "")
    began = time.monotonic()
    # A unique violation comes out as Django's IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if oids:
            cursor.cursor.adapters.register_dumper(None, _JsonTextBinaryDumper)
        with cursor.cursor.copy(statement) as copy:
            if oids:
                copy.set_types(oids)
            for row in rows:
                copy.write_row(row)
    if connection.queries_logged:  # counted like the statements Django runs
        took = time.monotonic() - began
        connection.queries_log.append({"sql": statement, "time": f"{took:.3f}"})


def rows_compare_and_set(
    model: type[Model],
    *,
    ids: Sequence[Any],
    where_in: dict[str, Iterable[Any]],
    columns: dict[str, Any],
    per_row: dict[str, dict[Any, Any]] | None = None,
    changed: Exception,
) -> None:
    """``UPDATE`` the rows of ``ids`` whose ``where_in`` columns still hold one of the values
    given, writing ``columns`` and, per column of ``per_row``, each row's own value (by id;
    rows without one keep theirs). Raises ``changed`` unless every row of ``ids`` was
    updated: at once, or inside ``writes_together`` when the block's writes are sent (the
    transaction is then to be rolled back, as the error leaves it)."""
    connection = _db()
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
    statement = (
        f"UPDATE {quote(opts.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"
    )
    expected = len(set(ids))
    block = _together.get()
    if block is not None:
        own = connection.cursor()  # its count is its own
        block.checks.append((own, expected, changed))
        block.send(statement, params, own)
        return
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if cursor.rowcount != expected:
            raise changed
