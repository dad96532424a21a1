"""``config.sql``: the hot paths' hand-written statements read and write exactly what the ORM
reads and writes, on whichever backend the suite runs on."""

import contextlib
import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import sql
from config.sql import Columns, any_of, rows_compare_and_set, rows_insert
from orders.models import Order, OrderHistory, OrderStatus
from tests.factories import order_payload
from tracking.models import TrackingEvent
from webhooks.models import Delivery, Event
from webhooks.services import subscription_create


def _orders(client, count: int) -> list[Order]:
    ids = [
        client.post("/api/v1/orders", order_payload(), format="json").json()["id"]
        for _ in range(count)
    ]
    return list(Order.objects.filter(id__in=ids).order_by("id"))


def _together_or_not(together: bool):
    return sql.writes_together() if together else contextlib.nullcontext()


def _select(columns: Columns, where: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns.sql} FROM {sql.quote(columns.model._meta.db_table)} "
            f"{columns.alias} WHERE {where}",
            params,
        )
        return cursor.fetchall()


def _by_id(ids) -> tuple[str, list]:
    return any_of('o."id"', Order._meta.pk, ids)


@pytest.mark.django_db
def test_it_reads_an_order_field_for_field_as_the_orm_does(client_a):
    [order] = _orders(client_a, 1)
    columns = Columns(Order, "o")

    [row] = _select(columns, *_by_id([order.id]))
    read = columns.instance(row)

    for field in Order._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(order, field.attname), field.name
    assert isinstance(read.delivery_contact, dict) and isinstance(read.tags, list)
    assert read._state.adding is False


@pytest.mark.django_db
def test_it_reads_some_columns_in_the_order_asked_and_defers_the_rest(client_a):
    [order] = _orders(client_a, 1)
    columns = Columns(Order, "o", fields=["status", "id", "shipper"])

    [row] = _select(columns, *_by_id([order.id]))

    assert columns.values(row) == [order.status, order.id, order.shipper_id]
    read = columns.instance(row)
    assert (read.id, read.status, read.shipper_id) == (order.id, order.status, order.shipper_id)
    assert "tags" in read.get_deferred_fields()


@pytest.mark.django_db
def test_any_of_matches_the_values_given_and_nothing_for_none(client_a):
    first, second, third = _orders(client_a, 3)
    columns = Columns(Order, "o", fields=["id"])

    found = {row[0] for row in _select(columns, *_by_id([first.id, third.id, uuid.uuid4()]))}
    assert {columns.values([value])[0] for value in found} == {first.id, third.id}
    assert _select(columns, *_by_id([])) == []


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, sql.COPY_FROM_ROWS + 5])
@pytest.mark.parametrize("together", [False, True], ids=["alone", "together"])
def test_rows_insert_stores_what_bulk_create_would(client_a, count, together):
    [order] = _orders(client_a, 1)
    at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    rows = [
        TrackingEvent(
            carrier=None,
            external_id=f"e-{index}",
            type="OrderPickupArrived",
            order=order,
            time_of_event=at,
            latitude=55.5 if index % 2 else None,
            driver={"name": "Åse", "n": index},
            images=["https://example.test/1.png"],
            source="canonical",
            applied=bool(index % 2),
            raw={"nested": {"list": [1, 2.5, None]}},
        )
        for index in range(count)
    ]

    with transaction.atomic(), _together_or_not(together):
        rows_insert(rows)

    stored = {e.external_id: e for e in TrackingEvent.objects.filter(order=order)}
    assert len(stored) == count
    for row in rows:
        assert row._state.adding is False and row.received_at is not None  # auto_now_add
        read = stored[row.external_id]
        for field in TrackingEvent._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(row, field.attname), field.name


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, sql.COPY_FROM_ROWS + 5])
def test_rows_insert_raises_integrity_error_on_a_duplicate(client_a, count):
    [order] = _orders(client_a, 1)

    def events():
        return [
            TrackingEvent(
                carrier=None,
                external_id="",
                type="OrderPickupArrived",
                order=order,
                time_of_event=timezone.now(),
                source="canonical",
            )
            for _ in range(count)
        ]

    taken = events()
    rows_insert(taken)
    again = events()
    again[-1].id = taken[0].id
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(again)
    assert TrackingEvent.objects.filter(order=order).count() == count


@pytest.mark.django_db
def test_rows_insert_leaves_an_auto_id_to_the_database(client_a):
    [order] = _orders(client_a, 1)

    rows_insert([OrderHistory(order=order, actor="test", action="noted", changes={"a": [1]})])

    history = OrderHistory.objects.get(order=order, action="noted")
    assert history.id is not None and history.changes == {"a": [1]}


@pytest.mark.django_db
def test_a_compare_and_set_writes_values_per_row_and_refuses_rows_that_changed(client_a):
    first, second, third = _orders(client_a, 3)
    Order.objects.filter(id=third.id).update(status="cancelled")
    stamp = timezone.now().replace(microsecond=0)
    changed = RuntimeError("changed meanwhile")

    rows_compare_and_set(
        Order,
        ids=[first.id, second.id],
        where_in={"status": [first.status]},
        columns={"notes": "checked"},
        per_row={"delivered_at": {first.id: stamp}},
        changed=changed,
    )
    with pytest.raises(RuntimeError) as refused:
        rows_compare_and_set(
            Order,
            ids=[second.id, third.id],
            where_in={"status": [first.status]},
            columns={"notes": "again"},
            changed=changed,
        )

    assert refused.value is changed
    rows = {o.id: o for o in Order.objects.filter(id__in=[first.id, second.id, third.id])}
    assert rows[first.id].delivered_at == stamp
    assert rows[second.id].delivered_at is None  # no value of its own: kept
    assert rows[third.id].notes not in ("checked", "again")  # another status: not touched


@pytest.mark.django_db
def test_a_compare_and_set_sent_together_refuses_when_the_block_ends(client_a):
    first, second = _orders(client_a, 2)
    Order.objects.filter(id=second.id).update(status="cancelled")
    changed = RuntimeError("changed meanwhile")

    with pytest.raises(RuntimeError) as refused, transaction.atomic(), sql.writes_together():
        rows_compare_and_set(
            Order,
            ids=[first.id, second.id],
            where_in={"status": [first.status]},
            columns={"notes": "moved"},
            changed=changed,
        )
        rows_insert([OrderHistory(order=first, actor="test", action="moved")])

    assert refused.value is changed
    assert not Order.objects.filter(notes="moved").exists()  # rolled back with the error
    assert not OrderHistory.objects.filter(action="moved").exists()


def _event(order, external_id: str) -> TrackingEvent:
    return TrackingEvent(
        external_id=external_id,
        type="OrderPickupArrived",
        order=order,
        time_of_event=timezone.now(),
        source="canonical",
    )


@pytest.mark.django_db
def test_writes_together_stores_every_row_of_the_block_when_it_ends(client_a):
    [order] = _orders(client_a, 1)
    many = [_event(order, f"many-{i}") for i in range(sql.COPY_FROM_ROWS + 1)]

    with transaction.atomic(), sql.writes_together():
        rows_insert([_event(order, "one")])
        rows_insert([OrderHistory(order=order, actor="test", action="together")])
        rows_insert(many)  # COPY on PostgreSQL, beside the pipeline
        rows_insert([_event(order, "two"), _event(order, "three")])

    assert TrackingEvent.objects.filter(order=order).count() == len(many) + 3
    assert OrderHistory.objects.filter(order=order, action="together").count() == 1


@pytest.mark.django_db
def test_a_duplicate_sent_together_is_an_integrity_error_and_nothing_is_kept(client_a):
    [order] = _orders(client_a, 1)
    first = _event(order, "dup-1")
    rows_insert([first])
    again = _event(order, "dup-2")
    again.id = first.id

    with pytest.raises(IntegrityError), transaction.atomic(), sql.writes_together():
        rows_insert([_event(order, "fine")])
        rows_insert([again])

    assert TrackingEvent.objects.filter(external_id="dup-1").exists()
    assert not TrackingEvent.objects.filter(external_id__in=["fine", "dup-2"]).exists()


@pytest.mark.django_db
def test_an_error_in_the_block_sends_none_of_its_inserts(client_a):
    [order] = _orders(client_a, 1)

    with pytest.raises(RuntimeError), transaction.atomic(), sql.writes_together():
        rows_insert([_event(order, "never")])
        raise RuntimeError("the change failed")

    assert not TrackingEvent.objects.filter(external_id="never").exists()


@pytest.mark.django_db
def test_rows_read_answers_each_statement_with_its_own_rows(client_a):
    first, second = _orders(client_a, 2)
    columns = Columns(Order, "o", fields=["id", "creator_order_id"])
    table = sql.quote(Order._meta.db_table)

    statements = [
        (f"SELECT {columns.sql} FROM {table} o WHERE {where}", params)
        for where, params in (_by_id([first.id]), _by_id([first.id, second.id]), _by_id([]))
    ]
    one, both, none = sql.rows_read(statements)

    assert [columns.values(row)[1] for row in one] == [first.creator_order_id]
    assert {columns.values(row)[1] for row in both} == {
        first.creator_order_id,
        second.creator_order_id,
    }
    assert none == []


@pytest.mark.django_db
def test_rows_read_gives_the_times_the_orm_gives(client_a):
    [order] = _orders(client_a, 1)
    columns = Columns(Order, "o", fields=["id", "created_at", "updated_at"])
    table = sql.quote(Order._meta.db_table)
    where, params = _by_id([order.id])

    for statements in (
        [(f"SELECT {columns.sql} FROM {table} o WHERE {where}", params)] * n for n in (1, 2)
    ):
        [row, *_] = sql.rows_read(statements)[0]
        _, created_at, updated_at = columns.values(row)
        assert (created_at, updated_at) == (order.created_at, order.updated_at)
        assert created_at.tzinfo is order.created_at.tzinfo  # UTC, as Django's own


@pytest.mark.django_db
def test_instance_new_makes_what_the_model_class_makes(client_a):
    [order] = _orders(client_a, 1)
    at = timezone.now()
    values = {
        "order": order,
        "carrier_id": None,
        "external_id": "e-1",
        "type": "OrderPickupArrived",
        "time_of_event": at,
        "driver": {"name": "Åse"},
        "source": "canonical",
    }

    made, expected = sql.instance_new(TrackingEvent, **values), TrackingEvent(**values)

    for field in TrackingEvent._meta.concrete_fields:
        if field.name != "id":
            assert getattr(made, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(made.id, uuid.UUID) and made.id != expected.id  # its own default
    assert made.order is order and made.collo is None and made._state.adding is True
    assert made.images == [] and made.images is not expected.images  # a fresh default
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        sql.instance_new(TrackingEvent, colour="red")
    with pytest.raises(ValueError, match="order"):
        sql.instance_new(TrackingEvent, order=order.shipper)


@pytest.mark.django_db
@pytest.mark.parametrize("copies", [1, sql.COPY_FROM_ROWS])  # one INSERT, or COPY
@pytest.mark.parametrize("together", [False, True], ids=["alone", "together"])
def test_rows_insert_stores_json_as_the_field_and_its_encoder_would(client_a, copies, together):
    [order] = _orders(client_a, 1)
    at = timezone.now()
    changes = [
        {"at": at, "day": datetime.date(2026, 12, 7), "price": Decimal("12.50")},
        {"order": order.id, "nested": [{"a": None, "b": 2.5, "c": "Åse\n\\"}], "flag": True},
        {1: "a key that is no string", "big": 2**70},
        {"enum": OrderStatus.DELIVERED, "empty": {}, "list": []},
        {},
    ] * copies

    with transaction.atomic(), _together_or_not(together):
        rows_insert(
            [
                OrderHistory(order=order, actor="sql", action=str(i), changes=c)
                for i, c in enumerate(changes)
            ]
        )
        OrderHistory.objects.bulk_create(
            [
                OrderHistory(order=order, actor="orm", action=str(i), changes=c)
                for i, c in enumerate(changes)
            ]
        )

    stored = {(h.actor, h.action): h.changes for h in OrderHistory.objects.filter(order=order)}
    for i in range(len(changes)):
        assert stored[("sql", str(i))] == stored[("orm", str(i))], changes[i]


@pytest.mark.django_db
@pytest.mark.parametrize("copies", [1, sql.COPY_FROM_ROWS])
def test_rows_insert_stores_none_in_a_json_column_as_sql_null(client_a, shipper_a, copies):
    subscription = subscription_create(
        shipper=shipper_a, live_mode=False, url="https://hooks.example.test/", event_types=["*"]
    )
    _orders(client_a, 1)
    event = Event.objects.first()
    now = timezone.now()

    rows = [
        Delivery(
            event=event,
            subscription=subscription,
            version=event.version,
            payload=payload,
            next_attempt_at=now,
        )
        for payload in [None, {"pinned": "v1"}] * copies
    ]

    with transaction.atomic():
        rows_insert(rows)

    stored = Delivery.objects.filter(id__in=[r.id for r in rows])
    assert stored.filter(payload__isnull=True).count() == copies  # not JSON's null
    assert stored.filter(payload={"pinned": "v1"}).count() == copies


@pytest.mark.django_db
def test_a_statement_of_the_orm_in_the_block_sees_what_was_sent_before_it(client_a):
    first, second = _orders(client_a, 2)

    with transaction.atomic(), sql.writes_together():
        rows_compare_and_set(
            Order,
            ids=[first.id],
            where_in={"status": [first.status]},
            columns={"notes": "sent"},
            changed=RuntimeError("changed meanwhile"),
        )
        rows_insert([_event(first, f"seen-{i}") for i in range(sql.COPY_FROM_ROWS + 1)])
        # Its count is known at once, as outside the block.
        moved = Order.objects.filter(id__in=[first.id, second.id], notes="sent").update(
            notes="moved"
        )
        timeline = TrackingEvent.objects.filter(order=first).count()

    assert (moved, timeline) == (1, sql.COPY_FROM_ROWS + 1)


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a block is a pipeline on PostgreSQL alone"
)
def test_foreign_keys_are_checked_in_the_block_and_deferred_again_after_it(client_a):
    [order] = _orders(client_a, 1)
    orphan = OrderHistory(order_id=uuid.uuid4(), actor="test", action="orphan")

    with pytest.raises(IntegrityError), transaction.atomic(), sql.writes_together():
        rows_insert([orphan])

    with transaction.atomic():
        with sql.writes_together():
            rows_insert([OrderHistory(order=order, actor="test", action="kept")])
        # After the block the check waits for the commit again: this one is never made.
        with transaction.atomic():
            sid = transaction.savepoint()
            rows_insert([OrderHistory(order_id=uuid.uuid4(), actor="test", action="later")])
            transaction.savepoint_rollback(sid)
    assert OrderHistory.objects.filter(action="kept").count() == 1
