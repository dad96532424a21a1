"""Many orders in one request (``POST /orders/bulk``): new ones written in a handful of
statements, existing ones updated one by one, each item succeeding or failing alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Shipper
from carriers.services import planning_request
from config.errors import Conflict, WaybillError
from orders.documents import order_document
from orders.geocoding import geocoding_request
from orders.models import Collo, Order, OrderHistory, OrderLine
from orders.services import (
    _apply_update,
    _event_kwargs,
    _full_spec,
    _history,
    _lock,
    _new_order,
    order_upsert,
)
from webhooks.catalogue import EventName
from webhooks.services import PendingEvent, event_build, events_append


@dataclass
class BulkItemResult:
    index: int
    outcome: str  # created, updated, unchanged or error
    order: Order | None = None
    creator_order_id: str = ""
    error: dict[str, Any] | None = None
    changes: list[str] = field(default_factory=list)


@transaction.atomic
def order_bulk_upsert(
    *, shipper: Shipper, live_mode: bool, specs: list[tuple[int, dict[str, Any]]], actor: str
) -> list[BulkItemResult]:
    """Upsert many validated orders; new ones are written in a handful of statements.

    ``specs`` holds (index in the request, validated spec); each item succeeds or fails alone.
    """
    results, unique = _duplicates_refused(specs)
    refs = [spec["creatorOrderId"] for _, spec in unique]
    existing = {
        o.creator_order_id: o
        for o in Order.objects.filter(
            shipper=shipper, live_mode=live_mode, creator_order_id__in=refs
        )
    }
    fresh = [(i, s) for i, s in unique if s["creatorOrderId"] not in existing]
    results.extend(_bulk_create_new(shipper=shipper, live_mode=live_mode, items=fresh, actor=actor))
    known = [
        (i, s, existing[s["creatorOrderId"]]) for i, s in unique if s["creatorOrderId"] in existing
    ]
    results.extend(_bulk_update_existing(shipper=shipper, items=known, actor=actor))
    return sorted(results, key=lambda r: r.index)


def _duplicates_refused(
    specs: list[tuple[int, dict[str, Any]]],
) -> tuple[list[BulkItemResult], list[tuple[int, dict[str, Any]]]]:
    """A creatorOrderId a request names twice: its later items fail, the first goes on."""
    refused: list[BulkItemResult] = []
    seen: set[str] = set()
    unique: list[tuple[int, dict[str, Any]]] = []
    for index, spec in specs:
        ref = spec["creatorOrderId"]
        if ref not in seen:
            seen.add(ref)
            unique.append((index, spec))
            continue
        error = Conflict(
            f"creatorOrderId '{ref}' appears more than once in this request.",
            code="duplicate_in_request",
            errors=[
                {
                    "field": "creatorOrderId",
                    "code": "duplicate",
                    "message": "Appears more than once in this request.",
                }
            ],
        )
        refused.append(BulkItemResult(index, "error", creator_order_id=ref, error=error.as_body()))
    return refused, unique


def _bulk_update_existing(
    *, shipper: Shipper, items: list[tuple[int, dict[str, Any], Order]], actor: str
) -> list[BulkItemResult]:
    results = []
    for index, spec, order in items:
        try:
            with transaction.atomic():
                locked = _lock(order)
                updated, changed = _apply_update(locked, _full_spec(spec, shipper), actor)
                geocoding_request(orders=[updated], changed=changed)
            outcome = "updated" if changed else "unchanged"
            results.append(
                BulkItemResult(index, outcome, updated, updated.creator_order_id, changes=changed)
            )
        except WaybillError as exc:
            results.append(
                BulkItemResult(
                    index, "error", creator_order_id=order.creator_order_id, error=exc.as_body()
                )
            )
    return results


def _bulk_create_new(
    *, shipper: Shipper, live_mode: bool, items: list[tuple[int, dict[str, Any]]], actor: str
) -> list[BulkItemResult]:
    if not items:
        return []
    built, failed = [], []
    for index, spec in items:
        try:
            full = _full_spec(spec, shipper)
        except WaybillError as exc:
            failed.append(
                BulkItemResult(
                    index, "error", creator_order_id=spec["creatorOrderId"], error=exc.as_body()
                )
            )
            continue
        order, lines, collis = _new_order(shipper=shipper, live_mode=live_mode, spec=full)
        built.append((index, order, lines, collis))
    if not built:
        return failed
    try:
        with transaction.atomic():
            Order.objects.bulk_create([b[1] for b in built])
    except IntegrityError:
        # Someone created one of these meanwhile: fall back to one upsert per order.
        failed_indexes = {f.index for f in failed}
        return failed + [
            _bulk_item_upsert(index, shipper, live_mode, spec, actor)
            for index, spec in items
            if index not in failed_indexes
        ]
    OrderLine.objects.bulk_create([line for b in built for line in b[2]])
    Collo.objects.bulk_create([collo for b in built for collo in b[3]])
    OrderHistory.objects.bulk_create([_history(b[1], actor, "created") for b in built])
    events: list[PendingEvent] = []
    results = []
    for index, order, lines, collis in built:
        order._prefetched_objects_cache = {"lines": lines, "collis": collis}
        document = order_document(order, lines=lines, collis=collis)
        events.append(
            event_build(
                type=EventName.ORDER_CREATED,
                time_of_event=order.created_at,
                document=document,
                **_event_kwargs(order),
            )
        )
        results.append(BulkItemResult(index, "created", order, order.creator_order_id))
    events_append(events=events)
    planning_request(order_ids=[b[1].id for b in built])
    geocoding_request(orders=[b[1] for b in built])
    return failed + results


def _bulk_item_upsert(index, shipper, live_mode, spec, actor) -> BulkItemResult:
    try:
        with transaction.atomic():
            order, created = order_upsert(
                shipper=shipper, live_mode=live_mode, spec=spec, actor=actor
            )
        return BulkItemResult(
            index, "created" if created else "updated", order, order.creator_order_id
        )
    except WaybillError as exc:
        return BulkItemResult(
            index, "error", creator_order_id=spec["creatorOrderId"], error=exc.as_body()
        )
