"""``config.sql``: the hot paths' hand-written statements read and write exactly what the ORM
reads and writes, on whichever backend the suite runs on."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import sql
from config.sql import Columns, any_of, rows_insert, rows_update
from orders.models import Order, OrderHistory
from tests.factories import order_payload
from tracking.models import TrackingEvent


def _orders(client, count: int) -> list[Order]:
    ids = [
        client.post("/api/v1/orders", order_payload(), format="json").json()["id"]
        for _ in range(count)
    ]
    return list(Order.objects.filter(id__in=ids).order_by("id"))


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
def test_rows_insert_stores_what_bulk_create_would(client_a, count):
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

    with transaction.atomic():
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
def test_rows_update_is_a_compare_and_set_with_values_per_row(client_a):
    first, second, third = _orders(client_a, 3)
    Order.objects.filter(id=third.id).update(status="cancelled")
    stamp = timezone.now().replace(microsecond=0)

    changed = rows_update(
        Order,
        ids=[first.id, second.id, third.id],
        where_in={"status": [first.status]},
        columns={"notes": "checked"},
        per_row={"delivered_at": {first.id: stamp}},
    )

    assert changed == 2
    rows = {o.id: o for o in Order.objects.filter(id__in=[first.id, second.id, third.id])}
    assert rows[first.id].notes == rows[second.id].notes == "checked"
    assert rows[first.id].delivered_at == stamp
    assert rows[second.id].delivered_at is None  # no value of its own: kept
    assert rows[third.id].notes != "checked"  # another status: not touched
